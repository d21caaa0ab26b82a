"""The hooks of Gemini CLI, Copilot CLI and Cursor: payloads in, events in the spool out (the
session has no recorder listening, so this is also the "recorder down" path).

Gemini CLI and Copilot CLI payloads and session logs were recorded from the real clients
(0.61.0 and 1.0.102, driven offline); Cursor cannot run here, so its payloads follow the
documented shape (cursor.com/docs/agent/hooks) and were written for this test.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from claude_support import RECORDED_WORKSPACE, kinds, make_session, promptster_command, spooled

from promptster.integrations.copilot import hook as copilot_hook
from promptster.integrations.cursor import hook as cursor_hook
from promptster.integrations.gemini import hook as gemini_hook

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
Json = dict[str, Any]


@pytest.fixture(autouse=True)
def _no_session_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMPTSTER_SESSION_DIR", raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def moved(path: Path, workspace: Path, home: Path) -> str:
    return (
        path.read_text()
        .replace(RECORDED_WORKSPACE, str(workspace))
        .replace("/home/candidate", str(home))
    )


def lines(text: str) -> list[Json]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def feed(main: Any, payload: Json | bytes, *argv: str) -> None:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    assert main(list(argv), stdin=io.BytesIO(data)) == 0


def by_kind(events: list[Json], kind: str) -> list[Json]:
    return [e for e in events if e["kind"] == kind]


# --- Gemini CLI -------------------------------------------------------------------------------


def gemini_payloads(workspace: Path, tmp_path: Path) -> list[Json]:
    home = tmp_path / "home"
    chats = home / ".gemini" / "tmp" / "ws" / "chats"
    chats.mkdir(parents=True)
    session = FIXTURES / "gemini-cli" / "session-0.61.0.jsonl"
    (chats / "session-2026-12-07T13-30-55cda3ba.jsonl").write_text(moved(session, workspace, home))
    return lines(moved(FIXTURES / "gemini-cli" / "hook-payloads-0.61.0.jsonl", workspace, home))


def test_gemini_recorded_payloads(workspace: Path, tmp_path: Path) -> None:
    session_dir = make_session(workspace)
    for payload in gemini_payloads(workspace, tmp_path):
        feed(gemini_hook.main, payload)
    events = spooled(session_dir)
    assert kinds(events) == [
        "prompt",
        "tool_use",
        "tool_result",
        "tool_use",
        "tool_result",
        "command",
        "ai_response",
    ]
    assert {e["source"]["integration"] for e in events} == {"gemini-cli"}
    assert events[0]["data"]["text"] == "make a.py"
    write = events[2]["data"]
    assert write["nativeToolName"] == "write_file"
    assert write["edit"] == {
        "tool": "Write",
        "path": "a.py",
        "content": "x = 1\n",
        "created": True,
        "userModified": False,
    }
    assert events[1]["data"]["toolUseId"] == write["toolUseId"]  # pre and post paired
    command = events[5]["data"]
    assert (command["command"], command["exitCode"], command["outputHead"]) == (
        "python3 -c 'print(1)'",
        0,
        "1",
    )
    reply = events[6]["data"]
    assert (reply["text"], reply["model"]) == ("all done", "gemini-2.5-flash")
    assert (reply["inputTokens"], reply["outputTokens"]) == (33, 15)  # three model calls


def test_gemini_failed_shell_command_and_test_run(workspace: Path) -> None:
    session_dir = make_session(workspace)
    payload = {
        "session_id": "s1",
        "cwd": str(workspace),
        "hook_event_name": "AfterTool",
        "tool_name": "run_shell_command",
        "tool_input": {"command": "python -m pytest -q"},
        "tool_response": {
            "llmContent": "Output: F.\n1 failed, 1 passed in 0.01s\nExit Code: 1\n"
            "Process Group PGID: 42",
            "returnDisplay": "F.",
        },
    }
    feed(gemini_hook.main, payload)
    events = spooled(session_dir)
    assert kinds(events) == ["tool_result", "command", "test_run"]
    assert events[0]["data"]["ok"] is False
    assert events[1]["data"]["exitCode"] == 1
    assert events[1]["data"]["outputHead"] == "F.\n1 failed, 1 passed in 0.01s"
    assert (events[2]["data"]["failed"], events[2]["data"]["passed"]) == (1, 1)


# --- Copilot CLI ------------------------------------------------------------------------------


def test_copilot_recorded_payloads(workspace: Path, tmp_path: Path) -> None:
    session_dir = make_session(workspace)
    home = tmp_path / "home"
    log = home / ".copilot" / "session-state" / "b0f4b0d7-2ae1-42a3-9549-a3844fbc661f"
    log.mkdir(parents=True)
    events_log = FIXTURES / "copilot-cli" / "events-1.0.102.jsonl"
    (log / "events.jsonl").write_text(moved(events_log, workspace, home))
    recorded = FIXTURES / "copilot-cli" / "hook-payloads-1.0.102.jsonl"
    for entry in lines(moved(recorded, workspace, home)):
        feed(copilot_hook.main, entry["payload"], entry["event"])
    events = spooled(session_dir)
    assert kinds(events) == [
        "prompt",
        "tool_use",
        "tool_result",
        "tool_use",
        "tool_result",
        "command",
        "ai_response",
    ]
    assert {e["source"]["integration"] for e in events} == {"copilot-cli"}
    assert events[2]["data"]["edit"]["path"] == "a.py"
    assert events[2]["data"]["nativeToolName"] == "create"
    assert events[5]["data"]["outputHead"] == "1" and events[5]["data"]["exitCode"] == 0
    reply = events[6]["data"]
    assert (reply["text"], reply["model"]) == ("all done", "gpt-4.1")
    assert (reply["inputTokens"], reply["outputTokens"]) == (963, 135)


# --- Cursor (documented payload shapes) -------------------------------------------------------


def cursor_base(workspace: Path, event: str, **fields: Any) -> Json:
    return {
        "conversation_id": "c-1",
        "generation_id": "g-1",
        "model": "claude-4.5-sonnet",
        "hook_event_name": event,
        "cursor_version": "2.0.0",
        "workspace_roots": [str(workspace)],
        "user_email": "candidate@example.com",
        "transcript_path": None,
        **fields,
    }


def test_cursor_documented_payloads(workspace: Path) -> None:
    session_dir = make_session(workspace)
    ws = str(workspace)
    write = {"file_path": f"{ws}/a.py", "contents": "x = 1\n"}
    shell = {"command": "python -m pytest -q"}
    for payload in (
        cursor_base(workspace, "beforeSubmitPrompt", prompt="make a.py", attachments=[]),
        cursor_base(workspace, "preToolUse", tool_name="Write", tool_input=write, tool_use_id="t1"),
        cursor_base(
            workspace,
            "postToolUse",
            tool_name="Write",
            tool_input=write,
            tool_use_id="t1",
            tool_output="ok",
        ),
        cursor_base(workspace, "preToolUse", tool_name="Shell", tool_input=shell, tool_use_id="t2"),
        cursor_base(
            workspace,
            "postToolUse",
            tool_name="Shell",
            tool_input=shell,
            tool_use_id="t2",
            cwd=ws,
            duration=120,
            tool_output=json.dumps({"exitCode": 0, "output": "2 passed in 0.01s"}),
        ),
        # The older-style events of the same conversation are not counted twice.
        cursor_base(workspace, "afterShellExecution", command="python -m pytest -q", output="x"),
        cursor_base(workspace, "afterAgentResponse", text="Done."),
    ):
        feed(cursor_hook.main, payload)
    events = spooled(session_dir)
    assert kinds(events) == [
        "prompt",
        "tool_use",
        "tool_result",
        "tool_use",
        "tool_result",
        "command",
        "test_run",
        "ai_response",
    ]
    assert "candidate@example.com" not in json.dumps(events)
    assert events[2]["data"]["edit"]["content"] == "x = 1\n"
    assert events[5]["data"]["durationMs"] == 120
    assert events[6]["data"]["passed"] == 2
    assert events[7]["data"]["model"] == "claude-4.5-sonnet"


def test_cursor_older_builds_file_edits_and_patches(workspace: Path) -> None:
    session_dir = make_session(workspace)
    edit = cursor_base(
        workspace,
        "afterFileEdit",
        conversation_id="c-old",
        file_path=f"{workspace}/a.py",
        edits=[{"old_string": "x = 1", "new_string": "x = 2"}],
    )
    feed(cursor_hook.main, edit)
    patch = (
        "*** Begin Patch\n*** Add File: b.py\n+y = 1\n*** Update File: a.py\n@@\n-x = 2\n+x = 3\n"
    )
    feed(
        cursor_hook.main,
        cursor_base(
            workspace,
            "postToolUse",
            conversation_id="c-new",
            tool_name="ApplyPatch",
            tool_input={"patch": patch},
            tool_use_id="p1",
        ),
    )
    events = spooled(session_dir)
    claims = [e["data"]["edit"] for e in by_kind(events, "tool_result")]
    assert claims[0]["edits"] == [{"oldString": "x = 1", "newString": "x = 2", "replaceAll": False}]
    assert sorted((c["path"], c["newString"]) for c in claims[1:]) == [
        ("a.py", "x = 3"),
        ("b.py", "y = 1"),
    ]


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("main", "argv"),
    [(gemini_hook.main, ()), (cursor_hook.main, ()), (copilot_hook.main, ("preToolUse",))],
)
@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"hook_event_name": "BeforeAg', "is not valid JSON"),
        (b"[1, 2]", "is a JSON list"),
    ],
)
def test_unusable_payloads_become_warnings(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    main: Any,
    argv: tuple[str, ...],
    data: bytes,
    problem: str,
) -> None:
    session_dir = make_session(workspace)
    monkeypatch.chdir(workspace)
    feed(main, data, *argv)
    (warning,) = spooled(session_dir)
    assert warning["kind"] == "warning" and problem in warning["data"]["message"]


def test_unknown_events_and_huge_payloads(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from promptster.integrations import hookkit

    session_dir = make_session(workspace)
    monkeypatch.chdir(workspace)
    monkeypatch.setattr(hookkit, "MAX_PAYLOAD", 1024)
    feed(gemini_hook.main, {"hook_event_name": "BeforeTimeTravel", "cwd": str(workspace)})
    feed(gemini_hook.main, b'{"prompt": "' + b"x" * 5000 + b'"}')
    messages = [e["data"]["message"] for e in spooled(session_dir)]
    assert "unknown hook event 'BeforeTimeTravel'" in messages[0]
    assert "over the 1,024-byte limit" in messages[1]


def test_no_session_no_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    feed(gemini_hook.main, {"hook_event_name": "BeforeAgent", "cwd": str(tmp_path), "prompt": "x"})
    assert not (tmp_path / ".promptster").exists()


@pytest.mark.parametrize(
    ("tool", "argv", "stdout"),
    [("gemini-cli", [], "{}\n"), ("cursor", [], "{}\n"), ("copilot-cli", ["agentStop"], "")],
)
def test_the_real_command(workspace: Path, tool: str, argv: list[str], stdout: str) -> None:
    import subprocess

    session_dir = make_session(workspace)
    event = {"gemini-cli": "BeforeAgent", "cursor": "beforeSubmitPrompt"}.get(tool)
    payload: Json = {"cwd": str(workspace), "prompt": "hi", "workspace_roots": [str(workspace)]}
    if event:
        payload["hook_event_name"] = event
    done = subprocess.run(
        [*promptster_command(), "hook", tool, *argv],
        input=json.dumps(payload).encode(),
        cwd=workspace,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.decode() == stdout, done.stderr
    assert kinds(spooled(session_dir)) == ([] if tool == "copilot-cli" else ["prompt"])


def test_cursor_mcp_calls(workspace: Path) -> None:
    session_dir = make_session(workspace)
    decision = {"title": "t", "chosenOption": "c", "rationale": "r"}
    feed(
        cursor_hook.main,
        cursor_base(
            workspace,
            "afterMCPExecution",
            conversation_id="c-old",
            tool_name="capture_decision",
            tool_input=json.dumps(decision),
            command="/usr/local/bin/promptster mcp",
            result_json='{"ok": true}',
        ),
    )
    (mcp_call,) = by_kind(spooled(session_dir), "mcp_call")
    assert mcp_call["data"]["server"] == "promptster"
    assert mcp_call["data"]["tool"] == "capture_decision"
    assert mcp_call["data"]["arguments"] == decision


@pytest.mark.parametrize(
    ("tool", "argv", "payload", "stdout"),
    [
        (
            "claude-code",
            [],
            {"hook_event_name": "UserPromptSubmit", "prompt": "hi", "prompt_id": "p1"},
            "",
        ),
        ("gemini-cli", [], {"hook_event_name": "BeforeAgent", "prompt": "hi"}, "{}\n"),
    ],
)
def test_a_dropped_event_is_said_on_stderr_and_the_tool_goes_on(
    workspace: Path, tool: str, argv: list[str], payload: Json, stdout: str
) -> None:
    """Recorder down and the spool unwritable (a folder where the file should be): the hook
    cannot record the prompt; it says so in one line on stderr, and exits as always."""
    import subprocess

    session_dir = make_session(workspace)
    (session_dir / "spool.jsonl").mkdir()
    done = subprocess.run(
        [*promptster_command(), "hook", tool, *argv],
        input=json.dumps({**payload, "cwd": str(workspace), "session_id": "s"}).encode(),
        cwd=workspace,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.decode() == stdout
    (line,) = done.stderr.decode().splitlines()
    label = {"claude-code": "Claude Code", "gemini-cli": "Gemini CLI"}[tool]
    assert line.startswith(f"promptster: {label} hook: 1 event not recorded: ")
    assert "spool failed too" in line


def test_a_recorded_event_says_nothing_on_stderr(workspace: Path) -> None:
    import subprocess

    session_dir = make_session(workspace)
    payload = {"hook_event_name": "BeforeAgent", "prompt": "hi", "cwd": str(workspace)}
    done = subprocess.run(
        [*promptster_command(), "hook", "gemini-cli"],
        input=json.dumps(payload).encode(),
        cwd=workspace,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == b""
    assert kinds(spooled(session_dir)) == ["prompt"]
