"""Run a stranger's command in a bubblewrap sandbox, with limits, and kill everything after.

What the command sees: the system folders read-only (/usr, /bin, /lib*, /etc, /opt and the
prefix of the Python and of the test runner), its own tree read-write, a private /tmp, a fresh
/dev and /proc; no network (a new, empty network namespace), no other process (a new pid
namespace), no home and no reviewer workspace (they are simply not mounted). Limits: CPU
seconds, address space, processes, file size (setrlimit before bwrap starts) and wall-clock
time (the whole sandbox is killed). When the command ends, its pid namespace ends with it, so
no process it started survives. The kernel does not hold root to a process limit (RLIMIT_NPROC),
so when the reviewer runs as root the process limit is a `pids` cgroup made for the run; where
no cgroup can be made, the result says that the process limit was not enforced.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from promptster.errors import EnvironmentProblem

PIDS_CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"),)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")
MAX_OUTPUT = 1024 * 1024  # bytes of output kept: the head and the tail, the middle left out
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class Limits:
    wall_seconds: float
    cpu_seconds: int = 600
    memory_bytes: int = 4 * 1024**3
    processes: int = 256
    file_bytes: int = 256 * 1024**2


@dataclass(frozen=True)
class SandboxRun:
    returncode: int | None  # None when killed at the wall-clock limit
    output: str
    output_cut: bool
    timed_out: bool
    seconds: float
    sandboxed: bool
    process_limit: bool = True  # False: running as root with no pids cgroup to hold the limit


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def require_sandbox(unsafe: bool) -> str | None:
    """The bwrap executable; None when running without a sandbox was asked for."""
    found = bwrap_path()
    if found is not None:
        return found
    if unsafe:
        return None
    raise EnvironmentProblem(
        "hidden tests run a candidate's code, and bubblewrap (bwrap), the sandbox promptster "
        "runs it in, is not installed",
        "install it (apt-get install bubblewrap / dnf install bubblewrap), or pass "
        "--unsafe-no-sandbox to run the candidate's code with your own rights",
    )


def _prefix(path: str) -> str | None:
    """The install prefix holding `path` (the folder above its bin/), unless it is a system
    folder mounted anyway."""
    real = os.path.realpath(path)
    parent = os.path.dirname(os.path.dirname(real))
    if parent in ("", "/") or any(parent == d or parent.startswith(d + "/") for d in SYSTEM_DIRS):
        return None
    return parent


def mounts(tree: Path, runner: str | None) -> list[str]:
    """bwrap's mount arguments: system read-only, the tree read-write, nothing else."""
    args: list[str] = []
    for folder in SYSTEM_DIRS:
        if os.path.lexists(folder):
            args += (
                ["--ro-bind", folder, folder]
                if not os.path.islink(folder)
                else ["--symlink", os.readlink(folder), folder]
            )
    # The private /tmp first: a runner installed under /tmp (a CI checkout's virtualenv) is
    # then bound on top of it instead of being hidden by it.
    args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"]
    extra = {sys.prefix, sys.base_prefix, *([_prefix(runner)] if runner else [])}
    for folder in sorted(p for p in extra if p):
        real = os.path.realpath(folder)
        if os.path.isdir(real) and not any(
            real == d or real.startswith(d + "/") for d in SYSTEM_DIRS
        ):
            args += ["--ro-bind", real, real]
            if folder != real:
                args += ["--ro-bind", real, folder]
    args += ["--bind", str(tree), str(tree), "--chdir", str(tree)]
    return args


def bwrap_argv(bwrap: str, tree: Path, command: Sequence[str], env: dict[str, str]) -> list[str]:
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    argv += mounts(tree, command[0] if command else None)
    for key, value in sorted(env.items()):
        argv += ["--setenv", key, value]
    return [*argv, "--", *command]


