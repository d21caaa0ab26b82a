"""Helpers for the end-to-end tests of the AI tools: an isolated recording environment, the
`promptster` command, submitting and reading back the verified timeline."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from claude_support import promptster_command

from promptster.bundle.verify import verify_bundle
from support import practice_bundle_verified

Event = dict[str, Any]


@contextmanager
def recording_env(root: Path) -> Iterator[None]:
    """PROMPTSTER_HOME and a short XDG_RUNTIME_DIR (socket paths) under `root`."""
    runtime = Path("/tmp") / f"pst-e2e-{os.getpid()}-{time.monotonic_ns() % 10**8}"
    runtime.mkdir(mode=0o700)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PROMPTSTER_HOME", str(root / "promptster-home"))
        env.setenv("XDG_RUNTIME_DIR", str(runtime))
        env.delenv("PROMPTSTER_SESSION_DIR", raising=False)
        yield
    for leftover in runtime.glob("**/*"):
        if leftover.is_socket() or leftover.is_file():
            leftover.unlink(missing_ok=True)


def promptster(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*promptster_command(), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def git(ws: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ws), *args], capture_output=True, text=True, check=True
    ).stdout


def starter_repo(ws: Path) -> None:
    """calc.py with a bug, README.md, committed by the candidate."""
    ws.mkdir()
    (ws / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (ws / "README.md").write_text("# Calculator\n")
    git(ws, "init", "-q")
    git(ws, "config", "user.name", "Candidate")
    git(ws, "config", "user.email", "candidate@example.com")
    git(ws, "add", ".")
    git(ws, "commit", "-qm", "starter")


def submit_and_read(ws: Path) -> tuple[Path, list[Event]]:
    """`promptster submit`, `verify`, and the bundle's timeline."""
    submitted = promptster("submit", "--yes", "--json", cwd=ws)
    assert submitted.returncode == 0, submitted.stderr
    bundle = Path(json.loads(submitted.stdout)["path"])
    verified = promptster("verify", "--json", str(bundle), cwd=ws)
    assert practice_bundle_verified(verified.stdout), verified.stdout  # started without a key
    report = verify_bundle(bundle, keep_timeline=True)
    assert report.ok and report.context.timeline is not None
    return bundle, [json.loads(line) for line in report.context.timeline.read_bytes().splitlines()]


def of(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e["kind"] == kind]


def file_verdicts(events: list[Event]) -> dict[str, list[tuple[str, int, int]]]:
    """{path: [(attribution, AI lines, human lines) per file event]}."""
    by_path: dict[str, list[tuple[str, int, int]]] = {}
    for event in events:
        if event["kind"].startswith("file_"):
            data = event["data"]
            verdict = (
                event["provenance"]["attribution"],
                data.get("aiLines"),
                data.get("humanLines"),
            )
            by_path.setdefault(data["path"], []).append(verdict)
    return by_path
