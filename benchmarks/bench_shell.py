"""Benchmark: what the recorded shell costs, against the same shell under a plain pty.

    python benchmarks/bench_shell.py                  # 1,000 commands, 100 MB, 300 keys
    python benchmarks/bench_shell.py --commands 200 --megabytes 20 --keys 100   # quick

Every case drives a terminal the way a person's terminal does: a pty whose other end this
script writes keys to and reads the screen from (ptyprocess, a small read loop, no pexpect
matching). The floor is the shell started directly in that pty (`bash -i` / `zsh -i`, same
HOME and startup files). The recorded case is `promptster shell` in that pty: the shell under
the recorder's own pty with its integration, the worker process writing the cast and sending
command events to a live recorder.

1. 1,000 trivial commands (`true`), each typed and waited for until the next prompt: wall
   time, recorded ÷ plain, and recorded ÷ `asciinema rec` (the peer, a recorder of the
   terminal only; its case is skipped with a note when it is not installed). Budget
   (docs/performance.md): recorded ≤ asciinema. bash and zsh. Reference rows split the cost:
   the shell with only the integration (its rc hooks, no relay), the shell behind util-linux
   `script` (a relay in C that records nothing), when installed, and `promptster shell` with
   no integration (our relay and worker writing the cast, no marks: the like of the `script`
   row). The notes give recorded ÷ script relay and relay only ÷ script relay, and the CPU
   time per command of every process of the plain shell, the recorded shell (loop, worker,
   recorder, shell; and the baseline's), and `asciinema rec` (its process, writer, shell),
   `--cpu-commands` each, best total of `--rounds` interleaved, measured once the worker has
   started (its imports are not a per-command cost): waiting for a core costs no CPU, so on
   a busy machine that ratio to asciinema's is the steadier one.
2. Output throughput: `cat` of a 100 MB text file until the prompt is back, recorded ÷
   plain and beside `asciinema rec` (budget: at least asciinema's throughput); the recorded
   cast must hold all of it (a gap would be reported).
3. Keystroke echo latency: a key typed at the prompt until its echo is read back, then a
   backspace; p50 and p99 over every key, recorded and plain. Typing starts at the first
   prompt (budget: p99 ≤ 0.5 ms from there on); a second, labelled pair of rows types after
   `SETTLE_S`. The shell starts once the worker has (its imports take ~130 ms of CPU), so
   that cost shows as the time from spawning the terminal to its first prompt, printed too.

Cases run interleaved (plain, recorded, plain, ...) and the best of `--rounds` is kept, so a
busy machine hurts both sides alike. With `--baseline-src DIR` (another checkout's `src`, e.g.
`git archive main src | tar -x -C /tmp/base`), the command case also times that code's recorded
shell and integration (its package first on PYTHONPATH, so its worker and rc files run; the
recorder is this code's), interleaved with the rest: a before/after on one load. Plain script:
prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ptyprocess import PtyProcess

from promptster.integrations.claude.setup import promptster_executable
from promptster.record.control import end_session, recorder_running
from promptster.record.lifecycle import StartOptions, start_session
from promptster.record.session import SessionPaths
from promptster.record.shell.integration import prepare_shell

MARK = "PSTBENCH"
PROMPT = f"{MARK}> ".encode()
TIMEOUT_S = 600.0
TICK = os.sysconf("SC_CLK_TCK")
WORKER_START_S = 1.0
SETTLE_S = 1.0  # the second key-echo case starts typing this long after the first prompt
WARM_UP = 50


def read_until(fd: int, marker: bytes, timeout: float = TIMEOUT_S) -> float:
    """Read the pty at `fd` until `marker` arrives; when it did (time.perf_counter())."""
    tail = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = os.read(fd, 1 << 16)
        if not data:
            raise EOFError("the shell exited")
        tail = (tail + data)[-(len(marker) + 64) :]
        if marker in tail:
            return time.perf_counter()
    raise TimeoutError(f"no {marker!r} within {timeout}s")


class Terminal:
    """A pty driven like a person's terminal, read with a small loop of its own."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        start = time.perf_counter()
        self.proc = PtyProcess.spawn(argv, env=env, cwd=str(cwd), dimensions=(40, 160))
        self.fd = self.proc.fd
        self.first_prompt = self.until(PROMPT) - start  # seconds from spawn to the prompt

    def until(self, marker: bytes) -> float:
        """Read until `marker` arrives; when it did (time.perf_counter())."""
        return read_until(self.fd, marker)

    def run(self, line: str) -> float:
        start = time.perf_counter()
        os.write(self.fd, line.encode() + b"\r")
        return self.until(PROMPT) - start

    def key(self, key: bytes, echo: bytes) -> float:
        start = time.perf_counter()
        os.write(self.fd, key)
        return self.until(echo) - start

    def close(self) -> None:
        os.write(self.fd, b"exit\r")
        deadline = time.monotonic() + 120
        while self.proc.isalive() and time.monotonic() < deadline:
            try:
                if not os.read(self.fd, 1 << 16):
                    break
            except OSError:
                break
        self.proc.close(force=True)


