"""Benchmark: what the shell integration's hooks cost per prompt, bash and zsh, no recorder.

    python benchmarks/bench_shell_hooks.py                    # 1,000 commands, 3 rounds
    python benchmarks/bench_shell_hooks.py --commands 300 --rounds 5 --shells bash

Each case is an interactive shell in a pty that this script drives like a terminal: type
`true`, read until the next prompt, 1,000 times. Cases, run interleaved (best of --rounds):

* plain: the shell with the same startup file (PS1, HISTFILE=/dev/null) and no integration;
* hooks: the same shell with the integration (`prepare_shell`, no deadline), no relay;
* hooks+deadline: the same with a deadline, so the prompt shows the time left;
* hooks@REV (with --baseline REV): the hooks as they were at git revision REV (the rc files
  of that revision replace the ones `prepare_shell` wrote), for a before/after on one load.

Two numbers per case: wall time per command (what a person waits; includes this script's
reading of the pty) and the shell's own CPU time per command (user + system, from wait4, less
a run with no commands, so startup is not counted). The difference to plain is the per-prompt
cost of the hooks. Plain script: prints a table, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_shell import read_until  # the same terminal reading as the recorded-shell bench

from promptster.record.shell.integration import prepare_shell

RC_DIR = "src/promptster/record/shell/rc"
REPO = Path(__file__).resolve().parent.parent
MARK = "PSTBENCH"
PROMPT = f"{MARK}> ".encode()
TIMEOUT_S = 300.0


class Shell:
    """An interactive shell on a pty; `finish` types exit and returns its rusage CPU (s)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the shell
            os.chdir(cwd)
            os.execve(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        self.until(PROMPT)

    def until(self, marker: bytes) -> None:
        read_until(self.fd, marker, TIMEOUT_S)

    def run(self, line: bytes) -> None:
        os.write(self.fd, line + b"\r")
        self.until(PROMPT)

    def finish(self) -> float:
        os.write(self.fd, b"exit\r")
        try:
            while os.read(self.fd, 1 << 16):
                pass
        except OSError:
            pass  # EIO: the shell closed the pty
        _, _, usage = os.wait4(self.pid, 0)
        os.close(self.fd)
        return usage.ru_utime + usage.ru_stime


def environment(home: Path) -> dict[str, str]:
    drop = ("PROMPT_COMMAND", "ZDOTDIR", "BASH_ENV", "ENV", "HISTFILE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTSTER_") and k not in drop}
    return env | {"HOME": str(home), "TERM": "xterm-256color", "LC_ALL": "C.UTF-8"}


def make_home(folder: Path) -> Path:
    home = folder / "home"
    home.mkdir()
    (home / ".bashrc").write_text(f"PS1='{MARK}> '\nHISTFILE=/dev/null\n")
    (home / ".zshrc").write_text(f"PS1='{MARK}> '\nHISTFILE=/dev/null\nunsetopt PROMPT_SP\n")
    return home


Opener = Callable[[], Shell]


def rc_files_at(revision: str) -> dict[str, bytes]:
    """The integration's rc files at a git revision: name in the runtime dir -> content."""
    names = {"bashrc": "bash.sh", "zsh/.zshrc": "zsh/.zshrc"}
    found = {}
    for written, source in names.items():
        done = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{revision}:{RC_DIR}/{source}"],
            capture_output=True,
            check=True,
        )
        found[written] = done.stdout
    return found


def openers(folder: Path, home: Path, shell: str, baseline: str | None) -> dict[str, Opener]:
    env = environment(home)

    def plain() -> Shell:
        return Shell([shell, "-i"], env, folder)

    def hooks(deadline: float | None, files: dict[str, bytes] | None = None) -> Opener:
        def open_() -> Shell:
            runtime = Path(tempfile.mkdtemp(dir=folder))
            launch = prepare_shell(
                shell, runtime, deadline_epoch=deadline, session_id="bench", environ=env
            )
            for name, content in (files or {}).items():
                (runtime / "shell" / name).write_bytes(content)
            return Shell(list(launch.argv), env | launch.env, folder)

        return open_

    cases = {
        "plain": plain,
        "hooks": hooks(None),
        "hooks+deadline": hooks(time.time() + 7200),
    }
    if baseline is not None:
        cases[f"hooks@{baseline}"] = hooks(None, rc_files_at(baseline))
    return cases


def one_run(opener: Opener, count: int) -> tuple[float, float]:
    """(wall seconds of the command loop, shell CPU seconds of the whole run)."""
    shell = opener()
    start = time.perf_counter()
    for _ in range(count):
        shell.run(b"true")
    wall = time.perf_counter() - start
    return wall, shell.finish()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shells", default="bash,zsh")
    parser.add_argument("--baseline", metavar="REV", help="also the hooks at this git revision")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at start", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pst-bench-hooks-") as tmp:
        folder = Path(tmp)
        home = make_home(folder)
        for name in args.shells.split(","):
            shell = shutil.which(name)
            if shell is None:
                print(f"{name}: not installed, skipped", file=sys.stderr)
                continue
            cases = openers(folder, home, shell, args.baseline)
            walls: dict[str, list[float]] = {case: [] for case in cases}
            cpus: dict[str, list[float]] = {case: [] for case in cases}
            for _ in range(args.rounds):
                for case, opener in cases.items():
                    _, idle = one_run(opener, 0)
                    wall, cpu = one_run(opener, args.commands)
                    walls[case].append(wall)
                    cpus[case].append(cpu - idle)
            per = 1e6 / args.commands
            floor_wall, floor_cpu = min(walls["plain"]) * per, min(cpus["plain"]) * per
            for case in cases:
                wall, cpu = min(walls[case]) * per, min(cpus[case]) * per
                rows.append((f"{name} {case}", wall, wall / floor_wall, cpu, cpu - floor_cpu))
    print(f"load average {os.getloadavg()[0]:.2f} at end", file=sys.stderr)
    header = ("case", "wall µs/cmd", "÷ plain", "shell CPU µs/cmd", "+ plain")
    print("\n{:<30} {:>12} {:>8} {:>17} {:>8}".format(*header))
    for label, wall, ratio, cpu, extra in rows:
        print(f"{label:<30} {wall:>12.0f} {ratio:>8.2f} {cpu:>17.0f} {extra:>+8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
