"""Benchmark `verify`, `review` and `score` on a corpus of hostile bundles (issue 17).

Builds every class of tests/tamper/hostilekit.py (bombs inflating to 384 MiB, 50 million
empty lines, a deeply nested cast, a snapshot diff bomb, a pack of 400 key hashes at the
highest scrypt cost, a ZIP comment, prepended and trailing data, a foreign git ref) plus a
honest bundle of 100,000 and one of 1,000,000 events (the million-event class), and prints for
each command the wall time and peak memory (the child's own accounting:
getrusage(RUSAGE_CHILDREN).ru_maxrss, git included) beside the same figures for a reference.

The reference of a hostile case is an ordinary bundle of the same compressed size (padded
with incompressible blobs); of a many-events bundle, the smallest many-events bundle's time
scaled by the event count (the honest work grows with the events: a reader that streams
keeps it linear).

Budget (issue 17): each hostile case under 5 s and 300 MB; a large honest workload (many
events) within 1.5x its reference time and still under 300 MB. The smallest many-events bundle
is that reference: its time is held to nothing but itself, its memory to 300 MB.

    python benchmarks/bench_hostile.py                       # the corpus, 100k and 1M events
    python benchmarks/bench_hostile.py --events 100000       # without the million (minutes)
    python benchmarks/bench_hostile.py --only many-events --keep /tmp/corpus
    python benchmarks/bench_hostile.py --only cast-bomb --commands verify
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "tamper"), str(ROOT / "tests")]

import hostilekit as kit  # noqa: E402  (the corpus is shared with the tests)

from promptster.record.synth import generate_bundle  # noqa: E402

COMMANDS = ("verify", "review", "score")
TIME_BUDGET_S = 5.0


def _args(command: str, bundle: Path, out: Path) -> list[str]:
    if command == "verify":
        return ["verify", "--json", str(bundle)]
    if command == "review":
        return ["review", str(bundle), "-o", str(out / "report.html")]
    return ["score", str(bundle), "--format", "json"]


def _run(command: str, bundle: Path, work: Path) -> kit.Run:
    exe = shutil.which("promptster")
    if exe is None:
        raise SystemExit("promptster is not on PATH (activate the project's virtualenv)")
    env = dict(os.environ, TMPDIR=str(work / "tmp"), PROMPTSTER_HOME=str(work / "home"))
    return kit.measure([exe, *_args(command, bundle, work)], env=env, cwd=work, logs=work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events",
        type=int,
        nargs="+",
        default=[100_000, 1_000_000],
        help="events of each many-events bundle (the first is the others' reference)",
    )
    parser.add_argument("--only", nargs="*", help="case names to run (default: all)")
    parser.add_argument("--commands", nargs="*", default=list(COMMANDS), choices=COMMANDS)
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    options = parser.parse_args()

    folder = options.keep or Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / "work"
    for sub in ("tmp", "home"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    base = kit.base_bundle(folder)
    corpus: list[tuple[str, Path, int]] = []  # (name, bundle, events of honest large work)
    for case in kit.CASES:
        if not options.only or case.name in options.only:
            print(f"building {case.name} …", file=sys.stderr, flush=True)
            corpus.append((case.name, kit.build_case(case, base, folder), 0))
    for events in sorted(options.events):
        name = f"many-events-{events}"
        if not options.only or name in options.only or "many-events" in options.only:
            print(f"building {name} …", file=sys.stderr, flush=True)
            big = folder / f"{name}.pst"
            if not big.exists():
                generate_bundle(big, events=events, seed=kit.SEED)
            corpus.append((name, big, events))

    header = (
        f"{'case':26} {'cmd':6} {'exit':>4} {'time s':>7} {'peak MB':>8} │ "
        f"{'ref s':>7} {'ref MB':>8} │ {'size':>9}  verdict"
    )
    print(header)
    print("─" * len(header))
    over = 0
    per_event: dict[str, float] = {}  # seconds per event of the first many-events bundle
    for case_name, bundle, events in corpus:
        size = bundle.stat().st_size
        peer = kit.padded_ordinary(base, folder, size) if not per_event else None
        for command in options.commands:
            run = _run(command, bundle, work)
            if peer is not None:
                ref = _run(command, peer, work)
            else:  # the honest work of the smaller many-events bundle, scaled
                ref = kit.Run(0, "", "", per_event[command] * events, float("nan"))
            if events and command not in per_event:
                per_event[command] = run.seconds / events
            # The first many-events bundle is the honest work the larger ones are held to: its
            # time is the reference itself, so only its memory has a budget (the ordinary
            # bundle of its size is printed beside it for scale).
            reference = bool(events) and peer is not None
            limit = max(TIME_BUDGET_S, 1.5 * ref.seconds) if events else TIME_BUDGET_S
            ok = (reference or run.seconds <= limit) and run.peak_mb < kit.MEMORY_BUDGET_MB
            over += not ok
            verdict = "OVER BUDGET" if not ok else "ok (the reference)" if reference else "ok"
            print(
                f"{case_name:26} {command:6} {run.code:>4} {run.seconds:7.2f} {run.peak_mb:8.0f} │ "
                f"{ref.seconds:7.2f} {ref.peak_mb:8.0f} │ {size / 2**20:7.1f}MB  {verdict}",
                flush=True,
            )
    if not options.keep:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{over} over budget (each: < {TIME_BUDGET_S:.0f} s and < {kit.MEMORY_BUDGET_MB} MB)")


if __name__ == "__main__":
    main()
