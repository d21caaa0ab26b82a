"""Shared fixtures and helpers for tests/recorder (imported by the test modules)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from promptster.record.control import recorder_running
from promptster.record.lifecycle import StartedSession, StartOptions, start_session
from promptster.record.proxy import control as proxy_control
from promptster.record.session import SessionPaths

GIT_USER = ["-c", "user.name=Candidate", "-c", "user.email=candidate@example.com"]


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy; fail after a generous timeout (never a timing test)."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def journal(paths: SessionPaths) -> list[dict[str, Any]]:
    """The journal's complete lines, parsed."""
    data = paths.journal.read_bytes()
    lines = data[: data.rfind(b"\n") + 1].splitlines()
    return [json.loads(line) for line in lines]


def events_of(paths: SessionPaths, kind: str) -> list[dict[str, Any]]:
    return [e for e in journal(paths) if e["kind"] == kind]


def file_events(paths: SessionPaths, path: str | None = None) -> list[dict[str, Any]]:
    found = [e for e in journal(paths) if e["kind"].startswith("file_")]
    return [e for e in found if path is None or e["data"]["path"] == path]


def recorder_pid(paths: SessionPaths) -> int | None:
    try:
        return int(json.loads(paths.recorder_info.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def stop_recorder(paths: SessionPaths) -> None:
    """Stop a test session's recorder (by its own pid) if it still runs."""
    if not recorder_running(paths):
        return
    pid = recorder_pid(paths)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 30
        while recorder_running(paths) and time.monotonic() < deadline:
            time.sleep(0.05)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_USER, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def recorder_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated PROMPTSTER_HOME and runtime folder; the recorders inherit them."""
    home = tmp_path_factory.mktemp("home")
    runtime = Path("/tmp") / f"pst-test-{os.getpid()}-{time.monotonic_ns() % 10**8}"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("PROMPTSTER_HOME", str(home))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("PROMPTSTER_SESSION_DIR", raising=False)
    return home


@pytest.fixture
def start_recording(recorder_env: Path) -> Iterator[Callable[..., StartedSession]]:
    """start(workspace, **StartOptions fields) → a live session; recorders stopped afterwards."""
    started: list[SessionPaths] = []

    def start(workspace: Path, **options: Any) -> StartedSession:
        options.setdefault("rescan_seconds", 2.0)
        session = start_session(StartOptions(workspace=workspace, **options))
        started.append(session.paths)
        return session

    yield start
    for paths in started:
        stop_recorder(paths)
        # A session left active keeps its model-API recorder (it stops with the session, not
        # with the recorder): stop it too, so no test leaves a process behind.
        proxy_control.stop(paths.root)


def run_promptster(
    *args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI (as a candidate would)."""
    return subprocess.run(
        [sys.executable, "-c", "from promptster.cli import run; run()", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=300,
    )


def make_assessment(
    folder: Path,
    *,
    time_limit: int | None = None,
    repo: Path | None = None,
    rev: str | None = None,
    keys: int = 2,
    options: Sequence[str] = (),
) -> tuple[Path, list[str]]:
    """A reviewer identity, an assessment and keys, through the reviewer CLI.

    Returns (pack file, key texts). The reviewer's PROMPTSTER_HOME is `folder/reviewer`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    env = {"PROMPTSTER_HOME": str(folder / "reviewer")}
    brief = folder / "brief.md"
    brief.write_text("# Fix the calculator\n\n`add()` subtracts. Fix it and add a test.\n")

    def cli(*args: str) -> str:
        done = run_promptster(*args, cwd=folder, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("identity", "init", "--org", "Acme")
    create = ["assessment", "create", "--title", "Calc", "--role", "Backend engineer"]
    create += ["--brief", str(brief), "--json", *options]
    if time_limit is not None:
        create += ["--time-limit", str(time_limit)]
    if repo is not None:
        rev = rev or git(repo, "rev-parse", "HEAD").strip()
        create += ["--repo", repo.as_uri(), "--rev", rev]
    assessment_id = json.loads(cli(*create))["assessment"]["id"]
    made = json.loads(cli("keys", "create", assessment_id, "--count", str(keys), "--json"))
    pack = folder / "reviewer" / "packs" / f"{assessment_id}.json"
    return pack, [k["key"] for k in made["keys"]]


def make_starter_repo(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "-q")
    (folder / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "starter")
    (folder / "calc.py").write_text("def add(a, b):\n    return a - b  # later commit\n")
    git(folder, "commit", "-qam", "a later commit the candidate must not get")
    return folder
