"""The recorder's Unix socket: one JSON request per line, one JSON reply per line."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socketserver
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptster.errors import PromptsterError
from promptster.record.pipeline import Rejected, event_from_client

if TYPE_CHECKING:
    from promptster.record.recorder import Recorder

log = logging.getLogger("promptster.recorder.server")
MAX_REQUEST_BYTES = 16 * 1024 * 1024


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a burst of hook processes and shell events beyond
    # that makes connect() fail at once with EAGAIN (Unix sockets do not wait), and the
    # clients would spool events the recorder could have taken
    request_queue_size = 128
    recorder: Recorder


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while True:
            line = self.rfile.readline(MAX_REQUEST_BYTES + 1)
            if not line:
                return
            stop_after = False
            if len(line) > MAX_REQUEST_BYTES:
                reply: dict[str, Any] = _refuse("invalid", "request too large")
            else:
                reply, stop_after = handle_request(self.server.recorder, line)
            try:
                self.wfile.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
                self.wfile.flush()
            except OSError:
                return
            finally:
                if stop_after:
                    self.server.recorder.stopped.set()


def _refuse(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "code": code, "error": message}


def handle_request(recorder: Recorder, line: bytes) -> tuple[dict[str, Any], bool]:
    """Answer one request; the flag says whether the recorder stops after replying."""
    try:
        request = json.loads(line)
    except ValueError:
        return _refuse("invalid", "the request is not JSON"), False
    if not isinstance(request, dict):
        return _refuse("invalid", "the request is not a JSON object"), False
    op = request.get("op")
    try:
        if op == "append":
            return _append(recorder, request.get("events")), False
        if op == "ping":
            return {
                "ok": True,
                "sessionId": recorder.state.session_id,
                "pid": os.getpid(),
                "nextSeq": recorder.pipeline.next_seq,
                "ended": recorder.end_result is not None,
            }, False
        if op == "status":
            return recorder.status(), False
        if op == "snapshot":
            if recorder.pipeline.closed:
                return _refuse("ended", "the session has ended"), False
            commit = recorder.capture.snapshot_now(str(request.get("reason") or "request"))
            recorder.pipeline.retry_pending()
            return {"ok": True, "commit": commit, "problem": recorder.pipeline.problem}, False
        if op == "command_start":
            return _command_start(recorder, request), False
        if op == "heartbeat":
            name = request.get("source")
            if not isinstance(name, str) or not name:
                return _refuse("invalid", "heartbeat needs a source name"), False
            detail = request.get("detail")
            recorder.seen_source(name, detail if isinstance(detail, str) else None, heartbeat=True)
            return {"ok": True}, False
        if op == "attach":
            tty = request.get("tty")
            attached = isinstance(tty, str) and recorder.attach_tty(tty)
            return {"ok": True, "attached": attached}, False
        if op == "end":
            reason = request.get("reason")
            if reason not in ("submit", "abort", "auto"):
                return _refuse("invalid", "end needs reason submit, abort or auto"), False
            detail = request.get("detail")
            detail = detail[:500] if isinstance(detail, str) and detail.strip() else None
            return recorder.end(str(reason), stop=False, detail=detail), True
    except PromptsterError as exc:
        return _refuse("unavailable", exc.message), False
    return _refuse("invalid", f"unknown op {op!r}"), False


def _proc(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value):
        return value[0], value[1]
    return None


def _command_start(recorder: Recorder, request: dict[str, Any]) -> dict[str, Any]:
    """An AI shell command is about to run (its hook waits for this answer): measure what its
    client's processes have written so far (attribution evidence, procio.py)."""
    tool_use_id, client, hook = (
        request.get("toolUseId"), _proc(request.get("client")), _proc(request.get("hook"))
    )  # fmt: skip
    if not isinstance(tool_use_id, str) or client is None or hook is None:
        return _refuse("invalid", "command_start needs toolUseId, client and hook")
    command = request.get("command")
    command = command[:2000] if isinstance(command, str) else ""
    measured = recorder.attribution.command_started(tool_use_id, client, hook, command)
    return {"ok": True, "measured": measured}


def _append(recorder: Recorder, raw_events: Any) -> dict[str, Any]:
    if not isinstance(raw_events, list):
        return _refuse("invalid", "append needs a list of events")
    try:
        events = [event_from_client(body) for body in raw_events]
    except Rejected as exc:
        return _refuse("invalid", str(exc))
    if recorder.pipeline.closed:
        return _refuse("ended", "the session has ended")
    try:
        seqs = recorder.pipeline.append_client(events)
    except PromptsterError as exc:
        code = "ended" if recorder.pipeline.closed else "unavailable"
        return _refuse(code, exc.message)
    for event in events:
        integration = event.source.get("integration")
        if integration:
            recorder.seen_source(str(integration))
    return {"ok": True, "seqs": seqs}


class RecorderServer:
    def __init__(self, recorder: Recorder, socket_path: Path) -> None:
        self.recorder = recorder
        self.socket_path = socket_path
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.socket_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)  # left by a recorder that died; we hold the lock
        old_umask = os.umask(0o177)  # the socket is created 0600
        try:
            server = _Server(str(self.socket_path), _Handler)
        finally:
            os.umask(old_umask)
        os.chmod(self.socket_path, 0o600)
        server.recorder = self.recorder
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="socket", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with contextlib.suppress(OSError):
            self.socket_path.unlink()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
