"""Type into a real recorded shell (`promptster shell` under a pty), as a person would."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from promptster.demo import scenario as sc
from promptster.errors import EnvironmentProblem

COMMAND_TIMEOUT_S = 60
PROMPT_MARK = "\x1b]133;B"  # OSC 133 B: the prompt is drawn, the shell waits for input


class RecordedShell:
    """`cli` is the Python code that runs promptster (`python -c CLI shell`), from the runner."""

    def __init__(self, workspace: Path, env: dict[str, str], cli: str) -> None:
        self.workspace = workspace
        self.env = env
        self.cli = cli
        self.child: Any = None

    def __enter__(self) -> RecordedShell:
        import pexpect

        self.mark = PROMPT_MARK
        self.child = pexpect.spawn(
            sys.executable,
            ["-c", self.cli, "shell"],
            cwd=str(self.workspace),
            env=self.env,
            encoding="utf-8",
            codec_errors="replace",
            dimensions=(30, 110),
            timeout=COMMAND_TIMEOUT_S,
        )
        self._wait("the recorded shell did not start")
        return self

    def _wait(self, what: str) -> None:
        import pexpect

        found = self.child.expect([self.mark, pexpect.EOF, pexpect.TIMEOUT])
        if found != 0:
            tail = (self.child.before or "")[-400:]
            raise EnvironmentProblem(
                f"{what}: {tail.strip() or 'no output'}",
                "the recorded shell needs bash 5 (`promptster doctor` checks it)",
            )

    def run(self, *commands: str) -> None:
        for command in commands:
            self.child.sendline(command)
            self._wait(f"`{command}` did not finish in the recorded shell")

    @staticmethod
    def explain() -> str:
        d = sc.DECISION
        return (
            f"promptster explain {shlex.quote(d['text'])} --title {shlex.quote(d['title'])} "
            f"--chosen {shlex.quote(d['chosen'])} --tradeoffs {shlex.quote(d['tradeoffs'])} "
            f"--impact {d['impact']}"
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import pexpect

        if self.child is None:
            return
        if self.child.isalive():
            self.child.sendline("exit")
            self.child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=20)
        self.child.close(force=True)
