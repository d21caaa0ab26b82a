"""Benchmark the journal writer's append throughput against its floor.

The writer is measured as the recorder uses it: `JournalWriter.append` for every event (which
assigns seq, prev and a normalised ts, encodes canonical JSON, hashes the line and writes it),
with the background thread fsyncing at least once a second and a final fsync on close. The
floor writes the very same line bytes with one `os.write` each to an O_APPEND file, fsyncing
once a second and on close: the same durability with none of the journal's work. Both run in
the same process, best of --repeat, interleaved.

    python benchmarks/bench_journal.py                  # 100,000 events
    python benchmarks/bench_journal.py --events 5000    # a quick run
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from promptster.formats.events import Event, Kind, format_ts, make_event
from promptster.record.journal import FSYNC_INTERVAL_S, JournalWriter, read_journal

SESSION = "be4c4000-0000-4000-8000-000000000000"


def sample_events(count: int, seed: int) -> list[Event]:
    """Events shaped like a real session's: prompts, tool calls, commands and file edits."""
    rng = random.Random(seed)
    clock = datetime(2026, 3, 2, 9, tzinfo=UTC)
    events = []
    for n in range(count):
        clock += timedelta(milliseconds=rng.randint(10, 5000))
        roll = rng.random()
        if roll < 0.2:
            text = "Refactor the rate limiter so that bursts are allowed. " * rng.randint(1, 8)
            kind, data = Kind.PROMPT, {"text": text, "length": len(text), "lane": "lane-1"}
        elif roll < 0.6:
            kind = Kind.TOOL_USE
            data = {"toolName": "Edit", "toolUseId": f"toolu_{n:016x}", "input": {"n": n}}
        elif roll < 0.85:
            kind = Kind.COMMAND
            data = {"command": "python -m pytest -q", "exitCode": n % 3, "durationMs": n % 9000,
                    "cwd": ".", "outputTail": "collected 12 items\n" * 5}  # fmt: skip
        else:
            kind = Kind.FILE_DIFF
            data = {"path": "src/app/service.py", "commit": f"{n:040x}", "linesAdded": 3,
                    "linesRemoved": 1}  # fmt: skip
        events.append(
            make_event(
                kind,
                data,
                channel="hook",
                integration="claude-code",
                emitter="promptster-hook",
                ts=format_ts(clock),
            )
        )
    return events


def run_journal(path: Path, events: list[Event]) -> tuple[float, list[bytes]]:
    start = time.perf_counter()
    with JournalWriter(path, SESSION) as journal:
        for event in events:
            journal.append(event)
    elapsed = time.perf_counter() - start
    return elapsed, path.read_bytes().splitlines(keepends=True)


def run_floor(path: Path, lines: list[bytes]) -> float:
    start = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        last_sync = time.monotonic()
        for line in lines:
            os.write(fd, line)
            now = time.monotonic()
            if now - last_sync >= FSYNC_INTERVAL_S:
                os.fsync(fd)
                last_sync = now
        os.fsync(fd)
    finally:
        os.close(fd)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    journal_times, floor_times = [], []
    with tempfile.TemporaryDirectory(prefix="promptster-bench-") as tmp:
        for n in range(args.repeat):
            events = sample_events(args.events, args.seed)  # fresh: append assigns seq/prev
            journal_path, floor_path = Path(tmp) / f"j{n}.jsonl", Path(tmp) / f"f{n}.jsonl"
            seconds, lines = run_journal(journal_path, events)
            journal_times.append(seconds)
            floor_times.append(run_floor(floor_path, lines))
            assert floor_path.read_bytes() == journal_path.read_bytes()
        contents = read_journal(journal_path, SESSION)
        assert contents.intact and len(contents.events) == args.events
        size_mb = journal_path.stat().st_size / 1e6

    best_journal, best_floor = min(journal_times), min(floor_times)
    print(
        f"bench_journal: {args.events:,} events ({size_mb:.1f} MB), fsync every "
        f"{FSYNC_INTERVAL_S:g} s and on close, best and median of {args.repeat}"
    )
    print(f"  {'':<46} {'best':>12}  {'median':>12}  {'events/s':>12}")
    for label, times in (
        ("floor: os.write the same lines + fsync each 1s", floor_times),
        ("JournalWriter.append", journal_times),
    ):
        print(
            f"  {label:<46} {min(times):>10.3f} s  {statistics.median(times):>10.3f} s"
            f"  {args.events / min(times):>12,.0f}"
        )
    print(f"  {'ratio journal / floor':<46} {best_journal / best_floor:>10.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
