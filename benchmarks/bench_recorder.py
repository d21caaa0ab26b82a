"""Benchmark: the recorder's file capture (budgets: docs/performance.md).

    python benchmarks/bench_recorder.py                       # full sizes
    python benchmarks/bench_recorder.py --files 2000 --churn 5000 --edits 10   # quick

1. Save-to-event latency: a file in a small workspace is rewritten; the time until its
   `file_diff` is in the journal. Median and p95. Target ≤ 1 s.
2. Snapshot cost on a workspace of N files (default 20,000) after a one-file change: the
   snapshot itself (ShadowRepo.take, in process) and through a live recorder's `snapshot`
   request; also a snapshot that finds nothing (the periodic rescan). Target ≤ 0.5 s.
3. Churn in ignored trees: M files (default 50,000) created in a fresh top-level
   `node_modules`, then in a nested `web/node_modules`: snapshot commits made and the
   recorder's CPU seconds, against the same time idle. Target: no snapshot, negligible CPU.
4. The recorder's resident memory on the N-file workspace.
5. The first snapshot of the N-file workspace (what `promptster start` waits for), its blobs
   packed by one `git fast-import` as the recorder does, against the same snapshot written
   as one loose object per file (the packing turned off).

Plain script: prints results; it does not fail on a missed target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from promptster.gitutil import run_git
from promptster.record.control import ask, end_session
from promptster.record.files.snapshots import ShadowRepo
from promptster.record.lifecycle import StartOptions, start_session
from promptster.record.session import SessionPaths

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def recorder_pid(paths: SessionPaths) -> int:
    return int(ask(paths, {"op": "ping"})["pid"])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def snapshot_commits(paths: SessionPaths) -> int:
    out = run_git(["rev-list", "--count", "refs/heads/snapshots"], git_dir=paths.shadow_git)
    return int(out.text.strip())


def file_event_for(paths: SessionPaths, offset: int, name: str) -> tuple[bool, int]:
    with paths.journal.open("rb") as handle:
        handle.seek(offset)
        chunk = handle.read()
    complete = chunk[: chunk.rfind(b"\n") + 1]
    found = f'"path":"{name}"'.encode() in complete and b'"kind":"file_' in complete
    return found, offset + len(complete)


def bench_latency(root: Path, edits: int) -> None:
    workspace = root / "latency"
    workspace.mkdir()
    (workspace / "app.py").write_text("print(0)\n")
    started = start_session(StartOptions(workspace=workspace))
    paths = started.paths
    samples = []
    try:
        time.sleep(1.0)  # let the startup snapshot settle
        for index in range(edits):
            offset = paths.journal.stat().st_size
            begin = time.perf_counter()
            (workspace / "app.py").write_text(f"print({index + 1})\n" * (index % 3 + 1))
            found = False
            while not found:
                found, offset = file_event_for(paths, offset, "app.py")
                if time.perf_counter() - begin > 30:
                    raise SystemExit("no event within 30 s")
                if not found:
                    time.sleep(0.002)
            samples.append(time.perf_counter() - begin)
            time.sleep(0.3)
    finally:
        end_session(paths, "abort")
    print(
        f"1. save → file event ({edits} edits): median {statistics.median(samples) * 1000:.0f} ms,"
        f" p95 {percentile(samples, 0.95) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms"
        "   (target ≤ 1000 ms)"
    )


def make_tree(workspace: Path, files: int) -> None:
    per_dir = 100
    for index in range(files):
        folder = workspace / "src" / f"pkg{index // per_dir:04d}"
        if index % per_dir == 0:
            folder.mkdir(parents=True)
        (folder / f"mod{index % per_dir:03d}.py").write_text(f"VALUE = {index}\n")


def bench_big_workspace(root: Path, files: int, churn: int) -> None:
    workspace = root / "big"
    workspace.mkdir()
    make_tree(workspace, files)
    begin = time.perf_counter()
    started = start_session(StartOptions(workspace=workspace, rescan_seconds=10.0))
    print(f"   ({files:,}-file workspace: start with baseline {time.perf_counter() - begin:.2f} s)")
    paths = started.paths
    try:
        pid = recorder_pid(paths)
        time.sleep(1.0)
        target = workspace / "src" / "pkg0000" / "mod000.py"
        via_recorder = []
        for index in range(10):
            target.write_text(f"VALUE = 'changed {index}'\n")
            begin = time.perf_counter()
            ask(paths, {"op": "snapshot", "reason": "bench"}, timeout=60)
            via_recorder.append(time.perf_counter() - begin)
        print(
            f"2. snapshot after a one-file change, via the recorder: median "
            f"{statistics.median(via_recorder) * 1000:.0f} ms, max "
            f"{max(via_recorder) * 1000:.0f} ms   (target ≤ 500 ms)"
        )
        print(f"4. recorder resident memory, {files:,}-file workspace: {rss_mb(pid):.1f} MB")
        churn_case(paths, pid, workspace / "node_modules", churn, "top-level node_modules")
        churn_case(paths, pid, workspace / "web" / "node_modules", churn, "web/node_modules")
    finally:
        end_session(paths, "abort")
    direct_snapshot_cost(workspace, paths)
    first_snapshot_cost(workspace, root)


def churn_case(paths: SessionPaths, pid: int, folder: Path, count: int, label: str) -> None:
    if folder.parent != paths.root.parent:
        folder.parent.mkdir(exist_ok=True)
        (folder.parent / "index.js").write_text("// web\n")
        ask(paths, {"op": "snapshot", "reason": "bench"}, timeout=60)
        time.sleep(1.0)
    window = 12.0  # longer than the periodic rescan interval
    idle_before = cpu_seconds(pid)
    time.sleep(window)
    idle = cpu_seconds(pid) - idle_before
    commits_before = snapshot_commits(paths)
    cpu_before = cpu_seconds(pid)
    begin = time.perf_counter()
    for index in range(count):
        sub = folder / f"pkg{index // 500:04d}"
        if index % 500 == 0:
            sub.mkdir(parents=True)
        (sub / f"f{index}.js").write_text("module.exports = 1;\n")
    spent = time.perf_counter() - begin
    time.sleep(max(0.0, window - spent))
    cpu = cpu_seconds(pid) - cpu_before
    commits = snapshot_commits(paths) - commits_before
    print(
        f"3. {count:,} files into {label}: {commits} snapshot(s), recorder CPU {cpu:.2f} s over "
        f"{max(window, spent):.0f} s (idle: {idle:.2f} s over {window:.0f} s)"
        "   (target: 0 snapshots, negligible CPU)"
    )


def direct_snapshot_cost(workspace: Path, paths: SessionPaths) -> None:
    shadow = ShadowRepo(
        paths.shadow_git, workspace, paths.shadow_index, max_file_bytes=5 * 1024 * 1024
    )
    shadow.load()
    target = workspace / "src" / "pkg0001" / "mod001.py"
    changed, unchanged = [], []
    for index in range(10):
        target.write_text(f"VALUE = 'direct {index}'\n")
        begin = time.perf_counter()
        shadow.take("bench")
        changed.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        shadow.take("bench")
        unchanged.append(time.perf_counter() - begin)
    print(
        f"2. snapshot after a one-file change, in process: median "
        f"{statistics.median(changed) * 1000:.0f} ms, max {max(changed) * 1000:.0f} ms; "
        f"a snapshot that finds nothing (rescan): median "
        f"{statistics.median(unchanged) * 1000:.0f} ms"
    )


def first_snapshot_cost(workspace: Path, root: Path) -> None:
    from promptster.record.files import blob_pack

    times: dict[str, list[float]] = {"packed": [], "loose": []}
    for round_ in range(2):
        for case, limit in (("packed", blob_pack.PACK_AT_LEAST), ("loose", 10**12)):
            shadow_dir = root / f"first-{case}-{round_}"
            shadow_dir.mkdir()
            shadow = ShadowRepo(
                shadow_dir / "shadow.git", workspace, shadow_dir / "index", max_file_bytes=5 << 20
            )
            shadow.create()
            saved, blob_pack.PACK_AT_LEAST = blob_pack.PACK_AT_LEAST, limit
            try:
                begin = time.perf_counter()
                shadow.take("baseline")
                times[case].append(time.perf_counter() - begin)
            finally:
                blob_pack.PACK_AT_LEAST = saved
    packed, loose = min(times["packed"]), min(times["loose"])
    print(
        f"5. first snapshot of the workspace: packed {packed:.2f} s, one loose object per file "
        f"{loose:.2f} s (ratio {loose / packed:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--churn", type=int, default=50_000)
    parser.add_argument("--edits", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="promptster-bench-recorder-") as tmp:
        root = Path(tmp)
        os.environ["PROMPTSTER_HOME"] = str(root / "home")
        print(f"git {run_git(['--version']).text.split()[-1]}, Python {sys.version.split()[0]}")
        bench_latency(root, args.edits)
        bench_big_workspace(root, args.files, args.churn)
        subprocess.run(["sync"], check=False)


if __name__ == "__main__":
    main()
