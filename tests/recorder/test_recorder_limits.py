"""The assessment's token budget and allowed tools on the candidate's side: shown at consent,
`start` and `status`, tokens and cost so far, and a tool outside the allowed ones reported once
in the session and then in `score` (real recorder, real CLI)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from promptster.protocol import find_session, new_event, send_events
from promptster.record.session import SessionPaths
from recorder_helpers import events_of, make_assessment, run_promptster, stop_recorder


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def reply(integration: str, model: str, **usage: Any) -> dict[str, Any]:
    data = {"text": "done", "lane": "l1", "model": model, **usage}
    return new_event("ai_response", data, channel="hook", integration=integration, emitter="t")


def test_budget_and_allowed_tools_from_start_to_score(recorder_env: Path, tmp_path: Path) -> None:
    pack, keys = make_assessment(
        tmp_path / "reviewer-side",
        options=["--token-budget-usd", "0.01", "--allowed-tools", "claude"],
    )
    folder = tmp_path / "candidate"
    folder.mkdir()
    (folder / "invite.json").write_bytes(pack.read_bytes())
    started = ok(run_promptster("start", keys[0], "--accept", "--no-shell", cwd=folder))
    assert "Token budget:  $0.01 of model tokens" in started.stdout + started.stderr  # consent
    assert "AI tools allowed claude-code" in started.stdout
    shown = ok(run_promptster("brief", cwd=folder)).stdout
    assert "Token budget $0.01 of model tokens" in shown and "AI tools allowed" in shown
    paths = SessionPaths(folder / ".promptster")
    try:
        start_event = events_of(paths, "session_start")[0]["data"]
        assert start_event["tokenBudgetUsd"] == 0.01
        assert start_event["allowedTools"] == ["claude-code"]
        handle = find_session(folder)
        assert handle is not None
        sent = send_events(
            handle,
            [
                reply("claude-code", "claude-sonnet-4-5", inputTokens=1000, outputTokens=100),
                reply("codex", "gpt-5-mini", inputTokens=2000, outputTokens=500),
                reply("codex", "gpt-5-mini", inputTokens=10, outputTokens=5),
                reply("codex", "house-model", inputTokens=1, outputTokens=1),
            ],
        )
        assert sent.via == "recorder"
        warnings = [
            e for e in events_of(paths, "warning") if e["data"]["code"] == "tool_not_allowed"
        ]
        assert [w["data"]["integration"] for w in warnings] == ["codex"]  # once per tool
        assert warnings[0]["data"]["allowedTools"] == ["claude-code"]

        status = json.loads(ok(run_promptster("status", "--json", cwd=folder)).stdout)
        assert status["tokenBudgetUsd"] == 0.01 and status["allowedTools"] == ["claude-code"]
        usage = status["usage"]
        assert usage["totalTokens"] == 1100 + 2500 + 15 + 2
        cost = (1000 * 3 + 100 * 15 + 2010 * 0.25 + 505 * 2) / 1e6
        assert abs(usage["totalCostUsd"] - cost) < 1e-6
        assert usage["unpricedCalls"] == 1 and usage["overBudget"] is False
        assert usage["byModel"]["gpt-5-mini"]["calls"] == 2
        text = ok(run_promptster("status", cwd=folder)).stdout
        assert "AI tools    only claude-code" in text
        assert "3,617 tokens, $0.0060 of the $0.01 budget" in text
        assert "1 reply of models without a price" in text

        submitted = json.loads(ok(run_promptster("submit", "--yes", "--json", cwd=folder)).stdout)
        ended = json.loads(ok(run_promptster("status", "--json", cwd=folder)).stdout)
        assert ended["usage"]["totalTokens"] == usage["totalTokens"]  # from the journal
        verified = json.loads(
            run_promptster("verify", submitted["path"], "--json", cwd=folder).stdout
        )
        assert "the session recorded the pack's budget and tools" in json.dumps(verified)
        scored = json.loads(
            ok(run_promptster("score", submitted["path"], "--format", "json", cwd=folder)).stdout
        )[0]
        assert scored["toolsNotAllowed"] == "codex"
        assert scored["totalTokens"] == usage["totalTokens"]
        assert abs(scored["totalCostUsd"] - cost) < 1e-6
    finally:
        stop_recorder(paths)
