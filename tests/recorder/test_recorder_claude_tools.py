"""`start --tools claude`: Claude Code's config is set up before the baseline, never recorded
as the candidate's work, checked by `doctor`, and put back exactly at submit and abort."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from promptster.bundle.verify import verify_bundle
from promptster.cli.candidate_session_cmds import _parse_tools
from promptster.integrations.claude import setup as cs
from promptster.record.files.ignores import CLAUDE_MANAGED_PATTERNS
from promptster.record.lifecycle import StartedSession
from recorder_helpers import events_of, file_events, run_promptster

USER_SETTINGS = b'{\n  "permissions": {"allow": ["Bash(ls)"]}\n}\n'  # not our formatting


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def workspace_with_settings(tmp_path: Path) -> Path:
    workspace = tmp_path / "work"
    (workspace / ".claude").mkdir(parents=True)
    (workspace / ".claude" / "settings.local.json").write_bytes(USER_SETTINGS)
    (workspace / "main.py").write_text("print('hi')\n")
    return workspace


def test_patterns_match_the_managed_paths() -> None:
    assert tuple("/" + p for p in cs.MANAGED_PATHS) == CLAUDE_MANAGED_PATTERNS


def test_tools_option_parsing() -> None:
    assert _parse_tools(()) == ["shell"]
    assert _parse_tools(("claude",)) == ["shell", "claude-code"]
    assert _parse_tools(("claude,claude", "Claude")) == ["shell", "claude-code"]
    assert _parse_tools(("gemini,aider", "cursor", "copilot")) == [
        "shell",
        "gemini-cli",
        "aider",
        "cursor",
        "copilot-cli",
    ]
    with pytest.raises(click.BadParameter):
        _parse_tools(("windsurf",))


def test_claude_setup_is_not_the_candidates_work_and_submit_restores_it(
    start_recording: Callable[..., StartedSession], tmp_path: Path
) -> None:
    workspace = workspace_with_settings(tmp_path)
    started = start_recording(workspace, tools=["shell", "claude-code"])
    paths = started.paths
    assert "claude-code" in started.state.tools
    (start,) = events_of(paths, "session_start")
    assert "claude-code" in start["data"]["tools"]
    for name in cs.MANAGED_PATHS:
        assert (workspace / name).is_file()
    assert "hooks" in json.loads((workspace / cs.SETTINGS).read_text())

    mine = workspace / ".claude" / "agents" / "helper.md"
    mine.parent.mkdir()
    mine.write_text("my own agent\n")
    ok(run_promptster("checkpoint", "agent added", cwd=workspace))
    doctor = json.loads(ok(run_promptster("doctor", "--json", cwd=workspace)).stdout)
    names = {c["name"] for c in doctor["checks"]}
    assert {"hooks", "MCP server"} <= names, doctor

    submitted = json.loads(ok(run_promptster("submit", "--yes", "--json", cwd=workspace)).stdout)
    assert file_events(paths, ".claude/agents/helper.md")
    for name in cs.MANAGED_PATHS:
        assert not file_events(paths, name), name
    assert (workspace / cs.SETTINGS).read_bytes() == USER_SETTINGS
    assert not (workspace / cs.MCP_JSON).exists()
    assert not (workspace / cs.EXPLAIN).exists()
    assert mine.read_text() == "my own agent\n"
    report = verify_bundle(Path(submitted["path"]))
    assert report.ok, report.failures


def test_abort_restores_and_hand_setup_is_not_recorded(
    start_recording: Callable[..., StartedSession], tmp_path: Path
) -> None:
    workspace = workspace_with_settings(tmp_path)
    paths = start_recording(workspace).paths
    ok(run_promptster("setup", "claude-code", cwd=workspace))  # by hand, mid-session
    assert cs.setup_active(workspace)
    ok(run_promptster("checkpoint", "after setup", cwd=workspace))
    doctor = json.loads(run_promptster("doctor", "--json", cwd=workspace).stdout)
    assert "hooks" in {c["name"] for c in doctor["checks"]}
    ok(run_promptster("abort", "--yes", cwd=workspace))
    for name in cs.MANAGED_PATHS:
        assert not file_events(paths, name), name
    assert (workspace / cs.SETTINGS).read_bytes() == USER_SETTINGS
    assert not (workspace / cs.MCP_JSON).exists()
    assert not cs.setup_active(workspace)
