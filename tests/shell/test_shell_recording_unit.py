"""The recording pieces without a terminal: events from marks, redaction warnings, a failing
recording, the session ending, the pipe sink's bound, the worker process, and delivery to a
dead recorder and to an ended session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import promptster
from promptster.protocol import SESSION_FILE, load_handle
from promptster.record.shell import prestart
from promptster.record.shell.cast import CastEncoder, CastFile, CastHeader
from promptster.record.shell.cast_reader import read_cast
from promptster.record.shell.commands import CommandAssembler, OutputExcerpt
from promptster.record.shell.events import EventSender
from promptster.record.shell.osc import MarkParser
from promptster.record.shell.pipe import (
    FRAME,
    HOLD_S,
    READY,
    FrameReader,
    PipeSink,
    merged,
    worker_config,
)
from promptster.record.shell.recording import ShellRecording

TOKEN = "t0k3n"
WS = "/work/space"


def mark(kind: str, **fields: object) -> bytes:
    body = ";".join(f"{k}={v}" for k, v in fields.items())
    return f"\x1b]6973;{TOKEN};{kind};{body}\x07".encode()


def one_command(line: str, output: bytes, exit_code: int, t0: int = 10**15) -> bytes:
    start = mark("start", lvl=1, pid=9, t0=t0, cwd=WS, cmd=line.replace(" ", "%20"))
    end = mark(
        "end", lvl=1, pid=9, exit=exit_code, ran=1, t0=t0, t1=t0 + 2_500_000, src="none", cwd=WS
    )
    return b"\x1b]133;B\x07" + line.encode() + b"\r\n\x1b]133;C\x07" + start + output + end


class FakeSender:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def send(self, events: list[dict[str, Any]]) -> None:
        self.events += events


def recording(tmp_path: Path, **options: Any) -> tuple[ShellRecording, FakeSender, Path]:
    sender = FakeSender()
    path = tmp_path / "0.cast"
    rec = ShellRecording(
        cast=CastFile(path, CastHeader(80, 24, time.time())),
        encoder=options.pop("encoder", CastEncoder()),
        assembler=options.pop("assembler", CommandAssembler(WS)),
        sender=sender,  # type: ignore[arg-type]
        **options,
    )
    return rec, sender, path


PYTEST_TAIL = b"FAILED test_x.py::test_b - assert 1 == 2\r\n=== 1 failed, 3 passed in 0.12s ===\r\n"


def test_marks_become_command_and_test_run_events(tmp_path: Path) -> None:
    rec, sender, path = recording(tmp_path)
    parser = MarkParser(TOKEN)
    stream = one_command("pytest -q", b"..F.\r\n" + PYTEST_TAIL, 1)
    for i in range(0, len(stream), 7):  # in small reads
        rec.output(i / 1000, parser.parse(stream[i : i + 7]))
    stats = rec.close()
    kinds = [e["kind"] for e in sender.events]
    assert kinds == ["command", "test_run"]
    command, run = sender.events
    assert command["data"]["command"] == "pytest -q"
    assert command["data"]["exitCode"] == 1 and command["data"]["durationMs"] == 2500
    assert command["ts"] == "2001-09-09T01:46:42.500Z"  # when it ended
    assert run["data"]["failed"] == 1 and run["data"]["passed"] == 3
    assert run["data"]["commandEventId"] == command["id"]
    assert (stats.commands, stats.test_runs) == (1, 1)
    text = "".join(e[2] for e in read_cast(path.read_bytes()).events if e[1] == "o")
    assert "1 failed, 3 passed" in text and "6973" not in text


def test_secrets_in_the_cast_give_one_redaction_warning(tmp_path: Path) -> None:
    rec, sender, path = recording(tmp_path, assembler=None)
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    rec.output(0.1, [f"echo {secret}\r\n".encode()])
    rec.close()
    assert secret not in path.read_text()
    [warning] = sender.events
    assert warning["data"]["code"] == "redaction" and warning["data"]["count"] == 1
    assert warning["data"]["kinds"] == {"github_token": 1}
    assert secret not in json.dumps(warning)


def test_the_pipe_sink_never_blocks_and_reports_what_it_left_out() -> None:
    read_end, write_end = os.pipe()
    sink = PipeSink(write_end, limit=256 * 1024)
    chunk = b"y" * 65536
    for i in range(200):  # nobody reads: the pipe fills, then the buffer, then a gap
        sink.output(i / 100, chunk)
    assert sink.wants_write()
    reader = FrameReader(read_end)
    os.set_blocking(read_end, False)
    frames = []
    while sink.wants_write() or reader.wait(0):
        if reader.wait(0):
            frames += reader.frames()
        sink.flush()
    sink.output(3.0, b"after")
    frames += reader.frames()
    kinds = [k for k, _, _ in frames]
    assert kinds[-2:] == [b"g", b"o"]
    kept = sum(len(d) for k, _, d in frames if k == b"o" and d != b"after")
    gap = int(frames[-2][2])
    assert kept + gap == 200 * len(chunk) and gap > 0
    os.close(read_end)
    sink.output(4.0, b"x" * 10)
    sink.flush()
    assert sink.broken  # the worker's end has gone: nothing more, and no exception
    os.close(write_end)


def test_the_pipe_sink_holds_frames_read_close_together_for_one_write() -> None:
    read_end, write_end = os.pipe()
    sink = PipeSink(write_end)
    reader = FrameReader(read_end)
    sink.output(1.0, b"a")  # the first after a quiet moment goes at once
    sink.output(1.001, b"b")  # held for the next write
    sink.resize(1.002, 100, 30)
    assert [d for _, _, d in reader.frames()] == [b"a"]
    assert sink.hold_timeout() == HOLD_S and not sink.wants_write()
    sink.output(1.0 + HOLD_S, b"c")  # HOLD_S after the last write: all that waits goes
    assert [(k, t, d) for k, t, d in reader.frames()] == [
        (b"o", 1.001, b"b"), (b"r", 1.002, b"100x30"), (b"o", 1.0 + HOLD_S, b"c")
    ]  # fmt: skip
    sink.output(1.0 + HOLD_S * 1.5, b"d")
    assert sink.hold_timeout() is not None
    sink.flush()  # what the loop does once the hold timeout passes quietly
    assert [d for _, _, d in reader.frames()] == [b"d"]
    assert sink.hold_timeout() is None
    os.close(read_end)
    os.close(write_end)


def test_the_worker_process_records_frames_into_a_cast(tmp_path: Path) -> None:
    cast = tmp_path / "0.cast"
    header = {"width": 80, "height": 24, "timestamp": time.time(), "env": {},
              "title": None, "session_id": None, "shell": "bash"}  # fmt: skip
    config = worker_config(
        session_dir=tmp_path, cast_path=cast, header=header, token=TOKEN,
        workspace=WS, cwd=WS, shell="bash", note="", origin_wall=time.time(),
    )  # fmt: skip
    stream = one_command("echo hi", b"hi\r\n", 0)
    chunks = [stream[i : i + 5] for i in range(0, len(stream), 5)]
    blob = config.encode()
    frames = FRAME.pack(b"c", 0.0, len(blob)) + blob  # the configuration first
    frames += b"".join(FRAME.pack(b"o", 0.1, len(c)) + c for c in chunks)
    frames += FRAME.pack(b"r", 0.2, 5) + b"90x30" + FRAME.pack(b"g", 0.3, 2) + b"42"
    done = subprocess.run(
        [sys.executable, "-m", "promptster.record.shell.pipe"],
        input=frames[:-3],  # a torn last frame is dropped
        capture_output=True,
        timeout=300,
        check=True,
    )
    ready, summary_line = done.stdout.decode().splitlines()
    assert ready + "\n" == READY  # said once configured, before any output: the shell waits for it
    summary = json.loads(summary_line)
    assert summary["recording"]["commands"] == 1 and summary["delivery"] is None
    events = read_cast(cast.read_bytes()).events
    assert ["r", "90x30"] in [[e[1], e[2]] for e in events]
    assert "hi" in "".join(e[2] for e in events if e[1] == "o")


def test_a_worker_whose_stdin_ends_before_its_configuration_exits_quietly() -> None:
    """`promptster shell` starts the worker first thing; when the command then fails (no
    session, a nested shell), the worker's stdin ends before any configuration."""
    done = subprocess.run(
        [sys.executable, "-m", "promptster.record.shell.pipe"],
        input=b"",
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_the_worker_started_first_is_taken_once_and_ends_with_its_stdin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the console script does for `promptster shell` (entry.py): the worker starts
    before the CLI; `run_recorded_shell` takes it; unused, it ends when its stdin closes."""
    monkeypatch.delenv(prestart.RECORDED_SHELL_ENV, raising=False)
    prestart.prestart()
    worker = prestart.take_worker()
    assert worker is not None and prestart.take_worker() is None
    assert worker.stdin is not None
    worker.stdin.close()  # as when `promptster shell` fails before starting a shell
    assert worker.wait(timeout=300) == 0
    assert worker.stdout is not None and worker.stdout.read() == b""
    monkeypatch.setenv(prestart.RECORDED_SHELL_ENV, "t")  # inside a recorded shell: refused
    prestart.prestart()
    assert prestart.take_worker() is None


def test_a_worker_that_cannot_import_writes_why_to_the_shells_log(tmp_path: Path) -> None:
    """The worker imports before it knows its log; the error waits for the configuration."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "uuid.py").write_text("raise ImportError('a broken install')\n")
    log = tmp_path / "0.log"
    config = worker_config(
        session_dir=tmp_path, cast_path=tmp_path / "0.cast", header={}, token=None,
        workspace=WS, cwd=WS, shell="bash", note="", origin_wall=time.time(), log=log,
    )  # fmt: skip
    blob = config.encode()
    src = Path(promptster.__file__).parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "promptster.record.shell.pipe"],
        input=FRAME.pack(b"c", 0.0, len(blob)) + blob,
        capture_output=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(broken), str(src)])},
    )
    assert (done.returncode, done.stdout) == (1, b"")  # no ready line: the shell runs unrecorded
    assert "ImportError: a broken install" in log.read_text()


