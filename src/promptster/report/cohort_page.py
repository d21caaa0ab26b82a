"""The cohort page: one row per session, sortable by any metric or the composite, with
percentile bars and a link to each session's own report (and to its key moments,
follow-up questions and fluency rubric there).

`write_cohort_html(path, cohorts, signals)` writes the page and, beside it in
`<name>-reports/`, one report per session (with its cohort percentiles). Links are relative,
so the folder can be moved or zipped as a whole. With the reviewer's workspace (`known`), each
session is named by its candidate (name and e-mail from the key the reviewer issued) under the
assessment's title, ids second, and the human scorecards are shown beside the signals: each
dimension's mean and spread over the reviewers, and their decisions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from promptster import __version__
from promptster.analysis.cohort import AVERAGES, HIDDEN_METRIC, Cohort
from promptster.analysis.signals import SessionSignals
from promptster.errors import PromptsterError
from promptster.fsutil import atomic_write_text
from promptster.report.data import CohortContext
from promptster.report.meta import TEST_OUTCOMES, format_value, outcome_label, spec_for
from promptster.report.render import render_page
from promptster.report.text import one_line, visible
from promptster.reviewer.hidden_tests.over_time import At
from promptster.reviewer.people import Directory, Person, WorkspaceView
from promptster.reviewer.ratings import DIMENSION_LABELS, DIMENSIONS, SessionRatings

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class MetricCell:
    value_text: str
    value: float | None
    percentile: float | None


@dataclass(frozen=True)
class RatingRow:
    """One session's human scorecards: per dimension "mean (spread)", and the decisions."""

    candidate: str
    session_short: str
    reviewers: int
    cells: list[tuple[str, float | None]]  # text, mean (for sorting)
    mean: float | None
    decisions: str
    notes: list[tuple[str, str]]  # reviewer, note


@dataclass(frozen=True)
class CohortRow:
    rank: int | None
    candidate: str
    session_id: str
    verified: bool
    composite: float | None
    test_outcome: str | None  # the last test run's; None without one
    test_label: str
    test_class: str
    cells: list[MetricCell]
    href: str | None
    bundle_name: str
    placed_by: str | None = None  # label of the metric that placed it (with hidden tests)
    hidden_text: str | None = None  # "3/3 passed" when hidden tests ran
    email: str | None = None
    rating_text: str | None = None  # "4.2 · 2 reviewers · advance 2"
    aids: tuple[int, int] | None = None  # key moments and follow-ups in its report


@dataclass(frozen=True)
class CohortTable:
    assessment_id: str
    session_count: int
    metrics: list[tuple[str, str, str]]  # name, label, orientation
    averages: list[tuple[str, str]]
    test_pass_rate: float | None
    weights: list[tuple[str, float]]
    rows: list[CohortRow]
    hidden: bool = False  # hidden tests ran: the page shows them and what placed each session
    title: str | None = None  # the assessment's title, from the reviewer workspace
    orientation: list[tuple[str, str, str, bool]] = field(default_factory=list)
    ratings: list[RatingRow] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)  # labels of the rubric dimensions


@dataclass
class CohortPageResult:
    path: Path
    reports: int = 0
    problems: list[str] = field(default_factory=list)


def report_name(bundle: str, session_id: str, taken: set[str]) -> str:
    """A file name for a session's report: the bundle's stem, made safe and unique."""
    stem = _UNSAFE_NAME.sub("_", Path(bundle).stem).strip("._")[:80] or session_id[:8]
    name, n = f"{stem}.html", 2
    while name in taken:
        name, n = f"{stem}-{n}.html", n + 1
    taken.add(name)
    return name


def safe_href(relative: str) -> str:
    """A relative link that no file name can turn into another scheme (javascript:, data:)."""
    return "./" + "/".join(quote(part, safe="") for part in relative.split("/"))


def _orientation_rows(cohort: Cohort) -> list[tuple[str, str, str, bool]]:
    """label, metric, orientation, overridden: every metric this cohort ranks, and the
    catalog's neutral signals are listed in docs/signals.md (the page names the ranked)."""
    return [
        (spec_for(m).label, m, cohort.orientation[m], m in cohort.overridden)
        for m in cohort.metrics
    ] + [
        (spec_for(m).label, m, "neutral", True)
        for m in cohort.overridden
        if m not in cohort.metrics
    ]


def _rating_text(ratings: SessionRatings | None) -> str | None:
    if ratings is None or not ratings.reviewers:
        return None
    parts = [] if ratings.mean is None else [f"{ratings.mean:.1f}/5"]
    parts.append(f"{ratings.reviewers} reviewer{'s' if ratings.reviewers != 1 else ''}")
    parts += [f"{d} {n}" for d, n in ratings.decisions.items()]
    return " · ".join(parts)


def _rating_rows(
    cohort: Cohort, people: Mapping[str, Person], ratings: Mapping[str, SessionRatings]
) -> list[RatingRow]:
    rows = []
    for member in cohort.members:
        session_id = member.session.session_id
        found = ratings.get(session_id)
        if found is None or not found.reviewers:
            continue
        cells: list[tuple[str, float | None]] = []
        for dimension in DIMENSIONS:
            summary = found.dimension(dimension)
            cells.append(
                ("–", None)
                if summary is None
                else (f"{summary.mean:.1f} (±{summary.spread})", summary.mean)
            )
        person = people.get(session_id)
        rows.append(
            RatingRow(
                candidate=one_line(person.label(session_id) if person else session_id[:8], 120),
                session_short=session_id[:8],
                reviewers=found.reviewers,
                cells=cells,
                mean=found.mean,
                decisions=", ".join(f"{d} {n}" for d, n in found.decisions.items()) or "–",
                notes=[
                    (one_line(c.reviewer, 80), one_line(c.note, 400)) for c in found.cards if c.note
                ],
            )
        )
    return rows


