"""Benchmark: signals vs DuckDB alone, and `promptster score` throughput and memory.

    python benchmarks/bench_signals.py                      # the budgets of docs/performance.md
    python benchmarks/bench_signals.py --big-events 20000 --bundles 40 --events 500   # quick
    python benchmarks/bench_signals.py --skip-signals --bundles 300     # score vs verify only

1. Signals for one big bundle (default 100,000 events) against the honest floor: DuckDB alone
   reading the same timeline.jsonl with the fields the signals need (kind, ts, actor, seq,
   data as JSON) and counting events per kind. Budget: ratio ≤ 2. The old floor, which reads
   only `kind` (DuckDB skip-parses the rest), is printed beside it.
2. `promptster score --jobs 2` over many ordinary bundles (default 1,000 of ~2,000 events)
   against verification alone over the same bundles on the same two workers, interleaved,
   best of --score-runs. Budget: score ≥ 0.6 × verify's throughput. Then --jobs 1, and the peak
   memory of the scoring processes for a quarter of the bundles and for all of them (it must
   not grow with the count). Every figure is printed with the load average.

With --profile, part 1 also prints where the time goes: each step of loading and each signal
family on its own (medians of the same interleaved runs), the read into `events` alone, and
every family over a bundle of 500 events (the cost that does not depend on the data). With
`--baseline-src DIR` (another checkout's `src`, e.g. `git archive main src | tar -x -C
/tmp/base`) part 1 also times that code's load + every signal, in a worker process that takes
its turn between this code's runs, so a change is measured before and after in one run on the
same machine load.

Bundles come from `promptster synth` (fixed seeds) and are cached in --cache between runs, in
a folder named after what wrote them (the package version, the bundle format version and a
digest of the sources of synth and the bundle writer): bundles written by other code are never
reused, and the folders of older writers are removed. Plain script: prints results, asserts
nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
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

import promptster
from promptster.analysis import database, load, verified
from promptster.analysis.catalog import FAMILIES
from promptster.analysis.database import connect
from promptster.analysis.load import TIMELINE_COLUMNS, load_verified
from promptster.analysis.prices import install_prices
from promptster.analysis.signals import compute_signals, run_family, set_scope
from promptster.bundle import format as fmt
from promptster.bundle.spool import SpooledTimeline
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


# What a synthetic bundle's bytes depend on, besides its seed: synth and everything it writes
# the bundle with (the bundle format, the event and payload formats, the assessment pack, the
# journal). A change to any of them gives a cache folder of its own.
_WRITER_SOURCES = (
    "record/synth", "record/journal.py", "gitutil.py", "bundle", "formats", "issue",
)  # fmt: skip
_CACHE_PREFIX = "bundles-"


def writer_key() -> str:
    """The cache folder name of bundles written by this code."""
    root = Path(promptster.__file__).parent
    digest = hashlib.sha256()
    for name in _WRITER_SOURCES:
        target = root / name
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for path in files:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return (
        f"{_CACHE_PREFIX}{promptster.__version__}-f{fmt.FORMAT_VERSION}-{digest.hexdigest()[:12]}"
    )


def bundle_cache(root: Path) -> Path:
    """This writer's folder under `root`; the folders of other writers are removed (bundles
    made by older code can fail today's verification, e.g. format 1 without a pack)."""
    key = writer_key()
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(f"{_CACHE_PREFIX}*"):
        if stale.is_dir() and stale.name != key:
            shutil.rmtree(stale)
    # what the benchmark kept directly in `root` before bundles had a folder per writer
    for old in (*root.glob("*.pst"), *root.glob("batch-*"), root / "verify_only.py"):
        if old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()
    folder = root / key
    folder.mkdir(exist_ok=True)
    return folder


def bundle(cache: Path, name: str, events: int, seed: int) -> Path:
    path = cache / f"{name}.pst"
    if not path.exists():
        generate_bundle(path, events=events, seed=seed)
    return path


def scope_and_prices(con: duckdb.DuckDBPyConnection, sid: str) -> None:
    set_scope(con, [sid])
    install_prices(con)


