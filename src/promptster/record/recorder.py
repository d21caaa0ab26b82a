"""The recorder: one long-running process per session, the single writer of its journal.

Run as ``python -m promptster.record.recorder [--daemon] <session-dir>``. It serves the
session's Unix socket (docs/recorder-protocol.md), snapshots the workspace when the watcher
or a client asks and on a periodic rescan, turns the candidate's reflogs into `git_action`
events, gives time warnings, ingests the spool, and at the time limit ends and submits the
session itself. It stops on `end` (submit/abort). If it dies any other way, the
`recorder.json` it leaves behind tells the next recorder to record the gap.

Its parts in time (the gap, clock jumps, warnings, auto-submit) are `recorder_time.py`, its
sources (the AI tools' watchers, backfill, the `status` reply) `recorder_sources.py`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptster.errors import EnvironmentProblem, JournalLocked, PromptsterError
from promptster.formats.events import Kind, now_ts, parse_ts
from promptster.protocol import CLIENT_LOSSES_FILE, STARTING_FILE
from promptster.record.attribution.checkpoint import Checkpoints
from promptster.record.attribution.live import Attribution
from promptster.record.control import restore_tool_config
from promptster.record.files.capture import Capture
from promptster.record.journal import JournalWriter
from promptster.record.limits import ToolPolicy, read_limits
from promptster.record.losses import LEDGER_FILE, ClientLossLedger, LossLedger
from promptster.record.pipeline import (
    EventPipeline,
    ingest_locked,
    ingest_spool,
    locked_spool,
    system_event,
    warning,
)
from promptster.record.proxy import control as proxy_control
from promptster.record.recorder_sources import Sources
from promptster.record.recorder_time import TimeKeeping, parsed_ts
from promptster.record.server import RecorderServer
from promptster.record.session import (
    ABORTED,
    ENDED,
    SessionPaths,
    SessionState,
    locked,
    read_state,
    update_state,
)
from promptster.record.timelimit import SessionClock, signed_deadline
from promptster.record.timer import Countdown

if TYPE_CHECKING:
    from promptster.integrations.catalog import LiveWatcher

log = logging.getLogger("promptster.recorder")
TICK_S = 0.5
HEARTBEAT_S = 5.0


class Recorder(TimeKeeping, Sources):
    def __init__(self, paths: SessionPaths, state: SessionState, journal: JournalWriter) -> None:
        self.paths = paths
        self.state = state
        self.workspace = state.workspace_path
        # The limit comes from the signed pack and the session's first event, never from
        # session.json's copy (timelimit.py); time is measured on a clock the candidate
        # cannot set back.
        self.signed = signed_deadline(paths.journal, paths.assessment, state.deadline)
        self.deadline = self.signed.deadline
        self.attribution = Attribution(state.workspace)
        # Line authorship replayed ahead in a child process, so submit replays only the rest.
        self.checkpoints = Checkpoints(paths.root)
        # The budget and allowed tools, from the signed pack (record/limits.py).
        self.limits = read_limits(paths.assessment)
        allowed = self.limits.allowed_tools
        self.pipeline = EventPipeline(
            journal,
            self.deadline,
            self.attribution,
            ToolPolicy(None if allowed is None else frozenset(allowed)),
        )
        self.pipeline.ledger = LossLedger(paths.root / LEDGER_FILE)
        self.client_losses = ClientLossLedger(paths.root / CLIENT_LOSSES_FILE)
        last = self.pipeline.stats.last_ts
        self.clock = SessionClock(not_before=parsed_ts(last))
        self.pipeline.clock_offset = self.clock.offset
        self.capture = Capture(self, paths, state)
        self.server = RecorderServer(self, Path(state.socket))
        self.stopped = threading.Event()
        self.ending = threading.Lock()
        self.end_result: dict[str, Any] | None = None
        self.ttys: set[str] = set()
        self.sources: dict[str, dict[str, Any]] = {}
        self.countdown = (
            Countdown(parse_ts(state.started_at), self.deadline) if self.deadline else None
        )
        self.started_at = now_ts()
        self.lock_inode = os.stat(paths.recorder_lock).st_ino
        self.watchers: dict[str, LiveWatcher] = {}  # AI tool name -> its live watcher
        self.watch_lock = threading.Lock()
        self.watch_waiting: list[Any] = []  # polled events the journal could not take yet
        # When the previous recorder was last seen, after a crash: files written since then
        # are judged against the time limit by their modification time (files/capture.py).
        self.down_since: datetime | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def startup(self, previous: dict[str, Any] | None) -> None:
        recovery = self.pipeline.journal.recovery
        if previous is not None or recovery.torn_bytes:
            self.record_gap(previous, recovery.torn_bytes)
        self._write_info()
        self.record_time_anomalies()
        unsettled, kinds = (
            self.pipeline.ledger.load_and_reserve() if self.pipeline.ledger else (0, {})
        )
        self.client_losses.reserve()
        self.ingest_spool()
        if unsettled:
            self.pipeline.report_unsettled(unsettled, kinds)
        self.pipeline.report_client_losses(self.client_losses)
        self.restore_countdown()
        self.start_watchers()
        self.capture.start()
        self.server.start()
        log.info("recorder %s serving %s", os.getpid(), self.state.socket)

    def _write_info(self) -> None:
        info = {"pid": os.getpid(), "startedAt": self.started_at, "socket": self.state.socket}
        self.paths.recorder_info.write_text(json.dumps(info) + "\n")

    def run(self) -> None:
        last_heartbeat = 0.0
        while not self.stopped.wait(TICK_S):
            try:
                if self._orphaned():
                    log.warning("the session folder was removed or replaced; stopping")
                    break
                self.tick()
                if time.monotonic() - last_heartbeat > HEARTBEAT_S:
                    last_heartbeat = time.monotonic()
                    with contextlib.suppress(OSError):
                        os.utime(self.paths.recorder_info)
                    # The model-API recorder (`start --proxy`) is brought back like this one.
                    proxy_control.ensure(self.paths.root, wait=False)
            except Exception:  # keep recording whatever one step does
                log.exception("recorder tick failed")
        self.shutdown()

    def _orphaned(self) -> bool:
        """True when our lock file is no longer the session's (folder deleted or replaced)."""
        try:
            if os.stat(self.paths.recorder_lock).st_ino != self.lock_inode:
                return True
            current = json.loads(self.paths.state.read_bytes()).get("sessionId")
        except (OSError, ValueError, AttributeError):
            return True
        return bool(current != self.state.session_id)

    def tick(self) -> None:
        self.ingest_spool()
        self.pipeline.retry_pending()
        self.pipeline.report_losses()  # after the spool: what arrived that way was not lost
        self.pipeline.report_client_losses(self.client_losses)
        self.poll_watchers()
        self.capture.tick()
        self.check_clock()
        self.check_time()
        self.checkpoints.tick()

    def shutdown(self) -> None:
        self.checkpoints.stop()
        self.server.stop()
        self.capture.stop()
        if not self.pipeline.closed:
            self.pipeline.close()
        log.info("recorder %s stopped", os.getpid())

    # -- events ---------------------------------------------------------------------------

    def ingest_spool(self, locked_fd: int | None = None) -> None:
        """Write spooled events to the journal (with the spool's lock, or taking it)."""
        if locked_fd is None:
            try:
                if self.paths.spool.stat().st_size == 0:
                    return
            except FileNotFoundError:
                return
        try:
            if locked_fd is None:
                count, bad = ingest_spool(
                    self.pipeline, self.paths.spool, self.paths.spool_rejected
                )
            else:
                count, bad = ingest_locked(self.pipeline, locked_fd, self.paths.spool_rejected)
        except PromptsterError as exc:
            log.warning("spool not ingested yet: %s", exc.message)
            return
        if count or bad:
            message = f"{count} event(s) arrived through the spool"
            if bad:
                message += f"; {bad} unreadable line(s) kept in spool.rejected.jsonl"
            self.pipeline.append_system(
                [warning("spool_ingested", message, count=count, rejected=bad)]
            )

    # -- ending ---------------------------------------------------------------------------

    def end(self, reason: str, *, stop: bool = True, detail: str | None = None) -> dict[str, Any]:
        """Final snapshot, `session_end`, journal closed, state updated. Idempotent."""
        with self.ending:
            if self.end_result is not None:
                return self.end_result
            self.checkpoints.stop()  # submit follows: the CPU is its
            self.capture.stop_watching()
            commit = self.capture.snapshot_now("final")  # reads the watchers first
            self.backfill_transcripts()
            # Under the spool's lock: a client spooling after this sees the session ended.
            with locked_spool(self.paths.spool) as spool_fd:
                self.ingest_spool(spool_fd)
                data: dict[str, Any] = {"reason": reason, "snapshot": commit}
                if detail is not None:
                    data["detail"] = detail
                self.pipeline.append_system([system_event(Kind.SESSION_END, data)])
                if not self.pipeline.retry_pending():
                    raise EnvironmentProblem(
                        f"cannot end the session: {self.pipeline.problem}",
                        "free some disk space and run the command again",
                    )
                count = self.pipeline.next_seq
                self.pipeline.close()
                ended_at = now_ts()

                def mark(state: SessionState) -> None:
                    state.status = ABORTED if reason == "abort" else ENDED
                    state.ended_at = ended_at
                    state.end_reason = reason

                update_state(self.paths, mark)
            restore_tool_config(self.state.workspace_path)
            self.paths.recorder_info.unlink(missing_ok=True)
            self.end_result = {"ok": True, "snapshot": commit, "eventCount": count}
        if stop:
            self.stopped.set()
        return self.end_result


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[bool]:
    with locked(path, blocking=False) as acquired:
        yield acquired


