"""The recorder's write path: validate, de-duplicate, redact, flag late events, append.

Every event, from a client or from the recorder itself, goes through `EventPipeline.append`,
which is the only caller of the session's `JournalWriter`. When the journal cannot be written
(the disk is full) the recorder's own events wait in memory, in order, and are retried; client
batches are refused with code `unavailable` so the client spools them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from promptster.errors import EnvironmentProblem, FormatError
from promptster.formats.events import FILE_KINDS, Event, Kind, make_event, now_ts, parse_ts
from promptster.formats.jsonio import loads_limited
from promptster.formats.timeline import split_lines
from promptster.record.journal import JournalWriter
from promptster.record.limits import ToolPolicy, UsageTally
from promptster.record.losses import ClientLossLedger, LossLedger
from promptster.record.redact.redactor import redact_json, redact_text, redaction_warning

# Fields that identify things (paths, commits, ids) are never redacted: replaying file events
# onto the snapshots needs them exactly as they are.
PROTECTED_FIELDS = frozenset(
    {
        "path", "commit", "snapshot", "renamedFrom", "sessionId", "toolUseId", "lane",
        "sha256", "commandEventId", "code", "kind",
    }
)  # fmt: skip


class Rejected(Exception):
    """A client event that cannot be recorded as sent (code `invalid`)."""


def system_event(
    kind: Kind | str, data: dict[str, Any], *, emitter: str = "promptster-recorder"
) -> Event:
    """An event the recorder or the CLI writes on its own behalf."""
    return make_event(
        kind,
        data,
        channel="cli",
        integration="promptster",
        emitter=emitter,
        actor="system",
        attribution="system_generated",
        confidence=1.0,
        observability="high",
    )


def warning(code: str, message: str, **extra: Any) -> Event:
    return system_event(Kind.WARNING, {"code": code, "message": message, **extra})


def capture_gap(message: str, count: int, kinds: Mapping[str, int], **extra: Any) -> Event:
    """The warning for events that could not be recorded: how many, of which kinds."""
    extra.setdefault("source", "recorder")
    return warning("capture_gap", message, count=count, kinds=dict(sorted(kinds.items())), **extra)


def event_from_client(body: Any) -> Event:
    """Build an Event from a client dict (no seq/prev); raises Rejected."""
    if not isinstance(body, dict):
        raise Rejected("an event is not a JSON object")
    body = {k: v for k, v in body.items() if k not in ("seq", "prev")}
    body["seq"] = -1
    body.setdefault("v", 1)
    if "ts" not in body:  # (not setdefault: it would format the time for every event)
        body["ts"] = now_ts()
    for name in ("source", "actor", "provenance"):
        body.setdefault(name, {})
    try:
        event = Event.from_dict(body)
        parse_ts(event.ts)
    except FormatError as exc:
        raise Rejected(exc.message) from exc
    if not event.kind or len(event.kind) > 64 or not event.id or len(event.id) > 128:
        raise Rejected("an event has an empty or oversized kind or id")
    return event


def redact_event(event: Event) -> list[Any]:
    """Redact `event.data` in place; return the findings."""
    if event.kind in FILE_KINDS:
        diff = event.data.get("diff")
        if not isinstance(diff, str):
            return []
        result = redact_text(diff)
        if result.findings:
            event.data["diff"] = result.text
        return list(result.findings)
    kept = {k: event.data[k] for k in PROTECTED_FIELDS if k in event.data}
    rest = {k: v for k, v in event.data.items() if k not in PROTECTED_FIELDS}
    redacted, findings = redact_json(rest)
    if findings and isinstance(redacted, dict):
        event.data = {**redacted, **kept}
    return list(findings)


MAX_REFUSED_TRACKED = 100_000


@dataclass
class PipelineStats:
    counts: Counter[str] = field(default_factory=Counter)
    redactions: int = 0
    last_ts: str | None = None
    # integration -> channel -> the latest event time heard on it (`status` and `doctor`)
    heard: dict[str, dict[str, str]] = field(default_factory=dict)
    usage: UsageTally = field(default_factory=UsageTally)  # tokens so far (`status`)

    def hear(self, source: Any, ts: Any) -> None:
        if not isinstance(source, dict) or not isinstance(ts, str):
            return
        integration, channel = source.get("integration"), source.get("channel")
        if isinstance(integration, str) and isinstance(channel, str) and integration:
            channels = self.heard.setdefault(integration[:64], {})
            if channel[:32] in channels or len(channels) < 16:
                channels[channel[:32]] = max(channels.get(channel[:32], ""), ts)


class WriteHooks(Protocol):
    """Called under the pipeline's lock, in journal order (e.g. attribution)."""

    def before_write(self, event: Event) -> None: ...

    def after_write(self, event: Event) -> None: ...

    def replay(self, body: dict[str, Any]) -> None: ...