def profile_steps(path: Path, report: VerifyReport, timeline: SpooledTimeline, runs: int) -> None:
    """Wall and CPU medians of each step of load + signals, taken apart."""
    manifest = report.context.manifest
    assert manifest is not None
    sid = manifest.session_id
    split = manifest.event_count >= load.SPLIT_EVENTS
    cons: list[duckdb.DuckDBPyConnection] = []
    steps: dict[str, Callable[[], object]] = {
        "connect (schema, macros)": lambda: cons.append(connect()),
        "hash the bundle (overlaps the read)": lambda: verified.file_sha256(path),
        "read into events + typed tables": lambda: load._insert_timeline(
            cons[-1], sid, timeline, split=split, events=manifest.event_count
        ),
        "sessions row": lambda: load._insert_session(
            cons[-1],
            load.LoadedSession(sid, path, "", True, (), load.LoadStatus.LOADED, None, 0),
            report,
        ),
        "scope, prices": lambda: scope_and_prices(cons[-1], sid),
    }

    def family_step(family: str) -> Callable[[], object]:
        return lambda: run_family(cons[-1], family)

    for family in FAMILIES:
        steps[f"family {family} (one connection)"] = family_step(family)
    steps["compute_signals (all, as measured)"] = lambda: compute_signals(cons[-1], [sid])
    steps["close"] = lambda: cons.pop().close()
    # The read alone, as the load does it (one thread), on a connection of its own.
    steps["  connect + read into events alone + close"] = lambda: events_only(sid, timeline.path)
    # What does not depend on the data: every family over a bundle of 500 events, loaded once.
    small = bundle(path.parent, "small-500", 500, seed=4242)
    small_con = connect()
    small_sid = load.load_bundle(small_con, small).session_id
    scope_and_prices(small_con, small_sid)

    def small_step(family: str) -> Callable[[], object]:
        return lambda: run_family(small_con, family)

    for family in FAMILIES:
        steps[f"  family {family}, 500 events"] = small_step(family)
    try:
        timed = interleaved(runs, steps)
    finally:
        small_con.close()
    print("  where the time goes (wall / CPU seconds)")
    for name, (wall, cpu) in timed.items():
        print(f"    {name:47s}{wall:7.3f} {cpu:7.3f}")
    read_wall = statistics.median(w for w, _ in _READ_ALONE)
    read_cpu = statistics.median(c for _, c in _READ_ALONE)
    print(f"    {'  of which the read into events':47s}{read_wall:7.3f} {read_cpu:7.3f}")
    fixed = [timed[f"  family {f}, 500 events"] for f in FAMILIES]
    print(
        f"    {'every family, 500 events (fixed cost)':47s}{sum(w for w, _ in fixed):7.3f} "
        f"{sum(c for _, c in fixed):7.3f}"
    )


def events_only(sid: str, timeline: Path) -> None:
    con = connect()
    try:
        with database.one_thread(con):
            wall, cpu = time.perf_counter(), _cpu()
            load.read_events(con, sid, timeline)
            _READ_ALONE.append((time.perf_counter() - wall, _cpu() - cpu))
    finally:
        con.close()


_READ_ALONE: list[tuple[float, float]] = []


# The baseline's load + every signal, in its own process (the other checkout's package on its
# path): it verifies the bundle once, then times one run per line read from stdin.
_BASELINE = """
import json, os, sys, time
from pathlib import Path
from promptster.analysis.database import connect
from promptster.analysis.load import load_verified
from promptster.analysis.signals import compute_signals
from promptster.bundle.verify import verify_bundle

path = Path(sys.argv[1])
report = verify_bundle(path, keep_timeline=True)
timeline = report.context.timeline
print("ready", flush=True)
for _ in sys.stdin:
    wall, cpu = time.perf_counter(), time.process_time()
    con = connect()
    loaded = load_verified(con, path, report, timeline)
    compute_signals(con, [loaded.session_id])
    con.close()
    print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu]), flush=True)
"""


class Baseline:
    """The worker process that times the baseline checkout's load + signals on request."""

    def __init__(self, src: Path, path: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(src.resolve())}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BASELINE, str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        if self.stdout.readline().strip() != "ready":
            raise SystemExit("the baseline worker did not start")
        self.times: list[tuple[float, float]] = []

    def run(self) -> None:
        self.stdin.write("run\n")
        self.stdin.flush()
        wall, cpu = json.loads(self.stdout.readline())
        self.times.append((wall, cpu))

    def close(self) -> None:
        self.stdin.close()
        self.process.wait()


