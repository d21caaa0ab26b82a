"""The report's "Model tokens and cost" card and the cost rows of the signal table."""

from __future__ import annotations

from pathlib import Path

from analysis.analysis_scenarios import Scenario, build
from promptster.report.meta import format_value, usd
from promptster.report.review import review_bundle


def _session() -> Scenario:
    s = Scenario("report-cost", "Cora Cost",
                 start={"tokenBudgetUsd": 0.001, "allowedTools": ["claude-code"]})  # fmt: skip
    s.prompt(5, "fix the adder")
    s.add(10, "ai_response", {"text": "ok", "lane": "lane-1", "model": "claude-sonnet-4-5",
                              "inputTokens": 1000, "outputTokens": 200,
                              "cachedInputTokens": 600}, actor="ai")  # fmt: skip
    s.add(20, "ai_response", {"text": "ok", "lane": "lane-1", "model": "house-model",
                              "inputTokens": 10, "outputTokens": 5},
          actor="ai", integration="codex")  # fmt: skip
    return s


def test_the_card_shows_cost_models_budget_and_disallowed_tools(tmp_path: Path) -> None:
    bundle = build(_session(), tmp_path / "cost.pst")
    result = review_bundle(bundle, tmp_path / "cost.html", generated_at="now")
    html = result.output.read_text()
    card = html[html.index('<section id="cost"') : html.index('<section id="signals"')]
    cost = (400 * 3 + 600 * 0.3 + 200 * 15) / 1e6
    assert f'<span class="count">{usd(cost)}</span>' in card
    assert "1,215 tokens" in card
    assert "over the budget" in card and "$0.0010" in card
    assert (
        '<span class="tag res-failed">codex</span>' in card and "<code>claude-code</code>" in card
    )
    assert "could not be priced" in card and "<code>house-model</code>" in card
    assert '<code>claude-sonnet-4-5</code> <span class="muted">as claude-sonnet-4</span>' in card
    assert '<a href="#cost">Cost</a>' in html
    assert 'id="sig-totalCostUsd"' in html


def test_a_session_without_usage_has_no_card(tmp_path: Path) -> None:
    s = Scenario("report-plain", "Pia Plain")
    s.prompt(5, "hello")
    result = review_bundle(build(s, tmp_path / "plain.pst"), tmp_path / "plain.html")
    html = result.output.read_text()
    assert '<section id="cost"' not in html and 'href="#cost"' not in html


def test_dollars_read_well() -> None:
    assert usd(None) == "–" and usd(0) == "$0"
    assert usd(0.00421) == "$0.0042" and usd(1234.5) == "$1,234.50"
    assert format_value("totalCostUsd", 0.5) == "$0.5000"
