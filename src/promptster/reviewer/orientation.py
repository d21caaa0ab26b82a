"""The reviewer's ranking orientation per assessment (a workspace setting).

Which way is better for a metric is declared once, in the signal catalog
(analysis/catalog.py: `higher`, `lower`, or `neutral` for a signal never ranked). A reviewer
may override it for one assessment's cohort: `promptster assessment orientation ID
manualEditRatio=neutral firstChangeLatencyMs=lower`. `neutral` stops ranking a metric;
`higher`/`lower` on a numeric signal the catalog does not rank adds it to the percentiles
(with weight 0 unless the cohort is given a weight for it). Every cohort of that assessment
(`cohort`, the cohort page, a report's percentiles, `analytics`) then ranks by it. The setting
lives in the workspace, not in the signed pack: it is the reviewer's reading, not a condition
the candidate was told about, and it may change after the sessions came in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from promptster.analysis.catalog import ALL_ORIENTATIONS, DIRECTIONS, RANKABLE, Direction
from promptster.analysis.cohort import HIDDEN_METRIC, ORIENTATION, Overrides
from promptster.errors import InputError, PromptsterError
from promptster.formats.jsonio import JsonValue
from promptster.reviewer.store import Workspace

SETTABLE: tuple[str, ...] = (*RANKABLE, HIDDEN_METRIC)


def default_orientation(metric: str) -> Direction:
    return ORIENTATION.get(metric) or ALL_ORIENTATIONS.get(metric, "neutral")


def parse_item(item: str) -> tuple[str, Direction]:
    """`promptCount=lower` → ("promptCount", "lower")."""
    metric, sep, direction = item.partition("=")
    metric, direction = metric.strip(), direction.strip().lower()
    if not sep:
        raise InputError(f"{item!r} is not metric=higher|lower|neutral")
    if metric not in SETTABLE:
        raise InputError(
            f"{metric!r} is not a metric a cohort can rank",
            "numeric signals can be ranked: " + ", ".join(SETTABLE),
        )
    if direction not in DIRECTIONS:
        raise InputError(f"orientation {direction!r} of {metric}: give higher, lower or neutral")
    return metric, direction


@dataclass(frozen=True)
class OrientationRow:
    metric: str
    default: Direction
    orientation: Direction
    overridden: bool

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "metric": self.metric,
            "default": self.default,
            "orientation": self.orientation,
            "overridden": self.overridden,
        }


def overrides_of(workspace: Workspace) -> dict[str | None, dict[str, Direction]]:
    found: dict[str | None, dict[str, Direction]] = {}
    for assessment, metric, direction in workspace.connection.execute(
        "SELECT assessment_id, metric, orientation FROM main.metric_orientation "
        "ORDER BY assessment_id, metric"
    ).fetchall():
        found.setdefault(str(assessment), {})[str(metric)] = cast(Direction, direction)
    return found


def load_overrides(path: Path | None = None) -> Overrides:
    """Every assessment's overrides in the reviewer workspace; none without one."""
    from promptster import paths

    database = Path(path) if path is not None else paths.workspace_db_path()
    if not database.exists():
        return {}
    try:
        with Workspace.open(database, read_only=True) as workspace:
            return overrides_of(workspace)
    except PromptsterError:
        return {}


def table(overrides: dict[str, Direction]) -> list[OrientationRow]:
    """Every metric a cohort ranks by default or by override, and which way."""
    metrics = [*ORIENTATION, *(m for m in overrides if m not in ORIENTATION)]
    return [
        OrientationRow(
            m, default_orientation(m), overrides.get(m, default_orientation(m)), m in overrides
        )
        for m in metrics
    ]


def set_orientation(
    workspace: Workspace,
    assessment_ref: str,
    items: Sequence[str],
    *,
    reset: bool = False,
    now: datetime | None = None,
) -> tuple[str, list[OrientationRow]]:
    """Apply `items` (metric=direction) to an assessment, after clearing its overrides with
    `reset`; all in one transaction. Returns the assessment id and its table."""
    parsed = dict(parse_item(item) for item in items)  # all checked before anything is written
    assessment = workspace.resolve_assessment_id(assessment_ref)
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    con = workspace.connection
    if parsed or reset:
        with workspace.transaction():
            if reset:
                con.execute(
                    "DELETE FROM main.metric_orientation WHERE assessment_id = ?", [assessment]
                )
            for metric, direction in parsed.items():
                if direction == default_orientation(metric):
                    con.execute(
                        "DELETE FROM main.metric_orientation "
                        "WHERE assessment_id = ? AND metric = ?",
                        [assessment, metric],
                    )
                    continue
                con.execute(
                    "INSERT INTO main.metric_orientation (assessment_id, metric, orientation, "
                    "updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (assessment_id, metric) "
                    "DO UPDATE SET orientation = excluded.orientation, "
                    "updated_at = excluded.updated_at",
                    [assessment, metric, direction, moment],
                )
    return assessment, table(overrides_of(workspace).get(assessment, {}))
