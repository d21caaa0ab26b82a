"""`promptster hook codex`: Codex's hooks ask the recorder for snapshots around AI tool calls.

Codex waits for each hook, so it does little: it reads the payload, finds the session from the
payload's `cwd`, and asks the recorder for a snapshot before and after each tool call (the
recorder reads the rollout first, so the AI's call is in the journal before the files it
changed) and notes a heartbeat on prompts. Events themselves come from the rollout file only,
so nothing is recorded twice. It always exits 0 and prints nothing (fail open: a hook must
never block Codex); with the recorder down it does nothing, and the rollout is read later.

Standard library and the recorder client only.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any, BinaryIO

from promptster import protocol as client

MAX_PAYLOAD = 32 * 1024 * 1024
SNAPSHOT_TIMEOUT_S = 2.0
FILE_TOOLS = frozenset({"Bash", "apply_patch", "shell", "exec_command", "local_shell"})


def main(argv: list[str] | None = None, stdin: BinaryIO | None = None) -> int:
    """`promptster hook codex` (argv: the words after it, unused)."""
    with contextlib.suppress(BaseException):  # fail open
        handle_call((stdin if stdin is not None else sys.stdin.buffer).read(MAX_PAYLOAD + 1))
    return 0


def handle_call(data: bytes) -> None:
    if len(data) > MAX_PAYLOAD:
        return
    payload: Any = json.loads(data)
    if not isinstance(payload, dict):
        return
    cwd = payload.get("cwd")
    start = Path(cwd) if isinstance(cwd, str) and os.path.isabs(cwd) else None
    handle = client.find_session(start)
    if handle is None or not handle.active:
        return
    name = payload.get("hook_event_name")
    if name in ("PreToolUse", "PostToolUse") and payload.get("tool_name") in FILE_TOOLS:
        reason = "codex-pre-tool" if name == "PreToolUse" else "codex-post-tool"
        _ask(handle, {"op": "snapshot", "reason": reason}, SNAPSHOT_TIMEOUT_S)
    elif name in ("SessionStart", "UserPromptSubmit", "Stop"):
        detail = f"{name} in session {str(payload.get('session_id'))[:40]}"
        _ask(handle, {"op": "heartbeat", "source": "codex", "detail": detail}, 1.0)


def _ask(handle: client.SessionHandle, message: dict[str, Any], timeout: float) -> None:
    with contextlib.suppress(client.RecorderUnavailable, ValueError):
        client.request(handle, message, timeout)
