"""The client contract (docs/recorder-protocol.md): finding a session, sending, spooling."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from promptster.protocol import (
    SessionHandle,
    append_to_spool,
    find_session,
    new_event,
    request,
    send_events,
)
from promptster.record.control import end_session, recorder_running
from promptster.record.lifecycle import StartedSession
from recorder_helpers import events_of, recorder_pid, wait_for


def fake_session(workspace: Path, status: str = "active") -> Path:
    session_dir = workspace / ".promptster"
    session_dir.mkdir(parents=True)
    body = {
        "sessionId": "s-1",
        "workspace": str(workspace),
        "socket": str(workspace / "missing.sock"),
        "startedAt": "2026-01-01T00:00:00.000Z",
        "status": status,
    }
    (session_dir / "session.json").write_text(json.dumps(body))
    return session_dir


def note(text: str) -> dict[str, object]:
    return new_event("note", {"text": text}, channel="cli", integration="test", emitter="test")


def test_find_session_walks_up_and_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMPTSTER_SESSION_DIR", raising=False)
    session_dir = fake_session(tmp_path / "ws")
    nested = tmp_path / "ws" / "src" / "deep"
    nested.mkdir(parents=True)
    handle = find_session(nested)
    assert handle is not None and handle.session_dir == session_dir and handle.active
    assert find_session(tmp_path) is None
    other = fake_session(tmp_path / "other", status="submitted")
    monkeypatch.setenv("PROMPTSTER_SESSION_DIR", str(other))
    handle = find_session(nested)
    assert handle is not None and handle.session_dir == other and not handle.active
    (other / "session.json").write_text("{broken")
    assert find_session() is None


def test_unreachable_recorder_means_spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMPTSTER_SESSION_DIR", raising=False)
    fake_session(tmp_path)
    handle = find_session(tmp_path)
    assert handle is not None
    first = send_events(handle, [note("a"), note("b")], revive=False)
    assert first.via == "spool" and first.acknowledged
    with handle.spool_path.open("ab") as spool:
        spool.write(b'{"torn')
    assert send_events(handle, [{"kind": "note", "data": {"text": "c"}}], revive=False).acknowledged
    lines = handle.spool_path.read_bytes().split(b"\n")
    assert [json.loads(line)["data"]["text"] for line in (lines[0], lines[1], lines[3])] == [
        "a",
        "b",
        "c",
    ]
    assert handle.spool_path.stat().st_mode & 0o777 == 0o600


def test_ended_sessions_refuse_events(tmp_path: Path) -> None:
    session_dir = fake_session(tmp_path, status="submitted")
    handle = SessionHandle(session_dir, "s-1", tmp_path, tmp_path / "x.sock", "submitted")
    result = send_events(handle, [note("too late")], revive=False)
    assert not result.acknowledged and result.via == "none"
    assert not handle.spool_path.exists()
    # A stale handle that still says "active" is caught under the spool lock.
    stale = SessionHandle(session_dir, "s-1", tmp_path, tmp_path / "x.sock", "active")
    assert not send_events(stale, [note("still too late")], revive=False).acknowledged
    with pytest.raises(OSError):
        append_to_spool(tmp_path / "no-such-dir" / "spool.jsonl", [note("x")])


def test_live_recorder_protocol(
    start_recording: Callable[..., StartedSession], tmp_path: Path
) -> None:
    session = start_recording(tmp_path)
    handle = find_session(tmp_path)
    assert handle is not None
    event = note("hello")
    sent = send_events(handle, [event])
    assert sent.via == "recorder" and sent.seqs == [1]
    assert send_events(handle, [event]).seqs == [1]  # same id: recorded once
    bad = request(handle, {"op": "append", "events": [{"kind": "note", "data": "not an object"}]})
    assert bad["ok"] is False and bad["code"] == "invalid"
    assert request(handle, {"op": "nope"})["code"] == "invalid"
    assert request(handle, {"op": "heartbeat", "source": "claude-code"})["ok"]
    status = request(handle, {"op": "status"})
    assert status["counts"]["note"] == 1 and "claude-code" in status["sources"]
    end_session(session.paths, "submit")
    ended = find_session(tmp_path)
    assert ended is not None and not ended.active
    assert not send_events(ended, [note("after")]).acknowledged
    assert [e["data"]["text"] for e in events_of(session.paths, "note")] == ["hello"]


def test_client_imports_nothing_heavy() -> None:
    heavy = ["click", "rich", "cryptography", "duckdb", "git", "watchdog", "jinja2"]
    code = f"import sys, promptster.protocol;print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_client_revives_a_dead_recorder(
    start_recording: Callable[..., StartedSession], tmp_path: Path
) -> None:
    session = start_recording(tmp_path)
    paths = session.paths
    pid = recorder_pid(paths)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not recorder_running(paths), what="the recorder to die")
    handle = find_session(tmp_path)
    assert handle is not None
    result = send_events(handle, [note("while it was down")])
    assert result.via == "spool"

    def codes() -> list[str]:
        return [e["data"]["code"] for e in events_of(paths, "warning")]

    wait_for(lambda: "spool_ingested" in codes(), what="the revived recorder to ingest the spool")
    assert "recorder_restart" in codes()
    assert [e["data"]["text"] for e in events_of(paths, "note")] == ["while it was down"]


def test_a_burst_of_clients_starts_exactly_one_recorder(
    start_recording: Callable[..., StartedSession], tmp_path: Path
) -> None:
    # Issue 16, finding 5: after one crash, every hook that noticed started a recorder.
    import threading

    from promptster.protocol import STARTING_FILE, revive_recorder

    session = start_recording(tmp_path)
    paths = session.paths
    pid = recorder_pid(paths)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not recorder_running(paths), what="the recorder to die")
    handle = find_session(tmp_path)
    assert handle is not None
    barrier = threading.Barrier(32)
    started: list[bool] = []

    def hook() -> None:
        barrier.wait()
        started.append(revive_recorder(handle))

    threads = [threading.Thread(target=hook) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert started.count(True) == 1
    wait_for(lambda: recorder_running(paths), what="the one revived recorder")
    wait_for(lambda: not (paths.root / STARTING_FILE).exists(), what="the marker to be removed")

    def restarts() -> list[object]:
        return [e for e in events_of(paths, "warning") if e["data"]["code"] == "recorder_restart"]

    wait_for(restarts, what="the revived recorder to record the gap")
    assert len(restarts()) == 1
