"""`start --tools codex`: the recorder tails Codex's rollout files live, loses nothing while it is
down, says in `status` and `doctor` that Codex is wired and was heard from, and leaves no Codex
configuration behind (there is none: the launcher passes overrides)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promptster.cli.candidate_session_cmds import _parse_tools
from promptster.integrations.codex import setup as codex_setup
from promptster.record.control import ensure_recorder
from promptster.record.lifecycle import StartedSession
from recorder_helpers import events_of, run_promptster, stop_recorder, wait_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codex"
RECORDED_WORKSPACE = "/home/candidate/work"


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def write_rollout(home: Path, workspace: Path, run: int) -> None:
    """A real Codex rollout (tests/fixtures/codex), as Codex would write it now (its record
    times moved to now, keeping their spacing)."""
    text = (FIXTURES / f"rollout-0.169.0-run{run}.jsonl").read_text()
    records = [
        json.loads(line) for line in text.replace(RECORDED_WORKSPACE, str(workspace)).splitlines()
    ]
    now = datetime.now(UTC)
    shift = now - datetime.fromisoformat(records[0]["timestamp"].replace("Z", "+00:00"))
    for record in records:
        moment = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")) + shift
        record["timestamp"] = (
            moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        )
    folder = home / "sessions" / f"{now:%Y}" / f"{now:%m}" / f"{now:%d}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"rollout-run{run}.jsonl"
    target.write_text("".join(json.dumps(record) + "\n" for record in records))


def test_tools_option_accepts_codex() -> None:
    assert _parse_tools(("codex",)) == ["shell", "codex"]
    assert _parse_tools(("claude,codex",)) == ["shell", "claude-code", "codex"]


def test_the_recorder_tails_rollouts_live_and_catches_up_after_a_restart(
    start_recording: Callable[..., StartedSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(home))  # the recorder inherits it
    workspace = tmp_path / "work"
    workspace.mkdir()
    started = start_recording(workspace, tools=["shell", "codex"])
    paths = started.paths
    assert codex_setup.read_setup(workspace) is not None
    assert not (workspace / ".codex").exists()

    write_rollout(home, workspace, 1)
    wait_for(lambda: events_of(paths, "prompt"), what="the live watcher's first prompt")
    status = json.loads(ok(run_promptster("status", "--json", cwd=workspace)).stdout)
    codex = status["tools"]["codex"]
    assert codex["wired"] is True and codex["label"] == "Codex CLI"
    assert set(codex["channels"]) == {"import"}
    assert status["tools"]["claude-code"]["wired"] is False
    assert "1 rollout file(s)" in status["sources"]["codex watcher"]["detail"]
    human = ok(run_promptster("status", cwd=workspace)).stdout  # a result: stdout (docs/cli.md)
    assert "Codex CLI" in human and "import 20" in human

    # The recorder is down while Codex writes its second run; the next recorder reads it.
    stop_recorder(paths)
    write_rollout(home, workspace, 2)
    assert ensure_recorder(paths).restarted is not None
    prompts = wait_for(lambda: len(events_of(paths, "prompt")) == 2 and events_of(paths, "prompt"))
    assert [p["data"]["text"] for p in prompts] == [
        "Please add a mul helper with tests and fix add.",
        "Thanks, now fix mul.",
    ]
    runs = wait_for(lambda: len(events_of(paths, "test_run")) == 2 and events_of(paths, "test_run"))
    assert [r["data"]["failed"] for r in runs] == [1, 0]

    doctor = json.loads(run_promptster("doctor", "--json", cwd=workspace).stdout)
    names = {c["name"]: c for c in doctor["checks"]}
    assert names["Codex CLI events"]["ok"] is True
    assert "import" in names["Codex CLI events"]["detail"]
    assert "codex launcher" in names

    ok(run_promptster("submit", "--yes", "--json", cwd=workspace))
    assert codex_setup.read_setup(workspace) is None  # torn down at submit
    ids = [e["id"] for e in events_of(paths, "tool_result")]
    assert len(ids) == len(set(ids)) == len(events_of(paths, "tool_use")) == 6  # no copies


def test_launcher_refuses_without_a_session_and_builds_overrides(tmp_path: Path) -> None:
    done = run_promptster("codex", "exec", "hello", cwd=tmp_path)
    assert done.returncode != 0
    assert "no active Promptster session" in done.stderr
    assert "Traceback" not in done.stderr
    args = codex_setup.overrides(codex_setup.CodexSetup("/opt/p s/promptster"))
    assert args[:2] == [
        "-c",
        'mcp_servers.promptster={command="/opt/p s/promptster", '
        'args=["mcp"], startup_timeout_sec=20}',
    ]
    assert args[-1] == "--dangerously-bypass-hook-trust"
    assert any("hooks.PreToolUse=" in a and "'/opt/p s/promptster' hook codex" in a for a in args)
    no_hooks = codex_setup.overrides(codex_setup.CodexSetup("/x/promptster", hooks=False))
    assert len(no_hooks) == 2
