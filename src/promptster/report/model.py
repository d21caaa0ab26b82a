"""The report's data step output: plain dataclasses the templates render, nothing else.

Every string here that came from the bundle has already been made visible and bounded
(promptster.report.text); the templates escape it for HTML. Bulky data (the events, diffs,
file contents, terminal casts) travels as `DataBlock`s: gzip-compressed JSON, base64-encoded,
which the page's script decodes on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from markupsafe import Markup

if TYPE_CHECKING:
    from promptster.report.events_block import BlockFile

Status = Literal["ok", "warning", "failed"]


@dataclass(frozen=True)
class CheckRow:
    check: str
    status: Status
    message: str
    seq: int | None


@dataclass(frozen=True)
class Verification:
    ok: bool
    checks: list[CheckRow]

    @property
    def failures(self) -> list[CheckRow]:
        return [c for c in self.checks if c.status == "failed"]

    @property
    def warnings(self) -> list[CheckRow]:
        return [c for c in self.checks if c.status == "warning"]

    @property
    def failed_checks(self) -> list[str]:
        return sorted({c.check for c in self.failures})


@dataclass(frozen=True)
class Header:
    candidate: str
    candidate_key: str
    session_id: str
    assessment_id: str
    assessment_title: str
    role: str
    started_at: str
    ended_at: str
    duration_ms: int | None
    time_limit_minutes: int | None
    tools: list[str]
    event_count: int
    bundle_name: str
    bundle_sha256: str
    bundle_size: int
    tool_version: str
    # a session started again after `abort` + `reset`: the aborted session it replaces, and
    # when the key was first redeemed (its time limit started afresh at the restart)
    restarted_from: str = ""
    key_redeemed_at: str = ""
    candidate_email: str = ""  # from the key the reviewer issued (reviewer workspace)

    @property
    def over_limit(self) -> bool:
        if self.duration_ms is None or self.time_limit_minutes is None:
            return False
        return self.duration_ms > self.time_limit_minutes * 60_000

    @property
    def limit_share(self) -> float | None:
        """Duration as a share of the time limit (may exceed 1)."""
        if self.duration_ms is None or not self.time_limit_minutes:
            return None
        return self.duration_ms / (self.time_limit_minutes * 60_000)


@dataclass(frozen=True)
class SignalRow:
    name: str
    label: str
    meaning: str
    value_text: str
    confidence: str
    confidence_text: str
    evidence_count: int
    headline: bool
    question: str
    percentile: float | None = None
    orientation: str | None = None
    detail_text: str = ""


@dataclass(frozen=True)
class Answer:
    """One of the three questions a reviewer asks, answered from the signals."""

    key: str
    question: str
    verdict: str
    facts: list[str]
    kinds: list[str]  # the event kinds the "show the events" link filters the timeline to


@dataclass(frozen=True)
class DecisionRow:
    seq: int
    at: str
    title: str
    chosen: str
    context: str
    tradeoffs: str
    rationale: str
    impact: str
    via: str
    actor: str


@dataclass(frozen=True)
class FileRow:
    path: str
    status: Literal["added", "modified", "deleted", "unchanged"]
    size: int | None
    changes: int
    added: int
    removed: int
    ai_lines: int
    human_lines: int
    attribution: str  # the last change's verdict, or "" when unchanged
    index: int  # position in the files block


@dataclass(frozen=True)
class CastRow:
    index: int
    name: str
    width: int
    height: int
    duration_s: float
    frames: int
    truncated: bool
    block_id: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    caption: str
    svg: Markup


@dataclass(frozen=True)
class DataBlock:
    id: str
    payload: str  # base64 of gzip of UTF-8 JSON ("" when it is in `file`)
    raw_bytes: int
    # a large block's payload in a temporary file (report.events_block.BlockFile), copied
    # into the page as it is written, never held whole
    file: BlockFile | None = None


@dataclass(frozen=True)
class Limits:
    """What the report left out to stay within its size budget, said plainly."""

    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # add, del, hunk, ctx
    text: str


@dataclass(frozen=True)
class DeliveredFile:
    path: str
    status: str
    added: int | None  # None for a binary file
    removed: int | None
    lines: list[DiffLine]
    note: str  # why lines or the whole patch are missing, when they are


@dataclass(frozen=True)
class Delivered:
    brief: str
    brief_cut: bool
    repo_url: str
    repo_rev: str
    starter_commit: str  # the commit the repository was cloned at, as the recorder saw it
    baseline_commit: str
    final_commit: str
    files: list[DeliveredFile] = field(default_factory=list)
    total_files: int = 0
    added: int = 0
    removed: int = 0
    notes: list[str] = field(default_factory=list)  # what the section left out
    available: bool = True  # False when the snapshots could not be read


@dataclass(frozen=True)
class ReportData:
    title: str
    header: Header
    verification: Verification
    answers: list[Answer]
    signals: list[SignalRow]
    cohort_size: int | None
    decisions: list[DecisionRow]
    decisions_total: int
    files: list[FileRow]
    casts: list[CastRow]
    charts: list[Chart]
    kinds: list[tuple[str, int]]
    actors: list[tuple[str, int]]
    sources: list[tuple[str, int]]
    blocks: list[DataBlock]
    limits: Limits
    generator: str
    delivered: Delivered | None = None
    hidden: Any = None  # report.hidden_view.HiddenTestsView when the reviewer's tests ran
    cost: Any = None  # report.cost_view.CostView when replies report token usage
    aids: Any = None  # report.aids_view.AidsView: key moments, follow-ups, rubric, narrative
    capture: Any = None  # report.capture.CaptureBanner: what the record may be missing
