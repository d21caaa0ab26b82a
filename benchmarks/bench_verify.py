"""Benchmark `promptster verify` and the bundle writer against their floors.

verify's floor (docs/performance.md): read the same bundle's bytes, sha256 every
member, and parse every timeline line once with the json module. The budget is verify <= 3x
the floor for a 100,000-event bundle. The writer's floor is zipfile writing the same members
(same compression) with nothing hashed or signed. Both are measured in the same run, best of
--repeat, interleaved so that machine noise hits both sides alike.

    python benchmarks/bench_verify.py                  # 100,000 events (the budget)
    python benchmarks/bench_verify.py --events 5000    # a quick run
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import promptster.record.synth as synth
from promptster.bundle.verify import verify_bundle
from promptster.bundle.writer import SessionMaterial, WrittenBundle, write_bundle

VERIFY_BUDGET = 3.0
BUDGET_EVENTS = 100_000  # the budget is stated for this size; small bundles are git start-up


def floor_verify(path: Path) -> int:
    """Read every member, sha256 it, parse every timeline line with json: the least work."""
    lines = 0
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            hashlib.sha256(data).hexdigest()
            if name == "timeline.jsonl":
                for line in data.splitlines():
                    json.loads(line)
                    lines += 1
    return lines


def floor_write(members: dict[str, bytes], out: Path) -> None:
    """zipfile writing the same members with the same compression; no hashing, no signing."""
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            method = zipfile.ZIP_STORED if name == "snapshots.bundle" else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method, compresslevel=6)


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished children (git)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed_cpu(function: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, result)."""
    cpu = cpu_seconds()
    seconds, result = timed(function)
    return seconds, cpu_seconds() - cpu, result


def generate(out: Path, events: int, seed: int) -> tuple[WrittenBundle, float, float, Any]:
    """Generate the synthetic bundle; also time the bundle writer alone inside it, and keep
    its material (with a copy of the shadow repository) to time the writer again."""
    captured: dict[str, Any] = {}

    def write_and_time(material: SessionMaterial, key: Any, path: Path) -> WrittenBundle:
        start = time.perf_counter()
        written = write_bundle(material, key, path)
        captured["write"] = time.perf_counter() - start
        kept = out.parent / "shadow.git"
        shutil.copytree(material.shadow_git_dir, kept)
        captured["material"] = dataclasses.replace(material, shadow_git_dir=kept)
        captured["key"] = key
        return written

    with mock.patch("promptster.record.synth.bundle.write_bundle", write_and_time):
        total, written = timed(lambda: synth.generate_bundle(out, events=events, seed=seed))
    return written, total, captured["write"], captured


def row(label: str, values: list[float], unit: str = "s") -> str:
    return f"  {label:<44} {min(values):>9.3f} {unit}  {statistics.median(values):>9.3f} {unit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="promptster-bench-") as tmp:
        path = Path(tmp) / "bench.pst"
        written, generate_s, write_s, captured = generate(path, args.events, args.seed)
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        timeline_mb = len(members["timeline.jsonl"]) / 1e6

        floor_times, verify_times, floor_cpu, verify_cpu = [], [], [], []
        for _ in range(args.repeat):
            seconds, cpu, _ = timed_cpu(lambda: floor_verify(path))
            floor_times.append(seconds)
            floor_cpu.append(cpu)
            seconds, cpu, report = timed_cpu(lambda: verify_bundle(path))
            verify_times.append(seconds)
            verify_cpu.append(cpu)
            if not report.ok:
                print("verify failed on the benchmark bundle:", report.failures, file=sys.stderr)
                return 1

        write_times, zip_times = [write_s], []
        material, key = captured["material"], captured["key"]
        floor_out, again_out = Path(tmp) / "floor.zip", Path(tmp) / "again.pst"
        for n in range(args.repeat):
            seconds, _ = timed(lambda: floor_write(members, floor_out))
            zip_times.append(seconds)
            if n:  # the first writer timing came from generating the bundle
                seconds, again = timed(lambda: write_bundle(material, key, again_out))
                assert again.sha256 == written.sha256, "the writer is not deterministic"
                write_times.append(seconds)

    verify_ratio = min(verify_times) / min(floor_times)
    write_ratio = min(write_times) / min(zip_times)
    at_budget_size = written.manifest.event_count >= BUDGET_EVENTS
    if not at_budget_size:
        verdict = f"not judged below {BUDGET_EVENTS:,} events: git start-up dominates"
    else:
        verdict = "OK" if verify_ratio <= VERIFY_BUDGET else "OVER BUDGET"
    print(
        f"bench_verify: {written.manifest.event_count:,} events, bundle {written.size / 1e6:.1f} MB"
        f" (timeline {timeline_mb:.1f} MB), best and median of {args.repeat}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"  {'':<44} {'best':>11}  {'median':>11}")
    print(row("floor: read + sha256 members + json.loads lines", floor_times))
    print(row("promptster verify", verify_times))
    print(
        f"  {'ratio verify / floor':<44} {verify_ratio:>9.2f} x   (budget <= {VERIFY_BUDGET:g}x: "
        f"{verdict})"
    )
    cpu_ratio = min(verify_cpu) / min(floor_cpu)
    print(row("CPU time: floor", floor_cpu, "s"))
    print(row("CPU time: promptster verify (with its git runs)", verify_cpu, "s"))
    print(f"  {'ratio of CPU time (what a busy machine sees)':<44} {cpu_ratio:>9.2f} x")
    print(row("floor: zipfile writes the same members", zip_times))
    print(row("bundle writer (hash, sign, git bundle, zip)", write_times))
    print(f"  {'ratio writer / floor':<44} {write_ratio:>9.2f} x")
    print(f"  {'synth generate_bundle, end to end':<44} {generate_s:>9.3f} s")
    return 1 if at_budget_size and verify_ratio > VERIFY_BUDGET else 0


if __name__ == "__main__":
    sys.exit(main())
