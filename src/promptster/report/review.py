"""`promptster review`: verify a bundle, compute its signals, write its report. Timed by step.

The bundle is verified once; its timeline bytes go straight into DuckDB for the signals (no
second verification), while a worker thread unpacks the snapshots and casts for the diffs,
the file view and the player. A bundle that fails verification still gets a report, with a
red banner naming every failed check, and nothing else from the bundle: its events, signals,
diffs and recordings are not read (they are a stranger's bytes that failed their checks, and
may be built to exhaust the reviewer's machine). A bundle with no readable manifest gets none.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from promptster.analysis.cohort import HIDDEN_METRIC
from promptster.analysis.fluency_judge import TextModel
from promptster.analysis.prices import Prices
from promptster.analysis.signals import SessionSignals
from promptster.analysis.verified import file_sha256
from promptster.bundle.spool import SpooledTimeline
from promptster.bundle.verify import ExtraCheck, VerifyReport, verify_bundle
from promptster.errors import FormatError, InputError, NewerFormatError, PromptsterError
from promptster.heap import release_freed_memory
from promptster.report.casts import Cast, load_casts
from promptster.report.data import CohortContext, ReportInputs, build_report_data
from promptster.report.render import report_template, write_report
from promptster.report.signals_step import cohort_for, signals_for, workspace_cohort
from promptster.report.snapshots import SnapshotData, load_snapshots
from promptster.reviewer.hidden_tests.batch import add_hidden_signals, hidden_signal
from promptster.reviewer.hidden_tests.over_time import At, HiddenSeries
from promptster.reviewer.hidden_tests.results import HiddenResult
from promptster.reviewer.hidden_tests.service import HiddenTests

FAILED_NOTE = (
    "the bundle failed verification, so only its findings are shown: none of its events, "
    "signals, diffs or recordings were read"
)


@dataclass
class ReviewResult:
    output: Path
    report: VerifyReport
    size: int
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    hidden_series: HiddenSeries | None = None  # with hidden_at checkpoints
    aids_counts: tuple[int, int] | None = None  # key moments and follow-up questions shown

    @property
    def verified(self) -> bool:
        return self.report.ok


def default_checks() -> list[ExtraCheck]:
    """The reviewer's checks of the assessment pack and candidate key (with the workspace),
    the same as every other reviewer command runs."""
    from promptster.reviewer.checks import default_checks as shared

    return shared()


@dataclass(frozen=True)
class ReviewerKnows:
    """What the reviewer's own workspace says about a bundle: names a bundle does not carry."""

    assessment_title: str | None = None
    candidate_name: str | None = None
    candidate_email: str | None = None


def reviewer_knows(assessment_id: str | None, candidate_key: str | None) -> ReviewerKnows:
    """The assessment's title and the key's candidate name and e-mail, when this reviewer
    issued them (reviewer/people.py)."""
    from promptster.reviewer.people import load_directory

    if not assessment_id:
        return ReviewerKnows()
    person = load_directory().person(assessment_id, candidate_key)
    return ReviewerKnows(person.assessment_title, person.name, person.email)


def _side_data(bundle: Path) -> tuple[SnapshotData, list[Cast]]:
    return load_snapshots(bundle), load_casts(bundle)


