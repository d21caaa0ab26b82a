"""The recorded shell's two processes: the pty loop, and the worker that records.

The pty loop must stay fast, and Python threads share one interpreter lock: a thread busy
redacting 100 MB of `cat` output would hold up every read of the loop. So the recording runs
in a worker process (`python -m promptster.record.shell.pipe`), on another core when
there is one. The loop only writes what it read into the worker's stdin, framed::

    kind (1 byte: c configuration, o output, r resize, g gap) | time (float64, seconds)
    | length (uint32) | data

`PipeSink` is the loop's end: writes are non-blocking; what the pipe cannot take waits in a
buffer the loop drains when the pipe is writable (`poll`), and past `BUFFER_LIMIT` output is
left out and reported as a gap (the shell is never held up). Frames read within `HOLD_S` of
the last write are held and go in the next write (a write per read was a third of the loop's
system calls; the worker waits `BATCH_WAIT_S` for more anyway): the loop calls `flush()` once
`hold_timeout()` has passed without output. The worker parses the marks
itself (the same token) and hands everything to `ShellRecording`: cast, commands, events.

The worker imports its modules first, then reads its configuration (the first frame, `c`, a
JSON object from `worker_config`: the cast, the token, its log for stderr), then says `ready`
on stdout and waits for frames; the shell is started only then (session.py), so that the
~60 ms of CPU of its start never delays the echo of the first keys typed. `promptster shell`
starts it before anything else (prestart.py), so that its imports overlap the CLI's; if its
stdin ends before the configuration, it exits quietly. The worker runs in its own session, so
a closed terminal or Ctrl-C does not stop it; when the loop's end of the pipe closes (the
shell exited, or the loop was killed) it finishes the cast, delivers the last events and
prints a JSON summary on stdout.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import select
import struct
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the loop's side imports none of the worker's modules
    from promptster.record.shell.osc import MarkParser
    from promptster.record.shell.recording import ShellRecording

FRAME = struct.Struct("<cdI")
Frame = tuple[bytes, float, bytes]  # kind, time, data
BUFFER_LIMIT = 256 * 1024 * 1024  # a worker this far behind is not catching up soon
PIPE_SIZE = 1024 * 1024
READ_SIZE = 1024 * 1024
MERGE_MAX = 256 * 1024
BATCH_WAIT_S = 0.005
HOLD_S = 0.004  # frames this close to the last write wait for the next one
HOLD_BYTES = 32 * 1024  # ... unless this much is waiting (large output: one write per read)
COALESCE_S = 0.004  # as cast.COALESCE_S (not imported: the loop's side stays small)
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
READY = "ready\n"  # the worker's first line on stdout: it has started (its last is a summary)


class PipeSink:
    """The pty loop's `PtySink`: frames into a pipe, never blocking."""

    def __init__(self, fd: int, *, limit: int = BUFFER_LIMIT) -> None:
        self.fd: int | None = fd
        os.set_blocking(fd, False)
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_SIZE)
        self._buffer = bytearray()
        self._limit = limit
        self._gap = 0  # output bytes left out since the buffer went over the limit
        self._full = False  # the pipe took less than offered: wait until it is writable
        self._written = -HOLD_S  # stream time of the last write
        self.broken = False  # the worker has gone: nothing more is recorded

    def output(self, t: float, data: bytes) -> None:
        if self.fd is None:
            return
        if len(self._buffer) > self._limit:
            self._gap += len(data)
            return
        if self._gap:
            self._append(b"g", t, str(self._gap).encode())
            self._gap = 0
        self._frame(b"o", t, data)

    def resize(self, t: float, cols: int, rows: int) -> None:
        self._frame(b"r", t, f"{cols}x{rows}".encode())

    def configure(self, config: str) -> None:
        """The worker's configuration (`worker_config`): the first frame, before any other."""
        self._append(b"c", 0.0, config.encode())
        self.flush()

    def wants_write(self) -> bool:
        """The pipe is full and frames wait: flush when it is writable."""
        return self._full and self.fd is not None

    def hold_timeout(self) -> float | None:
        """Seconds after which held frames should be flushed if nothing else happens."""
        return HOLD_S if self._buffer and not self._full and self.fd is not None else None

    def _append(self, kind: bytes, t: float, data: bytes) -> None:
        self._buffer += FRAME.pack(kind, t, len(data))
        self._buffer += data

    def _frame(self, kind: bytes, t: float, data: bytes) -> None:
        if self.fd is None:
            return
        self._append(kind, t, data)
        if self._full:
            return  # the loop flushes when the pipe is writable
        if t - self._written >= HOLD_S or len(self._buffer) >= HOLD_BYTES:
            self._written = t
            self.flush()

    def flush(self) -> None:
        """Write what the pipe takes now."""
        if self.fd is None or not self._buffer:
            self._full = False
            return
        try:
            written = os.write(self.fd, self._buffer)
        except BlockingIOError:
            self._full = True
            return
        except OSError as exc:  # EPIPE: the worker died; the shell goes on unrecorded
            if exc.errno not in (errno.EPIPE, errno.EBADF):
                raise
            self.broken = True
            self._buffer.clear()
            self.fd = None
            return
        del self._buffer[:written]
        self._full = bool(self._buffer)

    def close(self, t: float, timeout: float = 60.0) -> None:
        """Hand over the rest (waiting for the worker, up to `timeout`); the owner of the
        pipe closes it."""
        if self.fd is None:
            return
        if self._gap:
            self._frame(b"g", t, str(self._gap).encode())
            self._gap = 0
        deadline = time.monotonic() + timeout
        while self._buffer and self.fd is not None and time.monotonic() < deadline:
            select.select([], [self.fd], [], 0.5)
            self.flush()
        self.fd = None


