"""Benchmark the Codex rollout watcher: does it keep up with 1,000 records/s, in flat memory?

A writer thread appends rollout records to a file in a scratch CODEX_HOME at a fixed rate, as
Codex does (one line at a time, flushed; sometimes a line in two writes, so the watcher sees
half-written lines). The records are those of the real Codex 0.169.0 rollouts in
tests/fixtures/codex, replayed with fresh call and item ids so every one becomes new events.
The watcher (`RolloutWatcher.poll`, what the recorder runs every 0.5 s tick) reads behind it;
the events it returns are dropped, as the recorder hands them to the journal. Reported: records
written and read, the largest lag at a poll, the CPU time the watcher used, and its resident
memory at a quarter of the run and at the end (the growth should be noise). Then the raw
throughput: one pass over a big file, as the end-of-session backfill reads it. Then the Codex
hook against `python -c pass` (the hook budget is 3x).

    python benchmarks/bench_rollout.py                       # 1,000 records/s for 30 s
    python benchmarks/bench_rollout.py --rate 2000 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from promptster.integrations.codex.rollout import RolloutWatcher, backfill

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "codex"
WORKSPACE_MARK = "/home/candidate/work"
TICK_S = 0.5


def templates(workspace: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(session_meta, the records after it) of the fixture rollouts."""
    records: list[dict[str, Any]] = []
    for name in sorted(FIXTURES.glob("rollout-*.jsonl")):
        text = name.read_text().replace(WORKSPACE_MARK, str(workspace))
        records += [json.loads(line) for line in text.splitlines()]
    meta = records[0]
    body = [r for r in records if r["type"] != "session_meta"]
    return meta, body


def renamed(record: dict[str, Any], n: int, ts: str) -> bytes:
    """The record with ids made unique for round `n` and the given time."""
    text = json.dumps({**record, "timestamp": ts})
    for prefix in ("call_standin_", "msg_standin_", "fc_standin_"):
        text = text.replace(prefix, f"{prefix}{n}x")
    return (text + "\n").encode()


def rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def session(root: Path) -> tuple[Path, Path, Path]:
    workspace = root / "work"
    (workspace / ".promptster").mkdir(parents=True)
    started = stamp(datetime.now(UTC) - timedelta(seconds=5))
    state = {"sessionId": "bench", "workspace": str(workspace), "startedAt": started}
    (workspace / ".promptster" / "session.json").write_text(json.dumps(state))
    home = root / "codex-home"
    today = datetime.now(UTC)
    folder = home / "sessions" / f"{today:%Y}" / f"{today:%m}" / f"{today:%d}"
    folder.mkdir(parents=True)
    return workspace, home, folder / "rollout-bench.jsonl"


def live(rate: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workspace, home, target = session(Path(tmp))
        os.environ["CODEX_HOME"] = str(home)
        meta, body = templates(workspace)
        target.write_bytes((json.dumps(meta) + "\n").encode())
        total = int(rate * seconds)
        written = [0]
        done = threading.Event()

        def writer() -> None:
            began = time.monotonic()
            with target.open("ab", buffering=0) as handle:
                for i in range(total):
                    line = renamed(body[i % len(body)], i // len(body), stamp(datetime.now(UTC)))
                    if i % 7 == 0:  # a line in two writes: the watcher may see half of it
                        handle.write(line[: len(line) // 2])
                        handle.write(line[len(line) // 2 :])
                    else:
                        handle.write(line)
                    written[0] = i + 1
                    pause = began + (i + 1) / rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
            done.set()

        watcher = RolloutWatcher(workspace / ".promptster", workspace)
        thread = threading.Thread(target=writer, daemon=True)
        cpu = 0.0
        events = 0
        lags: list[int] = []
        samples: list[int] = []
        began = time.monotonic()
        thread.start()
        while True:
            finished = done.is_set()
            start = time.process_time()
            events += len(watcher.poll())
            cpu += time.process_time() - start
            (tail,) = watcher.tails.values()
            lags.append(written[0] - tail.records + 1)
            samples.append(rss_kib())
            if finished:
                break
            time.sleep(TICK_S)
        elapsed = time.monotonic() - began
        (tail,) = watcher.tails.values()
        read = tail.records - 1  # without session_meta
        quarter = samples[len(samples) // 4]
        print(f"live: {written[0]:,} records written at {rate:,}/s for {elapsed:.1f} s")
        behind = written[0] - read
        print(f"  read {read:,} records ({events:,} events); behind at the end: {behind}")
        print(f"  lag at a poll: median {statistics.median(lags):,.0f}, max {max(lags):,} records")
        print(f"  watcher CPU {cpu:.2f} s = {100 * cpu / elapsed:.1f} % of one core")
        growth = (samples[-1] - quarter) / 1024
        print(f"  RSS at 1/4 of the run {quarter / 1024:.1f} MiB, at the end "
              f"{samples[-1] / 1024:.1f} MiB (growth {growth:+.1f} MiB)")  # fmt: skip
        if behind:
            sys.exit("the watcher did not keep up")


def throughput(records: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workspace, home, target = session(Path(tmp))
        meta, body = templates(workspace)
        now = stamp(datetime.now(UTC))
        with target.open("wb") as handle:
            handle.write((json.dumps(meta) + "\n").encode())
            for i in range(records):
                handle.write(renamed(body[i % len(body)], i // len(body), now))
        size = target.stat().st_size
        start, before = time.perf_counter(), rss_kib()
        events = backfill(workspace / ".promptster", workspace, existing_ids=(), homes=[home])
        elapsed = time.perf_counter() - start
        print(f"backfill: {records:,} records ({size / 2**20:.0f} MiB) in {elapsed:.2f} s = "
              f"{records / elapsed:,.0f} records/s, {len(events):,} events, "
              f"RSS +{(rss_kib() - before) / 1024:.0f} MiB (the events it returns)")  # fmt: skip


def hook_cost(runs: int) -> None:
    promptster = Path(sys.executable).with_name("promptster")
    payload = json.dumps(
        {"hook_event_name": "PreToolUse", "cwd": "/", "tool_name": "Bash", "session_id": "x"}
    ).encode()

    def best(argv: list[str]) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(argv, input=payload, capture_output=True, check=False)
            times.append(time.perf_counter() - start)
        return min(times)

    floor = best([sys.executable, "-c", "pass"])
    hook = best([str(promptster), "hook", "codex"])
    claude = best([str(promptster), "hook", "claude-code"])  # the same machine, same moment
    print(f"hook (best of {runs}, no session): promptster hook codex {hook * 1000:.0f} ms, "
          f"hook claude-code {claude * 1000:.0f} ms, python -c pass {floor * 1000:.0f} ms: "
          f"{hook / floor:.2f}x and {claude / floor:.2f}x (budget 3x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=1000, help="records per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--records", type=int, default=200_000, help="for the backfill pass")
    parser.add_argument("--hook-runs", type=int, default=20)
    args = parser.parse_args()
    live(args.rate, args.seconds)
    throughput(args.records)
    hook_cost(args.hook_runs)


if __name__ == "__main__":
    main()
