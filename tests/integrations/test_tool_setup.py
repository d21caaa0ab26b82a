"""`promptster setup|teardown gemini-cli|cursor|copilot-cli|aider`: workspace files only,
the candidate's own settings kept and merged, and restored byte for byte."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from claude_support import promptster_command

from promptster.errors import InputError
from promptster.integrations import catalog, wiring
from promptster.integrations.copilot import events as copilot_events
from promptster.integrations.copilot import setup as copilot_setup
from promptster.integrations.cursor import events as cursor_events
from promptster.integrations.cursor import setup as cursor_setup
from promptster.integrations.gemini import events as gemini_events
from promptster.integrations.gemini import setup as gemini_setup

EXE = "/opt/promptster/bin/promptster"
USER_FILES = {
    "gemini-cli": {
        ".gemini/settings.json": b'{"hooks": {"BeforeTool": [{"matcher": "write_file", '
        b'"hooks": [{"type": "command", "command": "./lint.sh"}]}]},\n'
        b' "mcpServers": {"docs": {"command": "docs-mcp"}}, "ui": {"theme": "x"}}'
    },
    "cursor": {
        ".cursor/hooks.json": b'{"version": 1, "hooks": {"afterFileEdit": '
        b'[{"command": "./format.sh"}]}}',
        ".cursor/mcp.json": b'{"mcpServers": {"promptster": {"command": "old"}}}',
    },
    "copilot-cli": {
        ".github/hooks/promptster.json": b'{"version": 1, "hooks": {"sessionStart": '
        b'[{"type": "command", "bash": "echo hi"}]}}'
    },
}
EVENTS = {
    "gemini-cli": gemini_events.HOOK_EVENTS,
    "cursor": cursor_events.HOOK_EVENTS,
    "copilot-cli": copilot_events.HOOK_EVENTS,
}
SETUPS = {"gemini-cli": gemini_setup, "cursor": cursor_setup, "copilot-cli": copilot_setup}


def snapshot(ws: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(ws)): p.read_bytes()
        for p in sorted(ws.rglob("*"))
        if p.is_file() and ".promptster" not in p.parts
    }


@pytest.mark.parametrize("tool", sorted(SETUPS))
def test_setup_merges_and_teardown_restores_bytes(tmp_path: Path, tool: str) -> None:
    for name, data in USER_FILES[tool].items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    before = snapshot(tmp_path)
    module = SETUPS[tool]
    written = module.setup(tmp_path, executable=EXE)
    assert written == list(module.MANAGED_PATHS)
    text = "".join((tmp_path / name).read_text() for name in written)
    assert f"{EXE} hook {tool}" in text and '"mcp"' in text
    for name, data in USER_FILES[tool].items():  # the user's own entries are still there
        original = json.loads(data)
        merged = json.loads((tmp_path / name).read_bytes())
        for key in original:
            assert key in merged
    entry = catalog.by_name(tool)
    assert entry is not None and entry.adapter().is_active(tmp_path)
    module.setup(tmp_path, executable=EXE)  # twice: still one set of entries
    count = "".join((tmp_path / n).read_text() for n in written).count(f"hook {tool}")
    assert count == len(EVENTS[tool])
    module.teardown(tmp_path)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("tool", sorted(SETUPS))
def test_setup_in_an_empty_workspace_leaves_nothing(tmp_path: Path, tool: str) -> None:
    SETUPS[tool].setup(tmp_path, executable=EXE)
    SETUPS[tool].teardown(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [".promptster"]
    assert not any(p.is_file() for p in (tmp_path / ".promptster").rglob("setup.json"))


def test_file_changed_during_the_session_keeps_the_change(tmp_path: Path) -> None:
    gemini_setup.setup(tmp_path, executable=EXE)
    path = tmp_path / ".gemini" / "settings.json"
    settings = json.loads(path.read_bytes())
    settings["model"] = {"name": "gemini-2.5-pro"}  # Gemini CLI saved a choice meanwhile
    path.write_text(json.dumps(settings))
    result = gemini_setup.teardown(tmp_path)
    assert result.merged == [".gemini/settings.json"]
    assert json.loads(path.read_bytes()) == {"model": {"name": "gemini-2.5-pro"}}


@pytest.mark.parametrize("tool", sorted(SETUPS))
def test_malformed_settings_are_left_alone(tmp_path: Path, tool: str) -> None:
    name = next(iter(USER_FILES[tool]))
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_bytes(b'{"hooks": {')
    with pytest.raises(InputError, match="is not valid JSON"):
        SETUPS[tool].setup(tmp_path, executable=EXE)
    assert (tmp_path / name).read_bytes() == b'{"hooks": {'
    assert not wiring.is_wired(tmp_path, tool)


def test_cli_setup_teardown_and_exit_codes(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*promptster_command(), *args, "-w", str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
        )

    done = run("setup", "cursor")
    assert done.returncode == 0 and "wrote .cursor/hooks.json" in done.stdout  # its result
    assert run("teardown", "cursor").returncode == 0
    assert not (tmp_path / ".cursor").exists()
    assert "was not set up here" in run("teardown", "cursor").stdout
    (tmp_path / ".gemini").mkdir()
    (tmp_path / ".gemini" / "settings.json").write_text("not json")
    bad = run("setup", "gemini-cli")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "is not valid JSON" in bad.stderr
    aider = run("setup", "aider")
    assert aider.returncode == 0 and "needs no configuration" in aider.stdout


def test_setup_and_teardown_say_what_they_did_as_json(tmp_path: Path) -> None:
    def run(*args: str) -> object:
        done = subprocess.run(
            [*promptster_command(), *args, "-w", str(tmp_path), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)

    assert run("setup", "cursor") == {
        "tool": "cursor",
        "files": [".cursor/hooks.json", ".cursor/mcp.json"],
    }
    assert run("teardown", "cursor") == {"tool": "cursor", "restored": True, "notes": []}
    assert run("teardown", "cursor") == {"tool": "cursor", "restored": False, "notes": []}
    made = run("setup", "claude-code")
    assert isinstance(made, dict) and made["tool"] == "claude-code" and made["files"]
    undone = run("teardown", "claude-code")
    assert isinstance(undone, dict) and sorted(undone["restored"]) == sorted(made["files"])


def test_doctor_checks_name_each_channel(tmp_path: Path) -> None:
    for tool in ("gemini-cli", "cursor", "copilot-cli"):
        SETUPS[tool].setup(tmp_path, executable=EXE)
        checks = SETUPS[tool].checks(tmp_path)
        names = [c.name for c in checks]
        label = catalog.by_name(tool).label  # type: ignore[union-attr]
        assert f"{label} hooks" in names and f"{label} MCP server" in names
        # EXE does not exist here: the hooks' command is reported broken
        assert not next(c for c in checks if c.name == f"{label} hooks").ok
