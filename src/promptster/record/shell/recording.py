"""What the recorded shell's worker does with each read: the cast and the commands.

`ShellRecording` runs in the worker process (shell_pipe.py), which feeds it the pty stream
split by `MarkParser` (bytes and marks, in order):

* the bytes are encoded into the cast (`CastEncoder`: UTF-8, redaction, coalescing) and
  written (`CastFile`); `tick()`, called whenever the stream is quiet, writes the coalesced
  event and flushes the file, so the cast on disk is never more than a moment behind;
* the items go to `CommandAssembler`, and each finished command's events (``command``, and
  ``test_run``/``build_run`` when it ran one) go to the `EventSender`; redactions made in
  the cast become one ``redaction`` warning each time;
* a gap (output the pty loop had to leave out, see `PipeSink`) becomes a cast marker and a
  ``capture_gap`` warning;
* while the shell's location is outside the workspace (the cwd its marks report, after a
  ``cd``), nothing is written to the cast but a marker with that location: a command outside
  the workspace is recorded as location only, in the cast as in its ``command`` event.

`tick()` also reads the session's state every few seconds: once the session has been submitted
or aborted while this shell is open (``promptster submit`` typed in it), the cast is closed
with a marker and nothing more is recorded; the shell itself keeps working.

Recording must never take the shell down: the first exception stops this recording (the
error is kept in `stats` and reported in a ``capture_error`` warning) and the cast is closed
on whole lines.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from promptster.protocol import load_handle
from promptster.record.redact.redactor import redaction_warning
from promptster.record.shell.cast import CastEncoder, CastFile
from promptster.record.shell.commands import CommandAssembler, is_inside
from promptster.record.shell.events import EventSender, command_events, system_warning
from promptster.record.shell.osc import CommandEnd, CommandStart, Item
from promptster.record.shell.stats import RecordingStats

TICK_S = 0.02  # how soon `tick` is wanted while an event is coalescing or the file is dirty
STATE_CHECK_S = 5.0


class ShellRecording:
    """See the module doc. Call `close()` once the stream has ended."""

    def __init__(
        self,
        *,
        cast: CastFile | None,
        encoder: CastEncoder,
        assembler: CommandAssembler | None,
        sender: EventSender | None,
        session_dir: Path | None = None,
        origin: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        workspace: str | None = None,
        cwd: str | None = None,
    ) -> None:
        """With `workspace`, the cast leaves out what the shell shows outside it (`cwd` is
        where it starts)."""
        self._cast = cast
        self._encoder = encoder
        self._assembler = assembler
        self._sender = sender
        self._session_dir = session_dir
        self._clock = clock
        self._start = clock() if origin is None else origin  # the cast's time zero
        self._last_check = 0.0  # when the session's state was last read (elapsed seconds)
        self._open = True  # False once the session has ended or recording failed
        self._workspace = workspace
        self._outside = workspace is not None and cwd is not None and not is_inside(cwd, workspace)
        self._cwd = cwd  # the last location reported
        self.stats = RecordingStats()

    def elapsed(self) -> float:
        return self._clock() - self._start

    # -- the stream ----------------------------------------------------------------------------

    def output(self, t: float, items: list[Item]) -> None:
        self._guarded(self._output, t, items)

    def resize(self, t: float, cols: int, rows: int) -> None:
        self._guarded(lambda: self._write(self._encoder.resize(t, cols, rows)))

    def marker(self, t: float, label: str) -> None:
        self._guarded(lambda: self._write(self._encoder.marker(t, label)))

    def gap(self, t: float, size: int) -> None:
        """`size` bytes of output were left out before they reached us."""
        self._guarded(self._gap, t, size)

    def next_tick(self) -> float:
        """Seconds until `tick` is wanted (the caller waits for input at most this long)."""
        busy = self._encoder.pending or (self._cast is not None and self._cast.dirty)
        return TICK_S if busy and self._open else 1.0

    def tick(self) -> None:
        """The stream is quiet: write what waits, flush, look at the session's state."""
        self._guarded(self._tick)

    def close(self) -> RecordingStats:
        """End of the stream: the last commands go to the sender, the cast is finished."""
        self._guarded(self._close_commands)
        with contextlib.suppress(Exception):
            self._finish_cast(self.elapsed(), None)
        return self.stats

    # -- internals -----------------------------------------------------------------------------

    def _guarded(self, action: Callable[..., None], *args: Any) -> None:
        if not self._open:
            return
        try:
            action(*args)
        except Exception as exc:  # never take the shell down; say what happened
            self.stats.error = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(Exception):
                self._send([system_warning("capture_error", f"shell recording: {exc}")])
            with contextlib.suppress(Exception):
                self._finish_cast(self.elapsed(), "promptster: recording stopped by an error")
            self._open = False

    def _output(self, t: float, items: list[Item]) -> None:
        # The bytes between marks share the time `t`: one encoder call for all of them (the
        # redactor rescans its context on every call), cut only where the location changes.
        text: list[bytes] = []
        for item in items:
            if isinstance(item, bytes):
                if not self._outside:
                    text.append(item)
            elif (
                isinstance(item, CommandStart | CommandEnd)
                and self._workspace is not None
                and item.cwd != self._cwd
            ):
                self._write(self._encoder.output(t, b"".join(text)))
                text = []
                self._located(t, item.cwd)
        if text:
            self._write(self._encoder.output(t, text[0] if len(text) == 1 else b"".join(text)))
        if self._assembler is not None:
            for record in self._assembler.feed(items):
                self._record(command_events(record))
        self._report_redactions()

    def _located(self, t: float, cwd: str) -> None:
        """The shell reported its location: pause or resume the cast accordingly."""
        assert self._workspace is not None
        if not cwd:
            return
        self._cwd = cwd  # marks repeat it every command: the paths are compared once per cd
        outside = not is_inside(cwd, self._workspace)
        if outside == self._outside:
            return
        self._outside = outside
        if outside:
            label = f"promptster: the shell is in {cwd}, outside the workspace: not recorded"
        else:
            label = "promptster: back in the workspace"
        self._write(self._encoder.marker(t, label))

    def _gap(self, t: float, size: int) -> None:
        self.stats.gap_bytes += size
        label = f"promptster: {size:,} bytes of output not recorded (the recorder fell behind)"
        self._write(self._encoder.marker(t, label))
        self._send([system_warning("capture_gap", label, gapBytes=size, source="terminal")])

    def _tick(self) -> None:
        now = self.elapsed()
        self._write(self._encoder.idle(now))
        self._report_redactions()
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
        if events and events[0]["kind"] == "command":
            self.stats.commands += 1
        for event in events[1:]:
            if event["kind"] == "test_run":
                self.stats.test_runs += 1
            elif event["kind"] == "build_run":
                self.stats.build_runs += 1
        self._send(events)

    def _close_commands(self) -> None:
        if self._assembler is not None:
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
        cast, self._cast = self._cast, None
        lines = self._encoder.finish()
        if label:
            lines += self._encoder.marker(t, label)
        cast.write(lines)
        self._report_redactions()
        cast.close(t)
        self.stats.cast_bytes = cast.size
        self.stats.cast_dropped = cast.dropped


def _rest(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("code", "message")} | {"where": "terminal"}
