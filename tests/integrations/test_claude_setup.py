"""`setup claude-code` merges into the workspace's own config; teardown restores it exactly."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from claude_support import promptster_command

from promptster.errors import InputError
from promptster.integrations.claude import setup as cs
from promptster.integrations.claude.hook import HOOK_EVENTS

EXE = "/opt/promptster tools/bin/promptster"  # a path with a space: it must be quoted


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".promptster" not in p.parts
    }


def test_fresh_workspace_round_trip(workspace: Path) -> None:
    result = cs.setup_claude(workspace, executable=EXE)
    assert result.files == [cs.SETTINGS, cs.MCP_JSON, cs.EXPLAIN]
    settings = json.loads((workspace / cs.SETTINGS).read_text())
    assert set(settings["hooks"]) == set(HOOK_EVENTS)
    handler = settings["hooks"]["PreToolUse"][0]["hooks"][0]
    assert handler == {
        "type": "command",
        "command": "'/opt/promptster tools/bin/promptster' hook claude-code",
        "timeout": 10,
    }
    assert settings["hooks"]["PreToolUse"][0]["matcher"] == "*"
    assert "matcher" not in settings["hooks"]["UserPromptSubmit"][0]
    assert settings["hooks"]["SessionEnd"][0]["hooks"][0]["timeout"] == 30
    assert settings["enabledMcpjsonServers"] == ["promptster"]
    mcp = json.loads((workspace / cs.MCP_JSON).read_text())
    assert mcp == {
        "mcpServers": {"promptster": {"type": "stdio", "command": EXE, "args": ["mcp"], "env": {}}}
    }
    explain = (workspace / cs.EXPLAIN).read_text()
    assert "mcp__promptster__capture_decision" in explain and "$ARGUMENTS" in explain
    cs.teardown_claude(workspace)
    assert sorted(p.name for p in workspace.iterdir()) == [".promptster"]


def test_merges_with_existing_config_and_restores_bytes(workspace: Path) -> None:
    (workspace / ".claude" / "commands").mkdir(parents=True)
    originals = {
        cs.SETTINGS: b'{"permissions": {"allow": ["Bash(ls:*)"]},\n "hooks": {"PreToolUse": '
        b'[{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}]},\n'
        b' "enabledMcpjsonServers": ["github"]}',
        cs.MCP_JSON: b'{"mcpServers":{"github":{"command":"gh-mcp"},'
        b'"promptster":{"command":"old"}}}',
        cs.EXPLAIN: b"my own /explain\n",
        ".claude/commands/other.md": b"keep me",
    }
    for name, data in originals.items():
        (workspace / name).write_bytes(data)
    cs.setup_claude(workspace, executable=EXE)
    settings = json.loads((workspace / cs.SETTINGS).read_text())
    assert settings["permissions"] == {"allow": ["Bash(ls:*)"]}
    pre = settings["hooks"]["PreToolUse"]
    assert pre[0] == {"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}
    assert len(pre) == 2
    assert settings["enabledMcpjsonServers"] == ["github", "promptster"]
    mcp = json.loads((workspace / cs.MCP_JSON).read_text())
    assert mcp["mcpServers"]["github"] == {"command": "gh-mcp"}
    assert mcp["mcpServers"]["promptster"]["command"] == EXE
    cs.setup_claude(workspace, executable=EXE)  # twice: still one set of hooks
    settings = json.loads((workspace / cs.SETTINGS).read_text())
    assert len(settings["hooks"]["PreToolUse"]) == 2
    result = cs.teardown_claude(workspace)
    assert sorted(result.restored) == sorted([cs.SETTINGS, cs.MCP_JSON, cs.EXPLAIN])
    assert files_of(workspace) == originals
    assert cs.teardown_claude(workspace) == cs.TeardownResult()  # a second teardown: nothing


def test_changes_made_during_the_session_survive_teardown(workspace: Path) -> None:
    (workspace / ".claude").mkdir()
    (workspace / cs.SETTINGS).write_text('{"model": "opus"}')
    cs.setup_claude(workspace, executable=EXE)
    settings = json.loads((workspace / cs.SETTINGS).read_text())
    settings["permissions"] = {"allow": ["Bash(pytest:*)"]}  # Claude Code saved a choice
    (workspace / cs.SETTINGS).write_text(json.dumps(settings))
    result = cs.teardown_claude(workspace)
    assert result.merged == [cs.SETTINGS]
    assert json.loads((workspace / cs.SETTINGS).read_text()) == {
        "model": "opus",
        "permissions": {"allow": ["Bash(pytest:*)"]},
    }
    assert not (workspace / cs.MCP_JSON).exists()


def test_reformatted_but_equal_file_gets_its_original_bytes(workspace: Path) -> None:
    (workspace / ".mcp.json").write_bytes(b'{ "mcpServers" : { } }')
    cs.setup_claude(workspace, executable=EXE)
    config = json.loads((workspace / cs.MCP_JSON).read_text())
    (workspace / cs.MCP_JSON).write_text(json.dumps(config, indent=4))
    result = cs.teardown_claude(workspace)
    assert cs.MCP_JSON in result.restored
    assert (workspace / cs.MCP_JSON).read_bytes() == b'{ "mcpServers" : { } }'


def test_broken_user_file_is_refused_and_left_alone(workspace: Path) -> None:
    (workspace / ".claude").mkdir()
    (workspace / cs.SETTINGS).write_text("{ not json")
    with pytest.raises(InputError, match="not valid JSON"):
        cs.setup_claude(workspace, executable=EXE)
    assert (workspace / cs.SETTINGS).read_text() == "{ not json"
    assert not (workspace / cs.MCP_JSON).exists()


def test_cli_setup_uses_the_installed_executable_and_leaves_home_alone(
    workspace: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    command = promptster_command()
    done = subprocess.run(
        [*command, "setup", "claude-code"], cwd=workspace, env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    mcp = json.loads((workspace / cs.MCP_JSON).read_text())
    executable = mcp["mcpServers"]["promptster"]["command"]
    assert os.path.isabs(executable)
    assert os.stat(executable).st_mode & stat.S_IXUSR
    assert list(home.iterdir()) == []
    checks = {check.name: check for check in cs.check_claude(workspace)}
    assert checks["hooks"].ok and checks["MCP server"].ok, checks
    done = subprocess.run(
        [*command, "teardown", "claude-code"], cwd=workspace, env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert b"restored .mcp.json" in done.stdout  # the result of setup/teardown: stdout
    assert sorted(p.name for p in workspace.iterdir()) == [".promptster"]
    checks = {check.name: check for check in cs.check_claude(workspace)}
    assert not checks["hooks"].ok and not checks["MCP server"].ok


def test_doctor_reports_disabled_hooks_and_a_missing_command(workspace: Path) -> None:
    cs.setup_claude(workspace, executable=EXE)  # EXE does not exist on this machine
    checks = {check.name: check for check in cs.check_claude(workspace)}
    assert not checks["hooks"].ok and "command not found" in checks["hooks"].detail
    assert not checks["MCP server"].ok
    settings = json.loads((workspace / cs.SETTINGS).read_text())
    (workspace / cs.SETTINGS).write_text(json.dumps({**settings, "disableAllHooks": True}))
    checks = {check.name: check for check in cs.check_claude(workspace)}
    assert "disableAllHooks" in checks["hooks"].detail
