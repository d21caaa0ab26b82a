"""Wire Gemini CLI to the session through the workspace's `.gemini/settings.json` only.

`setup` merges into what the file already holds: a command hook calling `promptster hook
gemini-cli` for each of `events.HOOK_EVENTS` (tool events with matcher `*`; Gemini CLI's
`timeout` is in milliseconds) and the MCP server `promptster` (`promptster mcp`, trusted, so the
model's `capture_decision` calls need no confirmation). `teardown` restores the file byte for
byte, or removes only Promptster's entries when the file changed meanwhile
(`integrations/wiring.py`). The user's `~/.gemini/settings.json` is never touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptster.errors import InputError
from promptster.integrations import wiring
from promptster.integrations.catalog import ToolCheck
from promptster.integrations.gemini.events import HOOK_EVENTS, INTEGRATION

SETTINGS = ".gemini/settings.json"
MANAGED_PATHS = (SETTINGS,)
TOOL_EVENTS = ("BeforeTool", "AfterTool")
HOOK_TIMEOUT_MS = 10_000
SESSION_END_TIMEOUT_MS = 30_000
Json = dict[str, Any]


def _ours(handler: Any) -> bool:
    return isinstance(handler, dict) and wiring.is_our_command(handler.get("command"), INTEGRATION)


def _merge(settings: Json, executable: str) -> Json:
    merged = _strip(dict(settings), {})
    hooks = merged.get("hooks")
    hooks = dict(hooks) if isinstance(hooks, dict) else {}
    for event in sorted(HOOK_EVENTS):
        handler = {
            "type": "command",
            "name": "promptster",
            "command": wiring.hook_command(executable, INTEGRATION),
            "timeout": SESSION_END_TIMEOUT_MS if event == "SessionEnd" else HOOK_TIMEOUT_MS,
        }
        group: Json = {"hooks": [handler]}
        if event in TOOL_EVENTS:
            group = {"matcher": "*", **group}
        existing = hooks.get(event)
        hooks[event] = [*(existing if isinstance(existing, list) else []), group]
    merged["hooks"] = hooks
    server = {"command": executable, "args": ["mcp"], "trust": True}
    return wiring.add_server(merged, server)


def _strip(settings: Json, original: Json) -> Json:
    result = dict(settings)
    if "hooks" in result:
        kept = wiring.strip_handlers(result["hooks"], original.get("hooks"), _ours, nested=True)
        if kept or "hooks" in original:
            result["hooks"] = kept
        else:
            del result["hooks"]
    return wiring.strip_server(result, original)


FILES = [wiring.JsonFile(SETTINGS, _merge, _strip)]


def setup(workspace: Path, executable: str | None = None) -> list[str]:
    exe = executable or wiring.promptster_executable()
    return wiring.wire(workspace, INTEGRATION, FILES, "Gemini CLI", exe)


def teardown(workspace: Path) -> wiring.Unwired:
    return wiring.unwire(workspace, INTEGRATION, FILES)


def checks(workspace: Path) -> list[ToolCheck]:
    import shutil

    workspace = workspace.resolve()
    found = shutil.which("gemini")
    result = [
        ToolCheck(
            "gemini binary",
            found is not None,
            found or "not found",
            "" if found else "install it: npm install -g @google/gemini-cli",
        )
    ]
    path = workspace / SETTINGS
    try:
        settings = wiring.load_object(path, wiring.read_bytes(path), "Gemini CLI")
    except InputError as error:
        return [*result, ToolCheck("Gemini CLI settings", False, error.message, error.hint)]
    hint = "run `promptster setup gemini-cli` in the workspace"
    hooks = settings.get("hooks") if isinstance(settings.get("hooks"), dict) else {}
    wired = {
        event
        for event, groups in (hooks or {}).items()
        if isinstance(groups, list)
        for group in groups
        if isinstance(group, dict)
        for handler in group.get("hooks") or []
        if _ours(handler) and wiring.command_ok(handler.get("command"))
    }
    result.append(wiring.hooks_check("Gemini CLI", HOOK_EVENTS, wired, SETTINGS, hint))
    result.append(wiring.mcp_server_check("Gemini CLI", settings, SETTINGS, hint))
    return result
