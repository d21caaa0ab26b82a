"""Events from the recorded shell, and the thread that delivers them to the recorder.

`command_events` turns a finished `CommandRecord` into a ``command`` event and, for a test
runner, a linter, a type checker or a build, the ``test_run``/``build_run`` that goes with it
(docs/event-kinds.md). The recorder redacts every event it journals, so nothing is redacted
here; the cast is redacted on its own path (cast.py).

`EventSender` is the only thing in the recorded shell that talks to the recorder; it runs in
the shell's worker process (shell_pipe.py), and neither the pty loop nor the worker waits for
it: events go into a queue and a background thread sends them in batches with
`client.send_events`: to the recorder, or to the session's spool when the recorder
cannot be reached (it ingests the spool when it runs again). When the recorder has died the
sender restarts it, at most every `RESTART_EVERY_S`; the new recorder writes a
``recorder_restart`` warning with the gap. Events refused because the session has ended are
dropped (nothing would read them) and `ended` is set.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from promptster.protocol import SessionHandle, format_ts, load_handle, new_event, send_events
from promptster.record.shell.commands import CommandRecord
from promptster.record.shell.stats import SenderStats
from promptster.runs.events import run_event

Event = dict[str, Any]

CHANNEL = "terminal"
INTEGRATION = "shell"
EMITTER = "promptster-shell"
SEND_TIMEOUT_S = 2.0
RESTART_EVERY_S = 30.0
MAX_BATCH = 500
BATCH_WAIT_S = 0.05


def _ts(epoch_us: int | None) -> str | None:
    if epoch_us is None:
        return None
    return format_ts(datetime.fromtimestamp(epoch_us / 1_000_000, UTC))


def shell_event(
    kind: str, data: Mapping[str, Any], *, ts: str | None = None, event_id: str | None = None
) -> Event:
    """An event typed by the candidate in the recorded shell."""
    return new_event(
        kind,
        data,
        event_id=event_id,
        channel=CHANNEL,
        integration=INTEGRATION,
        emitter=EMITTER,
        actor="human",
        attribution="likely_human",
        confidence=1.0,
        observability="high",
        ts=ts,
    )


def system_warning(code: str, message: str, **extra: Any) -> Event:
    """A `warning` about the recording itself (a plain shell, a capture gap, redactions)."""
    return new_event(
        "warning",
        {"code": code, "message": message, **extra},
        channel=CHANNEL,
        integration=INTEGRATION,
        emitter=EMITTER,
        actor="system",
        attribution="system_generated",
        confidence=1.0,
        observability="high",
    )


def command_output(record: CommandRecord) -> str:
    """The output kept for a command: its head and tail excerpts (the whole output when it
    was short). Test summaries come last, so the tail is what the parsers need."""
    if record.output_head and record.output_tail:
        return record.output_head + "\n" + record.output_tail
    return record.output_head or record.output_tail


def command_events(record: CommandRecord) -> list[Event]:
    """The `command` event of a finished command, plus its `test_run`/`build_run`, if any."""
    ended = None
    if record.started_us is not None and record.duration_ms is not None:
        ended = record.started_us + record.duration_ms * 1000
    ts = _ts(ended)
    command_id = str(uuid.uuid4())
    command = shell_event("command", record.event_data(), ts=ts, event_id=command_id)
    events = [command]
    runnable = record.command and record.executed and not record.outside_workspace
    if runnable and record.command is not None:
        run = run_event(
            record.command,
            command_output(record),
            exit_code=record.exit_code,
            duration_ms=record.duration_ms,
        )
        if run is not None:
            data: dict[str, Any] = {**run.data, "commandEventId": command_id}
            events.append(shell_event(run.kind, data, ts=ts))
    return events


class EventSender:
    """Deliver events from a background thread; `send` never blocks."""

    def __init__(
        self,
        handle: SessionHandle,
        *,
        restart: Callable[[], object] | None = None,
        timeout: float = SEND_TIMEOUT_S,
    ) -> None:
        self._handle = handle
        self._restart = restart
        self._timeout = timeout
        self._queue: queue.SimpleQueue[list[Event] | None] = queue.SimpleQueue()
        self._last_restart = -RESTART_EVERY_S
        self.stats = SenderStats()
        self.ended = threading.Event()
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="promptster-events", daemon=True)
        self._thread.start()

    def send(self, events: list[Event]) -> None:
        if events:
            self._queue.put(events)

    def close(self, wait: float = 60.0) -> SenderStats:
        """Deliver what is queued (each attempt is bounded by the send timeout), then stop."""
        self._queue.put(None)
        self._thread.join(wait)
        return self.stats

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            batch: list[Event] = []
            if first is None:
                stopping = True
            else:
                batch += first
                time.sleep(BATCH_WAIT_S)  # one request for a burst of commands, not one each
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch += more
            if batch:
                self._deliver(batch)

    def _deliver(self, batch: list[Event]) -> None:
        if self.ended.is_set():
            self.stats.dropped += len(batch)
            return
        try:
            result = send_events(self._handle, batch, timeout=self._timeout)
        except Exception as exc:  # delivery must never take the shell down
            self.stats.dropped += len(batch)
            self.last_error = f"{type(exc).__name__}: {exc}"
            return
        if result.via == "recorder":
            self.stats.sent += len(batch)
        elif result.via == "spool":
            self.stats.spooled += len(batch)
            self._maybe_restart()
        else:
            self.stats.dropped += len(batch)
            self.last_error = result.error
            current = load_handle(self._handle.session_dir)
            if current is None or not current.active:
                self.ended.set()

    def _maybe_restart(self) -> None:
        now = time.monotonic()
        if self._restart is None or now - self._last_restart < RESTART_EVERY_S:
            return
        self._last_restart = now
        with contextlib.suppress(Exception):  # the next promptster command will try again
            self._restart()
            self.stats.restarts += 1
