"""The shell Aider runs its commands with, inside a recorded session: `/run`, `/test`, `!` and
`--auto-test` become `tool_use`, `tool_result`, `command` and `test_run`/`build_run` events.

In a terminal Aider runs a command as `$SHELL -i -c <command>` in a pty of its own (pexpect).
The `aider` shim of the recorded shell (`aider/shims.py`) starts Aider with SHELL naming this
wrapper and the candidate's shell in PROMPTSTER_AIDER_SHELL. The wrapper runs that shell with
the same arguments in a pty (so the command sees a terminal, as it would have), relays input
and output, keeps the first and last 8 KiB of the output, and sends the events the other AI
tools' shell commands yield (integration `aider`, lane `aider`, actor ai), with a snapshot
before and after, as their hooks take.

What the command does never changes: it runs whatever happens to the recording, with SHELL set
back to the real shell, and its exit status is the wrapper's (a signal death is re-raised).
Without `-c` (Aider's `:sh`-like uses, another program reading $SHELL) or outside a live
session the real shell is exec'd untouched. When the recorder is down the events go to the
spool; when they can go nowhere, one line on stderr says so and the loss is counted, as for
every hook. Standard library only, and lean: it runs once per command.
"""

from __future__ import annotations

import os
import sys
import time

from promptster import protocol as client

# `signal` (enum), the normaliser and the pty code are imported when a command is recorded:
# outside a session the wrapper only looks for one and execs the shell.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from promptster.integrations import hookkit as hk
    from promptster.integrations.claude import events as ce

REAL_SHELL_ENV = "PROMPTSTER_AIDER_SHELL"
FALLBACK_SHELL = "/bin/sh"  # what Aider itself uses when SHELL is unset
INTEGRATION = "aider"
LANE = "aider"
EMITTER = "promptster-aider-shell"
NATIVE_TOOL = "run_cmd"  # Aider's function that runs every command
KEEP = 8 * 1024  # bytes of the output's head, and of its tail, kept (the events' OUTPUT_LIMIT)
SNAPSHOT_TIMEOUT_S = 2.0


def main(argv: list[str]) -> int:
    """Run `real shell argv…` and record it when it runs a command in a live session."""
    shell, problem = real_shell(os.environ.get(REAL_SHELL_ENV))
    env = dict(os.environ)
    env.pop(REAL_SHELL_ENV, None)
    env["SHELL"] = shell  # the command and its children see the candidate's shell
    if problem:
        _say(problem)
    command = command_of(argv)
    handle = _session() if command is not None else None
    if command is None or handle is None:
        return _exec(shell, argv, env)
    try:
        prepared = prepare(handle, command)
    except Exception:  # recording cannot begin: the command runs unrecorded, as it would have
        return _exec(shell, argv, env)
    return run_recorded(handle, shell, argv, env, prepared)


def real_shell(configured: str | None) -> tuple[str, str]:
    """(the shell to run, a problem to report or "")."""
    if configured and os.path.isabs(configured) and os.access(configured, os.X_OK):
        return configured, ""
    if not configured:
        return FALLBACK_SHELL, f"{REAL_SHELL_ENV} is not set; running {FALLBACK_SHELL}"
    return FALLBACK_SHELL, f"the shell {configured!r} cannot be run; running {FALLBACK_SHELL}"


def command_of(argv: list[str]) -> str | None:
    """The command of `-c <command>` (also `-ic`, `-ci`), or None for any other invocation."""
    for index, arg in enumerate(argv):
        if arg == "--" or not arg.startswith("-") or arg.startswith("--"):
            return None
        if "c" in arg[1:]:
            return argv[index + 1] if index + 1 < len(argv) else None
    return None


def prepare(handle: client.SessionHandle, command: str) -> tuple[ce.Context, hk.Call]:
    """Where the command's events belong, and the tool call it is."""
    from promptster.integrations import hookkit as hk
    from promptster.integrations.claude import events as ce

    ctx = ce.Context(
        lane=LANE,
        workspace=handle.workspace_dir,
        cwd=os.getcwd(),
        emitter=EMITTER,
        integration=INTEGRATION,
    )
    call = hk.Call(NATIVE_TOOL, "Bash", {"command": command}, "aider-run-" + client.new_id())
    return ctx, call


def run_recorded(
    handle: client.SessionHandle,
    shell: str,
    argv: list[str],
    env: dict[str, str],
    prepared: tuple[ce.Context, hk.Call],
) -> int:
    import signal

    from promptster.integrations import hookkit as hk

    ctx, call = prepared
    _quietly(lambda: _snapshot(handle, "aider-pre-tool"))
    _quietly(lambda: _send(handle, hk.tool_use(ctx, call)))
    output = Tail(KEEP)
    started = time.monotonic()
    status = relay(shell, argv, env, output.add)
    duration_ms = int((time.monotonic() - started) * 1000)
    code = exit_code(status)
    # the snapshot first: what the command wrote is journaled before its result closes its
    # attribution window
    _quietly(lambda: _snapshot(handle, "aider-post-tool"))
    _quietly(lambda: _send(handle, result_events(ctx, call, code, output, duration_ms)))
    if code < 0:  # killed by a signal: die of it too, so Aider sees what it would have seen
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code if code >= 0 else 128 - code


def result_events(
    ctx: ce.Context, call: hk.Call, code: int, output: Tail, duration_ms: int
) -> list[dict[str, object]]:
    from promptster.integrations import hookkit as hk

    text = output.text()
    if code == 0:
        events = hk.tool_result(ctx, call, {"stdout": text}, duration_ms=duration_ms)
    else:
        shown = code if code >= 0 else 128 - code
        error = f"Exit code {shown}\n{text}"
        events = hk.tool_result(ctx, call, None, error=error, duration_ms=duration_ms)
    for event in events:
        data = event["data"]
        if event["kind"] == "command" and code < 0:
            data["interrupted"] = True
        if output.dropped and event["kind"] in ("command", "tool_result"):
            data["outputTruncated"] = True
    return events


