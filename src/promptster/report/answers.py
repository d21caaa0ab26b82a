"""The three questions a reviewer opens the report with, answered from the signals.

"Did they test? Did they think? What did the AI write?" Each answer is a short verdict plus
the facts it rests on; each links to the events behind it. No answer is a score.
"""

from __future__ import annotations

from promptster.analysis.signals import SessionSignals
from promptster.report.meta import duration, number
from promptster.report.model import Answer
from promptster.report.timeline_data import Digest, TestPoint

# From this share of added lines written by the AI on, the report says it is high.
HIGH_AI_SHARE_PCT = 50.0


def _num(signals: SessionSignals | None, name: str) -> float | None:
    return None if signals is None else signals.number(name)


def _last_result(signals: SessionSignals | None) -> dict[str, object]:
    """testResults: the counts and outcome of the last test run ({} when there is none)."""
    result = None if signals is None else signals.value("testResults")
    return result if isinstance(result, dict) else {}


def _runs(n: int) -> str:
    return f"{n:,} test run{'s' if n != 1 else ''}"


def _is_red(run: TestPoint) -> bool:
    return bool(run.failed or run.errors) or run.outcome in ("failed", "error")


def _is_green(run: TestPoint) -> bool:
    if run.outcome is not None:
        return run.outcome == "passed"
    return bool(run.passed) and not (run.failed or run.errors)


def _last_run_verdict(runs: list[TestPoint], result: dict[str, object]) -> str:
    """One sentence on the last run. Only a run that ran tests and had none fail is "passed":
    0 tests, errors, a crash and Ctrl-C each say so."""
    last, one = runs[-1], len(runs) == 1
    outcome = result.get("outcome") or last.outcome
    unread = bool(result) and result.get("total") is None
    times = "once; it" if one else f"{len(runs):,} times; the last run"
    if outcome == "interrupted":
        return f"Tests ran {times} was interrupted before it finished (Ctrl-C)."
    if outcome == "no_tests":
        skipped = f" ({last.skipped:,} skipped)" if last.skipped else ""
        return f"Tests ran {times} found no test to run{skipped}: nothing was tested."
    if unread and outcome == "error":
        return f"Tests ran {times} exited with code {last.exit}; its counts could not be read."
    if unread or outcome == "unknown":
        which = "its counts" if one else "the counts of the last one"
        return f"Yes: {_runs(len(runs))}; {which} could not be read."
    if outcome == "failed" or (outcome is None and last.failed):
        return f"Tests ran {times} failed ({last.failed} failed)."
    if outcome == "error" or (outcome is None and last.errors):
        if last.errors:
            errors = f"{last.errors:,} error{'s' if last.errors != 1 else ''}"
            return f"Tests ran {times} ended in errors ({errors} outside the tests)."
        return f"Tests ran {times} exited with code {last.exit} although no test failed."
    which = "it" if one else "the last one"
    return f"Yes: {_runs(len(runs))}; {which} passed ({last.passed} passed)."


def _tests(signals: SessionSignals | None, digest: Digest) -> Answer:
    runs = digest.tests
    facts: list[str] = []
    if not runs:
        verdict = "No test run was recorded."
    else:
        red = next((i for i, r in enumerate(runs) if _is_red(r)), None)
        green_after = red is not None and any(_is_green(r) for r in runs[red + 1 :])
        verdict = _last_run_verdict(runs, _last_result(signals))
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
    decisions = digest.decision_count
    plans = digest.kind_count("planning")
    notes = digest.kind_count("note")
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
    depth = _num(signals, "promptDepth")
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
