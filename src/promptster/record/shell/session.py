"""`promptster shell`, the typed core: open the candidate's shell, recorded, and wire it up.

    outcome = run_recorded_shell(paths, shell_path=user_shell(), cwd=Path.cwd())

1. a cast number is taken (`.promptster/casts/<n>.cast`, one per shell, never shared);
2. `prepare_shell` writes the bash/zsh integration under `.promptster/shells/<n>/` and says
   how to start the shell; any other shell (or an old bash/zsh) is recorded as a plain cast,
   with a `warning` saying so;
3. the worker process (pipe.py: the cast, command events, delivery to the recorder), which
   the console script started before the CLI's imports (prestart.py), gets its configuration
   and, once it says it is ready, the shell runs under `pty_shell.run_in_pty`, which hands
   every read to the worker through a non-blocking pipe;
4. when the shell exits, the worker finishes the cast, delivers (or spools) the last events
   and reports; the integration files are removed. The session itself keeps recording.

The shell's environment names the session (``PROMPTSTER_SESSION_DIR``), so `promptster`
commands typed in it find the session from any folder; ``PROMPTSTER_SHELL_TOKEN`` marks a
recorded shell, which is how a nested `promptster shell` is recognised and refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pwd
import select
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from promptster.errors import EnvironmentProblem, StateError
from promptster.protocol import SESSION_DIR_ENV, load_handle
from promptster.record.session import SessionPaths, read_state
from promptster.record.shell.cast_header import CastHeader, new_cast_path
from promptster.record.shell.integration import ShellLaunch, prepare_shell
from promptster.record.shell.osc_strip import MarkStripper
from promptster.record.shell.pipe import READY, PipeSink, worker_config
from promptster.record.shell.prestart import RECORDED_SHELL_ENV, start_worker, take_worker
from promptster.record.shell.pty_shell import run_in_pty, terminal_size
from promptster.record.shell.stats import RecordingStats, SenderStats
from promptster.record.timelimit import signed_deadline

SHELLS_DIR = "shells"
WORKER_EXIT_S = 300.0  # finishing a cast and delivering events; a hang guard, not a budget
WORKER_READY_S = 10.0  # the worker's start (imports); past this the shell starts anyway
# Set by an outer recording: a fresh shell must not inherit them (prepare_shell sets its own).
_STALE = ("PROMPTSTER_SHELL_STATE", "PROMPTSTER_SHIMS", "PROMPTSTER_USER_ZDOTDIR")


@dataclass(frozen=True)
class ShellOutcome:
    exit_code: int
    shell: str
    integrated: bool
    note: str
    cast_number: int
    cast_path: Path
    recording: RecordingStats
    delivery: SenderStats
    session_active: bool  # still recording after the shell exited


def recorded_shell_session(environ: Mapping[str, str] | None = None) -> str | None:
    """The session id when this process runs inside a recorded shell, else None."""
    env = os.environ if environ is None else environ
    if not env.get(RECORDED_SHELL_ENV):
        return None
    return env.get("PROMPTSTER_SESSION") or "unknown"


def user_shell(environ: Mapping[str, str] | None = None) -> str:
    """$SHELL, else the login shell in the password database, else /bin/sh."""
    env = os.environ if environ is None else environ
    if env.get("SHELL"):
        return env["SHELL"]
    try:
        return pwd.getpwuid(os.getuid()).pw_shell or "/bin/sh"
    except KeyError:
        return "/bin/sh"


def shell_environment(
    environ: Mapping[str, str], launch: ShellLaunch, paths: SessionPaths
) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if k not in _STALE}
    env |= launch.env
    env[SESSION_DIR_ENV] = str(paths.root)
    env.setdefault("TERM", "xterm-256color")
    return env


def _await_worker(worker: subprocess.Popen[bytes], timeout: float = WORKER_READY_S) -> None:
    """Wait until the worker has started (its `ready` line), so that the shell starts on an
    idle worker; a worker that dies or takes longer is left to the sink's handling (the shell
    then runs unrecorded, or starts before the worker is ready)."""
    assert worker.stdout is not None
    fd = worker.stdout.fileno()
    deadline = time.monotonic() + timeout
    seen = b""
    while not seen.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return
        chunk = os.read(fd, len(READY) - len(seen))  # never past the ready line
        if not chunk:
            return
        seen += chunk


def _finish_worker(
    worker: subprocess.Popen[bytes], broken: bool
) -> tuple[RecordingStats, SenderStats]:
    """Wait for the worker to finish the cast and deliver its events; read its summary."""
    try:
        out, _ = worker.communicate(timeout=WORKER_EXIT_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        out, _ = worker.communicate()
    try:
        summary = json.loads(out.decode().strip().splitlines()[-1])
        recording = RecordingStats(**summary["recording"])
        delivery = SenderStats(**(summary["delivery"] or {}))
    except (ValueError, IndexError, KeyError, TypeError):
        recording = RecordingStats(error=f"the recording worker failed (exit {worker.returncode})")
        delivery = SenderStats()
    if broken and not recording.error:
        recording.error = "the recording worker stopped while the shell ran"
    return recording, delivery


def _remove_if_empty(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size == 0:
            path.unlink()


def run_recorded_shell(
    paths: SessionPaths,
    *,
    shell_path: str,
    cwd: Path,
    environ: Mapping[str, str] | None = None,
    stdin_fd: int = 0,
    stdout_fd: int = 1,
    announce: Callable[[ShellLaunch], None] | None = None,
) -> ShellOutcome:
    """Run the shell until it exits (see the module doc). `announce`, if callable, gets the
    `ShellLaunch` just before the shell starts (the CLI prints its banner there)."""
    state = read_state(paths)
    handle = load_handle(paths.root)
    if not state.active or handle is None:
        raise StateError(
            f"the session is {state.status}; there is nothing to record",
            "start a new session with `promptster start`",
        )
    env_in = dict(os.environ if environ is None else environ)
    number, cast_path = new_cast_path(paths.root)
    runtime = paths.root / SHELLS_DIR / str(number)
    # The signed pack's limit from the session's first event, as the recorder keeps it: the
    # deadline in session.json is the candidate's to edit, so the prompt never reads it.
    signed = signed_deadline(paths.journal, paths.assessment, state.deadline).deadline
    deadline = signed.timestamp() if signed is not None else None
    try:
        launch = prepare_shell(
            shell_path,
            runtime,
            deadline_epoch=deadline,
            session_id=state.session_id,
            environ=env_in,
        )
    except BaseException:
        cast_path.unlink(missing_ok=True)
        raise
    env = shell_environment(env_in, launch, paths)
    cols, rows = terminal_size(stdin_fd) or terminal_size(stdout_fd) or (80, 24)
    origin, wall = time.monotonic(), time.time()
    header = CastHeader(
        cols,
        rows,
        wall,
        env={"SHELL": shell_path, "TERM": env.get("TERM", "")},
        title=f"promptster shell {number}",
        session_id=state.session_id,
        shell=launch.shell,
    )
    log_path = paths.root / SHELLS_DIR / f"{number}.log"
    log_path.parent.mkdir(mode=0o700, exist_ok=True)
    # Usually started by the console script before the CLI's own imports (prestart.py).
    worker = take_worker() or start_worker()
    assert worker.stdin is not None
    sink = PipeSink(worker.stdin.fileno())
    sink.configure(
        worker_config(
            session_dir=paths.root,
            cast_path=cast_path,
            header=dataclasses.asdict(header),
            token=launch.token if launch.integrated else None,
            workspace=state.workspace,
            cwd=str(cwd),
            shell=launch.shell,
            note=launch.note,
            origin_wall=wall,
            log=log_path,
            history_dir=launch.env.get("PROMPTSTER_SHELL_STATE"),
        )
    )
    if announce is not None:
        announce(launch)
    _await_worker(worker)
    try:
        code = run_in_pty(
            launch.argv,
            env,
            str(cwd),
            sink,
            stripper=MarkStripper(launch.token) if launch.integrated else None,
            stdin_fd=stdin_fd,
            stdout_fd=stdout_fd,
            size=(cols, rows),
            origin=origin,
        )
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot start {shell_path}: {exc.strerror or exc}",
            "set SHELL to a shell that exists, e.g. SHELL=/bin/bash",
        ) from exc
    finally:
        sink.close(time.monotonic() - origin)
        stats, delivery = _finish_worker(worker, sink.broken)
        shutil.rmtree(runtime, ignore_errors=True)
        _remove_if_empty(paths.root / SHELLS_DIR / f"{number}.log")
    current = load_handle(paths.root)
    return ShellOutcome(
        exit_code=code,
        shell=launch.shell,
        integrated=launch.integrated,
        note=launch.note,
        cast_number=number,
        cast_path=cast_path,
        recording=stats,
        delivery=delivery,
        session_active=current is not None and current.active,
    )
