"""Signals for the report from an already verified bundle, optionally within a cohort.

`promptster.analysis.load.load_bundle` verifies the bundle it loads. The report has just
verified it (with the reviewer's extra checks), so it hands the report and its timeline to
`load_verified` instead of verifying a second time: for a 100,000-event bundle that saves a
whole `verify`. The cohort's other bundles go through `load_bundle` as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from promptster.analysis import database, load
from promptster.analysis.catalog import Direction
from promptster.analysis.cohort import build_cohort
from promptster.analysis.prices import Prices
from promptster.analysis.signals import SessionSignals, compute_signals
from promptster.bundle.spool import SpooledTimeline
from promptster.bundle.verify import ExtraCheck, VerifyReport
from promptster.errors import PromptsterError
from promptster.report.data import CohortContext
from promptster.report.text import visible

# Adds signals computed outside the analysis (the reviewer's hidden tests) before ranking.
Augment = Callable[[dict[str, SessionSignals]], object]


def _insert(
    con: duckdb.DuckDBPyConnection,
    report: VerifyReport,
    timeline: SpooledTimeline,
    bundle_sha256: str | None,
) -> str:
    return load.load_verified(
        con, report.path, report, timeline, bundle_sha256=bundle_sha256
    ).session_id


def signals_for(
    report: VerifyReport,
    timeline: SpooledTimeline,
    prices: Prices | None = None,
    *,
    bundle_sha256: str | None = None,
) -> SessionSignals:
    """This session's signals (`bundle_sha256`: the file's hash, when the caller has it)."""
    con = database.connect()
    try:
        session_id = _insert(con, report, timeline, bundle_sha256)
        return compute_signals(con, [session_id], prices=prices)[session_id]
    finally:
        con.close()


def cohort_for(
    report: VerifyReport,
    timeline: SpooledTimeline,
    bundles: Sequence[Path],
    notes: list[str],
    checks: Sequence[ExtraCheck] = (),
    augment: Augment | None = None,
    prices: Prices | None = None,
    *,
    bundle_sha256: str | None = None,
) -> tuple[SessionSignals, CohortContext | None]:
    """This session's signals and its place among the same assessment's other sessions
    (verified with the same extra `checks` as the session itself)."""
    con = database.connect()
    try:
        session_id = _insert(con, report, timeline, bundle_sha256)
        assessment = report.context.manifest.assessment_id if report.context.manifest else None
        ids = [session_id]
        own = report.path.resolve()
        for path in bundles:
            if Path(path).resolve() == own:
                continue
            try:
                loaded = load.load_bundle(con, Path(path), checks=checks)
            except PromptsterError as exc:
                notes.append(f"cohort: {visible(str(path))} left out: {visible(exc.message)}")
                continue
            if loaded.status == load.LoadStatus.LOADED and loaded.assessment_id == assessment:
                ids.append(loaded.session_id)
        signals = compute_signals(con, ids, prices=prices)
    finally:
        con.close()
    if augment is not None:
        augment(signals)
    if len(ids) < 2:
        notes.append("cohort: no other session of this assessment, so no percentiles")
        return signals[session_id], None
    cohort = build_cohort(assessment, [signals[i] for i in ids], None, _overrides(assessment))
    return signals[session_id], CohortContext(cohort.member(session_id), cohort.session_count)


def workspace_cohort(
    own: SessionSignals,
    assessment_id: str,
    notes: list[str],
    augment: Augment | None = None,
    prices: Prices | None = None,
) -> CohortContext | None:
    """This session's place among the sessions of `assessment_id` imported into the reviewer
    workspace (`promptster import`); the session itself counts once, from this bundle."""
    from promptster.analysis.queries import list_sessions
    from promptster.errors import InputError
    from promptster.reviewer.imports import attach
    from promptster.reviewer.store import Workspace

    if own.session.assessment_id != assessment_id:
        raise InputError(
            f"the bundle is for assessment {own.session.assessment_id!r}, not {assessment_id!r}",
            "percentiles only compare sessions of the same assessment",
        )
    with Workspace.open(read_only=True) as workspace:
        con = attach(workspace, writable=False)
        ids = [
            row.session_id
            for row in list_sessions(con, assessment_id)
            if row.session_id != own.session.session_id
        ]
        others = compute_signals(con, ids, prices=prices) if ids else {}
    if not others:
        notes.append(f"cohort: no other imported session of assessment {assessment_id}")
        return None
    if augment is not None:
        augment({own.session.session_id: own, **others})
    cohort = build_cohort(assessment_id, [own, *others.values()], None, _overrides(assessment_id))
    return CohortContext(cohort.member(own.session.session_id), cohort.session_count)


def _overrides(assessment_id: str | None) -> dict[str, Direction]:
    """The reviewer's orientation overrides of this assessment (reviewer workspace)."""
    from promptster.reviewer.orientation import load_overrides

    return dict(load_overrides().get(assessment_id, {}))
