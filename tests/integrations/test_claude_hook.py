"""`promptster hook claude-code`: real 2.1.328 payloads in, events in the recorder's spool out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from claude_support import (
    call_hook,
    kinds,
    make_session,
    payloads,
    run_hook,
    spooled,
    transcript_copy,
)

from promptster.integrations.claude.events import event_id, text_key


@pytest.fixture(autouse=True)
def _no_session_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMPTSTER_SESSION_DIR", raising=False)
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def by_kind(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["kind"] == kind]


def test_reference_payloads_become_events(workspace: Path) -> None:
    session_dir = make_session(workspace)
    for payload in payloads("reference-hook-payloads-2.1.328.jsonl", workspace):
        call_hook(payload)
    events = spooled(session_dir)
    assert kinds(events) == [
        "prompt",
        "tool_result",
        "tool_result",
        "command",
        "ai_response",
        "tool_use",
        "tool_use",
    ]
    prompt = events[0]
    assert prompt["data"] == {
        "text": "create hello.py with a hello function and run it",
        "length": 48,
        "lane": "82b0924f-039d-4474-be2f-dfe4d061de73",
        "promptId": "478ed2b8-b71c-4c24-9d9c-ba5b17b26b80",
    }
    assert prompt["actor"] == {"type": "human"}
    assert prompt["source"] == {
        "channel": "hook",
        "integration": "claude-code",
        "emitter": "promptster-hook",
    }
    write = events[1]["data"]
    assert write["edit"] == {
        "tool": "Write",
        "path": "hello.py",
        "content": "def hello():\n    return 'hello'\n",
        "created": True,
        "userModified": False,
    }
    command = events[3]
    assert command["actor"] == {"type": "ai"}
    assert command["data"]["command"] == "python3 -c 'import hello; print(hello.hello())'"
    assert command["data"]["exitCode"] == 0
    assert command["data"]["durationMs"] == 359
    assert command["data"]["outputHead"] == "hello"
    assert command["data"]["cwd"] == "."
    assert events[4]["data"]["text"] == "Done."  # Stop: the transcript is not there


def test_observed_session_with_failure_edit_and_session_end(workspace: Path) -> None:
    session_dir = make_session(workspace)
    for payload in payloads("observed-hook-payloads-2.1.328.jsonl", workspace):
        call_hook(payload)
    events = spooled(session_dir)
    edit = next(e for e in by_kind(events, "tool_result") if e["data"]["toolName"] == "Edit")
    assert edit["data"]["edit"] == {
        "tool": "Edit",
        "path": "calc.py",
        "oldString": "    return a - b",
        "newString": "    return a + b  # fixed",
        "replaceAll": False,
        "userModified": False,
    }
    failed = [e for e in by_kind(events, "command") if e["data"]["exitCode"] != 0]
    assert [e["data"]["exitCode"] for e in failed] == [3]
    assert failed[0]["data"]["outputHead"].endswith("1 passed in 0.71s")
    (test_run,) = by_kind(events, "test_run")
    assert test_run["data"]["tool"] == "pytest"
    assert test_run["data"]["passed"] == 1
    assert test_run["data"]["exitCode"] == 3
    assert test_run["data"]["commandEventId"] == failed[0]["id"]
    read_result = next(e for e in by_kind(events, "tool_result") if e["data"]["toolName"] == "Read")
    assert "output" not in read_result["data"]  # file contents belong to the snapshots


def test_pre_and_post_share_the_tool_use_id_and_ids_are_stable(workspace: Path) -> None:
    session_dir = make_session(workspace)
    pre = payloads("reference-hook-payloads-2.1.328.jsonl", workspace)[5]
    call_hook(pre)
    call_hook(pre)
    first, again = spooled(session_dir)
    assert first["id"] == again["id"] == event_id(pre["session_id"], "tool_use", pre["tool_use_id"])


def test_failing_then_passing_test_runs(workspace: Path) -> None:
    session_dir = make_session(workspace)
    base = {
        "session_id": "lane-1",
        "cwd": str(workspace),
        "hook_event_name": "PostToolUseFailure",
        "tool_name": "Bash",
        "tool_input": {"command": "python -m pytest -q"},
        "tool_use_id": "toolu_1",
        "error": "Exit code 1\n.F\nFAILED test_a.py::test_b\n1 failed, 1 passed in 0.05s",
        "duration_ms": 900,
    }
    call_hook(base)
    passing = {
        **base,
        "hook_event_name": "PostToolUse",
        "tool_use_id": "toolu_2",
        "tool_response": {"stdout": "..\n2 passed in 0.04s", "stderr": "", "interrupted": False},
    }
    del passing["error"]
    call_hook(passing)
    runs = by_kind(spooled(session_dir), "test_run")
    assert [(r["data"]["failed"], r["data"]["passed"], r["data"]["exitCode"]) for r in runs] == [
        (1, 1, 1),
        (0, 2, 0),
    ]
    assert all(r["actor"] == {"type": "ai"} for r in runs)


def test_planning_mcp_and_multiedit(workspace: Path) -> None:
    session_dir = make_session(workspace)
    common = {"session_id": "lane-1", "cwd": str(workspace)}
    todos = [{"content": "write tests", "status": "pending", "activeForm": "writing"}]
    call_hook(
        {
            **common,
            "hook_event_name": "PreToolUse",
            "tool_name": "TodoWrite",
            "tool_input": {"todos": todos},
            "tool_use_id": "toolu_plan",
        }
    )
    call_hook(
        {
            **common,
            "hook_event_name": "PostToolUse",
            "tool_name": "mcp__promptster__capture_decision",
            "tool_input": {"title": "Use a dict", "chosenOption": "dict", "rationale": "O(1)"},
            "tool_response": [{"type": "text", "text": "Recorded decision: Use a dict."}],
            "tool_use_id": "toolu_mcp",
        }
    )
    call_hook(
        {
            **common,
            "hook_event_name": "PostToolUse",
            "tool_name": "MultiEdit",
            "tool_input": {
                "file_path": str(workspace / "src" / "a.py"),
                "edits": [{"old_string": "x", "new_string": "y"}, "garbage"],
            },
            "tool_response": {"userModified": True},
            "tool_use_id": "toolu_multi",
        }
    )
    events = spooled(session_dir)
    (planning,) = by_kind(events, "planning")
    assert planning["data"] == {
        "toolName": "TodoWrite",
        "lane": "lane-1",
        "items": [{"text": "write tests", "status": "pending"}],
    }
    (mcp_call,) = by_kind(events, "mcp_call")
    assert mcp_call["data"]["server"] == "promptster"
    assert mcp_call["data"]["tool"] == "capture_decision"
    assert mcp_call["data"]["arguments"]["chosenOption"] == "dict"
    assert mcp_call["data"]["ok"] is True
    multi = [e for e in by_kind(events, "tool_result") if e["data"]["toolName"] == "MultiEdit"]
    assert multi[0]["data"]["edit"] == {
        "tool": "MultiEdit",
        "path": "src/a.py",
        "edits": [{"oldString": "x", "newString": "y", "replaceAll": False}],
        "userModified": True,
    }


def test_edit_outside_the_workspace_keeps_no_content(workspace: Path, tmp_path: Path) -> None:
    session_dir = make_session(workspace)
    call_hook(
        {
            "session_id": "lane-1",
            "cwd": str(workspace),
            "hook_event_name": "PostToolUse",
            "tool_name": "Write",
            "tool_input": {"file_path": str(tmp_path / "elsewhere.txt"), "content": "secret"},
            "tool_response": {"type": "create"},
            "tool_use_id": "toolu_out",
        }
    )
    (result,) = spooled(session_dir)
    assert result["data"]["edit"] == {
        "tool": "Write",
        "userModified": False,
        "outsideWorkspace": True,
    }


def test_stop_reads_the_transcript_once(workspace: Path, tmp_path: Path) -> None:
    session_dir = make_session(workspace)
    transcript = transcript_copy(workspace, tmp_path / "t.jsonl")
    stop = {
        "session_id": "98ca6252-193c-4ace-8490-8fba3fcc24ba",
        "transcript_path": str(transcript),
        "cwd": str(workspace),
        "prompt_id": "8a3f44a6-8b5e-4170-ab28-f570d8bdd672",
        "hook_event_name": "Stop",
        "last_assistant_message": "All done.",
    }
    call_hook(stop)
    first = spooled(session_dir)
    replies = by_kind(first, "ai_response")
    assert [r["data"]["text"] for r in replies] == ["Let me write a helper.", "All done."]
    assert replies[-1]["data"]["model"] == "claude-opus-5-5"
    assert replies[-1]["data"]["outputTokens"] == 30
    assert replies[-1]["source"]["channel"] == "import"
    # The Stop fallback for the same text has the same id, so it was not sent twice.
    assert replies[-1]["id"] == event_id(
        stop["session_id"], "ai_response", stop["prompt_id"], text_key("All done.")
    )
    call_hook({**stop, "hook_event_name": "SessionEnd", "reason": "other"})
    assert len(spooled(session_dir)) == len(first)  # nothing new since the last read


BAD_INPUTS = {
    "empty": b"",
    "not-json": b"{this is not json",
    "truncated": b'{"session_id": "s", "hook_event_name": "PreToolUse", "tool_inp',
    "a-list": b"[1, 2, 3]",
    "unknown-event": b'{"hook_event_name": "SomethingNew", "session_id": "s"}',
    "no-event-name": b'{"session_id": "s"}',
    "invalid-utf8": b'{"hook_event_name": "\xff\xfe"}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_payloads_are_recorded_as_skipped(workspace: Path, name: str) -> None:
    session_dir = make_session(workspace)
    done = run_hook(BAD_INPUTS[name], cwd=workspace)
    assert done.returncode == 0
    assert done.stdout == b""
    (warning,) = spooled(session_dir)
    assert warning["kind"] == "warning"
    assert warning["data"]["code"] == "hook_payload_skipped"
    assert "skipped" in warning["data"]["message"]


def test_odd_shapes_inside_a_known_event_do_not_break_it(workspace: Path) -> None:
    session_dir = make_session(workspace)
    odd: list[dict[str, Any]] = [
        {"hook_event_name": "PreToolUse", "cwd": str(workspace), "tool_input": "not an object"},
        {
            "hook_event_name": "PostToolUse",
            "cwd": str(workspace),
            "tool_name": 7,
            "tool_response": 3,
        },
        {"hook_event_name": "UserPromptSubmit", "cwd": str(workspace), "prompt": None},
        {
            "hook_event_name": "Stop",
            "cwd": str(workspace),
            "transcript_path": str(workspace / "nope"),
        },
        {"hook_event_name": "PostToolUseFailure", "cwd": str(workspace), "tool_name": "Bash"},
        {"hook_event_name": "Notification", "cwd": str(workspace), "message": "needs permission"},
    ]
    for payload in odd:
        call_hook(payload)
    events = spooled(session_dir)
    assert kinds(events) == ["tool_use", "tool_result", "prompt", "tool_result", "note"]
    assert all(event["data"].get("lane") == "unknown" for event in events)


def test_a_10_mb_prompt_is_bounded(workspace: Path) -> None:
    session_dir = make_session(workspace)
    prompt = "é" + "x" * (10 * 1024 * 1024)
    payload = {
        "session_id": "lane-1",
        "cwd": str(workspace),
        "hook_event_name": "UserPromptSubmit",
        "prompt": prompt,
    }
    done = run_hook(json.dumps(payload).encode(), cwd=workspace)
    assert done.returncode == 0
    assert done.stdout == b""
    (event,) = spooled(session_dir)
    assert event["data"]["length"] == len(prompt)
    assert event["data"]["truncated"] is True
    assert len(event["data"]["text"].encode()) <= 64 * 1024


def test_over_the_size_limit(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from promptster.integrations.claude import hook as claude_hook

    monkeypatch.setattr(claude_hook, "MAX_PAYLOAD", 1000)
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(workspace))  # as Claude Code sets it
    session_dir = make_session(workspace)
    call_hook(b'{"hook_event_name": "UserPromptSubmit", "prompt": "' + b"x" * 5000 + b'"}')
    (warning,) = spooled(session_dir)
    assert "over the 1,000-byte limit" in warning["data"]["message"]


def test_no_session_or_ended_session_writes_nothing(workspace: Path) -> None:
    payload = json.dumps({"hook_event_name": "UserPromptSubmit", "cwd": str(workspace)}).encode()
    assert run_hook(payload, cwd=workspace).returncode == 0
    assert not (workspace / ".promptster").exists()
    session_dir = make_session(workspace, status="submitted")
    done = run_hook(payload, cwd=workspace)
    assert (done.returncode, done.stdout) == (0, b"")
    assert spooled(session_dir) == []


def test_session_found_from_payload_cwd_below_the_workspace(
    workspace: Path, tmp_path: Path
) -> None:
    session_dir = make_session(workspace)
    sub = workspace / "pkg" / "deep"
    sub.mkdir(parents=True)
    payload = {
        "session_id": "lane-1",
        "cwd": str(sub),
        "hook_event_name": "PostToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "ls"},
        "tool_response": {"stdout": "a\nb", "stderr": ""},
        "tool_use_id": "toolu_ls",
    }
    done = run_hook(json.dumps(payload).encode(), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, b"")
    command = by_kind(spooled(session_dir), "command")[0]
    assert command["data"]["cwd"] == "pkg/deep"


def test_a_recorder_that_never_answers_does_not_hold_claude_code(workspace: Path) -> None:
    import socket
    import tempfile

    session_dir = make_session(workspace)
    folder = Path(tempfile.mkdtemp(prefix="pst-", dir="/tmp"))  # socket paths must be short
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(folder / "r.sock"))
        listener.listen(16)  # accepts connections, never reads or replies
        state = json.loads((session_dir / "session.json").read_text())
        state["socket"] = str(folder / "r.sock")
        (session_dir / "session.json").write_text(json.dumps(state))
        payload = {
            "session_id": "lane-1",
            "cwd": str(workspace),
            "hook_event_name": "PreToolUse",
            "tool_name": "Edit",
            "tool_input": {
                "file_path": str(workspace / "a.py"),
                "old_string": "a",
                "new_string": "b",
            },
            "tool_use_id": "toolu_hung",
        }
        done = run_hook(json.dumps(payload).encode(), cwd=workspace)
    finally:
        listener.close()
        (folder / "r.sock").unlink(missing_ok=True)
        folder.rmdir()
    assert (done.returncode, done.stdout) == (0, b"")
    assert kinds(spooled(session_dir)) == ["tool_use"]  # timed out, then spooled


def test_identical_prompts_without_a_prompt_id_stay_apart_and_dedupe_with_the_transcript(
    workspace: Path, tmp_path: Path
) -> None:
    # Issue 16 (6): three identical prompts without a prompt_id collapsed into one event.
    session_dir = make_session(workspace)
    lane = "lane-without-prompt-ids"
    transcript = tmp_path / "t.jsonl"
    transcript.write_text("")
    prompt = {
        "session_id": lane,
        "transcript_path": str(transcript),
        "cwd": str(workspace),
        "hook_event_name": "UserPromptSubmit",
        "prompt": "run the tests again",
    }
    records = []
    for n in range(3):
        call_hook(prompt)
        records.append(
            {
                "type": "user",
                "uuid": f"u{n}",
                "timestamp": f"2100-01-01T00:00:0{n}.000Z",
                "message": {"role": "user", "content": "run the tests again"},
            }
        )
    call_hook({**prompt, "prompt": "something else"})
    hooked = by_kind(spooled(session_dir), "prompt")
    assert len(hooked) == 4 and len({e["id"] for e in hooked}) == 4
    # The first keeps the id it always had; the transcript finds the same three.
    assert hooked[0]["id"] == event_id(lane, "prompt", text_key("run the tests again"))
    transcript.write_text("".join(json.dumps(r) + "\n" for r in records[:2]))
    from promptster.integrations.claude import transcript as ct

    first = ct.advance(session_dir, lane, str(transcript), str(workspace))
    with transcript.open("a") as handle:  # read in two steps: the count carries over
        handle.write(json.dumps(records[2]) + "\n")
    second = ct.advance(session_dir, lane, str(transcript), str(workspace))
    assert [e["id"] for e in first + second] == [e["id"] for e in hooked[:3]]
    backfilled = ct.read_transcript(transcript, lane=lane, workspace=str(workspace))
    assert [e["id"] for e in backfilled.events] == [e["id"] for e in hooked[:3]]


def test_a_shell_command_s_hook_asks_the_recorder_to_measure_last(workspace: Path) -> None:
    """PreToolUse of a shell tool: the snapshot, the event, then `command_start` naming the AI
    client (the hook's nearest ancestor that is not a shell: here this test's process) and the
    hook itself, as the hook's last write (attribution.md, "Hand saves during an AI command")."""
    import os
    import socket
    import tempfile
    import threading

    from promptster.integrations import proctree
    from support import require

    require(Path("/proc/self/stat").exists(), "Linux /proc is missing")
    session_dir = make_session(workspace)
    folder = Path(tempfile.mkdtemp(prefix="pst-", dir="/tmp"))  # socket paths must be short
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    requests: list[dict[str, Any]] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, conn.makefile("rwb") as stream:
                for line in stream:
                    request = json.loads(line)
                    requests.append(request)
                    seqs = list(range(len(request.get("events") or [])))
                    stream.write(json.dumps({"ok": True, "seqs": seqs}).encode() + b"\n")
                    stream.flush()

    try:
        listener.bind(str(folder / "r.sock"))
        listener.listen(16)
        server = threading.Thread(target=serve, daemon=True)
        server.start()
        state = json.loads((session_dir / "session.json").read_text())
        state["socket"] = str(folder / "r.sock")
        (session_dir / "session.json").write_text(json.dumps(state))
        payload = {
            "session_id": "lane-1",
            "cwd": str(workspace),
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "sleep 4 && python gen.py\necho done"},
            "tool_use_id": "toolu_sh",
        }
        done = run_hook(json.dumps(payload).encode(), cwd=workspace)
    finally:
        listener.close()
        (folder / "r.sock").unlink(missing_ok=True)
        folder.rmdir()
    assert (done.returncode, done.stdout) == (0, b"")
    assert [r["op"] for r in requests] == ["snapshot", "append", "command_start"]
    start = requests[-1]
    assert start["toolUseId"] == "toolu_sh" and start["command"] == "sleep 4 && python gen.py"
    assert start["client"] == list(proctree.ident(os.getpid()) or ())
    assert start["hook"][0] != os.getpid()
