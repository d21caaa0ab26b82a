"""The AI tools Promptster captures: one entry per tool, read by `start --tools`, `setup`,
`teardown`, `doctor`, `status` and the recorder.

Adding a tool is one subpackage under `integrations/` with an `adapter` module, plus one entry
in `TOOLS`. Adapters are imported only when used (`AiTool.adapter()`), so that this catalog is
cheap to import everywhere, the hook path included.

An adapter module provides:

- `setup(workspace: Path) -> list[str]`: wire the tool into this workspace only (never the
  user's global configuration); returns the workspace-relative files written;
- `teardown(workspace: Path) -> list[str]`: undo `setup` exactly; returns notes on what could
  not be restored byte for byte;
- `is_active(workspace: Path) -> bool`: whether `setup` is in place;
- `checks(workspace: Path) -> list[ToolCheck]`: what `doctor` reports for the tool;
- `backfill(session_dir: Path, workspace: Path) -> list[dict]`: event bodies (protocol
  `new_event` shape) found in the tool's own records (transcripts, rollouts, histories) that
  the journal may not have yet; the recorder runs it before the session ends and drops ids it
  already journaled.

Optional (looked up with `getattr`, so adapters without it need nothing):

- `watcher(session_dir: Path, workspace: Path) -> LiveWatcher`: a live reader of the tool's own
  records for the recorder to poll (every tick, and before each snapshot so that the AI's
  tool call is journaled before the file changes it explains). `poll()` returns the new event
  bodies (ids the journal has are dropped by the recorder); `status()` is the watcher's line in
  `status` and `doctor` (`alive`, `detail`, `lastSeen`). `backfill` still runs at the end, to
  catch anything the watcher missed (the recorder was down, a file appeared late).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from promptster.integrations.hooks import HOOK_MODULES


@dataclass(frozen=True)
class ToolCheck:
    """One line of `promptster doctor`: what was checked, whether it is fine, what to do."""

    name: str
    ok: bool
    detail: str
    hint: str = ""


class LiveWatcher(Protocol):
    def poll(self) -> list[dict[str, Any]]: ...
    def status(self) -> dict[str, Any]: ...


class ToolAdapter(Protocol):
    def setup(self, workspace: Path) -> list[str]: ...
    def teardown(self, workspace: Path) -> list[str]: ...
    def is_active(self, workspace: Path) -> bool: ...
    def checks(self, workspace: Path) -> list[ToolCheck]: ...
    def backfill(self, session_dir: Path, workspace: Path) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class AiTool:
    name: str  # recorded in session_start's `tools` and the session state, e.g. "claude-code"
    option: str  # the `start --tools` value, e.g. "claude"
    label: str  # for people, e.g. "Claude Code"
    module: str  # the adapter module
    summary: str  # what `start --tools` sets up, for its --help

    # The module whose `main(argv) -> int` handles `promptster hook <name> [ARGS]`, run by the
    # console script before click is imported (see `hook_module`).
    hook: str | None = None

    def adapter(self) -> ToolAdapter:
        return cast(ToolAdapter, importlib.import_module(self.module))

    def watcher(self, session_dir: Path, workspace: Path) -> LiveWatcher | None:
        """The adapter's live watcher, when it has one."""
        make = getattr(self.adapter(), "watcher", None)
        return cast(LiveWatcher, make(session_dir, workspace)) if callable(make) else None


TOOLS: tuple[AiTool, ...] = (
    AiTool(
        "claude-code",
        "claude",
        "Claude Code",
        "promptster.integrations.claude.adapter",
        "Claude Code's hooks, MCP server and /explain, in the workspace",
    ),
    AiTool(
        "gemini-cli",
        "gemini",
        "Gemini CLI",
        "promptster.integrations.gemini.adapter",
        "Gemini CLI's hooks and MCP server, in .gemini/settings.json",
        hook=HOOK_MODULES["gemini-cli"],
    ),
    AiTool(
        "cursor",
        "cursor",
        "Cursor",
        "promptster.integrations.cursor.adapter",
        "Cursor's agent hooks and MCP server, in .cursor/hooks.json and .cursor/mcp.json",
        hook=HOOK_MODULES["cursor"],
    ),
    AiTool(
        "copilot-cli",
        "copilot",
        "Copilot CLI",
        "promptster.integrations.copilot.adapter",
        "Copilot CLI's repository hooks, in .github/hooks/promptster.json",
        hook=HOOK_MODULES["copilot-cli"],
    ),
    AiTool(
        "aider",
        "aider",
        "Aider",
        "promptster.integrations.aider.adapter",
        "Aider's chat and input histories and its commits, read as they are written",
    ),
    AiTool(
        "codex",
        "codex",
        "Codex CLI",
        "promptster.integrations.codex.adapter",
        "Codex CLI's rollout files, plus MCP server and hooks through `promptster codex`",
        hook=HOOK_MODULES["codex"],
    ),
)


def by_option(option: str) -> AiTool | None:
    return next((t for t in TOOLS if t.option == option), None)


def by_name(name: str) -> AiTool | None:
    return next((t for t in TOOLS if t.name == name), None)


def hook_module(name: str) -> str | None:
    """The hook handler module of tool `name` (Claude Code's is wired in the CLI itself)."""
    tool = by_name(name)
    return tool.hook if tool is not None else None


def wanted(names: list[str]) -> list[AiTool]:
    """The catalog entries among a session's tool names (others, e.g. "shell", are skipped)."""
    return [t for t in TOOLS if t.name in names]
