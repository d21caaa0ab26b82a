"""The three questions a reviewer opens the report with, answered from the signals.

"Did they test? Did they think? What did the AI write?" Each answer is a short verdict plus
the facts it rests on; each links to the events behind it. No answer is a score.
"""

from __future__ import annotations

from promptster.analysis.signals import SessionSignals
from promptster.report.meta import duration, number
from promptster.report.model import Answer
from promptster.report.timeline_data import Digest

# From this share of added lines written by the AI on, the report says it is high.
HIGH_AI_SHARE_PCT = 50.0


def _num(signals: SessionSignals | None, name: str) -> float | None:
    return None if signals is None else signals.number(name)


def _last_counts_unread(signals: SessionSignals | None) -> bool:
    """True when the last test run's counts could not be read (testResults has null counts)."""
    result = None if signals is None else signals.value("testResults")
    return isinstance(result, dict) and result.get("total") is None


def _runs(n: int) -> str:
    return f"{n:,} test run{'s' if n != 1 else ''}"


def _tests(signals: SessionSignals | None, digest: Digest) -> Answer:
    runs = digest.tests
    facts: list[str] = []
    if not runs:
        verdict = "No test run was recorded."
    else:
        last = runs[-1]
        red = next((i for i, r in enumerate(runs) if r.failed or r.errors), None)
        green_after = red is not None and any(
            not (r.failed or r.errors) and r.passed for r in runs[red + 1 :]
        )
        one = len(runs) == 1
        if _last_counts_unread(signals):
            which = "its counts" if one else "the counts of the last one"
            verdict = f"Yes: {_runs(len(runs))}; {which} could not be read."
        elif last.failed or last.errors:
            times = "once; it" if one else f"{len(runs):,} times; the last run"
            verdict = f"Tests ran {times} failed ({last.failed} failed)."
        else:
            which = "it" if one else "the last one"
            verdict = f"Yes: {_runs(len(runs))}; {which} passed ({last.passed} passed)."
        facts.append(f"first test run {duration(runs[0].t)} into the session")
        if green_after:
            facts.append("tests went from failing to passing (a red → green cycle)")
        elif red is None:
            facts.append("no run failed")
    intensity = _num(signals, "verifyIntensity")
    if intensity is not None:
        facts.append(f"{intensity:.2f} verification runs (tests, lint, types, build) per change")
    fail_rate = _num(signals, "commandFailRate")
    if fail_rate is not None:
        facts.append(f"{fail_rate * 100:.0f}% of commands failed")
    return Answer("tests", "Did they test?", verdict, facts, ["test_run", "build_run"])


def _thinking(signals: SessionSignals | None, digest: Digest) -> Answer:
    decisions = len(digest.decisions)
    plans = sum(1 for row in digest.rows if digest.kinds[row[2]] == "planning")
    notes = sum(1 for row in digest.rows if digest.kinds[row[2]] == "note")
    parts = []
    if decisions:
        parts.append(f"{decisions:,} decision{'s' if decisions != 1 else ''} written down")
    if plans:
        parts.append(f"{plans:,} plan{'s' if plans != 1 else ''}")
    if notes:
        parts.append(f"{notes:,} note{'s' if notes != 1 else ''}")
    verdict = (
        ("; ".join(parts) + ".").capitalize()
        if parts
        else "No decision, plan or note was recorded (decisions are optional)."
    )
    facts = []
    latency = _num(signals, "firstChangeLatencyMs")
    if latency is not None:
        facts.append(f"first file change {duration(latency)} after the start")
    depth = _num(signals, "prompt_depth")
    if depth is not None:
        facts.append(f"prompt depth {depth:.2f} of 2 (specific, constrained prompts score higher)")
    read = _num(signals, "readBeforeWriteRatio")
    if read is not None:
        facts.append(f"{read * 100:.0f}% of modified files were read before the first edit")
    return Answer(
        "thinking",
        "Did they think?",
        verdict,
        facts,
        ["decision_event", "planning", "note", "checkpoint", "prompt"],
    )


def _ai(signals: SessionSignals | None, digest: Digest) -> Answer:
    ai = sum(f.ai_lines for f in digest.files)
    human = sum(f.human_lines for f in digest.files)
    pct = _num(signals, "aiAttributionPct")
    if ai + human == 0:
        verdict = "No line was added."
    else:
        share = pct if pct is not None else ai * 100 / (ai + human)
        verdict = (
            f"The AI wrote {share:.0f}% of the added lines ({number(ai)} of {number(ai + human)})."
        )
    facts = []
    manual = _num(signals, "manualEditRatio")
    if manual is not None:
        facts.append(f"{manual * 100:.0f}% of file changes were made or reworked by hand")
    revised = sum(1 for f in digest.files if f.attribution == "ai_revised_by_human")
    if revised:
        facts.append(f"{revised:,} AI change{'s' if revised != 1 else ''} revised by the candidate")
    prompts = _num(signals, "promptCount")
    if prompts is not None:
        facts.append(f"{number(prompts)} prompt{'s' if prompts != 1 else ''} to the AI")
    share_pct = pct if pct is not None else (ai * 100 / (ai + human) if ai + human else None)
    if share_pct is not None and share_pct >= HIGH_AI_SHARE_PCT:
        facts.append("a high AI share is normal; no signal penalises AI use")
    else:
        facts.append("no signal penalises AI use")
    return Answer(
        "ai", "What did the AI write?", verdict, facts, ["file_create", "file_diff", "file_delete"]
    )


def answers(signals: SessionSignals | None, digest: Digest) -> list[Answer]:
    return [_tests(signals, digest), _thinking(signals, digest), _ai(signals, digest)]