class EventPipeline:
    def __init__(
        self,
        journal: JournalWriter,
        deadline: datetime | None,
        hooks: WriteHooks | None = None,
        policy: ToolPolicy | None = None,
    ) -> None:
        self.journal = journal
        self.deadline = deadline
        self.hooks = hooks
        self.policy = policy or ToolPolicy(None)
        self.lock = threading.RLock()
        self.ids: dict[str, int] = {}
        self.stats = PipelineStats()
        self.pending: list[Event] = []
        self.problem: str | None = None
        self.late_flagged = False
        self.closed = False
        # Wall clock minus the recorder's session clock (timelimit.SessionClock): an event
        # stamped by a clock set back is still late when the session clock says so.
        self.clock_offset: Callable[[], timedelta] = timedelta
        self.refused: dict[str, str] = {}  # event id -> kind, refused while writing failed
        self.refused_untracked = 0
        self.refused_reason: str | None = None
        # The same count on disk, so that it outlives this process (losses.py).
        self.ledger: LossLedger | None = None
        self._load_existing()

    def _load_existing(self) -> None:
        lines = split_lines(self.journal.path.read_bytes()).lines
        for seq, line in enumerate(lines):
            try:
                body = loads_limited(line, what="journal line")
            except FormatError:
                continue
            if isinstance(body, dict):
                if self.hooks is not None:
                    self.hooks.replay(body)
                if isinstance(body.get("id"), str):
                    self.ids[body["id"]] = seq
                kind = body.get("kind")
                self.stats.counts[str(kind)] += 1
                self.stats.hear(body.get("source"), body.get("ts"))
                data = body.get("data")
                if kind == Kind.AI_RESPONSE:
                    self.stats.usage.add(data)
                if kind == Kind.WARNING and isinstance(data, dict):
                    if data.get("code") == "tool_not_allowed":
                        self.policy.mark(str(data.get("integration")))
                    self.late_flagged |= data.get("code") == "late_activity"
                    if data.get("code") == "redaction":
                        self.stats.redactions += int(data.get("count", 1) or 1)
                self.stats.last_ts = str(body.get("ts"))

    @property
    def next_seq(self) -> int:
        return self.journal.next_seq

    def append_client(self, events: list[Event]) -> list[int]:
        """Append a client batch; raises EnvironmentProblem (code unavailable) on failure."""
        with self.lock:
            if self.closed:
                raise EnvironmentProblem("the session has ended")
            self.retry_pending()
            if self.pending:
                self._refuse(events)
                raise EnvironmentProblem(self.problem or "the journal cannot be written")
            written: list[int] = []
            for index, event in enumerate(events):
                try:
                    written.append(self._append_one(event))
                except EnvironmentProblem:
                    self._refuse(events[index:])
                    raise
            return written

    def _refuse(self, events: list[Event]) -> None:
        """Remember refused events: unless a client spools them and they arrive later, they
        are lost, and `report_losses` says so in the timeline."""
        for event in events:
            if len(self.refused) < MAX_REFUSED_TRACKED:
                self.refused[event.id] = event.kind
            else:
                self.refused_untracked += 1
        self.refused_reason = self.problem
        if self.ledger is not None:
            self.ledger.refused([event.kind for event in events])

    def report_losses(self) -> None:
        """Once the journal can be written again, record what was refused and never arrived
        (through the spool) as a `capture_gap` warning: a loss may happen, a silent one not."""
        with self.lock:
            if not (self.refused or self.refused_untracked) or self.pending or self.closed:
                return
            if self.problem is not None:
                return  # not written since: wait until a write has worked again
            lost = Counter(
                kind for event_id, kind in self.refused.items() if event_id not in self.ids
            )
            count = sum(lost.values()) + self.refused_untracked
            reason = self.refused_reason or "the journal could not be written"
            self.refused.clear()
            self.refused_untracked = 0
            if not count:
                self._settle()
                return
            self.pending.append(
                capture_gap(f"{count} event(s) could not be recorded: {reason}", count, lost)
            )
            self.retry_pending()
            if not self.pending:
                self._settle()

    def _settle(self) -> None:
        if self.ledger is not None:
            self.ledger.settle()

    def report_unsettled(self, count: int, kinds: dict[str, int]) -> None:
        """Refusals a previous recorder counted (losses.py) but died before recording."""
        with self.lock:
            self.pending.append(
                capture_gap(
                    f"up to {count} event(s) could not be recorded: the journal could not be "
                    "written and the recorder stopped before it could record the loss (those "
                    "that reached the spool were ingested)",
                    count,
                    kinds,
                    upTo=True,
                )
            )
            self.retry_pending()
            if not self.pending and not (self.refused or self.refused_untracked):
                self._settle()

    def report_client_losses(self, ledger: ClientLossLedger) -> None:
        """What the capture sources could neither send nor spool (losses.ClientLossLedger),
        recorded as a `capture_gap` once the journal can be written again. Taken off the
        ledger as soon as the warning is queued, as `report_losses` does with its own count."""
        with self.lock:
            if self.problem is not None or self.pending or self.closed:
                return
            count, kinds = ledger.peek()
            if not count:
                return
            self.pending.append(
                capture_gap(
                    f"{count} event(s) from the capture sources (AI-tool hooks, the recorded "
                    "shell, the CLI) could not be recorded: the recorder could not take them "
                    "and the spool could not be written either",
                    count,
                    kinds,
                    source="clients",
                )
            )
            ledger.take_off(count, kinds)
            self.retry_pending()

    def append_system(self, events: list[Event]) -> None:
        """Append the recorder's own events; on failure they wait in memory and are retried."""
        with self.lock:
            if self.closed:
                return
            self.pending.extend(events)
            self.retry_pending()

    def retry_pending(self) -> bool:
        """Write waiting events in order; True when none are left."""
        with self.lock:
            while self.pending:
                try:
                    self._append_one(self.pending[0])
                except EnvironmentProblem:
                    return False
                self.pending.pop(0)
            return True

    def _append_one(self, event: Event) -> int:
        existing = self.ids.get(event.id)
        if existing is not None:
            return existing
        followups: list[Event] = []
        findings = redact_event(event)
        if findings:
            data = redaction_warning(findings)
            data["code"] = "redaction"
            data["eventId"] = event.id
            data["eventKind"] = event.kind
            followups.append(system_event(Kind.WARNING, dict(data)))
        tool = self.policy.offending(event.source)
        if tool is not None:  # marked once written (below), so a failed write warns again
            followups.append(system_event(Kind.WARNING, self.policy.warning_data(tool)))
        if self._is_late(event):
            event.data["afterDeadline"] = True
            if not self.late_flagged:
                followups.append(warning("late_activity", "activity recorded after the time limit"))
        if self.hooks is not None:
            self.hooks.before_write(event)
        try:
            written = self.journal.append(event)
        except EnvironmentProblem as exc:
            self.problem = exc.message
            raise
        self.problem = None  # writing works (again)
        self._count(written)
        if self.hooks is not None:
            self.hooks.after_write(written)
        for extra in followups:
            if extra.kind == Kind.WARNING and extra.data.get("code") == "late_activity":
                self.late_flagged = True
            if extra.data.get("code") == "redaction":
                self.stats.redactions += int(extra.data.get("count", 1) or 1)
            if extra.data.get("code") == "tool_not_allowed":
                self.policy.mark(str(extra.data.get("integration")))
            self._count(self.journal.append(extra))
        return written.seq

    def _count(self, event: Event) -> None:
        if event.kind == Kind.AI_RESPONSE:
            self.stats.usage.add(event.data)
        self.ids[event.id] = event.seq
        self.stats.counts[event.kind] += 1
        self.stats.last_ts = event.ts
        self.stats.hear(event.source, event.ts)

    def _is_late(self, event: Event) -> bool:
        if self.deadline is None or event.kind in (Kind.WARNING, Kind.SESSION_END):
            return False
        # A file changed while the recorder was down is judged by when it was written
        # (files/capture.py `mark_gap_writes`), not by when the restarted recorder saw it.
        written = event.data.get("writtenDuringGapAt")
        try:
            moment = parse_ts(written if isinstance(written, str) else event.ts)
            return moment - self.clock_offset() > self.deadline
        except FormatError:
            return datetime.now(UTC) - self.clock_offset() > self.deadline

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.journal.close()
            if self.ledger is not None:
                self.ledger.close()