class BrokenAssembler(CommandAssembler):
    def feed(self, items: Any) -> Any:
        raise RuntimeError("boom")


def test_a_failing_recording_reports_and_stops_cleanly(tmp_path: Path) -> None:
    rec, sender, path = recording(tmp_path, assembler=BrokenAssembler(WS))
    for i in range(100):
        rec.output(i / 100, [b"output\r\n"])
    stats = rec.close()
    assert stats.error == "RuntimeError: boom"
    assert [e["data"]["code"] for e in sender.events] == ["capture_error"]
    events = read_cast(path.read_bytes()).events  # still a valid cast, closed with a marker
    assert events[-1][1] == "m" and "error" in events[-1][2]


def write_session(folder: Path, status: str = "active") -> None:
    state = {
        "sessionId": "s-1",
        "workspace": str(folder),
        "socket": str(folder / "no.sock"),
        "status": status,
    }
    (folder / SESSION_FILE).write_text(json.dumps(state))


def test_the_cast_stops_when_the_session_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("promptster.record.shell.recording.STATE_CHECK_S", 0.0)
    write_session(tmp_path)
    rec, _, path = recording(tmp_path, session_dir=tmp_path)
    rec.output(0.1, [b"before\r\n"])
    time.sleep(0.05)
    rec.tick()
    assert not rec.stats.session_ended
    write_session(tmp_path, "submitted")
    time.sleep(0.05)
    rec.tick()
    assert rec.stats.session_ended
    rec.output(5.0, [b"after\r\n"])
    stats = rec.close()
    assert stats.session_ended
    events = read_cast(path.read_bytes()).events
    assert "before" in events[0][2]
    assert events[-1][1] == "m" and "submitted" in events[-1][2]
    assert not any("after" in e[2] for e in events)


