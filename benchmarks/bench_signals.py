"""Benchmark: signals vs DuckDB alone, and `promptster score` throughput and memory.

    python benchmarks/bench_signals.py                      # the budgets of docs/performance.md
    python benchmarks/bench_signals.py --big-events 20000 --bundles 40 --events 500   # quick

1. Signals for one big bundle (default 100,000 events) against the floor: DuckDB alone reading
   the same timeline.jsonl and counting events per kind. Budget: ratio ≤ 3.
2. `promptster score` over many ordinary bundles (default 1,000 of ~2,000 events) with
   --jobs 1 and --jobs 2: bundles per second, and the peak memory of the scoring processes
   for a tenth of the bundles and for all of them (it must not grow with the count).

With --profile, part 1 also prints where the time goes: each step of loading and each signal
family on its own (medians of the same interleaved runs).

Bundles come from `promptster synth` (fixed seeds) and are cached in --cache between runs.
Plain script: prints results, asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from promptster.analysis import load
from promptster.analysis.load import TIMELINE_COLUMNS, connect, load_verified
from promptster.analysis.signals import FAMILIES, compute_signals, run_family, set_scope
from promptster.bundle.verify import VerifyReport, verify_bundle
from promptster.record.synth import generate_bundle


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def interleaved(
    runs: int, actions: dict[str, Callable[[], object]]
) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of each action, the actions taking turns run after run
    (on a shared, noisy machine a slow moment then hits all of them, not one)."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            wall, cpu = time.perf_counter(), _cpu()
            action()
            times[name].append((time.perf_counter() - wall, _cpu() - cpu))
    return {
        name: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
        for name, got in times.items()
    }


def bundle(cache: Path, name: str, events: int, seed: int) -> Path:
    path = cache / f"{name}.pst"
    if not path.exists():
        generate_bundle(path, events=events, seed=seed)
    return path


def profile_steps(path: Path, report: VerifyReport, timeline: bytes, runs: int) -> None:
    """Wall and CPU medians of each step of load + signals, taken apart."""
    manifest = report.context.manifest
    assert manifest is not None
    sid = manifest.session_id
    split = manifest.event_count >= load.SPLIT_EVENTS
    cons: list[duckdb.DuckDBPyConnection] = []
    steps: dict[str, Callable[[], object]] = {
        "connect (schema, macros)": lambda: cons.append(connect()),
        "hash the bundle (overlaps the read)": lambda: load.file_sha256(path),
        "read into events + typed tables": lambda: load._insert_timeline(
            cons[-1], sid, timeline, split=split
        ),
        "sessions row": lambda: load._insert_session(
            cons[-1],
            load.LoadedSession(sid, path, "", True, (), load.LoadStatus.LOADED, None, 0),
            report,
        ),
        "scope": lambda: set_scope(cons[-1], [sid]),
    }

    def family_step(family: str) -> Callable[[], object]:
        return lambda: run_family(cons[-1], family)

    for family in FAMILIES:
        steps[f"family {family} (one connection)"] = family_step(family)
    steps["compute_signals (all, as measured)"] = lambda: compute_signals(cons[-1], [sid])
    steps["close"] = lambda: cons.pop().close()
    timed = interleaved(runs, steps)
    print("  where the time goes (wall / CPU seconds)")
    for name, (wall, cpu) in timed.items():
        print(f"    {name:47s}{wall:7.3f} {cpu:7.3f}")


def bench_signals(cache: Path, events: int, runs: int, profile: bool = False) -> None:
    path = bundle(cache, f"big-{events}", events, seed=4242)
    report = verify_bundle(path, keep_timeline=True)
    assert report.ok and report.context.timeline is not None
    timeline_bytes = report.context.timeline
    with tempfile.TemporaryDirectory() as tmp:
        timeline = Path(tmp) / "timeline.jsonl"
        timeline.write_bytes(report.context.timeline)

        def floor() -> None:
            con = duckdb.connect()
            con.execute(
                f"SELECT kind, count(*) FROM read_json('{timeline}', "
                f"format = 'newline_delimited', columns = {TIMELINE_COLUMNS}) GROUP BY kind"
            ).fetchall()
            con.close()

        def load_only() -> None:
            con = connect()
            load_verified(con, path, report, timeline_bytes)
            con.close()

        def signals() -> None:
            con = connect()
            loaded = load_verified(con, path, report, timeline_bytes)
            compute_signals(con, [loaded.session_id])
            con.close()

        def verify_only() -> None:
            verify_bundle(path, keep_timeline=True)

        timed = interleaved(
            runs, {"floor": floor, "load": load_only, "signals": signals, "verify": verify_only}
        )
    size = path.stat().st_size
    (floor_wall, floor_cpu), (load_wall, load_cpu) = timed["floor"], timed["load"]
    (signals_wall, signals_cpu), (verify_wall, verify_cpu) = timed["signals"], timed["verify"]
    print(f"signals for one bundle: {events:,} events, timeline {len(timeline_bytes):,} B")
    print(f"  medians of {runs} runs, wall / CPU seconds")
    print(
        f"  floor (DuckDB reads timeline.jsonl, counts per kind){floor_wall:7.3f} {floor_cpu:7.3f}"
    )
    print(f"  load into tables (verified bundle)                 {load_wall:7.3f} {load_cpu:7.3f}")
    print(
        f"  load + every signal (verified bundle)              {signals_wall:7.3f} "
        f"{signals_cpu:7.3f}"
    )
    print(
        f"  ratio signals / floor  {signals_wall / floor_wall:6.1f}x wall, "
        f"{signals_cpu / floor_cpu:.1f}x CPU   (budget 3x)"
    )
    print(
        f"  verify (not counted above)                         {verify_wall:7.3f} {verify_cpu:7.3f}"
    )
    print(f"  bundle {size:,} B")
    if profile:
        profile_steps(path, report, timeline_bytes, runs)


def run_score(folder: Path, jobs: int) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of `promptster score` over `folder` in a fresh process."""
    code = (
        "import resource, sys; from promptster.cli import main; "
        f"rc = main(['score', {str(folder)!r}, '--format', 'jsonl', '-o', '/dev/null', "
        f"'--jobs', '{jobs}']); "
        "own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
        "print(max(own, kids)); sys.exit(rc)"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"score failed ({done.returncode}): {done.stderr}")
    return elapsed, int(done.stdout.split()[-1]) / 1024


