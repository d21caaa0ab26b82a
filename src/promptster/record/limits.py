"""The assessment's token budget and allowed AI tools, as the candidate's session sees them.

Both come from the signed pack saved in the session folder (`assessment.json`), never from
session.json, which the candidate can edit. `ToolPolicy` is the recorder's check that each AI
tool heard from is allowed: the first event of a tool the pack does not list is followed by a
`warning` (code `tool_not_allowed`, once per tool); nothing is refused, the reviewer decides.
`UsageTally` sums the token usage of the `ai_response` events the journal holds, for `status`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from promptster.errors import CheckFailed, FormatError, PromptsterError
from promptster.formats.pricing import PriceTable, TokenUsage, default_price_table
from promptster.formats.tools import TOOL_NAMES


@dataclass(frozen=True)
class Limits:
    token_budget_usd: float | None = None
    allowed_tools: tuple[str, ...] | None = None

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "tokenBudgetUsd": self.token_budget_usd,
            "allowedTools": None if self.allowed_tools is None else list(self.allowed_tools),
        }


def read_limits(pack_file: Path) -> Limits:
    """The limits of the pack at `pack_file`; none when there is no readable, signed pack."""
    from promptster.issue.assessment import open_pack

    try:
        pack = open_pack(pack_file.read_bytes()).pack
    except (OSError, FormatError, CheckFailed):
        return Limits()
    return Limits(pack.token_budget_usd, pack.allowed_tools)


@dataclass
class ToolPolicy:
    """Which catalog tools may be used; remembers the tools already warned about."""

    allowed: frozenset[str] | None
    warned: set[str] = field(default_factory=set)

    def offending(self, source: Any) -> str | None:
        """The tool of an event's `source` when it is a catalog tool not allowed and not yet
        warned about (the caller writes the warning and calls `mark`)."""
        if self.allowed is None or not isinstance(source, dict):
            return None
        tool = source.get("integration")
        if tool in TOOL_NAMES and tool not in self.allowed and tool not in self.warned:
            return str(tool)
        return None

    def mark(self, tool: str) -> None:
        self.warned.add(tool)

    def warning_data(self, tool: str) -> dict[str, Any]:
        allowed = ", ".join(sorted(self.allowed or ())) or "none"
        return {
            "code": "tool_not_allowed",
            "message": f"{tool} was used, but the assessment allows only: {allowed}",
            "integration": tool,
            "allowedTools": sorted(self.allowed or ()),
        }


def journal_usage(journal: Path, session_id: str, budget: float | None) -> dict[str, Any]:
    """`UsageTally.to_json_obj` of a journal (for `status` once the recorder has stopped)."""
    from promptster.record.journal import read_journal

    tally = UsageTally()
    try:
        events = read_journal(journal, session_id).events
    except (OSError, PromptsterError):
        events = []  # no journal to read: nothing used, as far as status can tell
    for event in events:
        if event.kind == "ai_response":
            tally.add(event.data)
    return tally.to_json_obj(budget=budget)


def usage_text(usage: dict[str, Any]) -> str:
    """One line for `status`: tokens, cost, the budget, unpriced calls."""
    tokens = usage.get("totalTokens") or 0
    cost = usage.get("totalCostUsd") or 0.0
    text = f"{tokens:,} tokens, ${cost:.4f}" if cost < 1 else f"{tokens:,} tokens, ${cost:,.2f}"
    budget = usage.get("tokenBudgetUsd")
    if isinstance(budget, int | float):
        text += f" of the ${budget:g} budget"
        if usage.get("overBudget"):
            text += " (over the budget)"
    unpriced = usage.get("unpricedCalls") or 0
    if unpriced:
        text += f"; {unpriced} repl{'ies' if unpriced != 1 else 'y'} of models without a price"
    return text


@lru_cache(maxsize=1)
def _built_in() -> PriceTable:
    return default_price_table()  # read once per recorder, not on every `status`


_FIELDS = ("inputTokens", "outputTokens", "cachedInputTokens", "cacheWriteTokens")


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


@dataclass
class UsageTally:
    """Token usage per model, summed from `ai_response` data (docs/event-kinds.md)."""

    models: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        counts = [_count(data.get(name)) for name in _FIELDS]
        cost = data.get("costUsd")
        given = cost if isinstance(cost, int | float) and not isinstance(cost, bool) else None
        if not any(counts) and given is None:
            return
        model = data.get("model")
        name = model.strip()[:200] if isinstance(model, str) and model.strip() else "(none)"
        entry = self.models.setdefault(name, {"calls": 0, **dict.fromkeys(_FIELDS, 0)})
        entry["calls"] += 1
        for key, count in zip(_FIELDS, counts, strict=True):
            entry[key] += count
        if given is not None and given >= 0:
            entry["givenCostUsd"] = entry.get("givenCostUsd", 0.0) + given

    def add_events(self, bodies: Iterable[Any]) -> None:
        for body in bodies:
            if isinstance(body, dict) and body.get("kind") == "ai_response":
                self.add(body.get("data"))

    def to_json_obj(
        self, prices: PriceTable | None = None, budget: float | None = None
    ) -> dict[str, Any]:
        """Tokens and cost so far, per model and in total, the way `totalCostUsd` prices them
        (the table first; a reply's own `costUsd` for a model it does not name)."""
        table = prices or _built_in()
        total_cost, unpriced, tokens = 0.0, 0, 0
        by_model: dict[str, Any] = {}
        for name, entry in sorted(self.models.items()):
            uncached = max(
                int(entry["inputTokens"] - entry["cachedInputTokens"] - entry["cacheWriteTokens"]),
                0,
            )
            usage = TokenUsage(
                input_tokens=uncached,
                output_tokens=int(entry["outputTokens"]),
                cache_write_tokens=int(entry["cacheWriteTokens"]),
                cache_read_tokens=int(entry["cachedInputTokens"]),
            )
            cost = table.cost_usd(name, usage) if name != "(none)" else None
            if cost is None:
                cost = entry.get("givenCostUsd")
            if cost is None:
                unpriced += int(entry["calls"])
            else:
                total_cost += cost
            tokens += int(entry["inputTokens"] + entry["outputTokens"])
            by_model[name] = {
                "calls": int(entry["calls"]),
                **{key: int(entry[key]) for key in _FIELDS},
                "costUsd": None if cost is None else round(cost, 6),
            }
        return {
            "totalTokens": tokens,
            "totalCostUsd": round(total_cost, 6),
            "unpricedCalls": unpriced,
            "tokenBudgetUsd": budget,
            "overBudget": budget is not None and total_cost > budget,
            "byModel": by_model,
        }