def environment(home: Path, shell: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PROMPTSTER_") and k not in ("PROMPT_COMMAND", "ZDOTDIR", "BASH_ENV")
    }
    env |= {"HOME": str(home), "SHELL": shell, "TERM": "xterm-256color", "LC_ALL": "C.UTF-8"}
    if "PROMPTSTER_HOME" in os.environ:
        env["PROMPTSTER_HOME"] = os.environ["PROMPTSTER_HOME"]
    return env


def make_home(folder: Path) -> Path:
    home = folder / "home"
    home.mkdir()
    (home / ".bashrc").write_text(f"PS1='{MARK}> '\nHISTFILE=/dev/null\n")
    (home / ".zshrc").write_text(f"PS1='{MARK}> '\nHISTFILE=/dev/null\nunsetopt PROMPT_SP\n")
    return home


_PREPARE = """import json, sys
from pathlib import Path
from promptster.record.shell.integration import prepare_shell
shell, runtime, env = sys.argv[1], Path(sys.argv[2]), json.loads(sys.stdin.read())
launch = prepare_shell(shell, runtime, deadline_epoch=None, session_id="bench", environ=env)
print(json.dumps([list(launch.argv), launch.env]))
"""


class Setup:
    def __init__(self, folder: Path, home: Path, workspace: Path) -> None:
        self.folder, self.home, self.workspace = folder, home, workspace
        self.baseline: Path | None = None  # another checkout's src (--baseline-src)

    def plain(self, shell: str) -> Terminal:
        return Terminal([shell, "-i"], environment(self.home, shell), self.workspace)

    def integrated(self, shell: str) -> Terminal:
        env = environment(self.home, shell)
        runtime = Path(tempfile.mkdtemp(dir=self.folder))
        launch = prepare_shell(shell, runtime, deadline_epoch=None, session_id="bench", environ=env)
        return Terminal(list(launch.argv), env | launch.env, self.workspace)

    def script(self, shell: str) -> Terminal:
        exe = shutil.which("script") or "script"
        argv = [exe, "-q", "/dev/null", "-c", f"{shell} -i"]
        return Terminal(argv, environment(self.home, shell), self.workspace)

    def asciinema(self, shell: str) -> Terminal:
        """`asciinema rec`: the recorder a user would pick instead (records only the
        terminal). Its cast goes to a file of its own in the bench folder."""
        exe = shutil.which("asciinema") or "asciinema"
        cast = Path(tempfile.mkdtemp(dir=self.folder)) / "session.cast"
        argv = [exe, "rec", "--quiet", "--overwrite", "-c", f"{shell} -i", str(cast)]
        return Terminal(argv, environment(self.home, shell), self.workspace)

    def recorded(self, shell: str) -> Terminal:
        env = environment(self.home, shell)
        return Terminal([promptster_executable(), "shell"], env, self.workspace)

    def baseline_env(self, shell: str) -> dict[str, str]:
        assert self.baseline is not None
        return environment(self.home, shell) | {"PYTHONPATH": str(self.baseline)}

    def recorded_baseline(self, shell: str) -> Terminal:
        """`promptster shell` with the baseline's package (and so its worker and rc files)."""
        return Terminal(
            [promptster_executable(), "shell"], self.baseline_env(shell), self.workspace
        )

    def integrated_baseline(self, shell: str) -> Terminal:
        """The baseline's integration, written by its own `prepare_shell`."""
        env = self.baseline_env(shell)
        runtime = Path(tempfile.mkdtemp(dir=self.folder))
        done = subprocess.run(
            [sys.executable, "-c", _PREPARE, shell, str(runtime)],
            input=json.dumps(env), env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        argv, extra = json.loads(done.stdout)
        return Terminal(argv, env | extra, self.workspace)

    def relay_only(self, shell: str) -> Terminal:
        """`promptster shell` with the integration off: a name it does not integrate."""
        alias = self.folder / f"plain-{Path(shell).name}"  # not "r…": zsh would be restricted
        if not alias.exists():
            alias.symlink_to(shell)
        env = environment(self.home, str(alias))
        return Terminal([promptster_executable(), "shell"], env, self.workspace)


def commands_case(term: Terminal, count: int) -> float:
    try:
        start = time.perf_counter()
        for _ in range(count):
            term.run("true")
        return time.perf_counter() - start
    finally:
        term.close()


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        if int(text.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = text[text.find("(") + 1 : text.rfind(")")]
    return found


def descendants(pid: int) -> dict[int, str]:
    """Children, grandchildren...: `asciinema rec -c` runs the shell under `sh -c`."""
    found = children(pid)
    for child in list(found):
        found |= descendants(child)
    return found


def cpu_per_command(
    opener: Callable[[str], Terminal],
    shell: str,
    count: int,
    recorder: int | None,
    first: str = "pty loop",
) -> dict[str, float]:
    """CPU time per command of each process of a terminal (µs): the process in the pty
    (`first`), its children (the shell; our worker; asciinema's writer) and the recorder
    when given. /proc's counts are clock ticks: `count` should be a few thousand."""
    term = opener(shell)
    pids = {first: term.proc.pid}
    if recorder is not None:
        pids["recorder"] = recorder
    time.sleep(WORKER_START_S)  # the worker's imports are not a per-command cost
    for pid, name in descendants(term.proc.pid).items():
        label = "worker" if name.startswith("python") or name == "asciinema" else name
        pids[label if label not in pids else f"{label} {pid}"] = pid
    try:
        for _ in range(WARM_UP):
            term.run("true")
        before = {k: cpu_seconds(p) for k, p in pids.items()}
        for _ in range(count):
            term.run("true")
        return {k: (cpu_seconds(p) - before[k]) / count * 1e6 for k, p in pids.items()}
    finally:
        term.close()


def cpu_cases(
    setup: Setup, shell: str, count: int, rounds: int, recorder: int
) -> dict[str, dict[str, float]]:
    """CPU per command of every process of each case, interleaved; per case the round with
    the lowest total. Waiting for a core costs no CPU, so on a busy machine this compares
    the work done where wall times mostly compare luck."""
    openers: dict[str, tuple[Callable[[str], Terminal], int | None, str]] = {
        "plain": (setup.plain, None, shell),
        "recorded": (setup.recorded, recorder, "pty loop"),
    }
    if setup.baseline is not None:
        openers["recorded (baseline)"] = (setup.recorded_baseline, recorder, "pty loop")
    if shutil.which("asciinema"):
        openers["asciinema rec"] = (setup.asciinema, None, "asciinema")
    found: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for name, (opener, rec, first) in openers.items():
            cpu = cpu_per_command(opener, shell, count, rec, first)
            if name not in found or sum(cpu.values()) < sum(found[name].values()):
                found[name] = cpu
    return found


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def echo_case(term: Terminal, keys: int, settle: float = 0.0) -> list[float]:
    try:
        time.sleep(settle)
        latencies = []
        for _ in range(keys):
            latencies.append(term.key(b"x", b"x"))
            latencies.append(term.key(b"\x7f", b"\b"))
        return latencies
    finally:
        term.close()


def command_cases(setup: Setup, shell: str, count: int) -> dict[str, Callable[[], float]]:
    openers = {
        "plain": setup.plain,
        "integration only": setup.integrated,
        "recorded": setup.recorded,
        "relay only": setup.relay_only,
    }
    if shutil.which("asciinema"):
        openers["asciinema rec"] = setup.asciinema
    if shutil.which("script"):
        openers["script relay"] = setup.script
    if setup.baseline is not None:
        openers["recorded (baseline)"] = setup.recorded_baseline
        openers["integration only (baseline)"] = setup.integrated_baseline

    def case(opener: Callable[[str], Terminal]) -> Callable[[], float]:
        return lambda: commands_case(opener(shell), count)

    return {name: case(opener) for name, opener in openers.items()}


def best(rounds: int, cases: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Each case `rounds` times, interleaved; the best time of each."""
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            results[name].append(case())
    return {name: min(times) for name, times in results.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--cpu-commands", type=int, default=2000, help="commands per CPU-accounting case"
    )
    parser.add_argument("--shells", default="bash,zsh")
    parser.add_argument("--baseline-src", type=Path, help="also time this checkout's src")
    parser.add_argument("--skip-io", action="store_true", help="only the command case")
    args = parser.parse_args()

    load_start = os.getloadavg()[0]
    rows: list[tuple[str, str, str, str]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pst-bench-shell-") as tmp:
        folder = Path(tmp)
        os.environ["PROMPTSTER_HOME"] = str(folder / "pst-home")
        os.environ.pop("PROMPTSTER_SESSION_DIR", None)
        setup = Setup(folder, make_home(folder), folder / "ws")
        if args.baseline_src is not None:
            setup.baseline = args.baseline_src.resolve()
        started = start_session(StartOptions(workspace=setup.workspace))
        paths = SessionPaths(started.paths.root)
        recorder = json.loads(paths.recorder_info.read_text())["pid"]
        big = folder / "big.txt"
        line = (bytes(range(0x21, 0x7F)) * 2)[:127] + b"\n"
        with open(big, "wb") as out:
            out.write(line * (args.megabytes * 1024 * 1024 // len(line)))
        try:
            for name in args.shells.split(","):
                shell = shutil.which(name)
                if shell is None:
                    notes.append(f"{name}: not installed, skipped")
                    continue
                n = args.commands
                times = best(args.rounds, command_cases(setup, shell, n))
                floor = times["plain"]
                per = 1e6 / n
                peer = times.get("asciinema rec")
                for case in ("recorded", "recorded (baseline)", "asciinema rec", "integration only",
                             "integration only (baseline)", "script relay",
                             "relay only"):  # fmt: skip
                    if case in times:
                        label = f"{n} × true, {name}" + ("" if case == "recorded" else f" ({case})")
                        budget = ""
                        if case.startswith("recorded") and peer is not None:
                            budget = f"  recorded ÷ asciinema {times[case] / peer:.2f} (budget ≤ 1)"
                        rows.append((label, f"{floor * per:.0f} µs/cmd",
                                     f"{times[case] * per:.0f} µs/cmd",
                                     f"{times[case] / floor:.2f}{budget}"))  # fmt: skip
                if peer is None:
                    notes.append(f"{name}: asciinema not installed, its case skipped "
                                 "(apt-get install asciinema; nox -s bench does)")  # fmt: skip
                if "script relay" in times:
                    relay = times["script relay"]
                    ratios = [f"{case} ÷ script relay {times[case] / relay:.2f}"
                              for case in ("recorded", "relay only")]  # fmt: skip
                    notes.append(f"{name}: " + ", ".join(ratios))
                cpus = cpu_cases(setup, shell, args.cpu_commands, args.rounds, recorder)
                for case, cpu in cpus.items():
                    shown = ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
                    notes.append(f"{name}: CPU µs per command, {case}: total "
                                 f"{sum(cpu.values()):.0f} ({shown})")  # fmt: skip
                if "asciinema rec" in cpus:
                    peer = sum(cpus["asciinema rec"].values())
                    ours = [c for c in ("recorded", "recorded (baseline)") if c in cpus]
                    ratios = [f"{c} {sum(cpus[c].values()) / peer:.2f}" for c in ours]
                    notes.append(f"{name}: CPU per command ÷ asciinema rec's: " + ", ".join(ratios))
            if args.skip_io:
                return _print(rows, notes, load_start)
            bash = shutil.which("bash") or "/bin/sh"
            gaps_before = _gap_bytes(paths)
            cats = {
                "plain": lambda: _cat(setup.plain(bash), big),
                "recorded": lambda: _cat(setup.recorded(bash), big),
            }
            if shutil.which("asciinema"):
                cats["asciinema rec"] = lambda: _cat(setup.asciinema(bash), big)
            times = best(args.rounds, cats)
            mb = args.megabytes
            for case in ("recorded", "asciinema rec"):
                if case in times:
                    label = f"cat {mb} MB" + ("" if case == "recorded" else f" ({case})")
                    rows.append((label, f"{mb / times['plain']:.0f} MB/s",
                                 f"{mb / times[case]:.0f} MB/s",
                                 f"{times[case] / times['plain']:.2f}  (time)"))  # fmt: skip
            if "asciinema rec" in times:
                cat_ratio = times["asciinema rec"] / times["recorded"]
                notes.append(f"cat: recorded throughput ÷ asciinema's {cat_ratio:.2f} (budget ≥ 1)")
            gap = _gap_bytes(paths) - gaps_before
            notes.append(f"cat: {gap:,} bytes left out of the casts (capture_gap warnings)")
            for settle, when in ((0.0, ""), (SETTLE_S, f", typed after {SETTLE_S:.0f} s")):
                plain_term, recorded_term = setup.plain(bash), setup.recorded(bash)
                firsts = (plain_term.first_prompt, recorded_term.first_prompt)
                plain_keys = echo_case(plain_term, args.keys, settle)
                recorded_keys = echo_case(recorded_term, args.keys, settle)
                for label, q in (("p50", 0.5), ("p99", 0.99)):
                    a, b = quantile(plain_keys, q) * 1000, quantile(recorded_keys, q) * 1000
                    budget = "  (budget p99 ≤ 0.5 ms)" if label == "p99" and not settle else ""
                    rows.append((f"key echo {label}{when}", f"{a:.2f} ms", f"{b:.2f} ms",
                                 f"{b / a:.2f}{budget}"))  # fmt: skip
                if not settle:  # the worker's start now comes before the first prompt
                    rows.append(("spawn to first prompt", f"{firsts[0] * 1000:.0f} ms",
                                 f"{firsts[1] * 1000:.0f} ms",
                                 f"{firsts[1] / firsts[0]:.2f}"))  # fmt: skip
        finally:
            if recorder_running(paths):
                end_session(paths, "abort")
    return _print(rows, notes, load_start)


def _print(rows: list[tuple[str, str, str, str]], notes: list[str], load_start: float) -> int:
    notes.append(f"load average {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print(f"\n{'case':<40} {'plain pty (floor)':>18} {'measured':>14}   ratio")
    for case, floor_text, value, ratio in rows:
        print(f"{case:<40} {floor_text:>18} {value:>14}   {ratio}")
    print()
    for note in notes:
        print(note)
    return 0


def _cat(term: Terminal, path: Path) -> float:
    try:
        return term.run(f"cat {path}")
    finally:
        term.close()


def _gap_bytes(paths: SessionPaths) -> int:
    total = 0
    for line in paths.journal.read_text().splitlines():
        event = json.loads(line)
        if event["kind"] == "warning" and event["data"].get("code") == "capture_gap":
            total += int(event["data"].get("gapBytes", 0))
    return total


if __name__ == "__main__":
    sys.exit(main())
