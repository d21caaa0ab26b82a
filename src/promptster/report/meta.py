"""What each signal means in one line, how its value reads, and how to format numbers.

The definitions are in docs/signals.md (generated from the SQL); these are the reviewer-facing
one-liners the report shows next to each value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from promptster.formats.jsonio import JsonValue

Unit = Literal["count", "ratio", "share", "percent", "ms", "chars", "score2", "object", "list"]


@dataclass(frozen=True)
class SignalMeta:
    label: str
    meaning: str
    unit: Unit
    question: Literal["tests", "thinking", "ai", "activity"]


SIGNALS: dict[str, SignalMeta] = {
    "promptCount": SignalMeta("Prompts", "Prompts the candidate sent to the AI.", "count", "ai"),
    "verifyIntensity": SignalMeta(
        "Verify intensity",
        "Test, lint, type-check and build runs per file change (higher: checked more often).",
        "ratio",
        "tests",
    ),
    "commandFailRate": SignalMeta(
        "Command fail rate", "Share of commands that exited non-zero.", "share", "tests"
    ),
    "manualEditRatio": SignalMeta(
        "Manual edit ratio", "Share of file changes made or reworked by hand.", "share", "ai"
    ),
    "firstChangeLatencyMs": SignalMeta(
        "Time to first change",
        "From the session start to the first file change: time spent orienting.",
        "ms",
        "thinking",
    ),
    "aiAttributionPct": SignalMeta(
        "AI-written lines", "Share of added lines attributed to the AI.", "percent", "ai"
    ),
    "sessionDurationMs": SignalMeta(
        "Session duration", "From the first to the last event.", "ms", "activity"
    ),
    "commandCount": SignalMeta(
        "Commands", "Shell commands run, by the candidate or the AI.", "count", "activity"
    ),
    "fileDiffCount": SignalMeta(
        "File changes", "File creations, edits and deletions observed.", "count", "activity"
    ),
    "uniqueFilesTouched": SignalMeta(
        "Files touched", "Distinct files that changed.", "count", "activity"
    ),
    "testRunCount": SignalMeta("Test runs", "Test-suite runs, by anyone.", "count", "tests"),
    "testResults": SignalMeta(
        "Last test results", "The test counts of the last test run.", "object", "tests"
    ),
    "errorEpisodeCount": SignalMeta(
        "Error episodes", "Runs of consecutive failing commands.", "count", "tests"
    ),
    "recoveryCount": SignalMeta(
        "Recoveries",
        "Error episodes later followed by the same kind of command succeeding.",
        "count",
        "tests",
    ),
    "avgPromptLength": SignalMeta(
        "Average prompt length", "Mean characters per prompt.", "chars", "thinking"
    ),
    "maxPromptLength": SignalMeta(
        "Longest prompt", "Characters in the longest prompt.", "chars", "thinking"
    ),
    "humanTerminalCommands": SignalMeta(
        "Commands typed", "Commands the candidate typed (not run by the AI).", "count", "activity"
    ),
    "toolUsage": SignalMeta("AI tool calls", "Calls per AI tool.", "object", "ai"),
    "eventCounts": SignalMeta("Events", "Events per kind.", "object", "activity"),
    "distinctToolsUsed": SignalMeta("AI tools used", "AI tools called.", "list", "ai"),
    "readBeforeWriteRatio": SignalMeta(
        "Read before write",
        "Share of modified files that were read before their first change.",
        "share",
        "thinking",
    ),
    "explorationBeforeActionRatio": SignalMeta(
        "Exploration before action",
        "Share of actions before the first change that explored (reads, questions).",
        "share",
        "thinking",
    ),
    "processDescriptors": SignalMeta(
        "Process shape",
        "Coarse labels for how the session went; none is a judgement.",
        "list",
        "activity",
    ),
    "prompt_depth": SignalMeta(
        "Prompt depth",
        "How specific prompts are: length, named files, constraints (0–2).",
        "score2",
        "thinking",
    ),
    "decision_visibility": SignalMeta(
        "Decision visibility",
        "Share of significant decisions that were written down.",
        "share",
        "thinking",
    ),
    "error_recovery_pattern": SignalMeta(
        "Error recovery",
        "After a failure: share of next steps that tried a hypothesis or a new approach.",
        "share",
        "tests",
    ),
    "planning_before_acting": SignalMeta(
        "Planning before acting",
        "Share of strategic or tactical prompts and plans before the first change.",
        "share",
        "thinking",
    ),
    "verification_intensity": SignalMeta(
        "Commands per change", "All commands per file change, with a breakdown.", "ratio", "tests"
    ),
    "code_craft": SignalMeta(
        "Code craft",
        "Tests touched, simplification, defensive code, no debug residue (0–2).",
        "score2",
        "ai",
    ),
}

CONFIDENCE_TEXT = {
    "high": "high confidence",
    "moderate": "moderate: few data points",
    "low": "low: a heuristic",
    "insufficient_data": "not enough data (not a negative judgement)",
}


def meta_for(name: str) -> SignalMeta:
    return SIGNALS.get(name, SignalMeta(name, "", "object", "activity"))


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


def format_value(name: str, value: JsonValue) -> str:
    """The value of signal `name` as text; "–" when undefined."""
    if value is None:
        return "–"
    unit = meta_for(name).unit
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
        return number(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, dict):
        if name == "testResults":
            parts = [f"{value.get(k, 0)} {k}" for k in ("passed", "failed", "skipped", "errors")]
            return ", ".join(p for p in parts if not p.startswith("0 ") or "passed" in p)
        items = sorted(
            ((k, v) for k, v in value.items() if isinstance(v, int | float)),
            key=lambda kv: (-float(kv[1]), kv[0]),
        )
        shown = " · ".join(f"{k} {number(v)}" for k, v in items[:6])
        return shown + (" · …" if len(items) > 6 else "") if items else "none"
    return str(value)


def percent_text(fraction: float | None) -> str:
    return "–" if fraction is None else f"{fraction * 100:.0f}"
