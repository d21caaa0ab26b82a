"""Analytics across assessments (`promptster analytics`): what the hosted product's org
overview and top-candidates give a hiring team, computed from the reviewer's workspace.

Per assessment:
- the funnel: keys issued (by this workspace) → redeemed → submitted (sessions imported) →
  reviewed (at least one human scorecard) → decided (at least one advance/hold/reject).
  With no server, the reviewer learns that a key was redeemed from the bundle it produced
  (`import` records the key's redeem time), so `redeemed` counts the keys whose session was
  imported plus any redeem the workspace recorded otherwise;
- the completion rate: submitted ÷ issued (null when this workspace issued no key: sessions
  imported for an assessment created elsewhere);
- the median time to submit: from the session's start (the key's redeem) to its submission;
- the distribution (min, quartiles, max) of every ranked signal over the submitted sessions;
- the strategy-tier distribution. The hosted `strategyTier` is a model's reading of the
  prompts; here it is placed deterministically from `promptDepth` (0–2, docs/signals.md):
  ≥ 1.5 strong, ≥ 1.0 adequate, below that developing, and insufficient without prompts
  (or when the signal says `insufficient_data`).
Across assessments, the top candidates: the sessions with the best composite in their own
cohort (sessions of one assessment, with the reviewer's orientation), best first; a session
alone in its assessment has no composite and is not listed. An empty or missing workspace
gives an empty but valid result.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb

from promptster.analysis.catalog import spec_for
from promptster.analysis.cohort import Cohort, build_cohorts
from promptster.analysis.signals import SessionSignals
from promptster.errors import InputError
from promptster.formats.jsonio import JsonValue
from promptster.reviewer.people import Directory, directory_from
from promptster.reviewer.ratings import SessionRatings, load_ratings
from promptster.reviewer.store import Workspace

Tier = Literal["strong", "adequate", "developing", "insufficient"]
TIERS: tuple[Tier, ...] = ("strong", "adequate", "developing", "insufficient")
FUNNEL: tuple[str, ...] = ("issued", "redeemed", "submitted", "reviewed", "decided")
ANALYTICS_VERSION = 1


def strategy_tier(signals: SessionSignals) -> Tier:
    """The session's strategy tier from promptDepth (see the module docstring)."""
    depth = signals.signals.get("promptDepth")
    value = signals.number("promptDepth")
    if depth is None or value is None or depth.confidence == "insufficient_data":
        return "insufficient"
    if value >= 1.5:
        return "strong"
    return "adequate" if value >= 1.0 else "developing"


@dataclass(frozen=True)
class Distribution:
    metric: str
    label: str
    orientation: str
    values: tuple[float, ...]

    def quartiles(self) -> tuple[float, float, float] | None:
        if not self.values:
            return None
        if len(self.values) == 1:
            return (self.values[0],) * 3
        q = statistics.quantiles(self.values, n=4, method="inclusive")
        return q[0], q[1], q[2]

    def to_json_obj(self) -> dict[str, JsonValue]:
        q = self.quartiles()
        return {
            "metric": self.metric,
            "orientation": self.orientation,
            "count": len(self.values),
            "min": min(self.values) if self.values else None,
            "p25": None if q is None else round(q[0], 6),
            "median": None if q is None else round(q[1], 6),
            "p75": None if q is None else round(q[2], 6),
            "max": max(self.values) if self.values else None,
        }


@dataclass(frozen=True)
class AssessmentAnalytics:
    assessment_id: str
    title: str | None
    funnel: dict[str, int]
    median_submit_ms: int | None
    distributions: list[Distribution]
    tiers: dict[str, int]

    @property
    def completion_rate(self) -> float | None:
        issued = self.funnel["issued"]
        return None if not issued else min(1.0, self.funnel["submitted"] / issued)

    def to_json_obj(self) -> dict[str, JsonValue]:
        rate = self.completion_rate
        return {
            "assessmentId": self.assessment_id,
            "assessmentTitle": self.title,
            "funnel": [{"label": label, "count": self.funnel[label]} for label in FUNNEL],
            "completionRate": None if rate is None else round(rate, 6),
            "medianTimeToSubmitMs": self.median_submit_ms,
            "signals": [d.to_json_obj() for d in self.distributions],
            "strategyTierDistribution": {**self.tiers, "total": sum(self.tiers.values())},
        }


