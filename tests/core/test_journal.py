"""The journal: one writer, hash-chained lines, fsync, torn-tail recovery, full disks."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptster.errors import EnvironmentProblem, FormatError, JournalLocked
from promptster.formats.events import Kind, format_ts, make_event
from promptster.formats.timeline import (
    MAX_LINE_BYTES,
    genesis_hash,
    iter_chain,
    line_hash,
    split_lines,
)
from promptster.record import journal as journal_module
from promptster.record.journal import JournalWriter, read_journal

SESSION = "0b5e55ed-0000-4000-8000-00000000beef"


def note(text: str = "x", ts: str = "2026-03-02T10:00:00.000Z") -> Any:
    return make_event(Kind.NOTE, {"text": text}, channel="cli", integration="t", emitter="t", ts=ts)


def assert_valid_chain(path: Path, count: int) -> None:
    """The file is exactly `count` lines that satisfy the chain and sequence rules."""
    split = split_lines(path.read_bytes())
    assert split.torn_tail == b""
    assert len(split.lines) == count
    for index, line, expected in iter_chain(split.lines, SESSION):
        body = json.loads(line)
        assert (body["seq"], body["prev"]) == (index, expected)


class TestAppend:
    def test_assigns_seq_prev_and_returns_the_event_as_written(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            assert (journal.next_seq, journal.head) == (0, genesis_hash(SESSION))
            first = journal.append(note("a"))
            second = journal.append(note("b"))
            assert (first.seq, first.prev) == (0, genesis_hash(SESSION))
            assert (second.seq, second.prev) == (1, line_hash(first.to_line()))
            assert journal.head == line_hash(second.to_line())
        assert path.read_bytes() == first.to_line() + b"\n" + second.to_line() + b"\n"
        assert path.stat().st_mode & 0o777 == 0o600

    def test_reopening_continues_the_chain(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            journal.append(note())
            head = journal.head
        with JournalWriter(path, SESSION) as journal:
            assert journal.recovery.event_count == 1
            assert journal.recovery.torn_bytes == 0
            assert (journal.next_seq, journal.head) == (1, head)
            assert journal.append(note()).prev == head
        assert_valid_chain(path, 2)

    def test_timestamps_are_normalised_and_kept_monotonic(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            a = journal.append(note(ts="2026-03-02T11:00:00.5+01:00"))
            b = journal.append(note(ts="2026-03-02T09:59:59.000Z"))  # the clock stepped back
            c = journal.append(note(ts="2026-03-02T10:00:01.123456Z"))
        assert [a.ts, b.ts, c.ts] == [
            "2026-03-02T10:00:00.500Z",
            "2026-03-02T10:00:00.500Z",
            "2026-03-02T10:00:01.123Z",
        ]
        with JournalWriter(path, SESSION) as journal:  # the last ts survives a restart
            assert journal.append(note(ts="2000-01-01T00:00:00.000Z")).ts == c.ts

    def test_unparseable_timestamp_is_refused_before_writing(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            with pytest.raises(FormatError, match="RFC 3339"):
                journal.append(note(ts="yesterday"))
            with pytest.raises(FormatError, match="no time zone"):
                journal.append(note(ts="2026-03-02T10:00:00"))
            assert journal.next_seq == 0
        assert path.read_bytes() == b""

    def test_oversized_event_is_refused_and_the_sequence_is_unchanged(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            with pytest.raises(FormatError, match=f"the limit is {MAX_LINE_BYTES:,}"):
                journal.append(note("x" * MAX_LINE_BYTES))
            assert journal.append(note()).seq == 0
        assert_valid_chain(path, 1)

    def test_closed_journal_refuses_appends_and_close_is_idempotent(self, tmp_path: Path) -> None:
        journal = JournalWriter(tmp_path / "timeline.jsonl", SESSION)
        journal.close()
        journal.close()
        with pytest.raises(EnvironmentProblem, match="closed"):
            journal.append(note())


class TestSingleWriter:
    def test_second_writer_in_the_same_process_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            journal.append(note())
            with pytest.raises(JournalLocked, match="another process is already writing") as info:
                JournalWriter(path, SESSION)
            assert info.value.exit_code == 3
            assert "send events to it" in info.value.hint
            journal.append(note())
        assert_valid_chain(path, 2)
        with JournalWriter(path, SESSION):  # closing released the lock
            pass

    def test_second_writer_in_another_process_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        script = textwrap.dedent(
            f"""
            from promptster.errors import JournalLocked
            from promptster.record.journal import JournalWriter
            try:
                JournalWriter({str(path)!r}, {SESSION!r})
            except JournalLocked as exc:
                print("locked:", exc.message)
            else:
                print("opened")
            """
        )
        with JournalWriter(path, SESSION) as journal:
            journal.append(note())
            result = subprocess.run(
                [sys.executable, "-c", script], capture_output=True, text=True, check=True
            )
            assert result.stdout.startswith("locked: another process is already writing")
            journal.append(note())
        assert_valid_chain(path, 2)
        after = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        assert after.stdout.strip() == "opened"


WRITER_SCRIPT = """
import os, sys
from promptster.formats.events import Kind, format_ts, make_event
from promptster.record import journal as j

