"""What the pty loop hands off, processed on a background thread: the cast and the commands.

`ShellRecording` is the loop's `PtySink`. `output()` and `resize()` only put the read on a
queue (a C-level `SimpleQueue.put`); one worker thread then

* encodes the stream into the cast (`CastEncoder`: UTF-8, redaction, coalescing) and writes
  it (`CastFile`), flushing to disk whenever the stream goes quiet;
* feeds the marks and output to `CommandAssembler` and gives each finished command's events to
  the `EventSender`; redactions made in the cast become one `redaction` warning per batch.

Bounded memory: if the worker falls behind by more than `backlog_limit` bytes (a program
printing gigabytes as fast as the pty allows), the loop stops queueing output bytes (marks are
always queued, so commands are still recorded) until the worker catches up; the cast then gets
a marker and the timeline a ``capture_gap`` warning with the number of bytes left out.

When the session ends while the shell is still open (``promptster submit`` typed in it), the
cast is closed with a marker and nothing more is recorded; the shell itself keeps working.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptster.record.cast import CastEncoder, CastFile
from promptster.record.client import load_handle
from promptster.record.osc import Item
from promptster.record.redact import redaction_warning
from promptster.record.shell_commands import CommandAssembler
from promptster.record.shell_events import EventSender, command_events, system_warning

BACKLOG_LIMIT = 64 * 1024 * 1024
IDLE_TICK_S = 0.02
BATCH_WAIT_S = 0.005
MAX_BATCH = 4096
STATE_CHECK_S = 5.0

_STOP = object()


@dataclass
class RecordingStats:
    commands: int = 0
    test_runs: int = 0
    build_runs: int = 0
    redactions: int = 0
    gap_bytes: int = 0
    cast_bytes: int = 0
    cast_dropped: int = 0
    session_ended: bool = False
    error: str | None = None  # the worker failed; the shell went on unrecorded


class ShellRecording:
    """The pty loop's sink (see the module doc). Call `close()` once the shell has exited."""

    def __init__(
        self,
        *,
        cast: CastFile | None,
        encoder: CastEncoder,
        assembler: CommandAssembler | None,
        sender: EventSender | None,
        session_dir: Path | None = None,
        backlog_limit: int = BACKLOG_LIMIT,
        origin: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cast = cast
        self._encoder = encoder
        self._assembler = assembler
        self._sender = sender
        self._session_dir = session_dir
        self._limit = backlog_limit
        self._clock = clock
        self._start = clock() if origin is None else origin  # the cast's time zero
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # one writer each, so no lock: the loop counts what it queued, the worker what it took
        self._queued = 0
        self._taken = 0
        self._dropping = 0  # bytes the loop left out since the backlog went over the limit
        self._last_check = 0.0  # when the session's state was last read (elapsed seconds)
        self._stopping = False  # the stop message has been taken from the queue
        self._open = True  # recording (False once the session has ended)
        self.stats = RecordingStats()
        self._thread = threading.Thread(target=self._run, name="promptster-cast", daemon=True)
        self._thread.start()

    # -- called by the pty loop ------------------------------------------------------------

    def output(self, t: float, items: list[Item]) -> None:
        first = items[0] if items else b""
        if len(items) == 1 and isinstance(first, bytes):
            size = len(first)
        else:
            size = sum(len(i) for i in items if isinstance(i, bytes))
        if self._queued - self._taken > self._limit:
            self._dropping += size
            items = [i for i in items if not isinstance(i, bytes)]
            if not items:
                return
            size = 0
        elif self._dropping and self._queued - self._taken < self._limit // 2:
            self._queue.put(("gap", t, self._dropping))
            self._dropping = 0
        self._queued += size
        self._queue.put(("o", t, items, size))

    def resize(self, t: float, cols: int, rows: int) -> None:
        self._queue.put(("r", t, cols, rows))

    def marker(self, t: float, label: str) -> None:
        self._queue.put(("m", t, label))

    def gap(self, t: float, size: int) -> None:
        """`size` bytes of output were left out before they reached us."""
        self._queue.put(("gap", t, size))

    def elapsed(self) -> float:
        return self._clock() - self._start

    # -- shutting down ---------------------------------------------------------------------

    def close(self) -> RecordingStats:
        """Finish the cast and hand the last commands to the sender (which the caller
        closes). Waits for the worker: a cast must end on whole lines."""
        if self._dropping:
            self._queue.put(("gap", self.elapsed(), self._dropping))
            self._dropping = 0
        self._queue.put(_STOP)
        self._thread.join()
        return self.stats

    # -- the worker --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._work()
        except Exception as exc:  # never take the shell down; say what happened
            self.stats.error = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(Exception):
                self._send([system_warning("capture_error", f"shell recording: {exc}")])
            while not self._stopping:  # keep the queue from growing while the shell runs on
                self._stopping = self._queue.get() is _STOP
        finally:
            with contextlib.suppress(Exception):
                self._finish_cast(self.elapsed(), None)

    def _work(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_TICK_S if self._busy() else 1.0)
            except queue.Empty:
                self._idle()
                continue
            # Let the burst finish before taking the GIL for it: one wake-up per burst rather
            # than one per read keeps this thread out of the pty loop's way.
            time.sleep(BATCH_WAIT_S)
            batch = [first]
            with contextlib.suppress(queue.Empty):
                while len(batch) < MAX_BATCH and batch[-1] is not _STOP:
                    batch.append(self._queue.get_nowait())
            self._stopping = batch[-1] is _STOP
            for message in batch:
                if message is _STOP:
                    self._close_commands()
                    return
                if not self._open:
                    if message[0] == "o":
                        self._taken += message[3]
                    continue
                self._handle(message)

    def _busy(self) -> bool:
        return self._encoder.pending or (self._cast is not None and self._cast.dirty)

    def _handle(self, message: tuple[Any, ...]) -> None:
        code, t = message[0], message[1]
        if code == "o":
            items: list[Item] = message[2]
            for item in items:
                if isinstance(item, bytes):
                    self._write(self._encoder.output(t, item))
            if self._assembler is not None:
                records = self._assembler.feed(items)
                for record in records:
                    self._record(command_events(record))
            self._taken += message[3]
        elif code == "r":
            self._write(self._encoder.resize(t, message[2], message[3]))
        elif code == "m":
            self._write(self._encoder.marker(t, message[2]))
        elif code == "gap":
            gap = int(message[2])
            self.stats.gap_bytes += gap
            label = f"promptster: {gap:,} bytes of output not recorded (the recorder fell behind)"
            self._write(self._encoder.marker(t, label))
            self._send([system_warning("capture_gap", label, gapBytes=gap, source="terminal")])
        self._report_redactions()

    def _idle(self) -> None:
        now = self.elapsed()
        self._write(self._encoder.idle(now))
        if self._cast is not None:
            self._cast.flush()
        if self._session_dir is not None and now - self._last_check > STATE_CHECK_S:
            self._last_check = now
            handle = load_handle(self._session_dir)
            if handle is not None and not handle.active:
                self._session_over(now, handle.status)

    def _session_over(self, now: float, status: str) -> None:
        """The session was submitted or aborted while this shell is open: stop recording."""
        self._close_commands()
        self._finish_cast(now, f"promptster: the session is {status}; recording stopped")
        self._open = False
        self.stats.session_ended = True

    def _record(self, events: list[dict[str, Any]]) -> None:
        kind = events[0]["kind"] if events else ""
        if kind == "command":
            self.stats.commands += 1
        for event in events[1:]:
            if event["kind"] == "test_run":
                self.stats.test_runs += 1
            elif event["kind"] == "build_run":
                self.stats.build_runs += 1
        self._send(events)

    def _close_commands(self) -> None:
        if self._assembler is not None and self._open:
            self._assembler.feed([])
            for record in self._assembler.close():
                self._record(command_events(record))

    def _send(self, events: list[dict[str, Any]]) -> None:
        if self._sender is not None and self._open:
            self._sender.send(events)

    def _write(self, lines: list[bytes]) -> None:
        if lines and self._cast is not None and self._open:
            self._cast.write(lines)

    def _report_redactions(self) -> None:
        found = self._encoder.take_findings()
        if found:
            self.stats.redactions += len(found)
            data = redaction_warning(found)
            self._send([system_warning("redaction", str(data["message"]), **_rest(data))])

    def _finish_cast(self, t: float, label: str | None) -> None:
        if self._cast is None or not self._open:
            return
        lines = self._encoder.finish()
        if label:
            lines += self._encoder.marker(t, label)
        self._write(lines)
        self._report_redactions()
        self.stats.cast_bytes = self._cast.size
        self.stats.cast_dropped = self._cast.dropped
        self._cast.close(t)


def _rest(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("code", "message")} | {"where": "terminal"}
