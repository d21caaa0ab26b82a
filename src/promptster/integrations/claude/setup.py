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
keeping whatever the candidate or Claude Code added meanwhile. Nothing in the home folder is
touched.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptster.errors import EnvironmentProblem, InputError
from promptster.fsutil import atomic_write_bytes
from promptster.integrations import apiproxy
from promptster.integrations.catalog import ToolCheck as Check
from promptster.integrations.claude.hook import HOOK_EVENTS
from promptster.paths import session_dir

SERVER_NAME = "promptster"
SETTINGS = ".claude/settings.local.json"
MCP_JSON = ".mcp.json"
EXPLAIN = ".claude/commands/explain.md"
RECORD = ("integrations", "claude-code", "setup.json")
# The files setup writes: configuration, not the candidate's work (snapshots should skip them).
MANAGED_PATHS = (SETTINGS, MCP_JSON, EXPLAIN)
TOOL_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure")
HOOK_TIMEOUT_S = 10
SESSION_END_TIMEOUT_S = 30  # reads the rest of the transcript
BASE_URL_ENV = "ANTHROPIC_BASE_URL"

Json = dict[str, Any]


def promptster_executable() -> str:
    """The absolute path of the installed `promptster` command."""
    beside_python = Path(sys.executable).with_name("promptster")
    candidates = [str(beside_python), shutil.which("promptster")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise EnvironmentProblem(
        "cannot find the installed promptster command",
        "install Promptster with pip (it provides the `promptster` command) and try again",
    )


def hook_command(executable: str) -> str:
    return f"{shlex.quote(executable)} hook claude-code"


def _is_our_handler(handler: Any) -> bool:
    command = handler.get("command") if isinstance(handler, dict) else None
    return (
        isinstance(command, str)
        and command.endswith(" hook claude-code")
        and ("promptster" in command)
    )


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


def _load_object(path: Path, data: bytes | None) -> Json:
    if data is None or not data.strip():
        return {}
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise InputError(
            f"{path} is not valid JSON, so Promptster cannot add its Claude Code settings",
            "fix or move that file, then run the command again",
        ) from exc
    if not isinstance(value, dict):
        raise InputError(f"{path} does not hold a JSON object", "fix or move that file")
    return value


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
    hooks = result.get("hooks")
    if isinstance(hooks, dict):
        kept: Json = {}
        for event, groups in hooks.items():
            if not isinstance(groups, list):
                kept[event] = groups
                continue
            cleaned = []
            for group in groups:
                if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                    handlers = [h for h in group["hooks"] if not _is_our_handler(h)]
                    if not handlers and group["hooks"]:
                        continue
                    group = {**group, "hooks": handlers}
                cleaned.append(group)
            if cleaned or event in (original.get("hooks") or {}):
                kept[event] = cleaned
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
    servers = dict(config.get("mcpServers") or {})
    servers[SERVER_NAME] = {"type": "stdio", "command": executable, "args": ["mcp"], "env": {}}
    return {**config, "mcpServers": servers}


def _strip_mcp(config: Json, original: Json) -> Json:
    result = dict(config)
    servers = dict(result.get("mcpServers") or {})
    before = original.get("mcpServers") or {}
    if SERVER_NAME in before:
        servers[SERVER_NAME] = before[SERVER_NAME]
    else:
        servers.pop(SERVER_NAME, None)
    if servers or "mcpServers" in original:
        result["mcpServers"] = servers
    else:
        result.pop("mcpServers", None)
    return result


def _dump(value: Json) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- setup and teardown ----------------------------------------------------------------------


@dataclass(frozen=True)
class SetupResult:
    executable: str
    files: list[str]  # workspace-relative paths written


@dataclass
class TeardownResult:
    restored: list[str] = field(default_factory=list)  # put back byte for byte (or removed)
    merged: list[str] = field(default_factory=list)  # changed meanwhile: only our entries removed
    notes: list[str] = field(default_factory=list)


def _record_path(workspace: Path) -> Path:
    return session_dir(workspace).joinpath(*RECORD)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def setup_claude(workspace: Path, *, executable: str | None = None) -> SetupResult:
    """Install the hooks, the MCP server and `/explain` into `workspace` (idempotent)."""
    workspace = workspace.resolve()
    if _record_path(workspace).exists():
        teardown_claude(workspace)  # a second setup starts from the user's own files
    exe = executable or promptster_executable()
    proxy_url = apiproxy.wired_url(workspace)
    created_dirs = [d for d in (".claude", ".claude/commands") if not (workspace / d).is_dir()]
    record: Json = {"version": 1, "executable": exe, "files": {}, "createdDirs": created_dirs}
    if proxy_url is not None:
        record["proxyUrl"] = proxy_url
    plans: list[tuple[str, bytes]] = []
    originals: dict[str, bytes | None] = {}
    for name in (SETTINGS, MCP_JSON, EXPLAIN):
        originals[name] = _read(workspace / name)
    settings = _load_object(workspace / SETTINGS, originals[SETTINGS])
    mcp_config = _load_object(workspace / MCP_JSON, originals[MCP_JSON])
    plans.append((SETTINGS, _dump(_merge_settings(settings, exe, proxy_url))))
    plans.append((MCP_JSON, _dump(_merge_mcp(mcp_config, exe))))
    plans.append((EXPLAIN, explain_command().encode("utf-8")))
    for name, data in plans:
        original = originals[name]
        record["files"][name] = {
            "original": None if original is None else base64.b64encode(original).decode(),
            "written": _digest(data),
        }
    # The record first: if writing a file fails, teardown can still undo the others.
    record_path = _record_path(workspace)
    session_dir(workspace).mkdir(mode=0o700, exist_ok=True)  # private, as `start` makes it
    record_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write_bytes(record_path, _dump(record), 0o600)
    for name, data in plans:
        atomic_write_bytes(workspace / name, data)
    return SetupResult(exe, [name for name, _ in plans])


def setup_active(workspace: Path) -> bool:
    """Whether `setup_claude` ran here and was not undone yet."""
    return _record_path(workspace.resolve()).exists()


def teardown_claude(workspace: Path) -> TeardownResult:
    """Undo `setup_claude`: restore what each file held before. Safe to run twice."""
    workspace = workspace.resolve()
    record_path = _record_path(workspace)
    result = TeardownResult()
    data = _read(record_path)
    if data is None:
        return result
    try:
        record = json.loads(data)
        files = record["files"]
    except (ValueError, KeyError, TypeError):
        result.notes.append(f"{record_path} is unreadable; nothing was restored")
        return result
    proxy_url = record.get("proxyUrl") if isinstance(record.get("proxyUrl"), str) else None
    for name, entry in files.items():
        _restore(workspace, name, entry, result, proxy_url)
    for folder in reversed(record.get("createdDirs") or []):
        with contextlib.suppress(OSError):  # not empty: the candidate put something there
            (workspace / folder).rmdir()
    record_path.unlink(missing_ok=True)
    return result


def _restore(
    workspace: Path, name: str, entry: Json, result: TeardownResult, proxy_url: str | None
) -> None:
    path = workspace / name
    original = None if entry.get("original") is None else base64.b64decode(entry["original"])
    current = _read(path)
    if current is None or _digest(current) == entry.get("written") or name == EXPLAIN:
        if original is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write_bytes(path, original)
        result.restored.append(name)
        return
    # Changed since setup (Claude Code saves permission choices here, people edit it).
    try:
        now = json.loads(current)
        before = json.loads(original) if original and original.strip() else {}
    except ValueError:
        result.notes.append(f"{name} changed during the session and is not JSON; left as it is")
        return
    if not isinstance(now, dict) or not isinstance(before, dict):
        result.notes.append(f"{name} changed during the session; left as it is")
        return
    stripped = (
        _strip_settings(now, before, proxy_url) if name == SETTINGS else _strip_mcp(now, before)
    )
    if stripped == before:
        if original is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write_bytes(path, original)
        result.restored.append(name)
    else:
        atomic_write_bytes(path, _dump(stripped))
        result.merged.append(name)


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


def _command_ok(command: Any) -> bool:
    try:
        program = shlex.split(command)[0] if isinstance(command, str) else ""
    except ValueError:
        return False
    return bool(program) and os.path.isfile(program) and os.access(program, os.X_OK)


def proxy_wired(workspace: Path) -> bool:
    """Whether the workspace settings point Claude Code at the session's model-API recorder."""
    url = apiproxy.wired_url(workspace)
    try:
        settings = _load_object(workspace / SETTINGS, _read(workspace / SETTINGS))
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
        settings = _load_object(workspace / SETTINGS, _read(workspace / SETTINGS))
        mcp_config = _load_object(workspace / MCP_JSON, _read(workspace / MCP_JSON))
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
        e for e, handlers in ours.items() if not all(_command_ok(h["command"]) for h in handlers)
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
    if not isinstance(server, dict) or not _command_ok(shlex.quote(str(server.get("command")))):
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
