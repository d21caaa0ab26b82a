"""Hidden tests over time: which snapshots of a session `--hidden-tests-at checkpoints` runs.

Besides the final snapshot, the tests run at every `checkpoint` event's snapshot and at each
snapshot where the candidate's own tests went from failing to passing (a `test_run` whose
outcome is `failed` followed by one whose outcome is `passed`, runs with other outcomes in
between ignored): the snapshot current at the passing run, i.e. the `commit` of the last file
event, checkpoint or session start before it. A session can hold many such points, so the
runs per bundle are bounded (`MAX_RUNS`, the final one included): when there are more
snapshots, the latest are kept and the report says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from promptster.formats.jsonio import JsonValue
from promptster.formats.timeline import split_lines
from promptster.reviewer.hidden_tests.results import HiddenResult

MAX_RUNS = 20  # hidden-test runs per bundle with --hidden-tests-at checkpoints, final included
At = Literal["final", "checkpoints"]
AT_CHOICES: tuple[At, ...] = ("final", "checkpoints")
Reason = Literal["checkpoint", "tests_passed", "final"]


@dataclass(frozen=True)
class SnapshotPoint:
    """A moment of the session whose snapshot the hidden tests run on."""

    seq: int  # the timeline event it comes from (the report links to it)
    ts: str
    reason: Reason
    label: str  # the checkpoint's label, or what made it a point
    commit: str


def _outcome(data: dict[str, Any]) -> str | None:
    """A test run's outcome; events written before outcomes were kept are read from counts."""
    said = data.get("outcome")
    if isinstance(said, str):
        return said
    failed = (data.get("failed") or 0) + (data.get("errors") or 0)
    if isinstance(failed, int) and failed > 0:
        return "failed"
    if data.get("exitCode") == 0 and isinstance(data.get("passed"), int) and data["passed"] > 0:
        return "passed"
    return None


@dataclass(frozen=True)
class TimelinePoints:
    points: list[SnapshotPoint]  # checkpoints and tests-went-green, in timeline order
    last_seq: int  # the last event, where the final snapshot's point is drawn
    last_ts: str


def snapshot_points(timeline: bytes) -> TimelinePoints:
    """The checkpoint and tests-went-green points of a timeline, in order (final not included).
    A point whose snapshot is unknown (no commit recorded before it) is left out."""
    points: list[SnapshotPoint] = []
    seq, ts = 0, ""
    current: str | None = None
    last_outcome: str | None = None
    decoder = json.JSONDecoder()
    for position, line in enumerate(split_lines(timeline).lines):
        try:
            event = decoder.decode(line.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            continue
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            continue
        kind, data = event.get("kind"), event["data"]
        raw_seq, raw_ts = event.get("seq"), event.get("ts")
        seq = raw_seq if isinstance(raw_seq, int) else position
        ts = raw_ts if isinstance(raw_ts, str) else ""
        if kind in ("session_start", "checkpoint") and isinstance(data.get("snapshot"), str):
            current = data["snapshot"]
        elif kind in ("file_create", "file_diff", "file_delete") and isinstance(
            data.get("commit"), str
        ):
            current = data["commit"]
        if kind == "checkpoint" and current:
            label = data.get("label") if isinstance(data.get("label"), str) else "checkpoint"
            points.append(SnapshotPoint(seq, ts, "checkpoint", label[:200], current))
        elif kind == "test_run":
            outcome = _outcome(data)
            if outcome == "passed" and last_outcome == "failed" and current:
                points.append(
                    SnapshotPoint(seq, ts, "tests_passed", "own tests went green", current)
                )
            if outcome in ("passed", "failed"):
                last_outcome = outcome  # a run that found nothing or crashed changes nothing
    return TimelinePoints(points, seq, ts)


def bounded(
    points: list[SnapshotPoint], limit: int = MAX_RUNS - 1
) -> tuple[list[SnapshotPoint], int]:
    """The points whose snapshots fit in `limit` distinct runs, the latest kept; and how many
    points were left out. Points on a snapshot already kept share its run."""
    kept_commits: list[str] = []
    for point in reversed(points):
        if point.commit not in kept_commits:
            if len(kept_commits) >= limit:
                continue
            kept_commits.append(point.commit)
    kept = [p for p in points if p.commit in kept_commits]
    return kept, len(points) - len(kept)


@dataclass(frozen=True)
class OverTimePoint:
    point: SnapshotPoint
    result: HiddenResult

    def to_json_obj(self) -> dict[str, JsonValue]:
        rate = self.result.pass_rate
        return {
            "seq": self.point.seq,
            "ts": self.point.ts,
            "reason": self.point.reason,
            "label": self.point.label,
            "commit": self.point.commit,
            "outcome": self.result.outcome,
            "passed": self.result.passed,
            "total": self.result.total,
            "passRate": None if rate is None else round(rate, 6),
        }


@dataclass(frozen=True)
class HiddenSeries:
    """The hidden tests' results over a session, in timeline order, the final run last."""

    points: tuple[OverTimePoint, ...]
    left_out: int  # points beyond the bound, not run
    limit: int = MAX_RUNS

    @property
    def runs(self) -> int:
        return len({p.point.commit for p in self.points})

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "points": [p.to_json_obj() for p in self.points],
            "runs": self.runs,
            "leftOut": self.left_out,
            "limit": self.limit,
        }