def test_the_sender_spools_when_the_recorder_is_gone_and_restarts_it(tmp_path: Path) -> None:
    write_session(tmp_path)
    handle = load_handle(tmp_path)
    assert handle is not None
    restarts: list[float] = []
    sender = EventSender(handle, restart=lambda: restarts.append(time.monotonic()), timeout=0.2)
    for n in range(3):
        sender.send([{"kind": "note", "data": {"text": f"n{n}"}}])
        time.sleep(0.1)
    stats = sender.close()
    assert stats.spooled == 3 and stats.sent == 0
    assert len(restarts) == 1  # at most once per RESTART_EVERY_S
    spooled = [json.loads(x) for x in (tmp_path / "spool.jsonl").read_text().splitlines()]
    assert [e["data"]["text"] for e in spooled] == ["n0", "n1", "n2"]


def test_the_sender_drops_events_for_an_ended_session(tmp_path: Path) -> None:
    write_session(tmp_path)
    handle = load_handle(tmp_path)
    assert handle is not None
    write_session(tmp_path, "submitted")
    sender = EventSender(handle, timeout=0.2)
    sender.send([{"kind": "note", "data": {"text": "late"}}])
    stats = sender.close()
    assert stats.dropped == 1 and sender.ended.is_set()
    assert not (tmp_path / "spool.jsonl").exists() or not os.path.getsize(tmp_path / "spool.jsonl")


def test_output_frames_read_together_are_merged_within_the_window() -> None:
    frames = [
        (b"o", 0.000, b"a"),
        (b"o", 0.001, b"b"),
        (b"o", 0.010, b"c"),
        (b"r", 0.011, b"90x30"),
        (b"o", 0.012, b"d"),
    ]
    assert merged(frames) == [
        (b"o", 0.000, b"ab"),
        (b"o", 0.010, b"c"),
        (b"r", 0.011, b"90x30"),
        (b"o", 0.012, b"d"),
    ]


def test_a_large_read_keeps_the_head_and_the_real_tail() -> None:
    excerpt = OutputExcerpt(1024)
    excerpt.feed(b"first line\n" + b"\x1b[31mred\x1b[0m\n" * 10)
    excerpt.feed(b"".join(b"line %d\n" % i for i in range(200_000)))
    head, tail, truncated = excerpt.result()
    assert head.startswith("first line\nred\nred") and truncated
    assert tail.endswith("line 199999") and "\x1b" not in tail
    assert len(tail) <= 1024
