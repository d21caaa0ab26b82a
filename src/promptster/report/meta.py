"""How the report words a signal's value, its confidence, durations and numbers.

What each signal is called, means in one line, and which unit its value has, are the
catalog's (analysis/catalog.py); the definitions are in docs/signals.md (generated from the SQL).
"""

from __future__ import annotations

from promptster.analysis.catalog import SignalSpec
from promptster.analysis.catalog import spec_for as catalog_spec
from promptster.analysis.cohort import HIDDEN_METRIC
from promptster.formats.jsonio import JsonValue

# How each test-run outcome reads (testResults.outcome): a label and its tag class.
TEST_OUTCOMES: dict[str, tuple[str, str]] = {
    "passed": ("passed", "res-ok"),
    "failed": ("failed", "res-failed"),
    "error": ("error", "res-failed"),
    "no_tests": ("no tests", "res-warning"),
    "interrupted": ("interrupted", "res-warning"),
    "unknown": ("result unknown", "res-warning"),
}


def outcome_label(outcome: object) -> str:
    return TEST_OUTCOMES.get(outcome if isinstance(outcome, str) else "unknown", ("?", ""))[0]


# Shown like a signal, though the reviewer's hidden tests compute it, not the SQL.
HIDDEN_SPEC = SignalSpec(
    HIDDEN_METRIC, "hidden_tests", "share", "tests",
    label="Hidden tests passed",
    meaning="Share of the reviewer's hidden tests that pass on the submitted code (sandboxed).",
    score="number",
)  # fmt: skip


def spec_for(name: str) -> SignalSpec:
    """The catalog's entry of `name`, or the hidden tests' pass rate."""
    return HIDDEN_SPEC if name == HIDDEN_METRIC else catalog_spec(name)


CONFIDENCE_TEXT = {
    "high": "high confidence",
    "moderate": "moderate: few data points",
    "low": "low: a heuristic",
    "insufficient_data": "not enough data (not a negative judgement)",
}


def duration(ms: float | int | None) -> str:
    """A duration people read: 850 ms, 42 s, 3 min 05 s, 2 h 10 min, 3 d 4 h."""
    if ms is None:
        return "–"
    ms = float(ms)
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, mins = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {mins:02d} min"
    days, hrs = divmod(hours, 24)
    return f"{days} d {hrs} h"


def number(value: float | int) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def usd(value: float | None) -> str:
    """Dollars with enough digits for a cheap session: $0.0042, $1.27, $1,234.50."""
    if value is None:
        return "–"
    if value == 0:
        return "$0"
    if abs(value) < 1:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def format_value(name: str, value: JsonValue) -> str:
    """The value of signal `name` as text; "–" when undefined."""
    if value is None:
        return "–"
    unit = spec_for(name).unit
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if unit == "share":
            return f"{value * 100:.0f}%"
        if unit == "percent":
            return f"{value:.0f}%"
        if unit == "ms":
            return duration(value)
        if unit == "ratio":
            return f"{value:.2f}"
        if unit == "score2":
            return f"{value:.2f} / 2"
        if unit == "chars":
            return f"{number(value)} chars"
        if unit == "usd":
            return usd(value)
        return number(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, dict):
        if name == "testResults":
            # The counts say "passed" and "failed" themselves; the other outcomes need saying.
            outcome = value.get("outcome")
            head = (
                f"{outcome_label(outcome)}: " if outcome not in (None, "passed", "failed") else ""
            )
            keys = ("passed", "failed", "skipped", "errors")
            if all(value.get(k) is None for k in keys):
                return head + "counts not read"
            parts = [f"{value.get(k) or 0} {k}" for k in keys]
            return head + ", ".join(p for p in parts if not p.startswith("0 ") or "passed" in p)
        items = sorted(
            ((k, v) for k, v in value.items() if isinstance(v, int | float)),
            key=lambda kv: (-float(kv[1]), kv[0]),
        )
        shown = " · ".join(f"{k} {number(v)}" for k, v in items[:6])
        return shown + (" · …" if len(items) > 6 else "") if items else "none"
    return str(value)


def percent_text(fraction: float | None) -> str:
    return "–" if fraction is None else f"{fraction * 100:.0f}"
