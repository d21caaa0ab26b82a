"""Wire Claude Code to the session, inside the workspace only, and undo it exactly.

`setup_claude` merges into what the workspace already has:

- `.claude/settings.local.json`: a hook calling `promptster hook claude-code` for each of
  `claude_hook.HOOK_EVENTS`, and `"promptster"` in `enabledMcpjsonServers`;
- `.mcp.json`: the MCP server `promptster` (`promptster mcp`);
- `.claude/commands/explain.md`: the `/explain` slash command;
- with `start --proxy`, `env.ANTHROPIC_BASE_URL` in the settings: Claude Code's model requests
  go through the session's model-API recorder (`integrations.apiproxy`).

Both commands name the absolute path of the installed `promptster`, so they work whatever PATH
Claude Code runs with. What each file held before (or that it did not exist) is kept in
`.promptster/integrations/claude-code/setup.json`; `teardown_claude` puts every file back byte
for byte when it still holds what setup wrote, and otherwise removes only Promptster's entries,
keeping whatever the candidate or Claude Code added meanwhile (`integrations/wiring.py` does
the keeping and restoring, as for the other tools). Nothing in the home folder is touched.
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptster.errors import InputError
from promptster.integrations import apiproxy, wiring
from promptster.integrations.catalog import ToolCheck as Check
from promptster.integrations.claude.hook import HOOK_EVENTS

INTEGRATION = "claude-code"
SERVER_NAME = wiring.SERVER_NAME
SETTINGS = ".claude/settings.local.json"
MCP_JSON = ".mcp.json"
EXPLAIN = ".claude/commands/explain.md"
# The files setup writes: configuration, not the candidate's work (snapshots should skip them).
MANAGED_PATHS = (SETTINGS, MCP_JSON, EXPLAIN)
TOOL_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure")
HOOK_TIMEOUT_S = 10
SESSION_END_TIMEOUT_S = 30  # reads the rest of the transcript
BASE_URL_ENV = "ANTHROPIC_BASE_URL"

Json = dict[str, Any]
promptster_executable = wiring.promptster_executable
TeardownResult = wiring.Unwired


def hook_command(executable: str) -> str:
    return wiring.hook_command(executable, INTEGRATION)


def _is_our_handler(handler: Any) -> bool:
    return isinstance(handler, dict) and wiring.is_our_command(handler.get("command"), INTEGRATION)


def _hooks(executable: str) -> Json:
    hooks: Json = {}
    for event in HOOK_EVENTS:
        handler: Json = {
            "type": "command",
            "command": hook_command(executable),
            "timeout": SESSION_END_TIMEOUT_S if event == "SessionEnd" else HOOK_TIMEOUT_S,
        }
        group: Json = {"hooks": [handler]}
        if event in TOOL_EVENTS:
            group = {"matcher": "*", **group}
        hooks[event] = [group]
    return hooks


def explain_command() -> str:
    """The `/explain` slash command: the candidate states a decision; the model records it with
    the capture_decision tool, in the candidate's words."""
    return f"""---
description: Record a decision you made, in your own words (Promptster)
argument-hint: <what you decided, and why>
allowed-tools: mcp__{SERVER_NAME}__capture_decision
---
The candidate is explaining a decision they made, in their own words:

$ARGUMENTS

Call the `mcp__{SERVER_NAME}__capture_decision` tool exactly once to record it. Take the title,
the chosen option, the rationale and any alternatives or trade-offs from the candidate's words
above; do not add reasons of your own. Then acknowledge it in one short line and do nothing
else: this is a note for the assessment, not an instruction to change the code.
"""


# --- merging and un-merging ----------------------------------------------------------------


