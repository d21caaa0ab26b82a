"""Hidden tests for the batch commands: fill `score` rows (runs in parallel threads: each run
is a sandboxed process, so threads are enough) and add `hiddenTestPassRate` to the signals
that `cohort` and the report rank and show."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptster.analysis.cohort import HIDDEN_METRIC
from promptster.errors import EnvironmentProblem, PromptsterError
from promptster.reviewer.hidden_tests.over_time import At
from promptster.reviewer.hidden_tests.results import HiddenResult
from promptster.reviewer.hidden_tests.service import HiddenTests

if TYPE_CHECKING:
    from promptster.analysis.signals import SessionSignals, Signal


def hidden_fields(result: HiddenResult | None) -> dict[str, Any]:
    if result is None:
        return {"hiddenTestsPassed": None, "hiddenTestsTotal": None, "hiddenTestPassRate": None}
    rate = result.pass_rate
    return {
        "hiddenTestsPassed": result.passed if rate is not None else None,
        "hiddenTestsTotal": result.total if rate is not None else None,
        "hiddenTestPassRate": None if rate is None else round(rate, 6),
    }


def bundle_digest(path: Path) -> str:
    from promptster.analysis.verified import file_sha256

    return file_sha256(path)


SERIES_FIELD = "hiddenTestsOverTime"  # in `score --format json` with --hidden-tests-at checkpoints


def _fill(hidden: HiddenTests, row: dict[str, Any], at: At, series: bool) -> dict[str, Any]:
    if series:
        row[SERIES_FIELD] = None
    if row.get("sessionId") is None or not hidden.has_suite(row.get("assessmentId")):
        return row
    path = Path(row["path"])
    try:
        digest = bundle_digest(path)
        result = hidden.result_for(path, digest, row["assessmentId"], row["sessionId"])
        over_time = (
            hidden.series_for(path, digest, row["assessmentId"], row["sessionId"], result)
            if at == "checkpoints"
            else None
        )
    except EnvironmentProblem:
        raise  # no sandbox, a runner missing: the same for every bundle, so stop (exit 3)
    except PromptsterError as exc:
        row["error"] = row["error"] or f"hidden tests: {exc.message}"
        return row
    row.update(hidden_fields(result))
    if series and over_time is not None:
        row[SERIES_FIELD] = over_time.to_json_obj()
    return row


def with_hidden_tests(
    rows: Iterator[dict[str, Any]],
    hidden: HiddenTests,
    jobs: int,
    *,
    at: At = "final",
    series: bool = False,
) -> Iterator[dict[str, Any]]:
    """The rows, in order, with the hidden columns filled where the assessment has tests;
    with `at` checkpoints the tests also run over the session, and with `series` each row
    gets the results over time (`hiddenTestsOverTime`, for JSON output)."""
    if not hidden.suites:
        yield from rows
        return
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="hidden") as pool:
        yield from pool.map(lambda row: _fill(hidden, row, at, series), rows)


def hidden_signal(result: HiddenResult) -> Signal:
    """`hiddenTestPassRate` as a signal, with the counts and outcome as its detail."""
    from promptster.analysis.signals import Signal

    rate = result.pass_rate
    trusted = result.sandboxed and result.outcome in ("passed", "failed")
    return Signal(
        name=HIDDEN_METRIC,
        family="hidden_tests",
        value=rate,
        confidence="insufficient_data" if rate is None else "high" if trusted else "moderate",
        evidence=(),
        evidence_count=0,
        detail={
            "outcome": result.outcome,
            "passed": result.passed,
            "failed": result.counts.get("failed", 0),
            "errors": result.counts.get("error", 0),
            "skipped": result.counts.get("skipped", 0),
            "total": result.total,
            "command": result.command,
            "durationMs": result.duration_ms,
            "sandboxed": result.sandboxed,
        },
    )


def add_hidden_signals(
    signals: Mapping[str, SessionSignals], hidden: HiddenTests, at: At = "final"
) -> dict[str, HiddenResult]:
    """Run (or reuse) the hidden tests of every session whose assessment has them and add
    `hiddenTestPassRate` to its signals; return the results by session id. A session whose
    bundle file is gone keeps no hidden result. With `at` checkpoints the tests also run over
    the session (stored, for the reports)."""
    found: dict[str, HiddenResult] = {}
    for session_id, own in signals.items():
        info = own.session
        if not hidden.has_suite(info.assessment_id) or not info.bundle_path:
            continue
        path = Path(info.bundle_path)
        if not path.is_file():
            continue
        digest = info.bundle_sha256 or bundle_digest(path)
        result = hidden.result_for(path, digest, info.assessment_id, session_id)
        if result is not None:
            own.signals[HIDDEN_METRIC] = hidden_signal(result)
            found[session_id] = result
            if at == "checkpoints":
                hidden.series_for(path, digest, info.assessment_id, session_id, result)
    return found