class FrameReader:
    """Frames from the pipe's read end as they arrive (a torn last frame is dropped)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()
        # read into one buffer kept for the worker's life: os.read(READ_SIZE) would mmap,
        # mremap and munmap a fresh megabyte at every wake-up
        self._chunk = bytearray(READ_SIZE)
        self._view = memoryview(self._chunk)
        self.ended = False

    def wait(self, timeout: float) -> bool:
        """Whether data (or the end) arrived within `timeout` seconds."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        return bool(ready)

    def frames(self) -> list[Frame]:
        """Read what is there (the pipe must be readable) and return the complete frames."""
        size = os.readv(self.fd, [self._chunk])
        if not size:
            self.ended = True
            return []
        self._buffer += self._view[:size]
        found = []
        pos = 0
        while len(self._buffer) - pos >= FRAME.size:
            kind, t, size = FRAME.unpack_from(self._buffer, pos)
            end = pos + FRAME.size + size
            if end > len(self._buffer):
                break
            found.append((kind, t, bytes(self._buffer[pos + FRAME.size : end])))
            pos = end
        del self._buffer[:pos]
        return found


def merged(frames: list[Frame]) -> list[Frame]:
    """Join output frames read within the cast's coalescing window (they would be one cast
    event anyway): a few large pieces cost the redactor and the parsers far less than many
    pty-sized ones."""
    out: list[Frame] = []
    run: list[bytes] = []
    run_t = 0.0
    size = 0
    for kind, t, data in frames:
        if kind == b"o" and run and t - run_t <= COALESCE_S and size + len(data) <= MERGE_MAX:
            run.append(data)
            size += len(data)
            continue
        if run:
            out.append((b"o", run_t, b"".join(run)))
            run = []
        if kind == b"o":
            run, run_t, size = [data], t, len(data)
        else:
            out.append((kind, t, data))
    if run:
        out.append((b"o", run_t, b"".join(run)))
    return out


def record_frames(
    recording: ShellRecording, parser: MarkParser | None, frames: list[Frame]
) -> None:
    """Hand a batch of frames to the recording (output split into bytes and marks)."""
    for kind, t, data in merged(frames):
        if kind == b"o":
            recording.output(t, parser.parse(data) if parser is not None else [data])
        elif kind == b"r":
            cols, _, rows = data.partition(b"x")
            recording.resize(t, int(cols), int(rows))
        elif kind == b"g":
            recording.gap(t, int(data))


