"""Wire Cursor to the session through the workspace's `.cursor/hooks.json` and
`.cursor/mcp.json` only (never `~/.cursor`).

`hooks.json` (`{"version": 1, "hooks": {"<event>": [{"command": …}]}}`) gets a command hook
calling `promptster hook cursor` for each of `events.HOOK_EVENTS`; `mcp.json` gets the MCP
server `promptster` (`promptster mcp`), which the candidate enables once in Cursor's MCP
settings. Teardown restores both files exactly (`integrations/wiring.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptster.errors import InputError
from promptster.integrations import wiring
from promptster.integrations.catalog import ToolCheck
from promptster.integrations.cursor.events import HOOK_EVENTS, INTEGRATION

HOOKS = ".cursor/hooks.json"
MCP = ".cursor/mcp.json"
MANAGED_PATHS = (HOOKS, MCP)
HOOK_TIMEOUT_S = 10
Json = dict[str, Any]

FLAT = wiring.FlatHooks(
    INTEGRATION,
    HOOK_EVENTS,
    "command",
    lambda command, _event: {"command": command, "type": "command", "timeout": HOOK_TIMEOUT_S},
)


def _merge_mcp(config: Json, executable: str) -> Json:
    return wiring.add_server(config, {"command": executable, "args": ["mcp"], "env": {}})


FILES = [
    wiring.JsonFile(HOOKS, FLAT.merge, FLAT.strip),
    wiring.JsonFile(MCP, _merge_mcp, wiring.strip_server),
]


def setup(workspace: Path, executable: str | None = None) -> list[str]:
    exe = executable or wiring.promptster_executable()
    return wiring.wire(workspace, INTEGRATION, FILES, "Cursor", exe)


def teardown(workspace: Path) -> wiring.Unwired:
    return wiring.unwire(workspace, INTEGRATION, FILES)


def checks(workspace: Path) -> list[ToolCheck]:
    workspace = workspace.resolve()
    hint = "run `promptster setup cursor` in the workspace"
    try:
        hooks_file = wiring.load_object(
            workspace / HOOKS, wiring.read_bytes(workspace / HOOKS), "Cursor"
        )
        mcp = wiring.load_object(workspace / MCP, wiring.read_bytes(workspace / MCP), "Cursor")
    except InputError as error:
        return [ToolCheck("Cursor settings", False, error.message, error.hint)]
    wired = FLAT.wired(hooks_file)
    enable = " (enable it once in Cursor's MCP settings)"
    return [
        wiring.hooks_check("Cursor", HOOK_EVENTS, wired, HOOKS, hint),
        wiring.mcp_server_check("Cursor", mcp, MCP, hint, enable),
    ]
