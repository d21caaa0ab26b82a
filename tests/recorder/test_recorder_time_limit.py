"""The time limit binds on the recorder side (issue 16, finding 2): the deadline comes from the
signed pack and the session's first event, time runs on the boot clock, and a changed wall
clock or an edited session.json leaves a warning in the timeline."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from promptster.formats.events import Event, format_ts, parse_ts
from promptster.issue.assessment import AssessmentPack, KdfParams, PackKey, hash_key, sign_pack
from promptster.issue.keys import CandidateKey, check_symbol
from promptster.record.control import ensure_recorder, recorder_running
from promptster.record.lifecycle import StartedSession
from promptster.record.pipeline import EventPipeline
from promptster.record.session import update_state
from promptster.record.synth import SYNTH_REVIEWER
from promptster.record.timelimit import SessionClock, signed_deadline
from recorder_helpers import events_of, file_events, recorder_pid, stop_recorder, wait_for

Start = Callable[..., StartedSession]
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
KEY = CandidateKey("CKCKCKC" + check_symbol("CKCKCKC"))


class FakeClocks:
    """A wall clock the candidate can set, and a boot clock that only moves forward."""

    def __init__(self) -> None:
        self.wall_time = T0
        self.boot_time = 1000.0

    def wall(self) -> datetime:
        return self.wall_time

    def boot(self) -> float:
        return self.boot_time

    def advance(self, seconds: float) -> None:
        self.wall_time += timedelta(seconds=seconds)
        self.boot_time += seconds


def test_setting_the_clock_back_or_forward_does_not_change_session_time() -> None:
    clocks = FakeClocks()
    clock = SessionClock(wall=clocks.wall, boot=clocks.boot)
    clocks.advance(30)
    assert clock.now() == T0 + timedelta(seconds=30) and clock.jump() is None
    clocks.wall_time -= timedelta(hours=1)  # clock back
    clocks.advance(45)
    assert clock.now() == T0 + timedelta(seconds=75)  # 75 s in: past a 1-minute limit
    back = clock.jump()
    assert back is not None and round(back.total_seconds()) == -3600
    assert clock.jump() is None  # reported once
    clocks.wall_time += timedelta(hours=3)  # clock forward
    forward = clock.jump()
    assert forward is not None and round(forward.total_seconds()) == 3 * 3600
    assert clock.now() == T0 + timedelta(seconds=75)


def test_a_restart_after_the_clock_was_set_back_starts_from_the_journal() -> None:
    clocks = FakeClocks()
    last_event = T0 + timedelta(minutes=10)
    clock = SessionClock(wall=clocks.wall, boot=clocks.boot, not_before=last_event)
    assert clock.now() == last_event
    assert clock.set_back_at_start == timedelta(minutes=10)


def test_a_late_event_is_late_by_the_session_clock_even_with_a_frozen_timestamp(
    tmp_path: Path,
) -> None:
    from promptster.formats.events import make_event
    from promptster.record.journal import JournalWriter

    with JournalWriter(tmp_path / "j.jsonl", "s") as journal:
        pipeline = EventPipeline(journal, T0 + timedelta(minutes=1), None)
        pipeline.clock_offset = lambda: -timedelta(hours=1)  # the wall clock is 1 h behind
        event = make_event(
            "note",
            {"text": "x"},
            channel="cli",
            integration="test",
            emitter="test",
            ts=format_ts(T0 + timedelta(seconds=75) - timedelta(hours=1)),  # 75 s in
        )
        pipeline.append_client([event])
        pipeline.close()
    (written,) = [json.loads(line) for line in (tmp_path / "j.jsonl").read_bytes().splitlines()][:1]
    assert written["data"]["afterDeadline"] is True


def _journal(path: Path, data: dict[str, object]) -> None:
    line = {"kind": "session_start", "ts": format_ts(T0), "data": data}
    path.write_text(json.dumps(line) + "\n")


def _pack(limit: int) -> bytes:
    salt, kdf = b"c" * 16, KdfParams(n=2**10)
    pack = AssessmentPack(
        assessment_id="asm-clock", org="Example", role="Backend", brief="x",
        time_limit_minutes=limit, repo=None, reviewer_public_key=SYNTH_REVIEWER.public,
        keys=(PackKey("k", salt, hash_key(KEY, salt, kdf), T0 + timedelta(days=30), False),),
        issued_at=T0 - timedelta(days=1), kdf=kdf,
    )  # fmt: skip
    return sign_pack(pack, SYNTH_REVIEWER)


def test_the_deadline_comes_from_the_signed_pack_not_the_session_file(tmp_path: Path) -> None:
    journal, pack = tmp_path / "timeline.jsonl", tmp_path / "assessment.json"
    _journal(journal, {"deadline": format_ts(T0 + timedelta(minutes=60))})
    pack.write_bytes(_pack(45))
    edited = format_ts(T0 + timedelta(hours=5))
    found = signed_deadline(journal, pack, edited)
    assert found.deadline == T0 + timedelta(minutes=45) and found.source == "pack"
    assert found.mismatch == edited
    # A pack changed on disk no longer verifies: the session_start's deadline is used.
    pack.write_bytes(_pack(45).replace(b'"payload":"', b'"payload":"e', 1))
    fallback = signed_deadline(journal, pack, None)
    assert fallback.deadline == T0 + timedelta(minutes=60) and fallback.source == "session_start"
    assert fallback.mismatch == "none"  # the deadline was removed from session.json
    exact = signed_deadline(journal, tmp_path / "missing.json", format_ts(T0 + timedelta(hours=1)))
    assert exact.mismatch is None


def test_an_edited_session_file_is_recorded_and_ignored(
    start_recording: Start, tmp_path: Path
) -> None:
    session = start_recording(tmp_path, time_limit_minutes=60)
    paths = session.paths
    signed = parse_ts(str(session.state.deadline))
    stop_recorder(paths)

    def more_time(state: object) -> None:
        state.deadline = format_ts(signed + timedelta(hours=2))  # type: ignore[attr-defined]

    update_state(paths, more_time)
    ensure_recorder(paths)
    warning = wait_for(
        lambda: [
            e for e in events_of(paths, "warning") if e["data"]["code"] == "deadline_mismatch"
        ],
        what="the deadline_mismatch warning",
    )
    assert warning[0]["data"]["deadline"] == format_ts(signed)
    assert warning[0]["data"]["claimed"] == format_ts(signed + timedelta(hours=2))


def _file_event(ts: datetime, written: datetime | None) -> Event:
    from promptster.formats.events import make_event

    data: dict[str, object] = {"path": "a.py", "commit": "c", "linesAdded": 1, "linesRemoved": 0}
    if written is not None:
        data["writtenDuringGapAt"] = format_ts(written)
    return make_event(
        "file_diff",
        data,
        channel="watcher",
        integration="promptster",
        emitter="t",
        ts=format_ts(ts),
    )


def test_a_file_written_while_the_recorder_was_down_is_judged_by_when_it_was_written(
    tmp_path: Path,
) -> None:
    # Issue 16 (6): after a crash, a file written before the deadline was flagged late because
    # the restarted recorder (after the deadline) only saw it then.
    from promptster.record.journal import JournalWriter

    deadline = T0 + timedelta(minutes=1)
    after = deadline + timedelta(minutes=5)
    with JournalWriter(tmp_path / "j.jsonl", "s") as journal:
        pipeline = EventPipeline(journal, deadline, None)
        pipeline.append_system([_file_event(after, deadline - timedelta(seconds=10))])
        pipeline.append_system([_file_event(after, deadline + timedelta(seconds=10))])
        pipeline.append_system([_file_event(after, None)])
        pipeline.close()
    written = [json.loads(line) for line in (tmp_path / "j.jsonl").read_bytes().splitlines()]
    files = [e for e in written if e["kind"] == "file_diff"]
    assert [e["data"].get("afterDeadline", False) for e in files] == [False, True, True]


def test_the_first_snapshot_after_a_crash_keeps_the_files_write_times(
    start_recording: Start, tmp_path: Path
) -> None:
    session = start_recording(tmp_path / "ws", time_limit_minutes=60)
    paths = session.paths
    pid = recorder_pid(paths)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not recorder_running(paths), what="the recorder to die")
    down = datetime.now(UTC)
    in_gap = tmp_path / "ws" / "in_gap.py"
    in_gap.write_text("x = 1\n")
    written = datetime.fromtimestamp(in_gap.stat().st_mtime, UTC)
    backdated = tmp_path / "ws" / "backdated.py"
    backdated.write_text("y = 2\n")
    old = (down - timedelta(hours=3)).timestamp()
    os.utime(backdated, (old, old))
    ensure_recorder(paths)
    found = wait_for(
        lambda: (
            {e["data"]["path"]: e for e in file_events(paths)}
            if len(file_events(paths)) >= 2
            else None
        ),
        what="the gap's file events",
    )
    assert found["in_gap.py"]["data"]["writtenDuringGapAt"] == format_ts(written)
    assert "writtenDuringGapAt" not in found["backdated.py"]["data"]  # outside the gap
    assert [e["data"]["code"] for e in events_of(paths, "warning")] == ["recorder_restart"]