path, session = sys.argv[1], sys.argv[2]
real_write = os.write

class TearingOS:
    # os, except that the 300th line is written only halfway, then the process waits to die.
    count = 0
    def __getattr__(self, name):
        return getattr(os, name)
    def write(self, fd, data):
        TearingOS.count += 1
        if TearingOS.count == 300:
            written = real_write(fd, bytes(data[: len(data) // 2]))
            print("torn", flush=True)
            sys.stdin.read()  # block until killed
        return real_write(fd, data)

j.os = TearingOS()
writer = j.JournalWriter(path, session)
for n in range(10_000):
    writer.append(make_event(Kind.NOTE, {"text": f"event {n}"}, channel="cli",
                             integration="t", emitter="t"))
"""


class TestCrashRecovery:
    def test_sigkill_mid_line_then_recover_and_continue(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, str(path), SESSION],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "torn"
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL

        contents = read_journal(path, SESSION)
        assert len(contents.events) == 299
        assert contents.problem is None
        assert contents.torn_tail and not contents.intact
        assert [e.data["text"] for e in contents.events[:2]] == ["event 0", "event 1"]
        torn = contents.torn_tail

        with JournalWriter(path, SESSION) as journal:  # the killed writer's lock is gone
            assert journal.recovery.event_count == 299
            assert journal.recovery.torn_bytes == len(torn)
            saved = journal.recovery.torn_saved_to
            assert saved is not None
            assert saved.name == "timeline.jsonl.torn-299"
            assert saved.read_bytes() == torn
            assert journal.append(note("after the crash")).seq == 299
        after = read_journal(path, SESSION)
        assert after.intact
        assert len(after.events) == 300
        assert after.events[-1].data["text"] == "after the crash"

    def test_a_second_torn_tail_does_not_overwrite_the_first(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            journal.append(note())
        for tail in (b'{"first', b'{"second'):
            with path.open("ab") as handle:
                handle.write(tail)
            with JournalWriter(path, SESSION) as journal:
                assert journal.recovery.torn_bytes == len(tail)
        assert (tmp_path / "timeline.jsonl.torn-1").read_bytes() == b'{"first'
        assert (tmp_path / "timeline.jsonl.torn-1.1").read_bytes() == b'{"second'
        assert_valid_chain(path, 1)

    def test_read_journal_stops_at_the_first_broken_line(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            for n in range(5):
                journal.append(note(str(n)))
        lines = path.read_bytes().split(b"\n")
        lines[2] = lines[2].replace(b'"text":"2"', b'"text":"two"')
        path.write_bytes(b"\n".join(lines))
        contents = read_journal(path, SESSION)
        assert [e.data["text"] for e in contents.events] == ["0", "1", "two"]
        assert contents.problem == "journal line 3 breaks the hash chain"
        assert not contents.intact

    def test_read_journal_reports_unparseable_lines(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        path.write_bytes(b"\xff\xfe\n")
        assert read_journal(path, SESSION).problem == "journal line 0 is not valid UTF-8 (byte 0)"
        path.write_bytes(b"x" * (MAX_LINE_BYTES + 1) + b"\n")
        problem = read_journal(path, SESSION).problem
        assert problem is not None and f"the limit is {MAX_LINE_BYTES:,}" in problem

    def test_read_journal_of_another_session_breaks_at_line_0(self, tmp_path: Path) -> None:
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            journal.append(note())
        contents = read_journal(path, "another-session")
        assert contents.events == []
        assert contents.problem == "journal line 0 breaks the hash chain"


class _FullDiskOS:
    """`os` for the journal module, with writes that stop halfway through with ENOSPC."""

    def __init__(self, fail_truncate: bool = False) -> None:
        self.full = False
        self.fail_truncate = fail_truncate

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: Any) -> int:
        if not self.full:
            return os.write(fd, data)
        if len(data) > 1:
            return os.write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def ftruncate(self, fd: int, length: int) -> None:
        if self.fail_truncate:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        os.ftruncate(fd, length)


class TestFullDisk:
    def test_enospc_mid_line_leaves_a_valid_journal(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake = _FullDiskOS()
        monkeypatch.setattr(journal_module, "os", fake)
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            journal.append(note("before"))
            fake.full = True
            with pytest.raises(EnvironmentProblem, match="No space left on device") as info:
                journal.append(note("lost"))
            assert info.value.exit_code == 3
            assert "intact up to the last event" in info.value.hint
            assert_valid_chain(path, 1)  # the half-written line was cut off
            fake.full = False
            assert journal.append(note("after")).seq == 1
        contents = read_journal(path, SESSION)
        assert contents.intact
        assert [e.data["text"] for e in contents.events] == ["before", "after"]

    def test_unrepairable_write_failure_stops_the_writer(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake = _FullDiskOS(fail_truncate=True)
        monkeypatch.setattr(journal_module, "os", fake)
        path = tmp_path / "timeline.jsonl"
        with JournalWriter(path, SESSION) as journal:
            journal.append(note("before"))
            fake.full = True
            with pytest.raises(EnvironmentProblem):
                journal.append(note("lost"))
            fake.full = False
            with pytest.raises(EnvironmentProblem, match="could not be repaired"):
                journal.append(note("refused"))
        monkeypatch.undo()
        with JournalWriter(path, SESSION) as journal:  # a restart recovers the valid prefix
            assert journal.recovery.event_count == 1
            assert journal.recovery.torn_bytes > 0
        assert read_journal(path, SESSION).intact

    def test_enospc_on_a_real_tiny_tmpfs(self, tmp_path: Path) -> None:
        mount_point = tmp_path / "tiny"
        mount_point.mkdir()
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
            capture_output=True,
        )
        if mounted.returncode != 0:
            pytest.skip("mounting a tmpfs is not permitted here (optional test)")
        try:
            path = mount_point / "timeline.jsonl"
            written = 0
            with JournalWriter(path, SESSION) as journal:
                with pytest.raises(EnvironmentProblem, match="No space left on device"):
                    for n in range(10_000):
                        journal.append(note(f"{n:05d} " + "y" * 900))
                        written += 1
                assert 10 < written < 10_000
            contents = read_journal(path, SESSION)
            assert contents.intact
            assert len(contents.events) == written
        finally:
            subprocess.run(["umount", str(mount_point)], check=True)


class TestFsync:
    def test_close_fsyncs(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        synced: list[int] = []
        real = os.fsync

        def fsync(fd: int) -> None:
            synced.append(fd)
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        journal = JournalWriter(tmp_path / "timeline.jsonl", SESSION)
        journal.append(note())
        before = len(synced)
        journal.close()
        assert len(synced) == before + 1

    def test_background_thread_fsyncs_dirty_journals(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(journal_module, "FSYNC_INTERVAL_S", 0.02)
        synced = threading.Event()
        real = os.fsync

        def fsync(fd: int) -> None:
            synced.set()
            real(fd)

        with JournalWriter(tmp_path / "timeline.jsonl", SESSION) as journal:
            monkeypatch.setattr(os, "fsync", fsync)
            journal.append(note())
            assert synced.wait(timeout=60), "the fsync thread never synced"
            synced.clear()
            journal.sync()  # nothing new to sync: no call
            assert not synced.is_set()


texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
json_data = st.dictionaries(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
    st.none() | st.booleans() | st.integers() | texts | st.lists(st.integers(), max_size=3),
    max_size=4,
)
kinds = st.sampled_from(["note", "prompt", "command", "warning"]) | st.from_regex(
    r"[a-z_]{1,12}", fullmatch=True
)
offsets = st.integers(min_value=-5_000, max_value=60_000)  # ms; negative = clock stepped back


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(kinds, json_data, offsets), max_size=25), st.integers(0, 3))
def test_write_read_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    items: list[tuple[str, dict[str, Any], int]],
    reopen_every: int,
) -> None:
    path = tmp_path_factory.mktemp("journal") / "timeline.jsonl"
    clock = datetime(2026, 3, 2, 10, tzinfo=UTC)
    written = []
    journal = JournalWriter(path, SESSION)
    for n, (kind, data, offset) in enumerate(items):
        if reopen_every and n and n % (reopen_every + 1) == 0:
            journal.close()
            journal = JournalWriter(path, SESSION)
        clock += timedelta(milliseconds=offset)
        event = make_event(
            kind, data, channel="cli", integration="t", emitter="t", ts=format_ts(clock)
        )
        written.append(journal.append(event).to_line())
    journal.close()

    contents = read_journal(path, SESSION)
    assert contents.intact
    assert [e.to_line() for e in contents.events] == written
    assert [e.seq for e in contents.events] == list(range(len(items)))
    stamps = [e.ts for e in contents.events]
    assert stamps == sorted(stamps)
    assert [(e.kind, e.data) for e in contents.events] == [(k, d) for k, d, _ in items]