@dataclass(frozen=True)
class TopCandidate:
    session_id: str
    name: str | None
    email: str | None
    assessment_id: str | None
    title: str | None
    composite: float
    rank: int
    cohort_size: int
    tier: Tier
    rating_mean: float | None
    decisions: dict[str, int]

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "sessionId": self.session_id,
            "candidateName": self.name,
            "candidateEmail": self.email,
            "assessmentId": self.assessment_id,
            "assessmentTitle": self.title,
            "composite": round(self.composite, 6),
            "rank": self.rank,
            "cohortSize": self.cohort_size,
            "strategyTier": self.tier,
            "ratingMean": None if self.rating_mean is None else round(self.rating_mean, 6),
            "decisions": dict(self.decisions),
        }


@dataclass(frozen=True)
class Analytics:
    assessments: list[AssessmentAnalytics] = field(default_factory=list)
    top: list[TopCandidate] = field(default_factory=list)

    @property
    def tiers(self) -> dict[str, int]:
        return {t: sum(a.tiers.get(t, 0) for a in self.assessments) for t in TIERS}

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "version": ANALYTICS_VERSION,
            "assessments": [a.to_json_obj() for a in self.assessments],
            "topCandidates": [c.to_json_obj() for c in self.top],
            "strategyTierDistribution": {**self.tiers, "total": sum(self.tiers.values())},
        }


def _keys(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, set[str]]]:
    """Per assessment: keys issued, keys recorded as redeemed, and their key texts."""
    out: dict[str, tuple[int, int, set[str]]] = {}
    for assessment, key, redeemed in con.execute(
        "SELECT assessment_id, key_text, redeemed_at IS NOT NULL FROM main.candidate_keys"
    ).fetchall():
        issued, done, texts = out.get(str(assessment), (0, 0, set()))
        texts.add(str(key))
        out[str(assessment)] = (issued + 1, done + (1 if redeemed else 0), texts)
    return out


def _imported(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, int | None, str]]]:
    """Per assessment: (session id, submit time in ms, key text) of each imported session."""
    out: dict[str, list[tuple[str, int | None, str]]] = {}
    for session, assessment, started, ended, key in con.execute(
        "SELECT session_id, assessment_id, started_at, ended_at, manifest->>'candidateKey' "
        "FROM main.sessions ORDER BY session_id"
    ).fetchall():
        took = None
        if isinstance(started, datetime) and isinstance(ended, datetime):
            took = max(0, int((ended - started).total_seconds() * 1000))
        out.setdefault(str(assessment or ""), []).append((str(session), took, str(key or "")))
    return out


def _signals(workspace: Workspace, ids: Sequence[str]) -> dict[str, SessionSignals]:
    from promptster.analysis.signals import compute_signals
    from promptster.reviewer.imports import attach

    if not ids:
        return {}
    try:
        con = attach(workspace, writable=False)
    except InputError:  # no analysis schema yet: nothing imported
        return {}
    try:
        return compute_signals(con, list(ids))
    finally:
        con.execute("RESET search_path")


