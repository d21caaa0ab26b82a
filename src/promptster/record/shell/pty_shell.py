"""The recorded shell's pty loop: a terminal in the middle, like asciinema's `pty_.record`.

`run_in_pty` starts a program under a new pty (ptyprocess) and relays bytes both ways until
it exits, returning its exit status (128 + N for a signal). The real terminal is put in raw
mode, so Ctrl-C, Ctrl-Z and every other key reach the program's pty, whose line discipline
does job control as in any terminal; the pty gets the real terminal's settings and size, and
window-size changes (SIGWINCH) are passed on. Full-screen programs work because nothing here
interprets the stream.

The loop does as little as possible per read: remove the shell's private marks
(`MarkStripper`, so the terminal never sees them), write the rest to the terminal, and hand the
read, as read, to `sink` (`shell_pipe.PipeSink`, a non-blocking pipe to the worker process
that records). Everything the loop needs is a parameter (the file descriptors, the sink, the
stripper), so tests can run it against a pty of their own. `poll()` waits on the pty, stdin, the
sink's pipe while it has a backlog, and a signal self-pipe (`signal.set_wakeup_fd`), at most
as long as the sink may hold frames back (`hold_timeout`, a few ms: one pipe write for a
burst of reads); SIGHUP and SIGTERM are passed to the shell as SIGHUP, which makes an
interactive shell exit (and hang up its jobs) as when a terminal window closes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import struct
import termios
import time
import tty
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from ptyprocess import PtyProcess

from promptster.record.shell.osc_strip import MarkStripper

READ_SIZE = 64 * 1024
IDLE_FLUSH_S = 0.05  # the start of a mark held back is released after this much quiet
DRAIN_S = 0.2  # after the shell exits, output still arriving within this is kept
EOF_QUIET_S = 0.3  # stdin ended: the shell gets Ctrl-D once its output has paused this long
REAP_S = 5.0  # how long a shell whose pty closed may take to exit before it is hung up
_SIGNALS = (signal.SIGWINCH, signal.SIGCHLD, signal.SIGHUP, signal.SIGTERM, signal.SIGCONT)
_POLL_IN = select.POLLIN | select.POLLPRI
_POLL_END = select.POLLHUP | select.POLLERR | select.POLLNVAL


class PtySink(Protocol):
    """Where the loop hands what it read (raw, marks included); it must never block. With
    a backlog, `wants_write()` is true and the loop calls `flush()` when `fd` is writable;
    with frames held back, `hold_timeout()` says how soon to call `flush()` if all is quiet."""

    fd: int | None

    def output(self, t: float, data: bytes) -> None: ...

    def resize(self, t: float, cols: int, rows: int) -> None: ...

    def wants_write(self) -> bool: ...

    def hold_timeout(self) -> float | None: ...

    def flush(self) -> None: ...


def terminal_size(fd: int) -> tuple[int, int] | None:
    """(cols, rows) of the terminal on `fd`, or None when it is not a terminal."""
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    return (cols, rows) if cols > 0 and rows > 0 else None


def run_in_pty(
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: str,
    sink: PtySink,
    *,
    stripper: MarkStripper | None = None,
    stdin_fd: int = 0,
    stdout_fd: int = 1,
    size: tuple[int, int] = (80, 24),
    origin: float | None = None,
) -> int:
    """Run `argv` in a pty between `stdin_fd`/`stdout_fd` and the program; its exit status.

    Times given to `sink` are seconds since `origin` (a `time.monotonic()` value; default:
    now). Must run on the main thread (signal handlers)."""
    is_tty = os.isatty(stdin_fd)
    saved = termios.tcgetattr(stdin_fd) if is_tty else None
    cols, rows = terminal_size(stdin_fd) or terminal_size(stdout_fd) or size

    def child_setup() -> None:
        # Python ignores SIGPIPE and SIGXFSZ; the shell and its commands must not inherit that
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        if saved is not None:  # the pty behaves like the user's terminal (erase key, iutf8)
            with contextlib.suppress(termios.error):
                termios.tcsetattr(0, termios.TCSANOW, saved)

    proc = PtyProcess.spawn(
        list(argv), cwd=cwd, env=dict(env), dimensions=(rows, cols), preexec_fn=child_setup
    )
    loop = _Loop(proc, sink, stripper, stdin_fd, stdout_fd, (cols, rows), origin)
    with _signals() as wakeup, _raw(stdin_fd, saved):
        loop.run(wakeup)
    return loop.exit_status()


@contextlib.contextmanager
def _raw(fd: int, saved: list[Any] | None) -> Iterator[None]:
    if saved is None:
        yield
        return
    tty.setraw(fd, termios.TCSANOW)  # TCSANOW keeps keys typed ahead
    try:
        yield
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def _signals() -> Iterator[int]:
    read_end, write_end = os.pipe()
    for fd in (read_end, write_end):
        os.set_blocking(fd, False)
        os.set_inheritable(fd, False)
    previous = {sig: signal.signal(sig, _noop) for sig in _SIGNALS}
    previous_int = signal.signal(signal.SIGINT, _noop)  # only the shell's pty handles Ctrl-C
    old_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    try:
        yield read_end
    finally:
        signal.set_wakeup_fd(old_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.signal(signal.SIGINT, previous_int)
        os.close(read_end)
        os.close(write_end)


def _noop(signum: int, frame: object) -> None:
    """Signals are read from the wakeup pipe; the handler only has to exist."""


class _Loop:
    def __init__(
        self,
        proc: PtyProcess,
        sink: PtySink,
        stripper: MarkStripper | None,
        stdin_fd: int,
        stdout_fd: int,
        size: tuple[int, int],
        origin: float | None,
    ) -> None:
        self.proc = proc
        self.master: int = proc.fd
        self.sink = sink
        self.stripper = stripper
        self.stdin_fd: int | None = stdin_fd
        self.stdout_fd = stdout_fd
        self.size = size
        self.to_child = bytearray()
        self.start = time.monotonic() if origin is None else origin
        self.exited_at: float | None = None
        self.status: int | None = None
        self.last_output = self.start  # when the terminal was last written to
        self.last_read = self.start  # when the shell's output was last read
        self.eof_owed = False  # stdin has ended: send the shell an EOF key once it is quiet
        os.set_blocking(self.master, False)

    def run(self, wakeup: int) -> None:
        poller = select.poll()
        poller.register(self.master, _POLL_IN)
        poller.register(wakeup, select.POLLIN)
        if self.stdin_fd is not None:
            poller.register(self.stdin_fd, _POLL_IN)
        self._check_child()  # it may have failed at once
        watching_out = False
        sink_fd: int | None = None  # registered while the sink has a backlog
        while True:
            timeout = self._timeout()
            if timeout == 0.0:
                return
            if bool(self.to_child) != watching_out:  # wait to write only with input pending
                watching_out = not watching_out
                poller.modify(self.master, _POLL_IN | (select.POLLOUT if watching_out else 0))
            backlog = self.sink.fd if self.sink.wants_write() else None
            if backlog != sink_fd:
                if sink_fd is not None:
                    poller.unregister(sink_fd)
                if backlog is not None:
                    poller.register(backlog, select.POLLOUT)
                sink_fd = backlog
            try:
                ready = poller.poll(None if timeout is None else timeout * 1000)
            except InterruptedError:
                continue
            if not ready:
                self._idle()
                continue
            for fd, mask in ready:
                if fd == wakeup:
                    self._signals(wakeup)
                elif fd == sink_fd:
                    self.sink.flush()
                elif fd == self.master:
                    if mask & select.POLLOUT:
                        self._write_child()
                    if mask & (_POLL_IN | _POLL_END) and not self._read_child():
                        return
                elif fd == self.stdin_fd and not self._read_stdin():
                    poller.unregister(fd)

    def _timeout(self) -> float | None:
        hold = self.sink.hold_timeout()
        if self.exited_at is None and not self.eof_owed:  # the common case, kept cheap
            if self.stripper is not None and self.stripper.pending:
                return IDLE_FLUSH_S if hold is None else hold
            return hold
        now = time.monotonic()
        if self.exited_at is not None:
            left = self.exited_at + DRAIN_S - now
            return max(left, 0.0) if left > 0 else 0.0
        waits = [] if hold is None else [hold]
        if self.stripper is not None and self.stripper.pending:
            waits.append(IDLE_FLUSH_S)
        if self.eof_owed:
            waits.append(max(self.last_output + EOF_QUIET_S - now, 0.001))
        return min(waits) if waits else None

    def _idle(self) -> None:
        self.sink.flush()
        quiet = time.monotonic() - self.last_read
        if self.stripper is not None and self.stripper.pending and quiet >= IDLE_FLUSH_S:
            self._show(self.stripper.flush())
        if self.eof_owed and time.monotonic() - self.last_output >= EOF_QUIET_S:
            # Input was not a terminal and has ended. An EOF key typed while the shell was
            # still busy (reading its startup files, running a line) can be lost, so one is
            # sent each time the shell goes quiet after printing something, as a person
            # would press Ctrl-D again at a prompt that ignored it.
            self.eof_owed = False
            self.to_child += b"\x04"
            self._write_child()

    def _read_child(self) -> bool:
        try:
            data = os.read(self.master, READ_SIZE)
        except BlockingIOError:
            return True
        except OSError as exc:  # EIO: every slave fd is closed, the shell has gone
            if exc.errno != errno.EIO:
                raise
            data = b""
        if not data:
            if self.stripper is not None:
                self._show(self.stripper.flush())
            self._wait_child()
            return False
        self.last_read = now = time.monotonic()
        self._show(data if self.stripper is None else self.stripper.strip(data), now)
        self.sink.output(now - self.start, data)
        return True

    def _show(self, passthrough: bytes, now: float | None = None) -> None:
        """Write what the terminal should see: the read without our private marks."""
        if passthrough:
            _write_all(self.stdout_fd, passthrough)
            self.last_output = time.monotonic() if now is None else now
            if self.stdin_fd is None and not self.to_child:
                self.eof_owed = True

    def _read_stdin(self) -> bool:
        assert self.stdin_fd is not None
        try:
            data = os.read(self.stdin_fd, READ_SIZE)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:  # at its end: tell the shell once it has read the rest (see _idle)
            self.stdin_fd = None
            self.eof_owed = True
            return False
        self.to_child += data
        self._write_child()
        return True

    def _write_child(self) -> None:
        try:
            written = os.write(self.master, self.to_child)
        except BlockingIOError:
            return
        except OSError:
            self.to_child.clear()  # the shell has gone; its output tells the rest
            return
        del self.to_child[:written]

    def _signals(self, wakeup: int) -> None:
        try:
            received = os.read(wakeup, 512)
        except BlockingIOError:
            return
        for signum in set(received):
            if signum == signal.SIGWINCH:
                self._resize()
            elif signum == signal.SIGCHLD:
                self._check_child()
            elif signum in (signal.SIGHUP, signal.SIGTERM):
                with contextlib.suppress(OSError):
                    os.kill(self.proc.pid, signal.SIGHUP)
            elif signum == signal.SIGCONT and self.stdin_fd is not None:
                # back from being stopped: the shell that resumed us reset the terminal
                with contextlib.suppress(termios.error):
                    if os.isatty(self.stdin_fd):
                        tty.setraw(self.stdin_fd, termios.TCSANOW)
                self._resize()

    def _resize(self) -> None:
        fd = self.stdin_fd if self.stdin_fd is not None else self.stdout_fd
        size = terminal_size(fd) or terminal_size(self.stdout_fd)
        if size is None or size == self.size:
            return
        self.size = size
        with contextlib.suppress(OSError):
            self.proc.setwinsize(size[1], size[0])
        self.sink.resize(time.monotonic() - self.start, *size)

    def _check_child(self) -> bool:
        """Whether the shell has exited (its status is then in `status`)."""
        if self.status is None and not self.proc.isalive():
            self.status = self._status_of_proc()
            self.exited_at = time.monotonic()
        return self.status is not None

    def _wait_child(self) -> None:
        """The pty closed: the shell has exited or is about to. Reap it; one that lingers
        without a terminal (it closed every descriptor) is hung up like a closed window."""
        deadline = time.monotonic() + REAP_S
        while not self._check_child():
            if time.monotonic() > deadline:
                with contextlib.suppress(Exception):
                    self.proc.terminate(force=True)
                if not self._check_child():
                    self.status = 128 + signal.SIGKILL
                return
            time.sleep(0.01)

    def _status_of_proc(self) -> int:
        if self.proc.signalstatus is not None:
            return 128 + int(self.proc.signalstatus)
        return int(self.proc.exitstatus or 0)

    def exit_status(self) -> int:
        self.proc.delayafterclose = 0.0
        with contextlib.suppress(Exception):
            self.proc.close(force=True)
        if self.status is None:
            self._wait_child()
        return self.status if self.status is not None else 1


def _write_all(fd: int, data: bytes) -> None:
    try:
        written = os.write(fd, data)
    except (BlockingIOError, InterruptedError):
        written = 0
    except OSError as exc:
        if exc.errno in (errno.EIO, errno.EPIPE, errno.EBADF):
            return  # the terminal has gone: keep recording what the shell does
        raise
    if written == len(data):  # the usual case: one write, no view
        return
    view = memoryview(data)[written:]
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
        except InterruptedError:
            continue
        except OSError as exc:
            if exc.errno in (errno.EIO, errno.EPIPE, errno.EBADF):
                return  # the terminal has gone: keep recording what the shell does
            raise
