"""Helpers for the Claude Code tests: a session folder whose recorder is down (so events land
in the real spool), real 2.1.328 payloads and transcript, and running the real hook command."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from promptster.integrations.claude import hook as claude_hook

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "claude-code"
RECORDED_WORKSPACE = "/home/candidate/work"


def make_session(workspace: Path, *, status: str = "active") -> Path:
    """A session folder as `promptster start` leaves it, with no recorder listening."""
    session_dir = workspace / ".promptster"
    session_dir.mkdir(parents=True, exist_ok=True)
    state = {
        "sessionId": "0b9a7a52-5f55-4a4e-8d0e-2f1c3c1e0d11",
        "workspace": str(workspace),
        "socket": str(workspace / ".promptster" / "no-recorder.sock"),
        "status": status,
        "startedAt": "2026-01-05T09:00:00.000Z",
    }
    (session_dir / "session.json").write_text(json.dumps(state))
    return session_dir


def spooled(session_dir: Path) -> list[dict[str, Any]]:
    path = session_dir / "spool.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [event["kind"] for event in events]


def payloads(name: str, workspace: Path) -> list[dict[str, Any]]:
    """Recorded hook payloads, moved into `workspace`."""
    text = (FIXTURES / name).read_text().replace(RECORDED_WORKSPACE, str(workspace))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def transcript_copy(workspace: Path, target: Path) -> Path:
    """The recorded transcript, moved into `workspace`, written to `target`."""
    text = (FIXTURES / "transcript-2.1.328.jsonl").read_text()
    target.write_text(text.replace(RECORDED_WORKSPACE, str(workspace)))
    return target


def call_hook(payload: dict[str, Any] | bytes) -> None:
    """Run the handler in-process, as `promptster hook claude-code` does."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    assert claude_hook.main(stdin=io.BytesIO(data)) == 0


def promptster_command() -> list[str]:
    installed = Path(sys.executable).with_name("promptster")
    if installed.exists():
        return [str(installed)]
    return [sys.executable, "-c", "from promptster.entry import run; run()"]


def run_hook(
    data: bytes, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The real command, as Claude Code runs it."""
    environment = {k: v for k, v in os.environ.items() if k != "PROMPTSTER_SESSION_DIR"}
    environment.update(env or {})
    return subprocess.run(
        [*promptster_command(), "hook", "claude-code"],
        input=data,
        cwd=cwd,
        env=environment,
        capture_output=True,
        check=False,
    )
