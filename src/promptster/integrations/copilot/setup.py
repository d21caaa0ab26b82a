"""Wire Copilot CLI to the session through repository files only (never `~/.copilot`).

`.github/hooks/promptster.json` (`{"version": 1, "hooks": {"<event>": [{"type": "command",
"bash": …, "timeoutSec": …}]}}`) gets a command hook per event of `events.HOOK_EVENTS`, each
naming its event (`promptster hook copilot-cli <event>`); `.github/mcp.json` gets the MCP
server `promptster`. Copilot CLI loads a folder's hooks and MCP servers once the folder is
trusted. Teardown restores both files exactly (`integrations/wiring.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptster.errors import InputError
from promptster.integrations import wiring
from promptster.integrations.catalog import ToolCheck
from promptster.integrations.copilot.events import HOOK_EVENTS, INTEGRATION

HOOKS = ".github/hooks/promptster.json"
MCP = ".github/mcp.json"
MANAGED_PATHS = (HOOKS, MCP)
HOOK_TIMEOUT_S = 10
Json = dict[str, Any]

FLAT = wiring.FlatHooks(
    INTEGRATION,
    HOOK_EVENTS,
    "bash",
    lambda command, event: {
        "type": "command",
        "bash": f"{command} {event}",
        "timeoutSec": HOOK_TIMEOUT_S,
    },
)


def _merge_mcp(config: Json, executable: str) -> Json:
    server = {"type": "local", "command": executable, "args": ["mcp"], "tools": ["*"]}
    return wiring.add_server(config, server)


FILES = [
    wiring.JsonFile(HOOKS, FLAT.merge, FLAT.strip),
    wiring.JsonFile(MCP, _merge_mcp, wiring.strip_server),
]


def setup(workspace: Path, executable: str | None = None) -> list[str]:
    exe = executable or wiring.promptster_executable()
    return wiring.wire(workspace, INTEGRATION, FILES, "Copilot CLI", exe)


def teardown(workspace: Path) -> wiring.Unwired:
    return wiring.unwire(workspace, INTEGRATION, FILES)


def checks(workspace: Path) -> list[ToolCheck]:
    import shutil

    workspace = workspace.resolve()
    found = shutil.which("copilot")
    result = [
        ToolCheck(
            "copilot binary",
            found is not None,
            found or "not found",
            "" if found else "install it: npm install -g @github/copilot",
        )
    ]
    hint = "run `promptster setup copilot-cli` in the workspace"
    try:
        config = wiring.load_object(
            workspace / HOOKS, wiring.read_bytes(workspace / HOOKS), "Copilot CLI"
        )
        mcp = wiring.load_object(workspace / MCP, wiring.read_bytes(workspace / MCP), "Copilot CLI")
    except InputError as error:
        return [*result, ToolCheck("Copilot CLI settings", False, error.message, error.hint)]
    wired = FLAT.wired(config)
    result.append(wiring.hooks_check("Copilot CLI", HOOK_EVENTS, wired, HOOKS, hint))
    result.append(wiring.mcp_server_check("Copilot CLI", mcp, MCP, hint))
    return result