def bench_signals(
    cache: Path, events: int, runs: int, profile: bool = False, baseline: Path | None = None
) -> None:
    path = bundle(cache, f"big-{events}", events, seed=4242)
    report = verify_bundle(path, keep_timeline=True)
    assert report.ok and report.context.timeline is not None
    spool = report.context.timeline  # load_verified reads it and leaves it open
    before = Baseline(baseline, path) if baseline is not None else None
    with spool, tempfile.TemporaryDirectory() as tmp:
        timeline = Path(tmp) / "timeline.jsonl"
        shutil.copyfile(spool.path, timeline)

        def floor() -> None:
            # The honest floor: read every field the signals need (kind, ts, actor, seq, and
            # data as JSON), so DuckDB cannot skip-parse the lines, and count per kind.
            con = duckdb.connect()
            con.execute(
                "SELECT kind, count(*), count(ts), count(actor.type), max(seq), "
                f"sum(length(data::VARCHAR)) FROM read_json('{timeline}', "
                f"format = 'newline_delimited', columns = {TIMELINE_COLUMNS}) GROUP BY kind"
            ).fetchall()
            con.close()

        def kind_floor() -> None:
            # The old floor: only `kind` is read (DuckDB skip-parses the rest of each line).
            con = duckdb.connect()
            con.execute(
                f"SELECT kind, count(*) FROM read_json('{timeline}', "
                f"format = 'newline_delimited', columns = {TIMELINE_COLUMNS}) GROUP BY kind"
            ).fetchall()
            con.close()

        def load_only() -> None:
            con = connect()
            load_verified(con, path, report, spool)
            con.close()

        def signals() -> None:
            con = connect()
            loaded = load_verified(con, path, report, spool)
            compute_signals(con, [loaded.session_id])
            con.close()

        def verify_only() -> None:
            done = verify_bundle(path, keep_timeline=True)
            if done.context.timeline is not None:
                done.context.timeline.close()

        actions: dict[str, Callable[[], object]] = {
            "floor": floor,
            "kind floor": kind_floor,
            "load": load_only,
            "signals": signals,
            "verify": verify_only,
        }
        if before is not None:
            actions["baseline"] = before.run
        timed = interleaved(runs, actions)
        timeline_size = spool.size
        if profile:
            profile_steps(path, report, spool, runs)
    if before is not None:
        before.close()
    size = path.stat().st_size
    (floor_wall, floor_cpu), (load_wall, load_cpu) = timed["floor"], timed["load"]
    (signals_wall, signals_cpu), (verify_wall, verify_cpu) = timed["signals"], timed["verify"]
    kind_wall, kind_cpu = timed["kind floor"]
    print(f"signals for one bundle: {events:,} events, timeline {timeline_size:,} B")
    print(f"  medians of {runs} runs, wall / CPU seconds; load average {load_average()}")
    print(f"  floor (DuckDB reads kind, ts, actor, seq, data)   {floor_wall:7.3f} {floor_cpu:7.3f}")
    print(f"  kind-only floor (DuckDB skip-parses all but kind) {kind_wall:7.3f} {kind_cpu:7.3f}")
    print(f"  load into tables (verified bundle)                 {load_wall:7.3f} {load_cpu:7.3f}")
    print(
        f"  load + every signal (verified bundle)              {signals_wall:7.3f} "
        f"{signals_cpu:7.3f}"
    )
    print(
        f"  ratio signals / floor  {signals_wall / floor_wall:6.2f}x wall, "
        f"{signals_cpu / floor_cpu:.2f}x CPU   (budget 2x)"
    )
    print(
        f"  ratio signals / kind-only floor {signals_wall / kind_wall:6.2f}x wall, "
        f"{signals_cpu / kind_cpu:.2f}x CPU   (for comparison with earlier figures)"
    )
    print(
        f"  verify (not counted above)                         {verify_wall:7.3f} {verify_cpu:7.3f}"
    )
    if before is not None:
        base_wall = statistics.median(w for w, _ in before.times)
        base_cpu = statistics.median(c for _, c in before.times)
        print(
            f"  baseline: load + every signal (its own process)    {base_wall:7.3f} "
            f"{base_cpu:7.3f}   ratio {base_wall / floor_wall:.2f}x wall, "
            f"{base_cpu / floor_cpu:.2f}x CPU"
        )
    print(f"  bundle {size:,} B")


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


_PEAK = (
    "\nimport resource; own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
    "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
    "print(max(own, kids)); sys.exit(rc)"
)


def run_measured(args: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB, the largest of the process and its workers) of a fresh
    Python process run with `args`; it prints its peak last and exits with the status."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {done.stderr}")
    return elapsed, int(done.stdout.split()[-1]) / 1024


