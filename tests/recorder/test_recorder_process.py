"""The recorder as a real background process: files, git, restarts, concurrency, time limit."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from promptster.bundle.verify import verify_bundle
from promptster.protocol import find_session, new_event, send_events
from promptster.record.control import ask, end_session, ensure_recorder, recorder_running
from promptster.record.journal import read_journal
from promptster.record.lifecycle import StartedSession
from promptster.record.session import ACTIVE, SUBMITTED, SessionPaths, read_state
from promptster.record.submit import write_submission
from recorder_helpers import (
    events_of,
    file_events,
    git,
    journal,
    recorder_pid,
    stop_recorder,
    wait_for,
)

Start = Callable[..., StartedSession]


def note(text: str) -> dict[str, object]:
    return new_event("note", {"text": text}, channel="cli", integration="test", emitter="test")


def test_every_kind_of_file_change_is_recorded_and_verifies(
    start_recording: Start, tmp_path: Path
) -> None:
    workspace = tmp_path / "my work – ünïcødé"
    workspace.mkdir()
    (workspace / "app.py").write_text("print('v1')\n")
    (workspace / "old.txt").write_text("bye\n")
    session = start_recording(workspace, brief="Do it", time_limit_minutes=60)
    paths = session.paths
    assert (workspace / "TASK.md").read_text().startswith("Do it")
    for secret in (paths.key, paths.state):
        assert secret.stat().st_mode & 0o777 == 0o600
    socket_path = Path(session.state.socket)
    assert socket_path.stat().st_mode & 0o777 == 0o600

    (workspace / "app.py").write_text("print('v2')\nprint('more')\n")  # a program writes
    wait_for(lambda: file_events(paths, "app.py"), what="edit of app.py")
    subprocess.run("echo 'made by redirection' > redirected.txt", shell=True, cwd=workspace)
    wait_for(lambda: file_events(paths, "redirected.txt"), what="shell redirection")
    tmp = workspace / ".app.py.swp-tmp"
    tmp.write_text("print('v3')\n")
    os.replace(tmp, workspace / "app.py")  # an editor's atomic save
    wait_for(lambda: len(file_events(paths, "app.py")) >= 2, what="atomic save")
    (workspace / "old.txt").unlink()
    (workspace / "pkg" / "deep").mkdir(parents=True)
    (workspace / "pkg" / "deep" / "mod.py").write_text("x = 1\n")
    wait_for(lambda: file_events(paths, "pkg/deep/mod.py"), what="file in a new folder")
    wait_for(lambda: file_events(paths, "old.txt"), what="delete")

    end_session(paths, "submit")
    result = write_submission(paths)
    report = verify_bundle(result.path)
    assert report.ok, report.failures
    kinds = {(e["kind"], e["data"]["path"]) for e in file_events(paths)}
    assert ("file_delete", "old.txt") in kinds
    assert ("file_create", "redirected.txt") in kinds
    assert ("file_create", "pkg/deep/mod.py") in kinds
    assert not recorder_running(paths)
    assert not socket_path.exists()


def test_ignored_trees_cause_no_snapshots(start_recording: Start, tmp_path: Path) -> None:
    session = start_recording(tmp_path, rescan_seconds=0.5)
    paths = session.paths
    status = ask(paths, {"op": "status"})
    head = status["lastSnapshot"]
    for index in range(2000):
        target = tmp_path / "node_modules" / f"pkg{index % 40}" / f"f{index}.js"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("module.exports = 1\n")
    (tmp_path / "marker.txt").write_text("after the churn\n")
    wait_for(lambda: file_events(paths, "marker.txt"), what="marker")
    assert {e["data"]["path"] for e in file_events(paths)} == {"marker.txt"}
    assert ask(paths, {"op": "status"})["lastSnapshot"] != head


def test_candidate_git_actions(start_recording: Start, tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.txt").write_text("one\n")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "before the session")
    session = start_recording(tmp_path)
    paths = session.paths
    assert "/.promptster/" in (tmp_path / ".git/info/exclude").read_text()
    (tmp_path / "a.txt").write_text("two\n")
    git(tmp_path, "commit", "-qam", "my change")
    git(tmp_path, "checkout", "-qb", "feature")
    (tmp_path / "a.txt").write_text("three\n")
    git(tmp_path, "stash")

    def actions() -> list[str]:
        return [e["data"]["action"] for e in events_of(paths, "git_action")]

    wait_for(lambda: {"commit", "checkout", "stash"} <= set(actions()), what="git actions")
    commits = [e["data"] for e in events_of(paths, "git_action") if e["data"]["action"] == "commit"]
    assert commits == [{"action": "commit", "commit": commits[0]["commit"], "message": "my change"}]
    assert "before the session" not in json.dumps(journal(paths))
    assert "/.promptster/" not in git(tmp_path, "ls-files")


def test_sigkill_mid_write_loses_nothing_acknowledged(
    start_recording: Start, tmp_path: Path
) -> None:
    session = start_recording(tmp_path)
    paths = session.paths
    handle = find_session(tmp_path)
    assert handle is not None
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        counter = 0
        while not stop.is_set():
            counter += 1
            event = note(f"event {counter}")
            if send_events(handle, [event], timeout=0.5, revive=False).acknowledged:
                acknowledged.append(str(event["id"]))

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(acknowledged) > 50, what="events flowing")
        pid = recorder_pid(paths)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not recorder_running(paths), what="the recorder to die")
        wait_for(lambda: paths.spool.exists() and paths.spool.stat().st_size > 0, what="spooling")
        with paths.journal.open("ab") as handle_file:
            handle_file.write(b'{"v":1,"id":"torn-by-the-kill","kind":"no')  # a half-written line
        check = ensure_recorder(paths)  # what the next `promptster` command does
        assert check.restarted
    finally:
        stop.set()
        thread.join(timeout=60)
    ask(paths, {"op": "ping"})
    end_session(paths, "abort")

    contents = read_journal(paths.journal, session.state.session_id)
    assert contents.intact, contents.problem
    ids = [e.id for e in contents.events]
    assert len(ids) == len(set(ids))
    missing = set(acknowledged) - set(ids)
    assert not missing, f"{len(missing)} acknowledged events lost"
    codes = [e.data.get("code") for e in contents.events if e.kind == "warning"]
    assert "recorder_restart" in codes and "spool_ingested" in codes
    restart = next(e for e in contents.events if e.data.get("code") == "recorder_restart")
    assert restart.data["gapMs"] >= 0 and restart.data["tornBytes"] > 0
    assert list(paths.root.glob("timeline.jsonl.torn-*"))
    assert read_state(paths).status == "aborted"


def test_two_starts_at_once_make_one_session(recorder_env: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path;"
        "from promptster.record.lifecycle import StartOptions, start_session;"
        "s = start_session(StartOptions(workspace=Path(sys.argv[1])));"
        "print(s.state.session_id)"
    )
    workspace = tmp_path / "shared"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(workspace)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    paths = SessionPaths(workspace / ".promptster")
    try:
        assert all(p.returncode == 0 for p in procs)
        assert len(set(outputs)) == 1
        assert len(events_of(paths, "session_start")) == 1
        assert recorder_running(paths)
    finally:
        stop_recorder(paths)


def test_time_limit_auto_submits(start_recording: Start, tmp_path: Path) -> None:
    session = start_recording(tmp_path, time_limit_minutes=0.05)
    paths = session.paths
    (tmp_path / "work.txt").write_text("done in time\n")
    wait_for(lambda: read_state(paths).status == SUBMITTED, what="automatic submission")
    state = read_state(paths)
    assert state.end_reason == "auto" and state.bundle is not None
    assert verify_bundle(Path(state.bundle["path"])).ok
    codes = [e["data"]["code"] for e in events_of(paths, "warning")]
    assert "time_expired" in codes
    assert events_of(paths, "session_end")[0]["data"]["reason"] == "auto"
    wait_for(lambda: not recorder_running(paths), what="the recorder to stop")


def test_time_warnings_reach_the_terminal(start_recording: Start, tmp_path: Path) -> None:
    master, slave = os.openpty()
    try:
        session = start_recording(tmp_path, time_limit_minutes=1.05)
        paths = session.paths
        assert ask(paths, {"op": "attach", "tty": os.ttyname(slave)})["attached"]
        warnings = lambda: [  # noqa: E731
            e["data"] for e in events_of(paths, "warning") if e["data"]["code"] == "time_warning"
        ]
        wait_for(warnings, what="the 1-minute warning")
        assert warnings()[0]["minutesLeft"] == 1
        output = b""

        def notice_arrived() -> bool:
            nonlocal output
            if select.select([master], [], [], 0.1)[0]:
                output += os.read(master, 4096)
            return b"1 minute left" in output

        wait_for(notice_arrived, what="the notice on the terminal")
        assert read_state(paths).status == ACTIVE
    finally:
        os.close(master)
        os.close(slave)


def test_file_events_are_attributed_as_they_are_written(
    start_recording: Start, tmp_path: Path
) -> None:
    session = start_recording(tmp_path)
    paths = session.paths
    handle = find_session(tmp_path)
    assert handle is not None
    content = "def slugify(text):\n    return '-'.join(text.lower().split())\n"
    claim = new_event(
        "tool_use",
        {
            "toolName": "Write",
            "toolUseId": "toolu_1",
            "input": {"file_path": str(tmp_path / "slug.py"), "content": content},
            "lane": "lane-1",
        },
        channel="hook",
        integration="claude-code",
        emitter="test",
        actor="ai",
    )
    assert send_events(handle, [claim]).via == "recorder"
    (tmp_path / "slug.py").write_text(content)  # what the AI tool then does
    wait_for(lambda: file_events(paths, "slug.py"), what="the AI's file")
    (tmp_path / "notes.md").write_text("written by hand\n")
    wait_for(lambda: file_events(paths, "notes.md"), what="the hand-written file")
    ai = file_events(paths, "slug.py")[0]
    human = file_events(paths, "notes.md")[0]
    assert ai["provenance"]["attribution"] == "likely_ai" and ai["data"]["aiLines"] == 2
    assert human["provenance"]["attribution"] == "likely_human"
    assert human["actor"]["type"] == "human"


def test_a_recorder_whose_session_folder_is_deleted_stops(
    start_recording: Start, tmp_path: Path
) -> None:
    session = start_recording(tmp_path / "gone")
    pid = recorder_pid(session.paths)
    assert pid is not None
    shutil.rmtree(tmp_path / "gone")

    def exited() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"

    wait_for(exited, what="the orphaned recorder to stop")


def test_a_burst_of_concurrent_clients_is_taken_without_spooling(
    start_recording: Start, tmp_path: Path
) -> None:
    # more simultaneous connections than socketserver's default backlog of 5: none of them
    # may be turned away (a refused connect would send its events to the spool)
    workspace = tmp_path / "burst"
    workspace.mkdir()
    paths = start_recording(workspace).paths
    handle = find_session(workspace)
    assert handle is not None
    outcomes: list[str] = []
    gate = threading.Barrier(32)

    def client(index: int) -> None:
        gate.wait()
        for n in range(10):
            outcomes.append(send_events(handle, [note(f"burst {index} {n}")]).via)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("recorder") == 320, sorted(set(outcomes))
    assert len(events_of(paths, "note")) == 320
