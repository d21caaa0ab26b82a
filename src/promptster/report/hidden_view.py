"""The report's "Does the code work?" card: the reviewer's hidden tests on the final snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from promptster.report.meta import duration
from promptster.report.model import Chart
from promptster.report.text import one_line, visible
from promptster.reviewer.hidden_tests.results import HiddenResult

CASES_SHOWN = 500
OUTPUT_SHOWN = 20_000
VERDICTS = {
    "passed": "Every hidden test passed.",
    "failed": "Some hidden tests failed.",
    "error": "The hidden tests could not run to the end (errors).",
    "no_tests": "The hidden test command found no test.",
    "timeout": "The hidden tests were stopped at the time limit.",
    "no_snapshot": "There is no submitted code to run the hidden tests on.",
}


@dataclass(frozen=True)
class HiddenCaseRow:
    name: str
    outcome: str
    duration_text: str
    message: str


@dataclass(frozen=True)
class HiddenTestsView:
    outcome: str
    verdict: str
    passed: int
    total: int
    pass_rate_text: str
    command: str
    duration_text: str
    sandboxed: bool
    process_limit: bool
    detail: str
    overlapped: list[str]
    cases: list[HiddenCaseRow]
    cases_left_out: int
    output: str
    output_cut: bool
    cached: bool
    commit: str
    over_time: Chart | None = None  # with --hidden-tests-at checkpoints
    over_time_runs: int = 0
    over_time_left_out: int = 0
    over_time_limit: int = 0


def hidden_view(
    result: HiddenResult,
    over_time: Chart | None = None,
    runs: int = 0,
    left_out: int = 0,
    limit: int = 0,
) -> HiddenTestsView:
    rate = result.pass_rate
    shown = result.cases[:CASES_SHOWN]
    # Failures first: they are what a reviewer reads.
    order = {"error": 0, "failed": 1, "skipped": 2, "passed": 3}
    rows = [
        HiddenCaseRow(
            name=one_line(case.name, 300),
            outcome=case.outcome,
            duration_text="–" if case.duration_ms is None else duration(case.duration_ms),
            message=visible(case.message or ""),
        )
        for case in sorted(shown, key=lambda c: order.get(c.outcome, 4))
    ]
    output = result.output
    if len(output) > OUTPUT_SHOWN:
        output = "…" + output[-OUTPUT_SHOWN:]
    return HiddenTestsView(
        outcome=result.outcome,
        verdict=VERDICTS.get(result.outcome, result.outcome),
        passed=result.passed,
        total=result.total,
        pass_rate_text="–" if rate is None else f"{rate * 100:.0f}%",
        command=one_line(result.command, 300),
        duration_text=duration(result.duration_ms),
        sandboxed=result.sandboxed,
        process_limit=result.process_limit,
        detail=visible(result.detail or ""),
        overlapped=[one_line(p, 300) for p in result.overlapped],
        cases=rows,
        cases_left_out=len(result.cases) - len(shown),
        output=visible(output),
        output_cut=result.output_cut or len(result.output) > OUTPUT_SHOWN,
        cached=result.cached,
        commit=(result.snapshot_commit or "")[:12],
        over_time=over_time,
        over_time_runs=runs,
        over_time_left_out=left_out,
        over_time_limit=limit,
    )
