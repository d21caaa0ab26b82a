"""Token and cost signals (sql/signals_cost.sql) over hand-written sessions, checked by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from analysis_scenarios import Scenario, build

from promptster.analysis.prices import Prices
from promptster.analysis.signals import SessionSignals, bundle_signals
from promptster.cli import main
from promptster.errors import FormatError


def reply(s: Scenario, at: float, model: str | None, integration: str, **usage: Any) -> None:
    data: dict[str, Any] = {"text": "ok", "lane": "lane-1", **usage}
    if model is not None:
        data["model"] = model
    s.add(at, "ai_response", data, actor="ai", integration=integration)


def costly() -> Scenario:
    s = Scenario("costly", "Cora Cost", start={"tokenBudgetUsd": 0.01,
                                               "allowedTools": ["claude-code"]})  # fmt: skip
    s.prompt(5, "fix the adder")
    # claude-sonnet-4 prices: 3 in, 15 out, 3.75 cache write, 0.3 cache read per million.
    reply(
        s,
        10,
        "claude-sonnet-4-5-20250929",
        "claude-code",
        inputTokens=1000,
        outputTokens=200,
        cachedInputTokens=600,
        cacheWriteTokens=100,
    )
    # gpt-5-mini: 0.25 in, 2 out, 0.025 cache read; no cache write price: the input price.
    reply(s, 20, "gpt-5-mini", "codex", inputTokens=4000, outputTokens=1000, cachedInputTokens=2000)
    reply(s, 30, "mystery-model-1", "codex", inputTokens=10, outputTokens=5)
    reply(s, 40, "mystery-model-2", "codex", inputTokens=10, outputTokens=5, costUsd=0.5)
    reply(s, 50, None, "claude-code", text_only=True)  # a reply without usage
    return s  # fmt: skip


CLAUDE = (300 * 3 + 600 * 0.3 + 100 * 3.75 + 200 * 15) / 1e6
GPT = (2000 * 0.25 + 2000 * 0.025 + 1000 * 2) / 1e6


@pytest.fixture(scope="module")
def signals(tmp_path_factory: pytest.TempPathFactory) -> SessionSignals:
    path = build(costly(), tmp_path_factory.mktemp("cost") / "costly.pst")
    return bundle_signals(path)


def test_total_tokens_sum_input_and_output(signals: SessionSignals) -> None:
    tokens = signals["totalTokens"]
    assert tokens.value == 1000 + 200 + 4000 + 1000 + 10 + 5 + 10 + 5
    assert tokens.confidence == "moderate"  # one reply reports no usage
    assert tokens.detail["cachedInputTokens"] == 2600
    assert tokens.detail["cacheWriteTokens"] == 100
    assert tokens.detail["repliesWithoutUsage"] == 1
    assert tokens.evidence_count == 4


def test_cost_prices_each_model_by_its_longest_prefix(signals: SessionSignals) -> None:
    cost = signals["totalCostUsd"]
    assert cost.value == pytest.approx(CLAUDE + GPT + 0.5, abs=1e-6)
    assert cost.confidence == "moderate"  # one call is unpriced
    rows = cast(list[dict[str, Any]], cost.detail["byModel"])
    by_model = {m["model"]: m for m in rows}
    assert by_model["claude-sonnet-4-5-20250929"]["priceEntry"] == "claude-sonnet-4"
    assert by_model["claude-sonnet-4-5-20250929"]["costUsd"] == pytest.approx(CLAUDE)
    assert by_model["gpt-5-mini"]["costUsd"] == pytest.approx(GPT)
    # A model the table does not know costs its own costUsd, else nothing.
    assert by_model["mystery-model-2"]["costUsd"] == 0.5
    assert by_model["mystery-model-1"]["costUsd"] is None
    assert by_model["mystery-model-1"]["unpricedCalls"] == 1
    assert rows[0]["model"] == "mystery-model-2"  # the most expensive first
    assert cost.detail["tokenBudgetUsd"] == 0.01 and cost.detail["overBudget"] is True
    assert cost.detail["priceTableSource"] == "built-in"


def test_unpriced_calls_are_counted(signals: SessionSignals) -> None:
    unpriced = signals["unpricedModelCalls"]
    assert unpriced.value == 1 and unpriced.detail["models"] == ["mystery-model-1"]


def test_a_tool_outside_allowed_tools_is_reported(signals: SessionSignals) -> None:
    tools = signals["toolsNotAllowed"]
    assert tools.value == ["codex"]
    assert tools.detail["allowedTools"] == ["claude-code"]
    assert tools.detail["events"] == {"codex": 3}


def test_a_tool_seen_only_through_the_api_recorder_is_reported(tmp_path: Path) -> None:
    s = Scenario("proxied", "Pat Proxy", start={"allowedTools": ["claude-code"]})
    s.prompt(5, "fix the adder")
    # The model-API recorder names the tool in data.client, its integration is "proxy".
    reply(s, 10, "gpt-5-mini", "proxy", client="codex", inputTokens=10, outputTokens=5)
    reply(s, 20, "claude-sonnet-4", "proxy", client="claude-code", inputTokens=10, outputTokens=5)
    reply(s, 30, "some-model", "proxy", client="curl", inputTokens=10, outputTokens=5)
    tools = bundle_signals(build(s, tmp_path / "proxied.pst"))["toolsNotAllowed"]
    assert tools.value == ["codex"]  # not claude-code (allowed), not curl (no AI tool)
    assert tools.detail["events"] == {"codex": 1}


def test_a_session_without_usage_or_allowed_tools(tmp_path: Path) -> None:
    s = Scenario("plain", "Pia Plain")
    s.prompt(5, "hello")
    signals = bundle_signals(build(s, tmp_path / "plain.pst"))
    assert signals.value("totalTokens") is None
    assert signals["totalTokens"].confidence == "insufficient_data"
    assert signals.value("totalCostUsd") is None
    assert signals.value("unpricedModelCalls") is None
    assert signals.value("toolsNotAllowed") is None


def test_the_reviewers_price_table_replaces_the_built_in_one(tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps(
            {"version": 1, "asOf": "2027-01-01",
             "models": {"mystery-model": {"input": 1000.0, "output": 0.0}}}
        )
    )  # fmt: skip
    path = build(costly(), tmp_path / "costly.pst")
    signals = bundle_signals(path, prices=Prices.load(prices))
    cost = signals["totalCostUsd"]
    # Both mystery models priced by the file (its table wins over costUsd); the others unpriced.
    assert cost.value == pytest.approx(20 * 1000.0 / 1e6)
    assert signals.value("unpricedModelCalls") == 2
    assert cost.detail["priceTableAsOf"] == "2027-01-01"
    assert cost.detail["priceTableSource"] == str(prices)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not valid JSON"),
        ('{"version": 2, "models": {}}', "unsupported version"),
        ('{"version": 1, "models": {"m": {"input": -1, "output": 1}}}', "non-negative"),
    ],
)
def test_a_bad_price_file_is_a_format_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(FormatError, match=message):
        Prices.load(path)
    with pytest.raises(FormatError, match="cannot read"):
        Prices.load(tmp_path / "missing.json")


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_score_has_the_cost_columns_and_takes_prices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = build(costly(), tmp_path / "costly.pst")
    code, out, err = _main(["score", str(bundle), "--format", "json"], capsys)
    assert code == 0, err
    row = json.loads(out)[0]
    assert row["totalCostUsd"] == pytest.approx(CLAUDE + GPT + 0.5, abs=1e-6)
    assert row["totalTokens"] == 6230 and row["unpricedModelCalls"] == 1
    assert row["toolsNotAllowed"] == "codex"
    prices = tmp_path / "prices.json"
    prices.write_text('{"version": 1, "models": {"mystery": {"input": 1000, "output": 0}}}')
    code, out, err = _main(
        ["score", str(bundle), "--format", "json", "--prices", str(prices)], capsys
    )
    assert code == 0, err
    assert json.loads(out)[0]["totalCostUsd"] == pytest.approx(0.02)


@pytest.mark.parametrize("command", ["score", "review"])
def test_a_bad_price_file_exits_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    bundle = build(costly(), tmp_path / "costly.pst")
    bad = tmp_path / "prices.json"
    bad.write_text('{"version": 1, "models": {"m": {"input": "cheap", "output": 1}}}')
    code, _, err = _main([command, str(bundle), "--prices", str(bad)], capsys)
    assert code == 2
    assert "'input' must be a non-negative number" in err and "docs/token-cost.md" in err
    assert "Traceback" not in err
    assert not (tmp_path / "costly.html").exists()
    code, _, err = _main([command, str(bundle), "--prices", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "cannot read price table" in err


def test_limits_the_session_recorded_are_checked_against_the_pack(tmp_path: Path) -> None:
    from promptster.bundle.verify import verify_bundle
    from promptster.reviewer.limitscheck import LIMITS_CHECK, AssessmentLimitsCheck

    # The scenario's pack sets no limits, but its session_start claims some: flagged.
    report = verify_bundle(
        build(costly(), tmp_path / "c.pst"), extra_checks=[AssessmentLimitsCheck()]
    )
    found = [f for f in report.findings if f.check == LIMITS_CHECK]
    assert report.ok and [f.status for f in found] == ["warning"]
    assert "tokenBudgetUsd, allowedTools other than the signed pack's" in found[0].message
    plain = Scenario("plain-limits", "Pia Plain")
    report = verify_bundle(build(plain, tmp_path / "p.pst"), extra_checks=[AssessmentLimitsCheck()])
    assert not [f for f in report.findings if f.check == LIMITS_CHECK]


def test_worker_processes_get_the_reviewers_prices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(costly(), tmp_path / "a.pst")
    other = costly()
    other.name = "costly-2"
    build(other, tmp_path / "b.pst")
    prices = tmp_path / "prices.json"
    prices.write_text('{"version": 1, "models": {"mystery": {"input": 1000, "output": 0}}}')
    args = ["score", str(tmp_path), "--format", "json", "--jobs", "2", "--prices", str(prices)]
    code, out, err = _main(args, capsys)
    assert code == 0, err
    assert [row["totalCostUsd"] for row in json.loads(out)] == [pytest.approx(0.02)] * 2


def test_many_long_model_names_are_bounded(tmp_path: Path) -> None:
    s = Scenario("many-models", "Max Models")
    for index in range(150):
        reply(s, 10 + index, f"{index:03d}-" + "m" * 5000, "claude-code", inputTokens=1)
    cost = bundle_signals(build(s, tmp_path / "many.pst"))["totalCostUsd"]
    rows = cast(list[dict[str, Any]], cost.detail["byModel"])
    assert len(rows) == 100 and cost.detail["models"] == 150
    assert all(len(row["model"]) == 200 for row in rows)
    assert cost.value is None and cost.confidence == "insufficient_data"  # none is priced
