"""Benchmark: what recording a command Aider runs costs (the `promptster-aider-shell` wrapper).

    python benchmarks/bench_aider_shell.py              # 40 runs per case
    python benchmarks/bench_aider_shell.py --runs 10    # quick

Wall time of `<shell> -c true` run as Aider runs it, median and p95, interleaved with the bare
shell (`bash -c true`, what Aider runs without Promptster) and `python -c pass`, so all see the
same machine load. Cases: the wrapper outside a session (it execs the shell), with the recorder
down (the events go to the spool) and live (a snapshot before and after, the events sent).
Run it with a scratch PROMPTSTER_HOME and XDG_RUNTIME_DIR: it starts a recorded session.

Plain script: prints results (docs/performance.md has the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_hook import FLOOR, start_recorded, stop_recorded, timed

from promptster.integrations.aider import runshell, shims


def case(name: str, command: list[str], cwd: Path, runs: int) -> None:
    bash = shutil.which("bash") or "/bin/sh"
    bare = [bash, "-c", "true"]
    timed(command, b"", cwd)  # warm the page cache
    times: list[float] = []
    bare_times: list[float] = []
    floor_times: list[float] = []
    for _ in range(runs):
        floor_times.append(timed(FLOOR, b"", cwd))
        bare_times.append(timed(bare, b"", cwd))
        times.append(timed(command, b"", cwd))
    median, shell = statistics.median(times), statistics.median(bare_times)
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    print(
        f"  {name:<34} median {median * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms"
        f"  (bare shell {shell * 1000:5.1f} ms, python -c pass"
        f" {statistics.median(floor_times) * 1000:5.1f} ms)"
        f"  +{(median - shell) * 1000:5.1f} ms per command  load {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    os.environ[runshell.REAL_SHELL_ENV] = shutil.which("bash") or "/bin/sh"
    with tempfile.TemporaryDirectory(prefix="pst-bench-aider-shell-") as tmp:
        root = Path(tmp)
        wrapper = str(shims.write(root / "bin")[0])
        command = [wrapper, "-c", "true"]
        print(f"one command run by Aider's SHELL ({args.runs} runs each; {sys.executable})")
        outside = root / "outside"
        outside.mkdir()
        case("outside a session", command, outside, args.runs)
        down = root / "recorder-down"
        (down / ".promptster").mkdir(parents=True)
        state = {"sessionId": "bench", "workspace": str(down), "status": "active"}
        state["socket"] = str(down / "none.sock")
        (down / ".promptster" / "session.json").write_text(json.dumps(state))
        case("recorder down: spooled", command, down, args.runs)
        live = root / "live"
        session_dir = start_recorded(live)
        try:
            case("live (2 snapshots, 3 events)", command, live, args.runs)
        finally:
            stop_recorded(session_dir)


if __name__ == "__main__":
    main()