def review_bundle(
    bundle: Path,
    output: Path,
    *,
    cohort_bundles: Sequence[Path] = (),
    extra_checks: Sequence[ExtraCheck] | None = None,
    generated_at: str | None = None,
    title: str | None = None,
    known: tuple[SessionSignals, CohortContext | None] | None = None,
    cohort_assessment: str | None = None,
    rerun_tests: bool = False,
    unsafe_no_sandbox: bool = False,
    hidden_at: At = "final",
    prices: Prices | None = None,
    judge_model: str | None = None,
) -> ReviewResult:
    """Write the report of `bundle` to `output`; raise InputError when it cannot be read.

    The cohort is the bundles in `cohort_bundles`, or the sessions of `cohort_assessment`
    imported into the reviewer workspace. `known` passes signals (and a cohort place)
    computed already, as `cohort --html` does. When the reviewer attached hidden tests to
    the assessment, they run on the final snapshot (or their stored result is reused); with
    `hidden_at` checkpoints also over the session, charted in the report. With
    `judge_model` (an `llm` model id) the fluency rubric and the narrative are also rated by
    that model, beside the heuristics; a failing model leaves the heuristics standing.
    """
    spools: list[SpooledTimeline] = []  # the verified timeline's file, removed at the end
    try:
        return _review(
            bundle, output, spools, cohort_bundles=cohort_bundles, extra_checks=extra_checks,
            generated_at=generated_at, title=title, known=known,
            cohort_assessment=cohort_assessment, rerun_tests=rerun_tests,
            unsafe_no_sandbox=unsafe_no_sandbox, hidden_at=hidden_at, prices=prices,
            judge_model=judge_model,
        )  # fmt: skip
    finally:
        for spool in spools:
            spool.close()


def _review(
    bundle: Path,
    output: Path,
    spools: list[SpooledTimeline],
    *,
    cohort_bundles: Sequence[Path],
    extra_checks: Sequence[ExtraCheck] | None,
    generated_at: str | None,
    title: str | None,
    known: tuple[SessionSignals, CohortContext | None] | None,
    cohort_assessment: str | None,
    rerun_tests: bool,
    unsafe_no_sandbox: bool,
    hidden_at: At,
    prices: Prices | None,
    judge_model: str | None,
) -> ReviewResult:
    """`review_bundle`; the spooled timeline is put in `spools` for the caller to remove."""
    bundle = Path(bundle)
    timings: dict[str, float] = {}
    notes: list[str] = []
    checks = default_checks() if extra_checks is None else list(extra_checks)
    started = time.perf_counter()
    report = verify_bundle(bundle, extra_checks=checks, keep_timeline=True)
    timings["verify"] = time.perf_counter() - started
    timeline, report.context.timeline = report.context.timeline, None
    # what the checks replayed, not read again here: ~50 MB for a million events
    report.context.file_events = []
    if timeline is not None:
        spools.append(timeline)
    manifest = report.context.manifest
    if manifest is None or report.unreadable:
        first = report.failures[0].message if report.failures else "not a bundle"
        error = NewerFormatError if "reads up to" in first else FormatError
        from promptster.analysis.verified import naming

        raise error(
            naming(bundle, first),
            "no report can be made without a readable manifest; "
            "`promptster verify` shows every finding",
        )
    if not report.ok:
        timeline = None
        notes.append(FAILED_NOTE)
    release_freed_memory()  # verify's peak is behind: the signals step starts from less
    started = time.perf_counter()
    bundle_sha256 = file_sha256(bundle)  # read once: a bundle can be hundreds of megabytes
    hidden = HiddenTests.load([manifest.assessment_id], rerun=rerun_tests, unsafe=unsafe_no_sandbox)
    hidden_result = hidden.result_for(
        bundle, bundle_sha256, manifest.assessment_id, manifest.session_id
    )
    hidden_series = (
        hidden.series_for(
            bundle, bundle_sha256, manifest.assessment_id, manifest.session_id,
            hidden_result,
        )
        if hidden_at == "checkpoints" and hidden_result is not None
        else None
    )  # fmt: skip
    timings["hidden_tests"] = time.perf_counter() - started
    started = time.perf_counter()
    signals: SessionSignals | None = None
    cohort: CohortContext | None = None
    if not report.ok:
        pass  # findings only
    elif known is not None:
        signals, cohort = known
    elif timeline is not None:
        try:
            signals, cohort = _signals(
                report, timeline, cohort_bundles, notes, checks, hidden, hidden_result, prices,
                bundle_sha256,
            )  # fmt: skip
        except PromptsterError as exc:
            notes.append(f"signals could not be computed: {exc.message}")
        if signals is not None and cohort_assessment is not None:
            cohort = workspace_cohort(
                signals,
                cohort_assessment,
                notes,
                lambda s: add_hidden_signals(s, hidden),
                prices,
            )
    hidden.save()
    timings["signals"] = time.perf_counter() - started
    release_freed_memory()  # DuckDB's peak is behind too
    knows = reviewer_knows(manifest.assessment_id, manifest.candidate_key)
    opened: list[SnapshotData] = []  # the snapshots' patch file, removed at the end
    # The snapshots and casts are read (git, a thread) while the timeline is digested: after
    # the signals, so the two steps' memory never adds up; a failed bundle's are never read.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-git") as pool:
        side = pool.submit(_side_data, bundle) if report.ok else None

        def side_data() -> tuple[SnapshotData, list[Cast]]:
            waited = time.perf_counter()
            if side is None:
                timings["snapshots_wait"] = 0.0
                return SnapshotData(problem="not read: the bundle failed verification"), []
            snapshots, casts = side.result()
            opened.append(snapshots)
            timings["snapshots_wait"] = time.perf_counter() - waited
            return snapshots, casts

        started = time.perf_counter()
        try:
            data = build_report_data(
                ReportInputs(
                    report=report,
                    timeline=timeline,
                    signals=signals,
                    snapshots=SnapshotData(),
                    casts=[],
                    cohort=cohort,
                    assessment_title=title or knows.assessment_title,
                    candidate_name=knows.candidate_name,
                    candidate_email=knows.candidate_email,
                    bundle_sha256=bundle_sha256,
                    bundle_size=bundle.stat().st_size,
                    hidden=hidden_result,
                    hidden_series=hidden_series,
                    aids=report.ok,
                    judge=_judge(judge_model),
                    later=side_data,
                ),
                extra_notes=notes,
            )
        finally:
            if side is not None and not opened:  # build_report_data failed before reading it
                with contextlib.suppress(Exception):  # its own error is the one to report
                    opened.append(side.result()[0])
            for snapshots in opened:
                snapshots.close()
    timings["data"] = time.perf_counter() - started - timings.get("snapshots_wait", 0.0)
    started = time.perf_counter()
    moment = generated_at or datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    try:
        page = report_template(data, generated_at=moment)
        timings["render"] = time.perf_counter() - started
        started = time.perf_counter()
        size = write_report(output, page, data.blocks)  # the events block copied in, streamed
        timings["write"] = time.perf_counter() - started
    finally:
        for block in data.blocks:
            if block.file is not None:
                block.file.close()
    aids = data.aids
    counts = None if aids is None else (aids.moment_count, len(aids.questions))
    return ReviewResult(output, report, size, timings, notes, hidden_series, counts)


