"""`promptster hook codex`: always exit 0, print nothing, never spool (the rollout is the record);
with a recorder, ask it for a snapshot around the AI's tool calls."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

from claude_support import make_session, promptster_command, spooled

from promptster.integrations.codex import hook as codex_hook


def run_hook(data: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "PROMPTSTER_SESSION_DIR"}
    return subprocess.run(
        [*promptster_command(), "hook", "codex"],
        input=data,
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
    )


def payload(workspace: Path, event: str, **extra: object) -> bytes:
    body = {"hook_event_name": event, "cwd": str(workspace), "session_id": "s1", **extra}
    return json.dumps(body).encode()


def test_bad_payloads_exit_0_and_print_nothing(tmp_path: Path) -> None:
    session_dir = make_session(tmp_path)
    for data in (b"", b"not json", b"[1]", b'{"hook_event_name": 3}', b"\xff\xfe" * 100):
        done = run_hook(data, tmp_path)
        assert (done.returncode, done.stdout) == (0, b"")
    assert spooled(session_dir) == []


def test_recorder_down_and_no_session_are_harmless(tmp_path: Path) -> None:
    session_dir = make_session(tmp_path / "work")
    for event in ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop"):
        data = payload(tmp_path / "work", event, tool_name="Bash", tool_input={"command": "ls"})
        done = run_hook(data, tmp_path / "work")
        assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert spooled(session_dir) == []  # Codex's rollout holds everything; nothing to spool
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run_hook(payload(elsewhere, "PreToolUse"), elsewhere).returncode == 0


def test_in_process_it_fails_open(tmp_path: Path) -> None:
    make_session(tmp_path)
    assert codex_hook.main(stdin=io.BytesIO(b"{")) == 0
    big = b" " * (codex_hook.MAX_PAYLOAD + 10)
    assert codex_hook.main(stdin=io.BytesIO(big)) == 0
