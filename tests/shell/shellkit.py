"""Driving `promptster shell` in a real terminal (pexpect), and reading what it recorded."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pexpect

from promptster.record.session import SessionPaths
from support import require_executable

PROMPT_READY = b"\x1b]133;B\x07"  # the end of every integrated prompt
OUTPUT_START = b"\x1b]133;C\x07"
HANG_GUARD_S = 180  # a hang guard only: nothing here is timed


@dataclass
class Workspace:
    """A live session's workspace and the candidate's (temporary) HOME."""

    folder: Path
    home: Path
    paths: SessionPaths


def candidate_env(home: Path, shell: str, **extra: str) -> dict[str, str]:
    """The environment of a candidate's terminal: their HOME and $SHELL, nothing of ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PROMPTSTER_")
        and k not in ("BASH_ENV", "ENV", "ZDOTDIR", "PROMPT_COMMAND", "HISTFILE")
    }
    env |= {"HOME": str(home), "SHELL": shell, "TERM": "xterm-256color", "LC_ALL": "C.UTF-8"}
    for key in ("PROMPTSTER_HOME",):
        if key in os.environ:
            env[key] = os.environ[key]
    return env | extra


class RecordedShell:
    """`promptster shell` in a pexpect terminal; the whole terminal output is kept."""

    def __init__(
        self,
        workspace: Path,
        home: Path,
        shell: str = "bash",
        *,
        args: tuple[str, ...] = ("shell",),
        dimensions: tuple[int, int] = (24, 80),
        wait: bool = True,
        **extra_env: str,
    ) -> None:
        self.promptster = require_executable("promptster", "pip install -e .")
        shell_path = require_executable(shell) if "/" not in shell else shell
        self.log = io.BytesIO()
        self.child = pexpect.spawn(
            self.promptster,
            list(args),
            env=candidate_env(home, shell_path, **extra_env),
            cwd=str(workspace),
            dimensions=dimensions,
            timeout=HANG_GUARD_S,
        )
        self.child.logfile_read = self.log
        if wait:
            self.prompt()

    def prompt(self) -> None:
        self.child.expect_exact(PROMPT_READY)

    def run(self, line: str) -> None:
        self.child.send(line.encode() + b"\r")
        self.prompt()

    def started(self, line: str, program: str) -> None:
        """Type `line` and wait until the shell's child runs `program` (it owns the pty)."""
        self.child.send(line.encode() + b"\r")
        self.child.expect_exact(OUTPUT_START)
        wait_for_process(program, lambda pid: is_descendant(pid, self.child.pid))

    def interrupt(self, line: str, program: str) -> None:
        self.started(line, program)
        self.child.sendintr()
        self.prompt()

    def exit(self, line: str = "exit") -> int:
        """Leave the shell; the exit status of `promptster shell`."""
        self.child.send(line.encode() + b"\r")
        return self.finish()

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        status = self.child.exitstatus
        return int(status) if status is not None else 128 + int(self.child.signalstatus or 0)

    @property
    def output(self) -> bytes:
        return self.log.getvalue()


def _stat(pid: int) -> tuple[str, int] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = text[text.find("(") + 1 : text.rfind(")")]
    return comm, int(text[text.rfind(")") + 2 :].split()[1])


def is_descendant(pid: int, ancestor: int) -> bool:
    for _ in range(64):
        info = _stat(pid)
        if info is None:
            return False
        if info[1] == ancestor:
            return True
        pid = info[1]
        if pid <= 1:
            return False
    return False


def wait_for_process(program: str, accept: Callable[[int], bool]) -> int:
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        for entry in Path("/proc").glob("[0-9]*"):
            info = _stat(int(entry.name))
            if info is not None and info[0] == program and accept(int(entry.name)):
                return int(entry.name)
        time.sleep(0.02)
    raise AssertionError(f"{program} never started")


def journal(paths: SessionPaths) -> list[dict[str, Any]]:
    data = paths.journal.read_bytes()
    return [json.loads(line) for line in data[: data.rfind(b"\n") + 1].splitlines()]


def commands(paths: SessionPaths) -> list[dict[str, Any]]:
    return [e["data"] for e in journal(paths) if e["kind"] == "command"]


def find_command(paths: SessionPaths, text: str) -> dict[str, Any]:
    found = [c for c in commands(paths) if c.get("command") == text]
    assert len(found) == 1, (text, [c.get("command") for c in commands(paths)])
    return found[0]


def events(paths: SessionPaths, kind: str) -> list[dict[str, Any]]:
    return [e for e in journal(paths) if e["kind"] == kind]


def cast_events(paths: SessionPaths, number: int = 0) -> list[list[Any]]:
    data = (paths.root / "casts" / f"{number}.cast").read_bytes()
    lines = data.splitlines()
    json.loads(lines[0])
    return [json.loads(line) for line in lines[1:]]


def cast_text(paths: SessionPaths, number: int = 0) -> str:
    return "".join(e[2] for e in cast_events(paths, number) if e[1] == "o")


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = HANG_GUARD_S) -> Any:
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