def _judge(judge_model: str | None) -> TextModel | None:
    """The `llm` model that rates the rubric beside the heuristics; an unknown model is a
    usage error."""
    if judge_model is None:
        return None
    from promptster.analysis.judge import LlmJudge

    return LlmJudge(judge_model)


def _signals(
    report: VerifyReport,
    timeline: SpooledTimeline,
    cohort_bundles: Sequence[Path],
    notes: list[str],
    checks: Sequence[ExtraCheck],
    hidden: HiddenTests,
    hidden_result: HiddenResult | None,
    prices: Prices | None,
    bundle_sha256: str,
) -> tuple[SessionSignals, CohortContext | None]:
    if not cohort_bundles:
        own = signals_for(report, timeline, prices, bundle_sha256=bundle_sha256)
        if hidden_result is not None:
            own.signals[HIDDEN_METRIC] = hidden_signal(hidden_result)
        return own, None
    own, cohort = cohort_for(
        report,
        timeline,
        cohort_bundles,
        notes,
        checks,
        lambda s: add_hidden_signals(s, hidden),
        prices,
        bundle_sha256=bundle_sha256,
    )
    return own, cohort


def check_output(path: Path) -> Path:
    """The report's path; a folder gets `report.html` inside it."""
    path = Path(path)
    if path.is_dir():
        return path / "report.html"
    if path.exists() and not path.is_file():
        raise InputError(f"{path} exists and is not a file")
    return path