def serve(session_dir: Path) -> int:
    """Run the recorder in this process until the session ends or a signal stops it."""
    paths = SessionPaths(session_dir)
    with _exclusive(paths.recorder_lock) as acquired:
        if not acquired:
            log.info("another recorder already runs for %s", session_dir)
            return 0
        # The lock is ours: a hook may start the next recorder when this one is gone.
        with contextlib.suppress(OSError):
            (paths.root / STARTING_FILE).unlink()
        state = read_state(paths)
        if not state.active:
            log.info("session %s is %s; nothing to record", state.session_id, state.status)
            return 0
        previous = _read_previous(paths)
        try:
            journal = JournalWriter(paths.journal, state.session_id)
        except JournalLocked:
            return 0
        recorder = Recorder(paths, state, journal)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: recorder.stopped.set())
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        try:
            recorder.startup(previous)
        except BaseException:
            recorder.shutdown()
            raise
        recorder.run()
    return 0


def _read_previous(paths: SessionPaths) -> dict[str, Any] | None:
    try:
        info = json.loads(paths.recorder_info.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _daemonize(log_path: Path) -> None:
    """Detach from the terminal: new session, stdio to the log. The parent returns at once."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.close(null)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m promptster.record.recorder")
    parser.add_argument("session_dir", type=Path)
    parser.add_argument("--daemon", action="store_true", help="detach and log to the session")
    args = parser.parse_args(argv)
    session_dir = args.session_dir.absolute()
    if args.daemon:
        _daemonize(session_dir / "recorder.log")
    os.umask(0o077)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(process)d %(threadName)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        return serve(session_dir)
    except PromptsterError as exc:
        log.error("%s", exc.message)
        return int(exc.exit_code)


if __name__ == "__main__":
    sys.exit(main())