class Tail:
    """The first and last `keep` bytes of a stream, and how many bytes lay between them."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.keep - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            extra = len(self.tail) - self.keep
            if extra > 0:
                del self.tail[:extra]
                self.dropped += extra

    def text(self) -> str:
        """The output as the parsers read it (terminal escapes stripped, line ends normalised),
        with a marker where bytes were left out."""
        from promptster.runs.text import clean_output

        if not self.dropped:
            return clean_output(bytes(self.head + self.tail).decode("utf-8", "replace"))
        head = clean_output(bytes(self.head).decode("utf-8", "replace"))
        tail = clean_output(bytes(self.tail).decode("utf-8", "replace"))
        return f"{head}\n[… {self.dropped:,} bytes of output not kept …]\n{tail}"


def exit_code(status: int) -> int:
    """The exit code of a wait status; minus the signal number for a signal death."""
    return os.waitstatus_to_exitcode(status)


# --- running the shell in a pty of its own ----------------------------------------------------


def relay(shell: str, argv: list[str], env: dict[str, str], sink: Callable[[bytes], None]) -> int:
    """Run `shell argv…` in a new pty, relaying stdin to it and its output to stdout (and to
    `sink`); return its wait status. The window size follows ours."""
    import pty
    import signal
    import termios
    import tty

    size = _window_size(0)
    saved = None
    if os.isatty(0):  # raw before the command starts: a key typed at once is its, not ours
        try:
            saved = termios.tcgetattr(0)
            tty.setraw(0, termios.TCSANOW)  # keys go to the command's terminal as typed
        except termios.error:
            saved = None
    previous = None
    try:
        try:
            pid, master = pty.fork()
        except OSError as exc:  # no pty left: run it on our terminal, its output unseen
            _restore(saved)
            saved = None
            _say(f"no terminal for the command ({exc.strerror}): its output is not recorded")
            return _run_plain(shell, argv, env)
        if pid == 0:  # the child: the pty is its terminal
            try:
                if size is not None:
                    _set_window_size(0, size)
            finally:
                _exec_child(shell, argv, env)
        if size is not None:
            previous = signal.signal(signal.SIGWINCH, lambda *_: _follow_size(master))
        try:
            _pump(master, sink)
        finally:
            os.close(master)
    finally:
        _restore(saved)
        if previous is not None:
            signal.signal(signal.SIGWINCH, previous)
    return _wait(pid)


def _restore(saved: list[Any] | None) -> None:
    import termios

    if saved is not None:
        try:  # noqa: SIM105 (contextlib: import time on every command)
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        except termios.error:
            pass


def _run_plain(shell: str, argv: list[str], env: dict[str, str]) -> int:
    pid = os.fork()
    if pid == 0:
        _exec_child(shell, argv, env)
    return _wait(pid)


def _exec_child(shell: str, argv: list[str], env: dict[str, str]) -> None:
    try:
        os.execve(shell, [shell, *argv], env)
    except OSError as exc:
        os.write(2, f"promptster: cannot run {shell}: {exc.strerror}\n".encode())
    finally:
        os._exit(127)


def _wait(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue


def _pump(master: int, sink: Callable[[bytes], None]) -> None:
    import select

    inputs = [master, 0]
    while True:
        ready = select.select(inputs, [], [])[0]
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command and everything holding its terminal are gone
                data = b""
            if not data:
                return
            _write_all(1, data)
            sink(data)
        if 0 in ready:
            try:
                data = os.read(0, 65536)
            except OSError:
                data = b""
            if data:
                _write_all(master, data)
            else:
                inputs.remove(0)  # no more input: the command still runs to its end


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except InterruptedError:
            continue
        except OSError:
            return  # nobody reads it any more: the output is still kept


def _window_size(fd: int) -> bytes | None:
    import fcntl
    import termios

    try:
        return fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return None


def _set_window_size(fd: int, size: bytes) -> None:
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, size)


def _follow_size(master: int) -> None:
    size = _window_size(0)
    if size is not None:
        try:  # noqa: SIM105
            _set_window_size(master, size)
        except OSError:
            pass


# --- the session, delivery and falling back ----------------------------------------------------


def _session() -> client.SessionHandle | None:
    try:
        handle = client.find_session(os.getcwd())
    except Exception:  # fail open: the command runs whatever the lookup did
        return None
    return handle if handle is not None and handle.active else None


def _send(handle: client.SessionHandle, events: list[dict[str, object]]) -> None:
    client.say_dropped("Aider command", len(events), client.send_events(handle, events))


def _snapshot(handle: client.SessionHandle, reason: str) -> None:
    try:  # noqa: SIM105
        client.request(handle, {"op": "snapshot", "reason": reason}, SNAPSHOT_TIMEOUT_S)
    except (client.RecorderUnavailable, ValueError):
        pass  # the watcher's next snapshot sees the change instead


def _quietly(step: Callable[[], None]) -> None:
    """Recording never stops the command: whatever goes wrong in `step` is dropped."""
    try:  # noqa: SIM105
        step()
    except Exception:
        pass


def _exec(shell: str, argv: list[str], env: dict[str, str]) -> int:
    try:
        os.execve(shell, [shell, *argv], env)
    except OSError as exc:
        _say(f"cannot run {shell}: {exc.strerror}")
    return 127


def _say(message: str) -> None:
    try:
        sys.stderr.write(f"promptster: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":  # pragma: no cover - run by the shim as `python -I -c`
    sys.exit(main(sys.argv[1:]))
