"""Delivering the proxy's events to the session's recorder, off the event loop.

A thread drains a queue and sends batches with `protocol.send_events`: to the recorder, or to
the session's spool when the recorder cannot be reached (it ingests the spool when it is back,
so nothing is lost while it restarts). Replies never wait for this.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Any

from promptster.protocol import load_handle, send_events

log = logging.getLogger("promptster.proxy")
BATCH = 64


class EventSink:
    def __init__(self, session_dir: Path) -> None:
        self.session_dir = session_dir
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.sent = 0
        self.lost = 0
        self.thread = threading.Thread(target=self._run, name="proxy-sink", daemon=True)
        self.thread.start()

    def put(self, *events: dict[str, Any] | None) -> None:
        for event in events:
            if event is not None:
                self.queue.put(event)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued, then stop the thread."""
        self.queue.put(None)
        self.thread.join(timeout)

    def _run(self) -> None:
        done = False
        while not done:
            first = self.queue.get()
            batch = [] if first is None else [first]
            done = first is None
            while len(batch) < BATCH and not done:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                else:
                    batch.append(more)
            if batch:
                self._send(batch)

    def _send(self, batch: list[dict[str, Any]]) -> None:
        handle = load_handle(self.session_dir)
        if handle is None:
            self.lost += len(batch)
            log.warning("%d event(s) lost: the session file cannot be read", len(batch))
            return
        result = send_events(handle, batch, timeout=5.0)
        if result.acknowledged:
            self.sent += len(batch)
        else:
            self.lost += len(batch)
            log.warning("%d event(s) not recorded: %s", len(batch), result.error)
