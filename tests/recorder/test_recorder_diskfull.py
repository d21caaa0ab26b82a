"""A full disk while recording (a real, tiny tmpfs): clear errors, a valid journal, recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from promptster.bundle.verify import verify_bundle
from promptster.protocol import find_session, new_event, send_events
from promptster.record.control import ask, end_session, ensure_recorder, recorder_running
from promptster.record.journal import read_journal
from promptster.record.lifecycle import StartedSession
from promptster.record.submit import write_submission
from recorder_helpers import (
    recorder_pid,
    run_promptster,
    stop_recorder,
    wait_for,
)
from support import require


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small disk"
    mount_point.mkdir()
    require(hasattr(os, "geteuid") and os.geteuid() == 0, "mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    require(done.returncode == 0, f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "node_modules" / "filler.bin"  # ignored: it is not snapshotted
    filler.parent.mkdir(exist_ok=True)
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def note(text: str) -> dict[str, object]:
    return new_event("note", {"text": text}, channel="cli", integration="test", emitter="test")


def test_disk_full_is_reported_and_the_journal_stays_valid(
    small_disk: Path, start_recording: Callable[..., StartedSession], tmp_path: Path
) -> None:
    session = start_recording(small_disk)
    paths = session.paths
    handle = find_session(small_disk)
    assert handle is not None
    assert send_events(handle, [note("before")]).via == "recorder"

    filler = fill(small_disk)
    refused = send_events(handle, [note("x" * 20000) for _ in range(20)])
    assert not refused.acknowledged
    assert refused.error is not None and "space" in refused.error.lower()
    cli = run_promptster("note", "x" * 50000, cwd=small_disk)
    assert cli.returncode == 3
    assert "space" in cli.stderr.lower() and "hint:" in cli.stderr, cli.stderr
    status = json.loads(run_promptster("status", "--json", cwd=small_disk).stdout)
    assert status["problem"] and "space" in status["problem"].lower()

    contents = read_journal(paths.journal, session.state.session_id)
    assert contents.intact, contents.problem

    filler.unlink()  # room again: recording carries on
    assert send_events(handle, [note("after")]).via == "recorder"
    wait_for(lambda: ask(paths, {"op": "status"})["problem"] is None, what="recovery")
    # What was refused and never arrived is in the timeline (issue 16, finding 4).
    gaps = wait_for(
        lambda: [
            e
            for e in read_journal(paths.journal, session.state.session_id).events
            if e.kind == "warning" and e.data.get("code") == "capture_gap"
        ],
        what="the capture_gap warning",
    )
    assert gaps[0].data["count"] >= 20 and gaps[0].data["kinds"].get("note", 0) >= 20
    assert "space" in gaps[0].data["message"].lower()
    end_session(paths, "submit")
    result = write_submission(paths, tmp_path / "out.pst")
    assert verify_bundle(result.path).ok
    final = read_journal(paths.journal, session.state.session_id)
    texts = [e.data.get("text") for e in final.events]
    assert texts.count("before") == 1 and texts.count("after") == 1
    stop_recorder(paths)


def test_a_count_of_refused_events_outlives_a_recorder_killed_on_a_full_disk(
    small_disk: Path, start_recording: Callable[..., StartedSession]
) -> None:
    """The journal and the spool both fail (one full disk), and the recorder that counted the
    refusals in memory dies before it can record them: the loss ledger (losses.py, written in
    place on the full disk) lets the next recorder record the count (issue 16, finding 4)."""
    session = start_recording(small_disk)
    paths = session.paths
    handle = find_session(small_disk)
    assert handle is not None
    assert send_events(handle, [note("before")]).via == "recorder"
    filler = fill(small_disk)
    for _ in range(3):
        refused = send_events(handle, [note("y" * 20000) for _ in range(7)], revive=False)
        assert refused.via == "none", refused  # not recorded, not spooled either
    ledger = json.loads((paths.root / "losses.json").read_bytes())
    assert ledger["open"] >= 21 and ledger["kinds"]["note"] >= 21
    pid = recorder_pid(paths)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # the in-memory count dies with it
    wait_for(lambda: not recorder_running(paths), what="the recorder to die")
    filler.unlink()
    ensure_recorder(paths)
    gaps = wait_for(
        lambda: [
            e
            for e in read_journal(paths.journal, session.state.session_id).events
            if e.kind == "warning" and e.data.get("code") == "capture_gap"
        ],
        what="the capture_gap warning from the ledger",
    )
    assert gaps[0].data["count"] >= 21 and gaps[0].data["upTo"] is True
    assert gaps[0].data["kinds"]["note"] >= 21
    wait_for(
        lambda: json.loads((paths.root / "losses.json").read_bytes())["open"] == 0,
        what="the ledger to be settled",
    )
    stop_recorder(paths)


def test_events_a_hook_could_neither_send_nor_spool_are_counted(
    small_disk: Path, start_recording: Callable[..., StartedSession]
) -> None:
    """The recorder is down and the disk is full, so a capture source can neither send nor
    spool: it counts what it dropped in the client loss ledger (allocated by the recorder,
    rewritten in place), and the next recorder records the count (issue 16, finding 4)."""
    session = start_recording(small_disk)
    paths = session.paths
    handle = find_session(small_disk)
    assert handle is not None
    assert send_events(handle, [note("before")]).via == "recorder"
    pid = recorder_pid(paths)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not recorder_running(paths), what="the recorder to die")
    filler = fill(small_disk)
    for _ in range(2):
        dropped = send_events(handle, [note("z" * 20000) for _ in range(5)], revive=False)
        assert dropped.via == "none" and "spool failed too" in str(dropped.error), dropped
    ledger = json.loads((paths.root / "losses-clients.json").read_bytes())
    assert ledger["open"] == 10 and ledger["kinds"] == {"note": 10}
    filler.unlink()
    ensure_recorder(paths)
    gaps = wait_for(
        lambda: [
            e
            for e in read_journal(paths.journal, session.state.session_id).events
            if e.kind == "warning"
            and e.data.get("code") == "capture_gap"
            and e.data.get("source") == "clients"
        ],
        what="the capture_gap warning from the client ledger",
    )
    assert len(gaps) == 1
    assert gaps[0].data["count"] == 10 and gaps[0].data["kinds"] == {"note": 10}
    wait_for(
        lambda: json.loads((paths.root / "losses-clients.json").read_bytes())["open"] == 0,
        what="the client ledger to be taken off",
    )
    assert send_events(handle, [note("after")]).via == "recorder"
    stop_recorder(paths)
