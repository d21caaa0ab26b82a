"""Cohorts: per-assessment averages, each session's percentile per metric, a composite rank.

Percentile (docs/signals.md): (other sessions with a strictly worse oriented value
+ ½ × other sessions with the same value) ÷ (n − 1), where n counts the sessions of the
cohort that have a value for the metric; it needs n ≥ 2, and a session without a value has
no percentile. 1.0 means the session beat everyone else. The orientation and default weight
of every metric are declared once, in its catalog entry (catalog.py); a reviewer may override
the orientation per assessment (`overrides`: `neutral` stops ranking a metric, `higher` or
`lower` ranks any numeric signal, unweighted unless a weight is given). The composite is the
weighted mean of a session's percentiles over the weighted metrics it has (weights
renormalised over those).

A session missing a metric (no prompts, so no average prompt length; no file change, so no
verify intensity) is ranked as the hosted product ranks it: its percentile for that metric is
null, it is not counted in the other sessions' n for it, and its composite uses the metrics it
has. It is neither put last nor first on a metric nobody can read for it.
`cohort_from_bundles` is the whole `promptster cohort BUNDLES…` flow: verify, load, group.

`hiddenTestPassRate` (the reviewer's hidden tests, run on the submitted code by
promptster.reviewer.hidden_tests, not by the SQL) joins the percentiles and the composite only
in a cohort where hidden tests ran; elsewhere the cohort is exactly as without it. Each ranked
session says which metric placed it: the one that weighs most in the gap to its neighbour.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from promptster.analysis import catalog
from promptster.analysis.catalog import COHORT, Direction, Orientation
from promptster.analysis.signals import SessionInfo, SessionSignals
from promptster.errors import InputError, PromptsterError
from promptster.formats.jsonio import JsonValue

if TYPE_CHECKING:
    from promptster.bundle.verify import ExtraCheck

# Not a timeline signal: added by the reviewer's hidden tests. When the catalog learns about
# signals computed outside the SQL, this becomes its entry:
# CohortMetric(6, "higher", 1.0, "avgHiddenTestPassRate", "hidden").
HIDDEN_METRIC = "hiddenTestPassRate"
# Which metrics a cohort ranks, which way, with what default weight: the catalog's, and the
# hidden tests' pass rate (weighted as much as all the process metrics together).
ORIENTATION: dict[str, Orientation] = {**catalog.ORIENTATION, HIDDEN_METRIC: "higher"}
DEFAULT_WEIGHTS: dict[str, float] = {HIDDEN_METRIC: 1.0, **catalog.DEFAULT_WEIGHTS}
PERCENTILE_METRICS = tuple(ORIENTATION)
# Other names a weights file may use for a metric.
ALIASES = {alias: name for name, metric in COHORT.items() for alias in metric.aliases}
# Cohort averages: output name -> metric.
AVERAGES = {metric.average: name for name, metric in COHORT.items()}
NO_ASSESSMENT = "(no assessment)"


def percentile(value: float, others: Sequence[float], orientation: Orientation) -> float | None:
    """Share of the other sessions this value beats, ties counting half; None when alone."""
    if not others:
        return None
    if orientation == "higher":
        worse = sum(1 for other in others if other < value)
    else:
        worse = sum(1 for other in others if other > value)
    ties = sum(1 for other in others if other == value)
    return (worse + 0.5 * ties) / len(others)


def composite(
    percentiles: Mapping[str, float | None], weights: Mapping[str, float]
) -> float | None:
    """Weighted mean of the available percentiles; None when none of the weighted exist."""
    total = sum(w for m, w in weights.items() if percentiles.get(m) is not None)
    if total <= 0:
        return None
    return (
        sum(
            w * (percentiles[m] or 0.0)
            for m, w in weights.items()
            if percentiles.get(m) is not None
        )
        / total
    )


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


@dataclass(frozen=True)
class CohortMember:
    session: SessionInfo
    values: dict[str, float | None]
    percentiles: dict[str, float | None]
    composite: float | None
    rank: int | None
    test_outcome: str | None  # the outcome of the last test run; None without a test run
    placed_by: str | None = None  # the metric that weighs most against the next in rank

    @property
    def tests_all_passed(self) -> bool | None:
        """Whether the last test run passed; None without a test run."""
        return None if self.test_outcome is None else self.test_outcome == "passed"

    def to_json_obj(self) -> dict[str, JsonValue]:
        body: dict[str, JsonValue] = {
            "sessionId": self.session.session_id,
            "candidateName": self.session.candidate_name,
            "bundle": self.session.bundle_path,
            "verified": self.session.verified,
            "values": dict(self.values),
            "percentiles": dict(self.percentiles),
            "composite": self.composite,
            "rank": self.rank,
            "lastTestOutcome": self.test_outcome,
        }
        if HIDDEN_METRIC in self.values:
            body["placedBy"] = self.placed_by
        return body


@dataclass(frozen=True)
class Cohort:
    assessment_id: str | None
    members: list[CohortMember]  # best composite first
    averages: dict[str, float | None]
    test_pass_rate: float | None
    weights: dict[str, float]
    metrics: tuple[str, ...] = tuple(catalog.ORIENTATION)
    orientation: dict[str, Orientation] = field(default_factory=lambda: dict(ORIENTATION))
    overridden: tuple[str, ...] = ()  # metrics whose orientation the reviewer set

    @property
    def session_count(self) -> int:
        return len(self.members)

    def member(self, session_id: str) -> CohortMember:
        return next(m for m in self.members if m.session.session_id == session_id)

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "assessmentId": self.assessment_id,
            "sessionCount": self.session_count,
            "metrics": {**self.averages, "testPassRate": self.test_pass_rate},
            "percentilesAvailable": self.session_count >= 2,
            "orientation": {m: self.orientation[m] for m in self.metrics},
            "orientationOverrides": list(self.overridden),
            "weights": dict(self.weights),
            "sessions": [m.to_json_obj() for m in self.members],
        }


def last_test_outcome(signals: SessionSignals) -> str | None:
    """The outcome of the session's last test run (testResults.outcome); None without one.

    Any run counts, whatever its counts: a run that found 0 tests or whose counts could not be
    read is a run (`no_tests`, `unknown`), not "no run"."""
    result = signals.value("testResults")
    if not isinstance(result, dict):
        return None
    outcome = result.get("outcome")
    return outcome if isinstance(outcome, str) else "unknown"


def cohort_metrics(sessions: Sequence[SessionSignals]) -> tuple[str, ...]:
    """The percentile metrics of a cohort: hiddenTestPassRate only where hidden tests ran."""
    ran = any(s.number(HIDDEN_METRIC) is not None for s in sessions)
    return tuple(m for m in PERCENTILE_METRICS if m != HIDDEN_METRIC or ran)


def placed_by(
    member: CohortMember, neighbour: CohortMember | None, weights: Mapping[str, float]
) -> str | None:
    """The metric whose weighted percentile gap to `neighbour` (the next in rank, or for the
    last, the one before) is largest: what put this session where it is."""
    if neighbour is None or member.composite is None:
        return None
    gaps = {
        m: w * abs((member.percentiles.get(m) or 0.0) - (neighbour.percentiles.get(m) or 0.0))
        for m, w in weights.items()
        if member.percentiles.get(m) is not None or neighbour.percentiles.get(m) is not None
    }
    best = max(gaps.items(), key=lambda kv: kv[1], default=None)
    return best[0] if best is not None and best[1] > 0 else None


def oriented_metrics(
    sessions: Sequence[SessionSignals], overrides: Mapping[str, Direction]
) -> tuple[tuple[str, ...], dict[str, Orientation]]:
    """The metrics a cohort ranks and which way, after the reviewer's `overrides`: the default
    metrics (less those set `neutral`) in their order, then any other signal set higher/lower."""
    orientation: dict[str, Orientation] = dict(ORIENTATION)
    for metric, direction in overrides.items():
        if direction != "neutral":
            orientation[metric] = direction
    metrics = [m for m in cohort_metrics(sessions) if overrides.get(m) != "neutral"]
    metrics += [m for m, d in overrides.items() if d != "neutral" and m not in ORIENTATION]
    return tuple(metrics), {m: orientation[m] for m in metrics}


def build_cohort(
    assessment_id: str | None,
    sessions: Sequence[SessionSignals],
    weights: Mapping[str, float] | None = None,
    overrides: Mapping[str, Direction] | None = None,
) -> Cohort:
    """One cohort from the signals of its sessions, with the reviewer's orientation
    `overrides` for this assessment (metric -> higher | lower | neutral)."""
    overrides = dict(overrides or {})
    metrics, orientation = oriented_metrics(sessions, overrides)
    weights = {
        m: w for m, w in (DEFAULT_WEIGHTS if weights is None else weights).items() if m in metrics
    }
    values = [{m: s.number(m) for m in metrics} for s in sessions]
    unranked: list[CohortMember] = []
    for index, session in enumerate(sessions):
        pct: dict[str, float | None] = {}
        for metric in metrics:
            own = values[index][metric]
            others = [
                other
                for j, v in enumerate(values)
                if j != index and (other := v[metric]) is not None
            ]
            pct[metric] = None if own is None else percentile(own, others, orientation[metric])
        unranked.append(
            CohortMember(
                session=session.session,
                values=values[index],
                percentiles=pct,
                composite=composite(pct, weights) if len(sessions) >= 2 else None,
                rank=None,
                test_outcome=last_test_outcome(session),
            )
        )
    ordered = sorted(
        unranked,
        key=lambda m: (m.composite is None, -(m.composite or 0.0), m.session.session_id),
    )
    members = [
        CohortMember(
            **{
                **m.__dict__,
                "rank": i + 1 if m.composite is not None else None,
                "placed_by": placed_by(
                    m,
                    ordered[i + 1] if i + 1 < len(ordered) else (ordered[i - 1] if i else None),
                    weights,
                ),
            }
        )
        for i, m in enumerate(ordered)
    ]
    passed = [m.tests_all_passed for m in members if m.tests_all_passed is not None]
    return Cohort(
        assessment_id=assessment_id,
        members=members,
        averages={
            name: _mean(s.number(metric) for s in sessions) for name, metric in AVERAGES.items()
        },
        test_pass_rate=(sum(passed) / len(passed)) if passed else None,
        weights=weights,
        metrics=metrics,
        orientation=orientation,
        overridden=tuple(m for m in overrides if m in metrics or overrides[m] == "neutral"),
    )


# Orientation overrides per assessment id (the reviewer workspace's setting).
Overrides = Mapping[str | None, Mapping[str, Direction]]


def build_cohorts(
    sessions: Iterable[SessionSignals],
    weights: Mapping[str, float] | None = None,
    overrides: Overrides | None = None,
) -> list[Cohort]:
    """Group sessions by assessment and build each cohort, ordered by assessment id."""
    groups: dict[str | None, list[SessionSignals]] = {}
    for session in sessions:
        groups.setdefault(session.session.assessment_id, []).append(session)
    return [
        build_cohort(assessment, members, weights, (overrides or {}).get(assessment))
        for assessment, members in sorted(groups.items(), key=lambda kv: kv[0] or "")
    ]


def _check_weight(metric: str, weight: object) -> tuple[str, float]:
    name = ALIASES.get(metric, metric)
    if name not in ORIENTATION:
        raise InputError(
            f"unknown cohort metric {metric!r} in the weights",
            f"the metrics are {', '.join(PERCENTILE_METRICS)}",
        )
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise InputError(f"the weight of {metric} is not a number")
    if not math.isfinite(weight) or weight < 0:
        raise InputError(f"the weight of {metric} must be a finite number ≥ 0")
    return name, float(weight)


def parse_weights(file: Path | None, overrides: Sequence[str]) -> dict[str, float]:
    """Weights from a JSON or TOML file (`{metric: weight}`), then `metric=w` overrides."""
    weights = dict(DEFAULT_WEIGHTS)
    if file is not None:
        try:
            text = Path(file).read_text("utf-8")
            body = tomllib.loads(text) if Path(file).suffix == ".toml" else json.loads(text)
        except OSError as exc:
            raise InputError(f"cannot read the weights file {file}: {exc.strerror}") from exc
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"the weights file {file} is not valid JSON or TOML: {exc}") from exc
        if not isinstance(body, dict):
            raise InputError(f"the weights file {file} must hold an object of metric: weight")
        weights = dict(_check_weight(k, v) for k, v in body.items())
    for item in overrides:
        metric, sep, number = item.partition("=")
        try:
            value = float(number)
        except ValueError:
            value = math.nan
        if not sep or math.isnan(value):
            raise InputError(f"--weight {item!r} is not metric=number")
        name, weight = _check_weight(metric.strip(), value)
        weights[name] = weight
    if not any(weights.values()):
        raise InputError("every cohort weight is 0; give at least one metric a weight")
    return weights


@dataclass(frozen=True)
class BundleNote:
    """Why a bundle given to `cohort_from_bundles` is not (or not cleanly) in a cohort.

    `left_out`: it could not be read or failed verification; `duplicate`: another file already
    gave its session (skipped); `unverified`: it failed verification and was included anyway."""

    path: Path
    what: Literal["left_out", "duplicate", "unverified"]
    detail: str = ""
    session_id: str | None = None


@dataclass(frozen=True)
class BundleCohorts:
    cohorts: list[Cohort]
    signals: dict[str, SessionSignals]
    bundle_count: int
    notes: list[BundleNote]

    @property
    def failed(self) -> int:
        """Bundles left out or failing verification (the command then exits 1)."""
        return sum(1 for note in self.notes if note.what != "duplicate")


def cohort_from_bundles(
    paths: list[Path] | tuple[Path, ...],
    *,
    assessment_id: str | None = None,
    weights: Mapping[str, float] | None = None,
    allow_invalid: bool = False,
    checks: Sequence[ExtraCheck] = (),
    augment: Callable[[dict[str, SessionSignals]], object] | None = None,
    overrides: Overrides | None = None,
) -> BundleCohorts:
    """Verify and load the bundles (folders are searched) into one in-memory database and group
    their sessions into cohorts, one per assessment (only `assessment_id`'s when given).

    A bundle that cannot be read or fails verification is left out (included with
    `allow_invalid`, when it is only the verification that failed) and named in the notes.
    `augment` adds signals computed outside the analysis (the reviewer's hidden tests) before
    the sessions are ranked."""
    from promptster.analysis.database import connect
    from promptster.analysis.load import LoadStatus, load_bundle
    from promptster.analysis.signals import compute_signals
    from promptster.analysis.verified import find_bundles, without_path

    bundles = find_bundles(paths)
    if not bundles:
        raise InputError("no bundles found", "name .pst files or folders that contain them")
    notes: list[BundleNote] = []
    ids: list[str] = []
    con = connect()
    try:
        for bundle in bundles:
            try:
                loaded = load_bundle(con, bundle, allow_invalid=allow_invalid, checks=checks)
            except PromptsterError as exc:
                notes.append(BundleNote(bundle, "left_out", without_path(bundle, exc)))
                continue
            if loaded.status is LoadStatus.DUPLICATE:
                notes.append(BundleNote(bundle, "duplicate", session_id=loaded.session_id))
                continue
            if not loaded.verified:
                notes.append(BundleNote(bundle, "unverified", session_id=loaded.session_id))
            if assessment_id is None or loaded.assessment_id == assessment_id:
                ids.append(loaded.session_id)
        signals = compute_signals(con, sorted(set(ids)))
    finally:
        con.close()
    if augment is not None:
        augment(signals)
    cohorts = build_cohorts(signals.values(), weights, overrides)
    if assessment_id is not None and not cohorts:
        raise InputError(f"no session of assessment {assessment_id!r} among the bundles")
    return BundleCohorts(cohorts, signals, len(bundles), notes)