@contextlib.contextmanager
def locked_spool(spool: Path) -> Iterator[int]:
    """Hold the spool's flock (the lock clients take to append)."""
    fd = os.open(spool, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def ingest_spool(pipeline: EventPipeline, spool: Path, rejected_path: Path) -> tuple[int, int]:
    with locked_spool(spool) as fd:
        return ingest_locked(pipeline, fd, rejected_path)


def ingest_locked(pipeline: EventPipeline, fd: int, rejected_path: Path) -> tuple[int, int]:
    """Write the spool's events to the journal in order, then empty it (lock held by caller).

    Returns (events ingested, lines rejected). On a write failure the spool is left as it was
    (events already written are skipped next time by their ids).
    """
    size = os.fstat(fd).st_size
    if size == 0:
        return 0, 0
    data = os.pread(fd, size, 0)
    events: list[Event] = []
    bad: list[bytes] = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            events.append(event_from_client(loads_limited(line, what="spool line")))
        except (FormatError, Rejected):
            bad.append(line)
    with pipeline.lock:
        ingested = len({e.id for e in events if e.id not in pipeline.ids})
        pipeline.append_client(events)
    if bad:
        with open(rejected_path, "ab") as out:
            out.write(b"".join(line + b"\n" for line in bad))
    os.ftruncate(fd, 0)
    os.fsync(fd)
    return ingested, len(bad)
