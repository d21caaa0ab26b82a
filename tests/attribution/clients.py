"""The real AI clients the scenarios drive, each against its scripted stand-in model API: the
tool calls a step becomes, and one non-interactive run of the client.

- Claude Code (`claude -p`, hooks wired by `promptster setup claude-code`): `Write`, `Edit`
  (after a `Read`, which Claude Code requires) and `Bash`, one tool call per turn.
- Codex CLI (`promptster codex exec`, the rollout read live): `apply_patch` heredocs and shell
  commands through `exec_command`.
- Gemini CLI (`gemini -p --yolo`, hooks wired by `start --tools gemini-cli`): `write_file`,
  `replace` and `run_shell_command`.
- Copilot CLI (`copilot -p`, offline with a custom provider, hooks wired by `start --tools
  copilot-cli`): `create`, `edit` and `bash`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import standin_api as claude_api
import standin_gemini as gemini_api
import standin_openai as copilot_api
import standin_responses as codex_api

Block = dict[str, Any]
CLAUDE_VERSION = "2.1.328"
CODEX_VERSION = "0.169.0"
GEMINI_VERSION = "0.61.0"
COPILOT_VERSION = "1.0.102"


def promptster_command() -> list[str]:
    installed = Path(sys.executable).with_name("promptster")
    if installed.exists():
        return [str(installed)]
    return [sys.executable, "-c", "from promptster.entry import run; run()"]


def promptster(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*promptster_command(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


class Client(Protocol):
    tool: str  # the `--tools` name of `promptster start`

    def read(self, path: Path) -> list[Block]: ...
    def write(self, path: Path, rel: str, text: str, exists: bool) -> list[Block]: ...
    def edit(self, path: Path, rel: str, old: str, new: str) -> list[Block]: ...
    def shell(self, command: str) -> list[Block]: ...
    def run(self, phrase: str, turns: list[list[Block]], ws: Path) -> AbstractContextManager[Any]:
        """Serve `turns` for `phrase`: `with client.run(...) as go: go()` runs the client."""
        ...


class Claude:
    tool = "claude-code"

    def __init__(self, executable: str, home: Path) -> None:
        self.executable, self.home = executable, home

    def read(self, path: Path) -> list[Block]:
        return [claude_api.read(str(path))]

    def write(self, path: Path, rel: str, text: str, exists: bool) -> list[Block]:
        return [claude_api.write(str(path), text)]

    def edit(self, path: Path, rel: str, old: str, new: str) -> list[Block]:
        return [claude_api.edit(str(path), old, new)]

    def shell(self, command: str) -> list[Block]:
        return [claude_api.tool("Bash", command=command, description="write files")]

    def run(self, phrase: str, turns: list[list[Block]], ws: Path) -> _Run:
        turns = [*turns, [claude_api.text("Done with this round.")]]
        return _Run(claude_api.StandinAPI({phrase: turns}), self._go, phrase, ws)

    def _go(self, api: claude_api.StandinAPI, phrase: str, ws: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
        env.update(
            HOME=str(self.home),
            ANTHROPIC_BASE_URL=api.base_url,
            ANTHROPIC_API_KEY="sk-standin",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        done = subprocess.run(
            [
                *(self.executable, "-p", f"Please do {phrase}."),
                *("--permission-mode", "acceptEdits", "--allowedTools", "Write Edit Read Bash"),
            ],
            cwd=ws,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"claude failed ({done.returncode}): {done.stderr[-2000:]}")


def _patch(body: str) -> str:
    return f"apply_patch <<'EOF'\n*** Begin Patch\n{body}*** End Patch\nEOF\n"


class Codex:
    tool = "codex"

    def __init__(self, executable: str, home: Path) -> None:
        self.executable, self.home = executable, home
        (home / "codex-home").mkdir(parents=True, exist_ok=True)

    def read(self, path: Path) -> list[Block]:
        return []

    def write(self, path: Path, rel: str, text: str, exists: bool) -> list[Block]:
        if exists:
            raise ValueError(f"{rel}: Codex scenarios write new files only")
        added = "".join(f"+{line}\n" for line in text.removesuffix("\n").split("\n"))
        return [codex_api.exec_command(_patch(f"*** Add File: {rel}\n{added}"))]

    def edit(self, path: Path, rel: str, old: str, new: str) -> list[Block]:
        hunk = "".join(f"-{x}\n" for x in old.split("\n"))
        hunk += "".join(f"+{x}\n" for x in new.split("\n"))
        return [codex_api.exec_command(_patch(f"*** Update File: {rel}\n@@\n{hunk}"))]

    def shell(self, command: str) -> list[Block]:
        return [codex_api.exec_command(command)]

    def run(self, phrase: str, turns: list[list[Block]], ws: Path) -> _Run:
        turns = [*turns, [codex_api.message("Done with this round.")]]
        return _Run(codex_api.StandinResponses({phrase: turns}), self._go, phrase, ws)

    def _go(self, api: codex_api.StandinResponses, phrase: str, ws: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEX_"))}
        env.update(
            HOME=str(self.home),
            CODEX_HOME=str(self.home / "codex-home"),
            OPENAI_API_KEY="sk-standin",
            PYTHONDONTWRITEBYTECODE="1",
        )
        provider = (
            f'model_providers.standin={{name="standin", base_url="{api.base_url}", '
            'env_key="OPENAI_API_KEY", wire_api="responses"}'
        )
        done = promptster(
            *("codex", "exec", "-c", "model_provider=standin", "-c", provider),
            *("-m", "standin-model", "--skip-git-repo-check"),
            *("--dangerously-bypass-approvals-and-sandbox", f"Please do {phrase}."),
            cwd=ws,
            env=env,
        )
        if done.returncode != 0:
            raise AssertionError(f"codex failed ({done.returncode}): {done.stderr[-2000:]}")


class Gemini:
    tool = "gemini-cli"
    model = "gemini-2.5-flash"

    def __init__(self, executable: str, home: Path) -> None:
        self.executable, self.home = executable, home
        (home / ".gemini").mkdir(parents=True, exist_ok=True)
        auth = b'{"security": {"auth": {"selectedType": "gemini-api-key"}}}'
        (home / ".gemini" / "settings.json").write_bytes(auth)

    def read(self, path: Path) -> list[Block]:
        return []

    def write(self, path: Path, rel: str, text: str, exists: bool) -> list[Block]:
        return [gemini_api.call("write_file", file_path=str(path), content=text)]

    def edit(self, path: Path, rel: str, old: str, new: str) -> list[Block]:
        return [
            gemini_api.call(
                "replace", file_path=str(path), old_string=old, new_string=new, instruction="edit"
            )
        ]

    def shell(self, command: str) -> list[Block]:
        return [gemini_api.call("run_shell_command", command=command, description="write files")]

    def run(self, phrase: str, turns: list[list[Block]], ws: Path) -> _Run:
        parts = [part for turn in turns for part in turn]
        parts.append(gemini_api.text("Done with this round."))
        return _Run(gemini_api.StandinGemini({phrase: parts}), self._go, phrase, ws)

    def _go(self, api: gemini_api.StandinGemini, phrase: str, ws: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_"))}
        env.update(
            HOME=str(self.home),
            GEMINI_API_KEY="standin-key",
            GOOGLE_GEMINI_BASE_URL=api.base_url,
            GEMINI_CLI_TRUST_WORKSPACE="true",
            PYTHONDONTWRITEBYTECODE="1",
        )
        done = subprocess.run(
            [self.executable, "-m", self.model, "-p", f"Please do {phrase}.", "--yolo"],
            cwd=ws,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise AssertionError(f"gemini failed ({done.returncode}): {done.stderr[-2000:]}")


class Copilot:
    tool = "copilot-cli"
    model = "gpt-4.1"

    def __init__(self, executable: str, home: Path) -> None:
        self.executable, self.home = executable, home

    def read(self, path: Path) -> list[Block]:
        return []

    def write(self, path: Path, rel: str, text: str, exists: bool) -> list[Block]:
        if exists:
            raise ValueError(f"{rel}: Copilot CLI scenarios create new files only")
        return [copilot_api.call("create", path=str(path), file_text=text)]

    def edit(self, path: Path, rel: str, old: str, new: str) -> list[Block]:
        return [copilot_api.call("edit", path=str(path), old_str=old, new_str=new)]

    def shell(self, command: str) -> list[Block]:
        return [
            copilot_api.call(
                "bash", command=command, description="write files", mode="sync", initial_wait=60
            )
        ]

    def run(self, phrase: str, turns: list[list[Block]], ws: Path) -> _Run:
        steps = [step for turn in turns for step in turn]
        steps.append(copilot_api.say("Done with this round."))
        return _Run(copilot_api.StandinOpenAI({phrase: steps}), self._go, phrase, ws)

    def _go(self, api: copilot_api.StandinOpenAI, phrase: str, ws: Path) -> None:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("COPILOT_", "GH_", "GITHUB"))
        }
        env.update(
            HOME=str(self.home),
            COPILOT_OFFLINE="true",
            COPILOT_PROVIDER_BASE_URL=api.base_url,
            COPILOT_PROVIDER_API_KEY="sk-standin",
            COPILOT_MODEL=self.model,
            COPILOT_ALLOW_ALL="true",  # trusts the folder, so its hooks load
            COPILOT_AUTO_UPDATE="false",
            PYTHONDONTWRITEBYTECODE="1",
        )
        done = subprocess.run(
            [
                self.executable,
                "-p",
                f"Please do {phrase}.",
                "--allow-all-tools",
                "--no-auto-update",
            ],
            cwd=ws,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise AssertionError(f"copilot failed ({done.returncode}): {done.stderr[-2000:]}")


CLIENTS: dict[str, type[Claude] | type[Codex] | type[Gemini] | type[Copilot]] = {
    "claude": Claude,
    "codex": Codex,
    "gemini": Gemini,
    "copilot": Copilot,
}
EXECUTABLES = {"claude": "claude", "codex": "codex", "gemini": "gemini", "copilot": "copilot"}
PINNED = {
    "claude": ("@anthropic-ai/claude-code", CLAUDE_VERSION),
    "codex": ("@openai/codex", CODEX_VERSION),
    "gemini": ("@google/gemini-cli", GEMINI_VERSION),
    "copilot": ("@github/copilot", COPILOT_VERSION),
}


class _Run:
    """The stand-in API serving one round; calling it runs the client once."""

    def __init__(self, api: Any, go: Any, phrase: str, ws: Path) -> None:
        self.api, self.go, self.phrase, self.ws = api, go, phrase, ws

    def __enter__(self) -> _Run:
        self.api.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.__exit__(*exc)

    def __call__(self) -> None:
        self.go(self.api, self.phrase, self.ws)
