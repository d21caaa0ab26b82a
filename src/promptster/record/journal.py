"""The append-only journal writer: one writer per session, hash-chained, crash-tolerant.

The recorder process owns the only `JournalWriter` for a session. A second writer on the same
file fails with `JournalLocked` instead of interleaving lines. Lines reach the operating system
on every append (so a killed process loses nothing it acknowledged) and are fsynced at least
once a second and on close (so a power cut loses at most a second).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from promptster.errors import EnvironmentProblem, FormatError, JournalLocked
from promptster.formats.events import Event, format_ts, parse_ts
from promptster.formats.jsonio import loads_limited
from promptster.formats.timeline import MAX_LINE_BYTES, genesis_hash, line_hash, split_lines
from promptster.fsutil import atomic_write_bytes

FSYNC_INTERVAL_S = 1.0
# The one `ts` form a journal line carries (and verify accepts): RFC 3339 UTC, milliseconds.
_CANONICAL_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@dataclass(frozen=True)
class Recovery:
    """What opening an existing journal found: how many events, and any torn tail set aside."""

    event_count: int
    torn_bytes: int
    torn_saved_to: Path | None


class JournalWriter:
    """Append events to `path`, assigning `seq`, `prev` and a monotonic `ts`."""

    def __init__(self, path: Path, session_id: str) -> None:
        self.path = Path(path)
        self.session_id = session_id
        self._lock = threading.Lock()
        self._dirty = False
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._fd)
            raise JournalLocked(
                f"another process is already writing {self.path}",
                "only the session's recorder writes the journal; send events to it instead",
            ) from exc
        try:
            self.recovery = self._recover()
        except BaseException:
            os.close(self._fd)
            raise
        self._stop = threading.Event()
        self._syncer = threading.Thread(target=self._sync_loop, name="journal-fsync", daemon=True)
        self._syncer.start()

    def _recover(self) -> Recovery:
        data = self.path.read_bytes()
        split = split_lines(data)
        saved_to: Path | None = None
        if split.torn_tail:
            # Keep the torn bytes (nothing recorded is ever deleted; a second crash at the same
            # point must not overwrite the first tail), durably, then cut them off.
            saved_to = _unused_name(
                self.path.with_name(f"{self.path.name}.torn-{len(split.lines)}")
            )
            try:
                atomic_write_bytes(saved_to, split.torn_tail, mode=0o600)
                os.ftruncate(self._fd, split.complete_bytes)
                os.fsync(self._fd)
            except OSError as exc:
                raise EnvironmentProblem(
                    f"cannot set aside the partial last line of {self.path}: {exc.strerror}",
                    "free some disk space and start the recorder again",
                ) from exc
        self._end = split.complete_bytes
        self._broken = False
        self._seq = len(split.lines)
        self._prev = line_hash(split.lines[-1]) if split.lines else genesis_hash(self.session_id)
        self._last_ts = ""
        if split.lines:
            try:
                last = loads_limited(split.lines[-1], what="last journal line")
                self._last_ts = format_ts(parse_ts(last["ts"]))
            except (FormatError, KeyError, TypeError, AttributeError):
                self._last_ts = ""
        return Recovery(len(split.lines), len(split.torn_tail), saved_to)

    @property
    def next_seq(self) -> int:
        return self._seq

    @property
    def head(self) -> str:
        return self._prev

    def append(self, event: Event) -> Event:
        """Assign seq/prev/ts, write the line, and return the event as written."""
        with self._lock:
            if self._closed:
                raise EnvironmentProblem("the journal is closed")
            if self._broken:
                raise EnvironmentProblem(
                    f"{self.path} could not be repaired after a failed write",
                    "restart the recorder; it recovers the journal up to the last event",
                )
            ts = event.ts
            if not _CANONICAL_TS.fullmatch(ts):
                ts = format_ts(parse_ts(ts))
            if self._last_ts and ts < self._last_ts:
                ts = self._last_ts  # clock stepped back: keep `ts` monotonic
            event.ts = ts
            event.seq = self._seq
            event.prev = self._prev
            line = event.to_line()
            if len(line) > MAX_LINE_BYTES:
                raise FormatError(
                    f"event of kind {event.kind} is {len(line):,} bytes; "
                    f"the limit is {MAX_LINE_BYTES:,}"
                )
            try:
                _write_all(self._fd, line + b"\n")
            except OSError as exc:
                # A partial line may have reached the file; cut it so the journal stays valid.
                self._truncate_to_known_end()
                raise EnvironmentProblem(
                    f"cannot write to {self.path}: {exc.strerror}",
                    "free some disk space; the journal is intact up to the last event",
                ) from exc
            self._end += len(line) + 1
            self._seq += 1
            self._prev = line_hash(line)
            self._last_ts = event.ts
            self._dirty = True
            return event

    def _truncate_to_known_end(self) -> None:
        try:
            os.ftruncate(self._fd, self._end)
        except OSError:
            # Appending after a fragment would bury it mid-file: refuse further appends.
            self._broken = True

    def sync(self) -> None:
        with self._lock:
            if self._dirty and not self._closed:
                os.fsync(self._fd)
                self._dirty = False

    def _sync_loop(self) -> None:
        while not self._stop.wait(FSYNC_INTERVAL_S / 2):
            with contextlib.suppress(OSError):  # reported by the next append or close()
                self.sync()

    def close(self) -> None:
        if self._closed:
            return
        self._stop.set()
        self._syncer.join()
        with self._lock:
            try:
                os.fsync(self._fd)
            finally:
                self._closed = True
                os.close(self._fd)  # closing releases the flock

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _unused_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{n}")
        n += 1
    return candidate


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


@dataclass(frozen=True)
class JournalContents:
    """A journal as read back: the events before any damage, and what was wrong after them."""

    events: list[Event]
    torn_tail: bytes
    problem: str | None  # first broken line, if any; events after it are not returned

    @property
    def intact(self) -> bool:
        return self.problem is None and not self.torn_tail


def read_journal(path: Path, session_id: str) -> JournalContents:
    """Read a journal, recovering every event before a torn tail or the first broken line."""
    split = split_lines(Path(path).read_bytes())
    expected = genesis_hash(session_id)
    events: list[Event] = []
    for index, line in enumerate(split.lines):
        try:
            event = Event.from_dict(
                loads_limited(line, what=f"journal line {index}", max_bytes=MAX_LINE_BYTES)
            )
        except FormatError as exc:
            return JournalContents(events, split.torn_tail, str(exc))
        if event.seq != index or event.prev != expected:
            return JournalContents(
                events, split.torn_tail, f"journal line {index} breaks the hash chain"
            )
        events.append(event)
        expected = line_hash(line)
    return JournalContents(events, split.torn_tail, None)
