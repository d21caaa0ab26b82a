"""Talking to a session's recorder from a command: start it, restart it, ask it, end it.

Every candidate command calls `ensure_recorder` first, so a recorder that was killed (or a
machine that rebooted) is noticed and restarted by the next `promptster` command; the new
recorder records the gap itself. Whether a recorder runs is decided by its lock file
(`recorder.lock`), not by a pid, so a reused pid can never fool it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptster.errors import EnvironmentProblem, PromptsterError, StateError
from promptster.protocol import RecorderUnavailable, SessionHandle, load_handle, request
from promptster.record.session import SessionPaths, locked, read_state

START_TIMEOUT_S = 30.0
END_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class RecorderCheck:
    running: bool
    restarted: bool
    pid: int | None = None


def recorder_running(paths: SessionPaths) -> bool:
    """True while some process holds the session's recorder lock."""
    if not paths.root.is_dir():
        return False
    with locked(paths.recorder_lock, blocking=False) as acquired:
        return not acquired


def handle_for(paths: SessionPaths) -> SessionHandle:
    handle = load_handle(paths.root)
    if handle is None:
        read_state(paths)  # raises the precise error
        raise StateError(f"the session file {paths.state} cannot be read")
    return handle


def ping(paths: SessionPaths, timeout: float = 2.0) -> dict[str, Any] | None:
    try:
        reply = request(handle_for(paths), {"op": "ping"}, timeout)
    except RecorderUnavailable:
        return None
    return reply if reply.get("ok") else None


def spawn_recorder(paths: SessionPaths) -> None:
    """Start a detached recorder (it double-forks; this returns when it has detached)."""
    command = [sys.executable, "-m", "promptster.record.recorder", "--daemon", str(paths.root)]
    completed = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=paths.root,
        check=False,
        timeout=60,
    )
    if completed.returncode != 0:
        raise EnvironmentProblem(
            "the recorder could not be started: "
            + (completed.stderr.decode(errors="replace").strip() or f"exit {completed.returncode}"),
            f"see {paths.log}",
        )


def _wait_for_ping(paths: SessionPaths, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        reply = ping(paths)
        if reply is not None:
            return reply
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)
    return None


def ensure_recorder(paths: SessionPaths, timeout: float = START_TIMEOUT_S) -> RecorderCheck:
    """Make sure the recorder of an active session answers; start it if it is not running."""
    state = read_state(paths)
    if not state.active:
        return RecorderCheck(running=False, restarted=False)
    reply = ping(paths)
    if reply is not None:
        return RecorderCheck(True, False, reply.get("pid"))
    with locked(paths.start_lock):
        if not read_state(paths).active:
            return RecorderCheck(running=False, restarted=False)
        restarted = False
        if not recorder_running(paths):
            spawn_recorder(paths)
            restarted = True
        reply = _wait_for_ping(paths, timeout)
    if reply is None:
        raise EnvironmentProblem(
            "the session's recorder does not answer",
            f"run `promptster doctor`; the recorder's log is {paths.log}" + _log_tail(paths),
        )
    return RecorderCheck(True, restarted, reply.get("pid"))


def _log_tail(paths: SessionPaths, lines: int = 5) -> str:
    try:
        tail = paths.log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n  " + "\n  ".join(tail) if tail else ""


def ask(paths: SessionPaths, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """Send one request to the running recorder; raise on refusal or when it is unreachable."""
    try:
        reply = request(handle_for(paths), message, timeout)
    except RecorderUnavailable as exc:
        raise EnvironmentProblem(
            "the session's recorder is not reachable", "run `promptster doctor`"
        ) from exc
    if reply.get("ok") is not True:
        code = reply.get("code")
        error = str(reply.get("error", "refused"))
        if code == "ended":
            raise StateError(f"the session has ended: {error}")
        raise EnvironmentProblem(f"the recorder refused: {error}")
    return reply


def end_session(paths: SessionPaths, reason: str, detail: str | None = None) -> dict[str, Any]:
    """Final snapshot, `session_end`, recorder (and API recorder) stopped, the tools' config
    restored."""
    ensure_recorder(paths)
    request: dict[str, Any] = {"op": "end", "reason": reason}
    if detail is not None:
        request["detail"] = detail
    reply = ask(paths, request, timeout=END_TIMEOUT_S)
    wait_until_stopped(paths)
    from promptster.record.proxy import control as proxy_control

    proxy_control.stop(paths.root)  # it would notice the end itself within a second
    restore_tool_config(read_state(paths).workspace_path)
    return reply


def restore_tool_config(workspace: Path) -> list[str]:
    """Undo every AI tool's `setup` that is in place in the workspace (harmless otherwise).

    Runs once the final snapshot is taken, whether setup came from `start --tools` or was run
    by hand. Returns the notes of what could not be restored exactly.
    """
    from promptster.integrations import catalog

    notes: list[str] = []
    for tool in catalog.TOOLS:
        adapter = tool.adapter()
        if not adapter.is_active(workspace):
            continue
        try:
            notes.extend(adapter.teardown(workspace))
        except (OSError, PromptsterError) as exc:
            notes.append(f"could not restore the {tool.label} configuration: {exc}")
    return notes


def wait_until_stopped(paths: SessionPaths, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not recorder_running(paths):
            return True
        time.sleep(0.05)
    return False