def _count_processes(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


class PidsCgroup:
    """A pids cgroup for one run (cgroup v1 `pids`, or v2 where this process's cgroup is
    delegated); `make` returns None when neither can be created."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def make(cls, limit: int) -> PidsCgroup | None:
        import secrets

        bases = list(PIDS_CGROUP_ROOTS)
        try:
            own = Path("/proc/self/cgroup").read_text().splitlines()
            v2 = next((line[3:] for line in own if line.startswith("0::")), None)
            if v2:
                bases.append(Path("/sys/fs/cgroup") / v2.lstrip("/"))
        except OSError:
            pass
        for base in bases:
            if not (base / "cgroup.procs").exists():
                continue
            # The reviewer's pid in the name: whose run a left-over cgroup was is plain to see.
            path = base / f"promptster-hidden-{os.getpid()}-{secrets.token_hex(6)}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(limit))
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
            return cls(path)
        return None

    def join(self) -> None:
        """Called in the child before exec: it and everything it starts are counted."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        # The pid namespace is gone by now; its last processes may take a moment to be reaped.
        for _ in range(100):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.02)


def _limiter(limits: Limits, nproc: int | None, cgroup: PidsCgroup | None) -> Callable[[], None]:
    def apply() -> None:
        if cgroup is not None:
            cgroup.join()
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _read_capped(
    stream: object, deadline: float, process: subprocess.Popen[bytes]
) -> tuple[bytes, bool, bool]:
    """Read the output until the process ends or the deadline passes: the first and the last
    half of MAX_OUTPUT bytes are kept. Returns (output, cut, timed_out)."""
    import selectors

    head = bytearray()
    tail = bytearray()
    cut = False
    half = MAX_OUTPUT // 2
    assert process.stdout is not None
    fd = process.stdout.fileno()
    os.set_blocking(fd, False)
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(head + tail), cut, True
            if not selector.select(timeout=min(left, 0.5)):
                continue
            try:
                block = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not block:
                return bytes(head + tail), cut, False
            room = half - len(head)
            if room > 0:
                head += block[:room]
                block = block[room:]
            if block:
                tail += block
                if len(tail) > half:
                    cut = True
                    del tail[: len(tail) - half]


def run_sandboxed(
    command: Sequence[str],
    tree: Path,
    limits: Limits,
    *,
    bwrap: str | None,
    env: dict[str, str] | None = None,
) -> SandboxRun:
    """Run `command` in `tree`; with `bwrap` None, unsandboxed (limits still apply)."""
    environment = {
        "PATH": SANDBOX_PATH,
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "CI": "true",
        **(env or {}),
    }
    cgroup: PidsCgroup | None = None
    nproc: int | None = None
    if os.geteuid() == 0:
        cgroup = PidsCgroup.make(limits.processes)
    else:
        # RLIMIT_NPROC counts every process of the user: leave the reviewer's own room.
        nproc = limits.processes + _count_processes(os.geteuid())
    if bwrap is not None:
        argv = bwrap_argv(bwrap, tree, command, environment)
        run_env: dict[str, str] | None = {"PATH": os.environ.get("PATH", SANDBOX_PATH)}
        cwd = None
    else:
        argv, run_env, cwd = list(command), {**os.environ, **environment}, tree
        run_env["HOME"] = str(tree)
        run_env["TMPDIR"] = str(tree)
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=run_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_limiter(limits, nproc, cgroup),
        )
    except OSError as exc:
        if cgroup is not None:
            cgroup.remove()
        raise EnvironmentProblem(f"cannot start {argv[0]}: {exc.strerror}") from exc
    try:
        output, cut, timed_out = _read_capped(
            process.stdout, started + limits.wall_seconds, process
        )
    finally:
        if process.poll() is None:
            _kill_group(process)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
    if bwrap is None:
        _kill_group(process)  # no pid namespace: whatever the command left behind goes now
    if cgroup is not None:
        cgroup.remove()
    return SandboxRun(
        returncode=None if timed_out else process.returncode,
        output=output.decode("utf-8", "replace"),
        output_cut=cut,
        timed_out=timed_out,
        seconds=time.monotonic() - started,
        sandboxed=bwrap is not None,
        process_limit=cgroup is not None or nproc is not None,
    )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
