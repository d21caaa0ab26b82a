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
    from promptster.analysis.load import file_sha256

    return file_sha256(path)


def _fill(hidden: HiddenTests, row: dict[str, Any]) -> dict[str, Any]:
    if row.get("sessionId") is None or not hidden.has_suite(row.get("assessmentId")):
        return row
    path = Path(row["path"])
    try:
        result = hidden.result_for(path, bundle_digest(path), row["assessmentId"], row["sessionId"])
    except EnvironmentProblem:
        raise  # no sandbox, a runner missing: the same for every bundle, so stop (exit 3)
    except PromptsterError as exc:
        row["error"] = row["error"] or f"hidden tests: {exc.message}"
        return row
    row.update(hidden_fields(result))
    return row


def with_hidden_tests(
    rows: Iterator[dict[str, Any]], hidden: HiddenTests, jobs: int
) -> Iterator[dict[str, Any]]:
    """The rows, in order, with the hidden columns filled where the assessment has tests."""
    if not hidden.suites:
        yield from rows
        return
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="hidden") as pool:
        yield from pool.map(lambda row: _fill(hidden, row), rows)


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
    signals: Mapping[str, SessionSignals], hidden: HiddenTests
) -> dict[str, HiddenResult]:
    """Run (or reuse) the hidden tests of every session whose assessment has them and add
    `hiddenTestPassRate` to its signals; return the results by session id. A session whose
    bundle file is gone keeps no hidden result."""
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
    return found
