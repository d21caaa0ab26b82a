"""The recorder's allowed-tools policy and token tally (record/limits.py) on a real journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptster.formats.events import Event
from promptster.protocol import new_event
from promptster.record.journal import JournalWriter, read_journal
from promptster.record.limits import ToolPolicy, UsageTally, usage_text
from promptster.record.pipeline import EventPipeline, event_from_client

SESSION = "s-policy"


def reply(integration: str, **data: Any) -> Event:
    body = new_event(
        "ai_response", {"text": "ok", "lane": "l", **data}, channel="hook",
        integration=integration, emitter="test",
    )  # fmt: skip
    return event_from_client(body)


def open_pipeline(path: Path) -> EventPipeline:
    policy = ToolPolicy(frozenset({"claude-code"}))
    return EventPipeline(JournalWriter(path, SESSION), None, policy=policy)


def warnings(path: Path) -> list[str]:
    events = read_journal(path, SESSION).events
    return [
        str(e.data.get("integration"))
        for e in events
        if e.kind == "warning" and e.data.get("code") == "tool_not_allowed"
    ]


def test_one_warning_per_tool_even_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    first = open_pipeline(path)
    first.append_client([reply("claude-code", model="claude-sonnet-4", outputTokens=10)])
    first.append_client([reply("codex", model="gpt-5", inputTokens=100)])
    first.append_client([reply("codex", model="gpt-5", inputTokens=100)])
    first.append_client([reply("shell"), reply("promptster"), reply("gemini-cli")])
    assert warnings(path) == ["codex", "gemini-cli"]
    first.close()
    # A restarted recorder reads the journal: the tools warned about stay warned about, and
    # the token tally starts from what is there.
    again = open_pipeline(path)
    again.append_client([reply("codex", model="gpt-5", inputTokens=1)])
    assert warnings(path) == ["codex", "gemini-cli"]
    usage = again.stats.usage.to_json_obj()
    assert usage["totalTokens"] == 211 and usage["byModel"]["gpt-5"]["calls"] == 3
    again.close()


def test_no_allowed_tools_means_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    pipeline = EventPipeline(JournalWriter(path, SESSION), None)
    pipeline.append_client([reply("codex", model="gpt-5", inputTokens=1)])
    assert warnings(path) == []
    pipeline.close()


def test_the_tally_prices_like_the_cost_signal() -> None:
    tally = UsageTally()
    tally.add({"model": "claude-sonnet-4-5", "inputTokens": 1000, "cachedInputTokens": 600,
               "cacheWriteTokens": 100, "outputTokens": 200})  # fmt: skip
    tally.add({"model": "house", "inputTokens": 5, "costUsd": 0.25})
    tally.add({"model": "other", "outputTokens": 5})
    tally.add({"text": "no usage"})
    tally.add({"model": "bad", "inputTokens": -3, "outputTokens": True})
    usage = tally.to_json_obj(budget=0.2)
    expected = (300 * 3 + 600 * 0.3 + 100 * 3.75 + 200 * 15) / 1e6 + 0.25
    assert abs(usage["totalCostUsd"] - expected) < 1e-9
    assert usage["unpricedCalls"] == 1 and usage["overBudget"] is True
    assert set(usage["byModel"]) == {"claude-sonnet-4-5", "house", "other"}
    text = usage_text(usage)
    assert "1,210 tokens" in text and "of the $0.2 budget (over the budget)" in text
    assert "1 reply of models without a price" in text