def _merge_settings(settings: Json, executable: str, proxy_url: str | None = None) -> Json:
    merged = _strip_settings(dict(settings), {}, proxy_url)
    hooks = dict(merged.get("hooks") or {})
    for event, groups in _hooks(executable).items():
        hooks[event] = [*(hooks.get(event) or []), *groups]
    merged["hooks"] = hooks
    enabled = [s for s in merged.get("enabledMcpjsonServers") or [] if s != SERVER_NAME]
    merged["enabledMcpjsonServers"] = [*enabled, SERVER_NAME]
    disabled = merged.get("disabledMcpjsonServers")
    if isinstance(disabled, list) and SERVER_NAME in disabled:
        merged["disabledMcpjsonServers"] = [s for s in disabled if s != SERVER_NAME]
    if proxy_url is not None:
        env = merged.get("env")
        merged["env"] = {**(env if isinstance(env, dict) else {}), BASE_URL_ENV: proxy_url}
    return merged


def _strip_proxy(result: Json, original: Json, proxy_url: str | None) -> None:
    """Remove the base URL setup wrote (`proxy_url`), putting back the original's value."""
    env = result.get("env")
    if proxy_url is None or not isinstance(env, dict) or env.get(BASE_URL_ENV) != proxy_url:
        return
    before = original.get("env")
    env = dict(env)
    if isinstance(before, dict) and BASE_URL_ENV in before:
        env[BASE_URL_ENV] = before[BASE_URL_ENV]
    else:
        del env[BASE_URL_ENV]
    if env or "env" in original:
        result["env"] = env
    else:
        del result["env"]


def _strip_settings(settings: Json, original: Json, proxy_url: str | None = None) -> Json:
    """`settings` without Promptster's hooks, server enablement and proxy URL (but what
    `original` had)."""
    result = dict(settings)
    _strip_proxy(result, original, proxy_url)
    if "hooks" in result:
        kept = wiring.strip_handlers(
            result["hooks"], original.get("hooks"), _is_our_handler, nested=True
        )
        if kept or "hooks" in original:
            result["hooks"] = kept
        else:
            del result["hooks"]
    for key in ("enabledMcpjsonServers", "disabledMcpjsonServers"):
        if key in original:
            result[key] = original[key]
        elif key in result:
            rest = [s for s in result[key] or [] if s != SERVER_NAME]
            if rest:
                result[key] = rest
            else:
                del result[key]
    return result


def _merge_mcp(config: Json, executable: str) -> Json:
    return wiring.add_server(
        config, {"type": "stdio", "command": executable, "args": ["mcp"], "env": {}}
    )


def _files(proxy_url: str | None) -> list[wiring.FileSpec]:
    return [
        wiring.JsonFile(
            SETTINGS,
            lambda settings, exe: _merge_settings(settings, exe, proxy_url),
            lambda settings, original: _strip_settings(settings, original, proxy_url),
        ),
        wiring.JsonFile(MCP_JSON, _merge_mcp, wiring.strip_server),
        wiring.OwnedFile(EXPLAIN, explain_command().encode("utf-8")),
    ]


# --- setup and teardown ----------------------------------------------------------------------


@dataclass(frozen=True)
class SetupResult:
    executable: str
    files: list[str]  # workspace-relative paths written


def setup_claude(workspace: Path, *, executable: str | None = None) -> SetupResult:
    """Install the hooks, the MCP server and `/explain` into `workspace` (idempotent)."""
    exe = executable or promptster_executable()
    proxy_url = apiproxy.wired_url(workspace.resolve())
    extra = {"proxyUrl": proxy_url} if proxy_url is not None else None
    files = wiring.wire(workspace, INTEGRATION, _files(proxy_url), "Claude Code", exe, extra)
    return SetupResult(exe, files)


def setup_active(workspace: Path) -> bool:
    """Whether `setup_claude` ran here and was not undone yet."""
    return wiring.is_wired(workspace, INTEGRATION)


def teardown_claude(workspace: Path) -> TeardownResult:
    """Undo `setup_claude`: restore what each file held before. Safe to run twice."""
    record = wiring.read_record(workspace, INTEGRATION) or {}
    proxy_url = record.get("proxyUrl") if isinstance(record.get("proxyUrl"), str) else None
    return wiring.unwire(workspace, INTEGRATION, _files(proxy_url))