def _assessment(
    assessment_id: str,
    title: str | None,
    keys: tuple[int, int, set[str]],
    sessions: list[tuple[str, int | None, str]],
    signals: Mapping[str, SessionSignals],
    ratings: Mapping[str, SessionRatings],
    cohort: Cohort | None,
) -> AssessmentAnalytics:
    issued, redeemed, texts = keys
    ids = [s[0] for s in sessions]
    # a key of this workspace whose session came in was redeemed, recorded or not
    redeemed = max(redeemed, sum(1 for s in sessions if s[2] in texts))
    rated = [ratings[i] for i in ids if i in ratings]
    funnel = {
        "issued": issued,
        "redeemed": redeemed,
        "submitted": len(ids),
        "reviewed": sum(1 for r in rated if any(c.scores for c in r.cards)),
        "decided": sum(1 for r in rated if r.decisions),
    }
    times = [t for _, t, _ in sessions if t is not None]
    own = [signals[i] for i in ids if i in signals]
    metrics = cohort.metrics if cohort is not None else ()
    orientation = cohort.orientation if cohort is not None else {}
    distributions = [
        Distribution(
            m,
            spec_for(m).label,
            orientation.get(m, "neutral"),
            tuple(sorted(v for s in own if (v := s.number(m)) is not None)),
        )
        for m in metrics
    ]
    tiers: dict[str, int] = dict.fromkeys(TIERS, 0)
    for s in own:
        tiers[strategy_tier(s)] += 1
    return AssessmentAnalytics(
        assessment_id=assessment_id,
        title=title,
        funnel=funnel,
        median_submit_ms=int(statistics.median(times)) if times else None,
        distributions=distributions,
        tiers=tiers,
    )


def _top(
    cohorts: Sequence[Cohort],
    signals: Mapping[str, SessionSignals],
    directory: Directory,
    ratings: Mapping[str, SessionRatings],
    limit: int,
) -> list[TopCandidate]:
    found: list[TopCandidate] = []
    for cohort in cohorts:
        for member in cohort.members:
            if member.composite is None or member.rank is None:
                continue
            info = member.session
            person = directory.of_session(info.session_id, info.assessment_id, info.candidate_name)
            if not person.from_workspace:
                person = directory.person(
                    info.assessment_id, info.candidate_key, info.candidate_name
                )
            rated = ratings.get(info.session_id)
            found.append(
                TopCandidate(
                    session_id=info.session_id,
                    name=person.name,
                    email=person.email,
                    assessment_id=info.assessment_id,
                    title=person.assessment_title,
                    composite=member.composite,
                    rank=member.rank,
                    cohort_size=cohort.session_count,
                    tier=strategy_tier(signals[info.session_id]),
                    rating_mean=rated.mean if rated is not None else None,
                    decisions=rated.decisions if rated is not None else {},
                )
            )
    found.sort(key=lambda c: (-c.composite, -(c.rating_mean or 0.0), c.session_id))
    return found[:limit]


def compute_analytics(workspace: Workspace, *, top: int = 10) -> Analytics:
    """The analytics of every assessment of the workspace (created here or imported)."""
    from promptster.reviewer.orientation import overrides_of

    con = workspace.connection
    directory = directory_from(con)
    keys = _keys(con)
    imported = _imported(con)
    live = {
        str(i)
        for (i,) in con.execute(
            "SELECT id FROM main.assessments WHERE deleted_at IS NULL"
        ).fetchall()
    }
    ids = [s for sessions in imported.values() for s, _, _ in sessions]
    signals = _signals(workspace, ids)
    ratings = load_ratings(con, ids)
    overrides = overrides_of(workspace)
    cohorts = build_cohorts(signals.values(), None, overrides)
    by_assessment = {c.assessment_id or "": c for c in cohorts}
    names = sorted(
        live | {a for a in imported if a}, key=lambda a: (directory.titles.get(a) or "~", a)
    )
    if "" in imported:
        names.append("")
    assessments = [
        _assessment(
            a,
            directory.titles.get(a),
            keys.get(a, (0, 0, set())),
            imported.get(a, []),
            signals,
            ratings,
            by_assessment.get(a),
        )
        for a in names
    ]
    return Analytics(assessments, _top(cohorts, signals, directory, ratings, top))


def load_analytics(path: Path | None = None, *, top: int = 10) -> Analytics:
    """The analytics of the reviewer's workspace; empty when there is none yet."""
    from promptster import paths

    database = Path(path) if path is not None else paths.workspace_db_path()
    if not database.exists():
        return Analytics()
    with Workspace.open(database, read_only=True, wait=30.0) as workspace:
        return compute_analytics(workspace, top=top)
