"""Wire Codex CLI to the session for this workspace only, without touching its configuration.

Codex reads a project's `.codex/config.toml` and `.codex/hooks.json` only once the user has
trusted the project, which Codex records in the global `~/.codex/config.toml`; Promptster never
writes that file. Instead `promptster codex [ARGS]` runs Codex with command-line overrides
(`-c key=value`, which apply to that run alone):

- `mcp_servers.promptster`: the MCP server (`promptster mcp`), so the model can call
  `capture_decision` (Codex offers it in the namespace `mcp__promptster` once it has started);
- `hooks.<Event>`: `promptster hook codex` on each prompt and tool call, which asks the
  recorder for a snapshot around the AI's tool calls; Codex runs hooks given this way only
  with `--dangerously-bypass-hook-trust`, which the launcher therefore adds (it also lets hooks
  the user has configured but not yet reviewed run for that invocation).

With `start --proxy`, the launcher also passes `openai_base_url`, so Codex's model requests go
through the session's model-API recorder (`integrations.apiproxy`); a plain `codex` run is not
wired (its global configuration is the user's).

`setup_codex` only notes in `.promptster/integrations/codex/setup.json` that the launcher is
wanted (which executable, hooks on or off); `teardown_codex` removes that note. Everything
else — prompts, commands, edits, replies, tokens — comes from Codex's rollout files, whether
Codex was started through the launcher or not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptster.integrations import apiproxy
from promptster.integrations.catalog import ToolCheck as Check
from promptster.paths import session_dir

SERVER_NAME = "promptster"
RECORD = ("integrations", "codex", "setup.json")
HOOK_EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop")
TOOL_EVENTS = ("PreToolUse", "PostToolUse")
HOOK_TIMEOUT_S = 10
MCP_STARTUP_TIMEOUT_S = 20
TESTED_VERSION = "0.169.0"
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")

Json = dict[str, Any]


@dataclass(frozen=True)
class CodexSetup:
    executable: str  # the `promptster` the MCP server and hooks run
    hooks: bool = True
    proxy_url: str | None = None  # the session's model-API recorder, with `start --proxy`


def _record_path(workspace: Path) -> Path:
    return session_dir(workspace).joinpath(*RECORD)


def read_setup(workspace: Path) -> CodexSetup | None:
    try:
        body = json.loads(_record_path(workspace).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("executable"), str):
        return None
    proxy = body.get("proxyUrl")
    return CodexSetup(
        body["executable"],
        body.get("hooks") is not False,
        proxy if isinstance(proxy, str) else None,
    )


def setup_codex(
    workspace: Path, *, executable: str | None = None, hooks: bool = True
) -> CodexSetup:
    """Note that this workspace's Codex runs go through the launcher (idempotent)."""
    from promptster.integrations.claude.setup import promptster_executable

    chosen = CodexSetup(executable or promptster_executable(), hooks, apiproxy.wired_url(workspace))
    path = _record_path(workspace)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    note: Json = {"executable": chosen.executable, "hooks": chosen.hooks}
    if chosen.proxy_url is not None:
        note["proxyUrl"] = chosen.proxy_url
    tmp.write_text(json.dumps(note) + "\n")
    os.replace(tmp, path)
    return chosen


def teardown_codex(workspace: Path) -> bool:
    """Remove the note; True when there was one. Codex's own files were never changed."""
    try:
        _record_path(workspace).unlink()
    except FileNotFoundError:
        return False
    return True


def _toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def overrides(setup: CodexSetup) -> list[str]:
    """The `codex` arguments that wire this run to the session (before the user's own)."""
    exe = _toml_string(setup.executable)
    server = (
        f'mcp_servers.{SERVER_NAME}={{command={exe}, args=["mcp"], '
        f"startup_timeout_sec={MCP_STARTUP_TIMEOUT_S}}}"
    )
    args = ["-c", server]
    if setup.proxy_url is not None:  # the Responses API lives under /v1
        args += ["-c", f"openai_base_url={_toml_string(setup.proxy_url + '/v1')}"]
    if not setup.hooks:
        return args
    handler = (
        f'{{type="command", command={_toml_string(hook_command(setup.executable))}, '
        f"timeout={HOOK_TIMEOUT_S}}}"
    )
    for event in HOOK_EVENTS:
        matcher = 'matcher=".*", ' if event in TOOL_EVENTS else ""
        args += ["-c", f"hooks.{event}=[{{{matcher}hooks=[{handler}]}}]"]
    return [*args, "--dangerously-bypass-hook-trust"]


def hook_command(executable: str) -> str:
    import shlex

    return f"{shlex.quote(executable)} hook codex"


def launcher_argv(codex: str, setup: CodexSetup, user_args: list[str]) -> list[str]:
    return [codex, *overrides(setup), *user_args]


def proxy_wired(workspace: Path) -> bool:
    """Whether `promptster codex` points Codex at the session's model-API recorder."""
    setup = read_setup(workspace)
    url = apiproxy.wired_url(workspace)
    return setup is not None and url is not None and setup.proxy_url == url


def codex_version(codex: str) -> str | None:
    try:
        done = subprocess.run(
            [codex, "--version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(done.stdout)
    return found.group(0) if found else None


def check_codex(workspace: Path) -> list[Check]:
    """What `doctor` says about Codex here."""
    from promptster.integrations.codex.rollout import default_home

    codex = shutil.which("codex")
    if codex is None:
        return [
            Check(
                "codex",
                False,
                "Codex CLI is not installed",
                f"npm install -g @openai/codex@{TESTED_VERSION}",
            )
        ]
    version = codex_version(codex)
    checks = [Check("codex", True, f"{codex} ({version or 'version unknown'})")]
    if version is not None and version != TESTED_VERSION:
        checks.append(
            Check(
                "codex version",
                True,
                f"tested with {TESTED_VERSION}; {version} may write rollouts differently",
                "unknown rollout records are counted in a transcript_skipped warning",
            )
        )
    setup = read_setup(workspace)
    if setup is None:
        checks.append(
            Check("codex launcher", False, "not set up here", "run `promptster setup codex`")
        )
    else:
        hooks = "MCP server and hooks" if setup.hooks else "MCP server (hooks off)"
        if setup.proxy_url is not None:
            hooks += f", and sends model requests to the API recorder at {setup.proxy_url}"
        checks.append(
            Check("codex launcher", True, f"`promptster codex` adds the {hooks} to each run")
        )
    sessions = default_home() / "sessions"
    where = f"rollouts are read from {sessions}"
    checks.append(Check("codex rollouts", True, where))
    return checks