# --- doctor ----------------------------------------------------------------------------------


def _claude_version(claude: str) -> str:
    import subprocess  # only doctor runs the claude binary

    try:
        done = subprocess.run(
            [claude, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"does not run: {exc}"
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else ""


def _load(workspace: Path, name: str) -> Json:
    path = workspace / name
    return wiring.load_object(path, wiring.read_bytes(path), "Claude Code")


def proxy_wired(workspace: Path) -> bool:
    """Whether the workspace settings point Claude Code at the session's model-API recorder."""
    url = apiproxy.wired_url(workspace)
    try:
        settings = _load(workspace, SETTINGS)
    except (InputError, OSError):
        return False
    env = settings.get("env")
    return url is not None and isinstance(env, dict) and env.get(BASE_URL_ENV) == url


def check_claude(workspace: Path) -> list[Check]:
    """The claude binary, the hooks and the MCP registration of `workspace`."""
    workspace = workspace.resolve()
    checks: list[Check] = []
    claude = shutil.which("claude")
    version = _claude_version(claude) if claude else ""
    checks.append(
        Check(
            "claude binary",
            bool(version),
            f"{claude} ({version})" if version else "not found",
            "" if version else "install it: npm install -g @anthropic-ai/claude-code",
        )
    )
    try:
        settings = _load(workspace, SETTINGS)
        mcp_config = _load(workspace, MCP_JSON)
    except InputError as error:
        return [*checks, Check("Claude Code settings", False, error.message, error.hint)]
    setup_hint = "run `promptster setup claude-code` in the workspace"
    hooks = settings.get("hooks") if isinstance(settings.get("hooks"), dict) else {}
    ours = {
        event: [
            h
            for g in groups or []
            if isinstance(g, dict)
            for h in g.get("hooks") or []
            if _is_our_handler(h)
        ]
        for event, groups in (hooks or {}).items()
        if isinstance(groups, list)
    }
    missing = [event for event in HOOK_EVENTS if not ours.get(event)]
    broken = [
        e
        for e, handlers in ours.items()
        if not all(wiring.command_ok(h["command"]) for h in handlers)
    ]
    if settings.get("disableAllHooks") is True:
        checks.append(
            Check("hooks", False, f"{SETTINGS} sets disableAllHooks", "remove that setting")
        )
    elif missing or broken:
        what = (
            f"missing for {', '.join(missing)}" if missing else f"command not found ({broken[0]})"
        )
        checks.append(Check("hooks", False, what, setup_hint))
    else:
        checks.append(Check("hooks", True, f"{len(HOOK_EVENTS)} events in {SETTINGS}"))
    server = (mcp_config.get("mcpServers") or {}).get(SERVER_NAME)
    enabled = settings.get("enableAllProjectMcpServers") is True or SERVER_NAME in (
        settings.get("enabledMcpjsonServers") or []
    )
    if not isinstance(server, dict) or not wiring.command_ok(
        shlex.quote(str(server.get("command")))
    ):
        checks.append(
            Check("MCP server", False, f"{SERVER_NAME!r} missing from {MCP_JSON}", setup_hint)
        )
    elif not enabled or SERVER_NAME in (settings.get("disabledMcpjsonServers") or []):
        checks.append(Check("MCP server", False, f"{SERVER_NAME!r} is not enabled", setup_hint))
    else:
        checks.append(
            Check("MCP server", True, f"mcp__{SERVER_NAME}__capture_decision via {MCP_JSON}")
        )
    url = apiproxy.wired_url(workspace)
    if url is not None:
        wired = proxy_wired(workspace)
        checks.append(
            Check(
                "API recorder",
                wired,
                f"{BASE_URL_ENV}={url} in {SETTINGS}"
                if wired
                else f"{SETTINGS} does not point {BASE_URL_ENV} at {url}",
                "" if wired else setup_hint,
            )
        )
    return checks
