"""Benchmark hidden tests: the sandbox's start-up cost, and `score` throughput with them.

1. Start-up: the same command (`/bin/true`, then a one-test pytest run) in the same tree, run
   directly with the same limits and run in the bubblewrap sandbox, interleaved, median of
   --repeat. Budget: the sandbox adds at most 100 ms per run.
2. Throughput: `promptster score` over --bundles synthetic bundles (assessment `synthetic`)
   with --jobs workers, with hidden tests attached (first run, then with stored results), and
   without hidden tests, in bundles per second; then with --hidden-tests-at checkpoints (the
   final results stored, the runs at checkpoints and where the tests went green new).

    python benchmarks/bench_hidden_tests.py                  # 200 bundles, 2 jobs
    python benchmarks/bench_hidden_tests.py --bundles 20     # a quick run
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from promptster.record.synth import generate_bundle
from promptster.reviewer.hidden_tests.sandbox import Limits, bwrap_path, run_sandboxed
from promptster.reviewer.hidden_tests.suite import attach_suite
from promptster.reviewer.store import Workspace

BUDGET_MS = 100.0
HIDDEN_TEST = (
    "def test_the_tree_is_there():\n    import pathlib\n    assert pathlib.Path('.').is_dir()\n"
)
CLI = "from promptster.cli import run; run()"


def _once_ms(command: list[str], tree: Path, limits: Limits, bwrap: str | None) -> float:
    started = time.perf_counter()
    run_sandboxed(command, tree, limits, bwrap=bwrap)
    return (time.perf_counter() - started) * 1000


def startup(repeat: int) -> bool:
    bwrap = bwrap_path()
    if bwrap is None:
        print("bubblewrap (bwrap) is not installed: apt-get install bubblewrap", file=sys.stderr)
        return False
    pytest_bin = shutil.which("pytest")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-hidden-") as tmp:
        tree = Path(tmp) / "tree"
        tree.mkdir()
        (tree / "test_one.py").write_text(HIDDEN_TEST)
        limits = Limits(wall_seconds=60)
        commands = [["/bin/true"]]
        if pytest_bin:
            commands.append([pytest_bin, "-q", "-p", "no:cacheprovider", "test_one.py"])
        print(f"{'command':<28}{'direct ms':>12}{'sandboxed ms':>14}{'added ms':>10}")
        for command in commands:
            direct: list[float] = []
            boxed: list[float] = []
            for _ in range(repeat):  # interleaved, so that noise hits both sides alike
                direct.append(_once_ms(command, tree, limits, None))
                boxed.append(_once_ms(command, tree, limits, bwrap))
            d, b = statistics.median(direct), statistics.median(boxed)
            name = Path(command[0]).name + (" (1 test)" if len(command) > 1 else "")
            within = b - d <= BUDGET_MS
            ok &= within
            print(f"{name:<28}{d:>12.1f}{b:>14.1f}{b - d:>10.1f}  {'ok' if within else 'OVER'}")
    print(f"budget: the sandbox adds at most {BUDGET_MS:.0f} ms per run")
    return ok


def throughput(count: int, jobs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-hidden-score-") as tmp:
        root = Path(tmp)
        bundles = root / "bundles"
        bundles.mkdir()
        for index in range(count):
            generate_bundle(bundles / f"s{index:04d}.pst", events=200, seed=index)
        env = {**os.environ, "PROMPTSTER_HOME": str(root / "home")}

        def score(*extra: str) -> float:
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", CLI, "score", str(bundles), "--format", "csv",
                 "--jobs", str(jobs), "-o", str(root / "out.csv"), *extra],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(f"score failed: {done.stderr[-500:]}")
            return time.perf_counter() - started

        without = score()
        hidden = root / "hidden"
        hidden.mkdir()
        (hidden / "test_hidden.py").write_text(HIDDEN_TEST)
        os.environ["PROMPTSTER_HOME"] = str(root / "home")
        with Workspace.open(root / "home" / "workspace.duckdb") as workspace:
            attach_suite(workspace, "synthetic", hidden, command="pytest -q", timeout_seconds=60)
        first = score()
        stored = score()
        # Synthetic sessions have checkpoints and tests going green: 1-4 more runs per bundle.
        over_time = score("--hidden-tests-at", "checkpoints")
        print(f"\nscore over {count} bundles, --jobs {jobs}:")
        for label, seconds in (
            ("without hidden tests", without),
            ("hidden tests, first run", first),
            ("hidden tests, stored results", stored),
            ("at checkpoints, first run", over_time),
        ):
            print(f"  {label:<30}{seconds:>8.1f} s {count / seconds:>8.1f} bundles/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--bundles", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    ok = startup(args.repeat)
    throughput(args.bundles, args.jobs)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
