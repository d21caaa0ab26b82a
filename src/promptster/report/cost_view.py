"""The report's "Model tokens and cost" card: what the AI's replies used and cost, per model,
against the assessment's budget, and the AI tools used that the assessment did not allow.

Built from the `cost` family's signals (analysis/sql/signals_cost.sql); absent when the session
has no reply that reports usage and no tool outside the allowed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promptster.analysis.signals import SessionSignals
from promptster.report.meta import number, usd
from promptster.report.text import one_line, visible

MODELS_SHOWN = 50


@dataclass(frozen=True)
class ModelRow:
    model: str
    calls: int
    input_tokens: str
    output_tokens: str
    cached_tokens: str
    cost_text: str
    price_entry: str
    unpriced: int


@dataclass(frozen=True)
class CostView:
    total_tokens: str
    cost_text: str
    budget_text: str | None
    over_budget: bool
    unpriced: int
    unpriced_models: list[str]
    approximate: bool
    price_source: str
    price_as_of: str
    models: list[ModelRow]
    models_left_out: int
    not_allowed: list[str]
    allowed: list[str]
    evidence_count: int


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _strings(value: Any) -> list[str]:
    return [visible(one_line(str(v))) for v in value] if isinstance(value, list) else []


def cost_view(signals: SessionSignals | None) -> CostView | None:
    if signals is None:
        return None
    tokens, cost = signals.signals.get("totalTokens"), signals.signals.get("totalCostUsd")
    unpriced, tools = (
        signals.signals.get("unpricedModelCalls"),
        signals.signals.get("toolsNotAllowed"),
    )
    not_allowed = _strings(tools.value) if tools is not None else []
    has_usage = tokens is not None and (
        tokens.value is not None or (cost is not None and cost.value is not None)
    )
    if not has_usage and not not_allowed:
        return None
    detail = cost.detail if cost is not None else {}
    rows = detail.get("byModel")
    models = [
        ModelRow(
            model=visible(one_line(str(m.get("model")))),
            calls=_int(m.get("calls")),
            input_tokens=number(_int(m.get("inputTokens"))),
            output_tokens=number(_int(m.get("outputTokens"))),
            cached_tokens=number(
                _int(m.get("cachedInputTokens")) + _int(m.get("cacheWriteTokens"))
            ),
            cost_text=usd(_num(m.get("costUsd"))) if m.get("costUsd") is not None else "unpriced",
            price_entry=visible(one_line(str(m.get("priceEntry") or ""))),
            unpriced=_int(m.get("unpricedCalls")),
        )
        for m in (rows if isinstance(rows, list) else [])
        if isinstance(m, dict)
    ]
    budget = _num(detail.get("tokenBudgetUsd"))
    total = _num(cost.value) if cost is not None else None
    return CostView(
        total_tokens=number(_int(tokens.value))
        if tokens is not None and tokens.value is not None
        else "–",
        cost_text=usd(total),
        budget_text=usd(budget) if budget is not None else None,
        over_budget=detail.get("overBudget") is True,
        unpriced=_int(unpriced.value) if unpriced is not None else 0,
        unpriced_models=_strings(unpriced.detail.get("models")) if unpriced is not None else [],
        approximate=tokens is not None and tokens.confidence == "moderate",
        price_source=visible(one_line(str(detail.get("priceTableSource") or "built-in"))),
        price_as_of=visible(one_line(str(detail.get("priceTableAsOf") or ""))),
        models=models[:MODELS_SHOWN],
        models_left_out=max(_int(detail.get("models")), len(models)) - len(models[:MODELS_SHOWN]),
        not_allowed=not_allowed,
        allowed=_strings(tools.detail.get("allowedTools")) if tools is not None else [],
        evidence_count=tokens.evidence_count if tokens is not None else 0,
    )