def worker_config(
    *,
    session_dir: Path,
    cast_path: Path,
    header: dict[str, Any],
    token: str | None,
    workspace: str,
    cwd: str,
    shell: str,
    note: str,
    origin_wall: float,
    log: Path | None = None,
    history_dir: str | None = None,
) -> str:
    return json.dumps(
        {
            "sessionDir": str(session_dir),
            "castPath": str(cast_path),
            "header": header,
            "token": token,
            "workspace": workspace,
            "cwd": cwd,
            "shell": shell,
            "note": note,
            "originWall": origin_wall,
            "log": str(log) if log is not None else None,
            "historyDir": history_dir,
        }
    )


def read_config(reader: FrameReader) -> tuple[dict[str, Any] | None, list[Frame]]:
    """The worker's configuration, its stdin's first frame, and the frames read with it;
    (None, []) if stdin ends first."""
    while not reader.ended:
        frames = reader.frames()  # blocks until the loop writes (or ends)
        if frames:
            kind, _, data = frames[0]
            if kind != b"c":
                raise ValueError("the recording worker's first frame must be its configuration")
            config = json.loads(data)
            if not isinstance(config, dict):
                raise ValueError("the recording worker's configuration must be an object")
            return config, frames[1:]
    return None, []


def _log_to(path: str | None) -> None:
    """From now on, stderr goes to the shell's log (until the configuration: nowhere)."""
    if not path:
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(fd, 2)
        os.close(fd)


def worker_main(argv: list[str]) -> int:
    """The worker process: its configuration, then frames from stdin into a ShellRecording;
    a summary on stdout. `argv` is unused (the configuration is the first frame)."""
    failed: str | None = None
    try:  # first, before the configuration arrives: this is the start that prestart overlaps
        from promptster.protocol import load_handle
        from promptster.record.session import SessionPaths
        from promptster.record.shell.cast import CastEncoder, CastFile, CastHeader
        from promptster.record.shell.commands import CommandAssembler
        from promptster.record.shell.events import EventSender, system_warning
        from promptster.record.shell.osc import MarkParser
        from promptster.record.shell.recording import ShellRecording
    except Exception:  # reported in the shell's log, which the configuration names
        failed = traceback.format_exc()
    reader = FrameReader(sys.stdin.fileno())
    config, early = read_config(reader)
    if config is None:
        return 0  # no shell after all: `promptster shell` ended before starting one
    _log_to(config.get("log"))
    if failed is not None:
        sys.stderr.write(failed)
        return 1
    session_dir = Path(config["sessionDir"])
    with contextlib.suppress(OSError):
        os.chdir(session_dir)  # not the candidate's folder: it may go away while we run
    handle = load_handle(session_dir)
    sender = None
    if handle is not None:

        def restart() -> object:
            from promptster.record.control import ensure_recorder

            return ensure_recorder(SessionPaths(session_dir))

        sender = EventSender(handle, restart=restart)
    token = config.get("token")
    header = CastHeader(**config["header"])
    recording = ShellRecording(
        cast=CastFile(Path(config["castPath"]), header),
        encoder=CastEncoder(),
        assembler=(
            CommandAssembler(config["workspace"], history_dir=config.get("historyDir"))
            if token
            else None
        ),
        sender=sender,
        session_dir=session_dir,
        origin=time.monotonic() - (time.time() - config["originWall"]),
        workspace=config["workspace"] if token else None,
        cwd=config.get("cwd"),
    )
    parser = MarkParser(token) if token else None
    # Started and idle: the shell starts now (session.py waits for this line), so that our
    # imports never compete with the first keys typed for the CPU.
    sys.stdout.write(READY)
    sys.stdout.flush()
    if early:  # frames sent with the configuration (a worker slower than WORKER_READY_S)
        record_frames(recording, parser, early)
    if token is None and sender is not None:  # after `ready`: delivery may wait for a recorder
        message = f"{config['note']}; the terminal is recorded, commands are not listed"
        sender.send([system_warning("shell_not_integrated", message, shell=config["shell"])])
    while not reader.ended:
        if not reader.wait(recording.next_tick()):
            recording.tick()
            continue
        time.sleep(BATCH_WAIT_S)  # one wake-up per burst of reads, not one per read
        record_frames(recording, parser, reader.frames())
    if parser is not None:
        recording.output(recording.elapsed(), parser.flush())
    stats = recording.close()
    delivery = sender.close() if sender is not None else None
    summary = {"recording": asdict(stats), "delivery": asdict(delivery) if delivery else None}
    sys.stdout.write(json.dumps(summary) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