def bench_score(cache: Path, count: int, events: int) -> None:
    folder = cache / f"batch-{count}x{events}"
    small = cache / f"batch-{max(1, count // 10)}x{events}"
    for target, n in ((folder, count), (small, max(1, count // 10))):
        target.mkdir(parents=True, exist_ok=True)
        for seed in range(n):
            path = target / f"s{seed:05d}.pst"
            if not path.exists():
                source = cache / f"one-{events}-{seed}.pst"
                bundle(cache, f"one-{events}-{seed}", events, seed)
                shutil.copyfile(source, path)
    print(f"score: {count:,} bundles of ~{events:,} events")
    for jobs in (1, 2):
        seconds, peak = run_score(folder, jobs)
        print(
            f"  --jobs {jobs}: {seconds:7.1f} s  {count / seconds:7.1f} bundles/s  "
            f"peak RSS of one process {peak:6.0f} MiB"
        )
    _, peak_small = run_score(small, 2)
    _, peak_all = run_score(folder, 2)
    print(
        f"  peak RSS with {max(1, count // 10):,} bundles {peak_small:.0f} MiB, "
        f"with {count:,} bundles {peak_all:.0f} MiB (must not grow with the count)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-events", type=int, default=100_000)
    parser.add_argument("--bundles", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "promptster-bench-signals"
    )
    parser.add_argument("--skip-score", action="store_true")
    parser.add_argument("--profile", action="store_true", help="time each step and family")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    bench_signals(args.cache, args.big_events, args.runs, args.profile)
    if not args.skip_score:
        bench_score(args.cache, args.bundles, args.events)


if __name__ == "__main__":
    main()