def run_score(folder: Path, jobs: int) -> tuple[float, float]:
    """`promptster score FOLDER --jobs N` (what a CI job runs)."""
    code = (
        "import sys; from promptster.cli import main; "
        f"rc = main(['score', {str(folder)!r}, '--format', 'jsonl', '-o', '/dev/null', "
        f"'--jobs', '{jobs}'])"
    )
    return run_measured(["-c", code + _PEAK])


# The peer of `score`: verification alone (the same checks as score's) over the same bundles,
# in the same batches on the same number of worker processes; nothing loaded, nothing scored.
_VERIFY_ONLY = """
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from promptster.analysis.verified import find_bundles
from promptster.analysis.score import chunks
from promptster.bundle.verify import verify_bundle
from promptster.reviewer.checks import default_checks

def verify_batch(paths):
    checks = default_checks()
    return sum(verify_bundle(Path(p), extra_checks=checks, keep_timeline=True).ok for p in paths)

if __name__ == "__main__":
    bundles = find_bundles([Path(sys.argv[1])])
    with ProcessPoolExecutor(int(sys.argv[2]), mp_context=get_context("spawn")) as pool:
        ok = sum(pool.map(verify_batch, list(chunks(bundles))))
    import resource
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(max(own, kids))
    sys.exit(0 if ok == len(bundles) else 1)
"""


def run_verify(folder: Path, jobs: int, script: Path) -> tuple[float, float]:
    return run_measured([str(script), str(folder), str(jobs)])


def bench_score(cache: Path, count: int, events: int, runs: int) -> None:
    folder = cache / f"batch-{count}x{events}"
    # a quarter of the bundles: with --jobs 2 that is still four full batches of 64 (fewer
    # bundles get smaller batches, which would make the comparison flatter than it is)
    few = max(1, count // 4)
    small = cache / f"batch-{few}x{events}"
    for target, n in ((folder, count), (small, few)):
        target.mkdir(parents=True, exist_ok=True)
        for seed in range(n):
            path = target / f"s{seed:05d}.pst"
            if not path.exists():
                source = cache / f"one-{events}-{seed}.pst"
                bundle(cache, f"one-{events}-{seed}", events, seed)
                shutil.copyfile(source, path)
    script = cache / "verify_only.py"
    script.write_text(_VERIFY_ONLY)
    print(f"score vs verify alone: {count:,} bundles of ~{events:,} events, --jobs 2")
    print(f"  best of {runs} interleaved runs (score, verify, verify, score, ...)")
    best: dict[str, float] = {"score": float("inf"), "verify": float("inf")}
    for run in range(runs):
        order = ("score", "verify") if run % 2 == 0 else ("verify", "score")
        for name in order:
            before = load_average()
            if name == "score":
                seconds, _ = run_score(folder, 2)
            else:
                seconds, _ = run_verify(folder, 2, script)
            best[name] = min(best[name], seconds)
            print(
                f"    run {run + 1} {name:6s} {seconds:7.1f} s {count / seconds:7.1f} bundles/s"
                f"   load average {before} -> {load_average()}"
            )
    ratio = best["verify"] / best["score"]
    print(
        f"  best: score {count / best['score']:.1f} bundles/s, verify alone "
        f"{count / best['verify']:.1f} bundles/s; score / verify throughput {ratio:.2f}x "
        "(budget >= 0.6x)"
    )
    seconds, _ = run_score(folder, 1)
    print(
        f"  --jobs 1: {seconds:7.1f} s {count / seconds:7.1f} bundles/s "
        f"(load average {load_average()})"
    )
    _, peak_small = run_score(small, 2)
    _, peak_all = run_score(folder, 2)
    print(
        f"  peak RSS of one process with {few:,} bundles {peak_small:.0f} MiB, "
        f"with {count:,} bundles {peak_all:.0f} MiB (must not grow with the count)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-events", type=int, default=100_000)
    parser.add_argument("--bundles", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--score-runs", type=int, default=3, help="score vs verify, best of N")
    parser.add_argument("--skip-signals", action="store_true")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "promptster-bench-signals",
        help="bundles are kept in a folder per bundle writer under it",
    )
    parser.add_argument("--skip-score", action="store_true")
    parser.add_argument("--profile", action="store_true", help="time each step and family")
    parser.add_argument("--baseline-src", type=Path, help="also time this checkout's src")
    args = parser.parse_args()
    cache = bundle_cache(args.cache)
    print(f"bundles in {cache}")
    if not args.skip_signals:
        bench_signals(cache, args.big_events, args.runs, args.profile, args.baseline_src)
    if not args.skip_score:
        bench_score(cache, args.bundles, args.events, args.score_runs)


if __name__ == "__main__":
    main()