def _table(
    cohort: Cohort,
    links: Mapping[str, str],
    signals: Mapping[str, SessionSignals],
    known: WorkspaceView | None = None,
    aids: Mapping[str, tuple[int, int]] | None = None,
) -> CohortTable:
    directory = known.directory if known is not None else Directory()
    ratings = known.ratings if known is not None else {}
    people = {
        m.session.session_id: directory.person(
            m.session.assessment_id, m.session.candidate_key, m.session.candidate_name
        )
        for m in cohort.members
    }
    rows = []
    for member in cohort.members:
        session = member.session
        person = people[session.session_id]
        cells = [
            MetricCell(
                visible(format_value(m, member.values.get(m))),
                member.values.get(m),
                member.percentiles.get(m),
            )
            for m in cohort.metrics
        ]
        hidden = HIDDEN_METRIC in cohort.metrics
        rows.append(
            CohortRow(
                rank=member.rank,
                candidate=one_line(person.name, 120) or session.session_id[:8],
                session_id=session.session_id,
                verified=session.verified,
                composite=member.composite,
                test_outcome=member.test_outcome,
                test_label=outcome_label(member.test_outcome) if member.test_outcome else "no run",
                test_class=TEST_OUTCOMES.get(member.test_outcome or "", ("", ""))[1],
                cells=cells,
                href=links.get(session.session_id),
                bundle_name=visible(Path(session.bundle_path or "").name),
                placed_by=spec_for(member.placed_by).label or member.placed_by
                if hidden and member.placed_by
                else None,
                hidden_text=_hidden_text(signals.get(session.session_id)) if hidden else None,
                email=one_line(person.email, 200) or None,
                rating_text=_rating_text(ratings.get(session.session_id)),
                aids=(aids or {}).get(session.session_id),
            )
        )
    title = directory.titles.get(cohort.assessment_id or "")
    return CohortTable(
        assessment_id=one_line(cohort.assessment_id or "(no assessment)", 200),
        session_count=cohort.session_count,
        metrics=[(m, spec_for(m).label, cohort.orientation[m]) for m in cohort.metrics],
        averages=[
            (spec_for(metric).label, format_value(metric, cohort.averages.get(name)))
            for name, metric in AVERAGES.items()
        ],
        test_pass_rate=cohort.test_pass_rate,
        weights=[(spec_for(m).label, w) for m, w in cohort.weights.items() if w],
        rows=rows,
        hidden=HIDDEN_METRIC in cohort.metrics,
        title=one_line(title, 200) or None,
        orientation=_orientation_rows(cohort),
        ratings=_rating_rows(cohort, people, ratings),
        dimensions=[DIMENSION_LABELS[d] for d in DIMENSIONS],
    )


def _hidden_text(signals: SessionSignals | None) -> str | None:
    """ "2/3 passed" (or why there is no number) from the session's hiddenTestPassRate."""
    if signals is None or HIDDEN_METRIC not in signals.signals:
        return None
    detail = signals[HIDDEN_METRIC].detail
    outcome = detail.get("outcome")
    passed, total = detail.get("passed"), detail.get("total")
    text = f"{passed}/{total} passed"
    return text if outcome in ("passed", "failed") else f"{text} ({outcome})"


def render_cohort(tables: Sequence[CohortTable], *, generated_at: str) -> str:
    return render_page(
        "cohort.html.j2",
        "cohort",
        tables=tables,
        generated_at=generated_at,
        generator=f"promptster {__version__}",
    )


def write_cohort_html(
    path: Path,
    cohorts: Sequence[Cohort],
    signals: Mapping[str, SessionSignals],
    *,
    reports: bool = True,
    hidden_at: At = "final",
    known: WorkspaceView | None = None,
) -> CohortPageResult:
    """Write the cohort page at `path`, and each session's report beside it (with the hidden
    tests over time when `hidden_at` is checkpoints: their stored results)."""
    from promptster.report.review import review_bundle

    path = Path(path)
    result = CohortPageResult(path)
    folder_name = f"{path.stem}-reports"
    links: dict[str, str] = {}
    aids: dict[str, tuple[int, int]] = {}
    taken: set[str] = set()
    moment = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    for cohort in cohorts if reports else ():
        for member in cohort.members:
            session = member.session
            if session.bundle_path is None or session.session_id not in signals:
                continue
            name = report_name(session.bundle_path, session.session_id, taken)
            context = (
                CohortContext(member, cohort.session_count) if cohort.session_count >= 2 else None
            )
            try:
                reviewed = review_bundle(
                    Path(session.bundle_path),
                    path.parent / folder_name / name,
                    known=(signals[session.session_id], context),
                    generated_at=moment,
                    hidden_at=hidden_at,
                )
            except PromptsterError as exc:
                result.problems.append(f"{session.bundle_path}: {exc.message}")
                continue
            links[session.session_id] = safe_href(f"{folder_name}/{name}")
            if reviewed.aids_counts is not None:
                aids[session.session_id] = reviewed.aids_counts
            result.reports += 1
    tables = [_table(cohort, links, signals, known, aids) for cohort in cohorts]
    atomic_write_text(path, render_cohort(tables, generated_at=moment))
    return result
