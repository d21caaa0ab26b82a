"""Benchmark: the Claude Code hook's cost per call, and what the recorder takes from many hooks.

    python benchmarks/bench_hook.py                 # 60 calls per case, 8 x 40 concurrent
    python benchmarks/bench_hook.py --calls 20 --workers 4 --per-worker 10   # quick

1. Wall time of one `promptster hook claude-code` call (the absolute path Claude Code runs),
   median and p95, against `python -c pass` on the same interpreter. Budget
   (docs/performance.md): the median ratio ≤ 3. Cases: no session here; a session whose
   recorder is down (events go to the spool); a live recorder with a tool call that needs no
   snapshot (Read), a prompt, a shell command's start (a snapshot, its event, then the
   `command_start` request that measures the AI client's writes, on Linux) and its result (a
   snapshot first, then three events), also after the command changed a file (the snapshot
   then commits a change).
2. Events per second the recorder accepts from concurrent hook processes: W workers each run
   N hook calls (PostToolUse of a Read: one event each) as fast as they can; every event must
   be in the journal afterwards. Then the same number of threads sending through the client
   library directly (no process start), which is the recorder's own ceiling.

With `--baseline-src DIR` (another checkout's `src`, e.g. `git archive main src | tar -x -C
/tmp/base`) every hook case also runs that code's hook, interleaved with this one's and the
floor, so a change is measured before and after in one run on the same machine load; the live
cases send the baseline's hook to a second session whose recorder runs that code too (a change
to the recorder's side, e.g. its snapshots, is measured as well).

Plain script: prints results, asserts only that nothing was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from promptster.integrations.claude.setup import promptster_executable

PROMPTSTER = promptster_executable()


def payload(workspace: Path, event: str, n: int = 0, **extra: object) -> bytes:
    body = {
        "session_id": "bench-lane",
        "transcript_path": str(workspace / "no-transcript.jsonl"),
        "cwd": str(workspace),
        "hook_event_name": event,
        "tool_use_id": f"toolu_bench_{os.getpid()}_{n}_{time.monotonic_ns()}",
        **extra,
    }
    return json.dumps(body).encode()


def timed(command: list[str], data: bytes, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, input=data, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


FLOOR = [sys.executable, "-c", "pass"]
BASELINE: list[str] = []  # the baseline console script (`--baseline-src`), when given
BASELINE_SRC: list[str] = []  # ... and the folder it imports promptster from


def baseline_script(src: Path, folder: Path) -> str:
    """A copy of the installed console script that imports the package from `src` instead."""
    text = Path(PROMPTSTER).read_text()
    text = text.replace("import sys\n", f"import sys\nsys.path.insert(0, {str(src)!r})\n", 1)
    script = folder / "promptster-baseline"
    script.write_text(text)
    script.chmod(0o755)
    BASELINE_SRC[:] = [str(src)]
    return str(script)


def case(
    name: str,
    command: list[str],
    make: Callable[[int], bytes],
    cwd: Path,
    calls: int,
    baseline: tuple[Callable[[int], bytes], Path] | None = None,
) -> None:
    """Hook calls interleaved with floor runs (and the baseline's hook calls), so all see the
    same machine load. `baseline`: the payloads and folder for the baseline's hook (its own
    session), when not the same as this code's."""
    other = [BASELINE[0], *command[1:]] if BASELINE and command[0] == PROMPTSTER else None
    other_make, other_cwd = baseline or (make, cwd)
    timed(command, make(-1), cwd)  # warm the page cache
    hook_times: list[float] = []
    floor_times: list[float] = []
    other_times: list[float] = []
    for i in range(calls):
        floor_times.append(timed(FLOOR, b"", cwd))
        hook_times.append(timed(command, make(i), cwd))
        if other is not None:
            other_times.append(timed(other, other_make(calls + i), other_cwd))
    hook, floor = statistics.median(hook_times), statistics.median(floor_times)
    p95 = sorted(hook_times)[max(0, int(len(hook_times) * 0.95) - 1)]
    line = (
        f"  {name:<44} median {hook * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms"
        f"  (python -c pass {floor * 1000:5.1f} ms)  ratio {hook / floor:4.2f}"
    )
    if other_times:
        before = statistics.median(other_times)
        line += f"  | baseline {before * 1000:6.1f} ms ratio {before / floor:4.2f}"
    print(line, f"  load {os.getloadavg()[0]:.1f}")


def start_recorded(workspace: Path) -> Path:
    from promptster.record.lifecycle import StartOptions, start_session

    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "app.py").write_text("print('hello')\n")
    started = start_session(StartOptions(workspace=workspace, tools=["shell", "claude-code"]))
    return started.paths.root


def start_baseline_recorded(workspace: Path) -> Path | None:
    """A session like `start_recorded`'s whose recorder runs the `--baseline-src` code; None
    without a baseline."""
    if not BASELINE:
        return None
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "from bench_hook import start_recorded; print(start_recorded(Path(sys.argv[2])))"
    )
    env = {**os.environ, "PYTHONPATH": BASELINE_SRC[0]}  # the recorder it starts inherits it
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(workspace)],
        env=env,
        capture_output=True,
        check=True,
    )
    return Path(out.stdout.decode().strip().splitlines()[-1])


def stop_recorded(session_dir: Path) -> None:
    from promptster.record.control import end_session
    from promptster.record.session import SessionPaths

    end_session(SessionPaths(session_dir), "abort")


def journal_count(session_dir: Path, prefix: str) -> int:
    count = 0
    for line in (session_dir / "timeline.jsonl").read_bytes().splitlines():
        if prefix.encode() in line:
            count += 1
    return count


def bench_calls(root: Path, calls: int) -> None:
    hook = [PROMPTSTER, "hook", "claude-code"]
    print(f"hook wall time per call ({calls} calls each; {PROMPTSTER})")
    nowhere = root / "no-session"
    nowhere.mkdir()
    read = {"tool_name": "Read", "tool_input": {"file_path": str(nowhere / "app.py")}}
    case(
        "no session here", hook, lambda i: payload(nowhere, "PreToolUse", i, **read), nowhere, calls
    )

    down = root / "recorder-down"
    (down / ".promptster").mkdir(parents=True)
    state = {"sessionId": "bench", "workspace": str(down), "status": "active"}
    state["socket"] = str(down / "none.sock")
    (down / ".promptster" / "session.json").write_text(json.dumps(state))
    case(
        "recorder down: spooled",
        hook,
        lambda i: payload(down, "PreToolUse", i, **read),
        down,
        calls,
    )

    live = root / "live"
    session_dir = start_recorded(live)
    before = root / "live-baseline"
    before_dir = start_baseline_recorded(before)
    try:
        for name, make in live_cases().items():
            baseline = None
            if before_dir is not None:
                baseline = (partial(make, before), before)
            case(name, hook, partial(make, live), live, calls, baseline)
    finally:
        stop_recorded(session_dir)
        if before_dir is not None:
            stop_recorded(before_dir)


def live_cases() -> dict[str, Callable[[Path, int], bytes]]:
    """The live hook cases: name -> payload for a workspace and a call number."""

    def read(ws: Path, i: int) -> bytes:
        tool = {"tool_name": "Read", "tool_input": {"file_path": str(ws / "app.py")}}
        return payload(ws, "PreToolUse", i, **tool)

    def prompt(ws: Path, i: int) -> bytes:
        text = {"prompt": "make the greeting friendlier", "prompt_id": "p"}
        return payload(ws, "UserPromptSubmit", i, **text)

    shell = {
        "tool_name": "Bash",
        "tool_input": {"command": "python -m pytest -q"},
        "tool_response": {"stdout": "3 passed in 0.01s", "stderr": "", "interrupted": False},
        "duration_ms": 40,
    }

    def shell_start(ws: Path, i: int) -> bytes:
        return payload(ws, "PreToolUse", i, **shell)

    def shell_end(ws: Path, i: int) -> bytes:
        return payload(ws, "PostToolUse", i, **shell)

    def shell_wrote(ws: Path, i: int) -> bytes:
        # the command changed a file just before its result: the snapshot has a change (the
        # watcher's own snapshot may race it, as it would for a real command)
        (ws / "app.py").write_text(f"print('hello {i}')\n")
        return payload(ws, "PostToolUse", i, **shell)

    return {
        "live: PreToolUse Read": read,
        "live: UserPromptSubmit": prompt,
        "live: PreToolUse Bash (snapshot, event, command_start)": shell_start,
        "live: PostToolUse Bash (snapshot + 3 events)": shell_end,
        "live: PostToolUse Bash after a write (a snapshot with a change)": shell_wrote,
    }


def bench_concurrency(root: Path, workers: int, per_worker: int) -> None:
    """Events/s into a live recorder: from hook processes, then from client threads alone."""
    from promptster.protocol import find_session, new_event, send_events

    live = root / "concurrent"
    session_dir = start_recorded(live)
    hook = [PROMPTSTER, "hook", "claude-code"]
    read = {
        "tool_name": "Read",
        "tool_input": {"file_path": str(live / "app.py")},
        "tool_response": {"type": "text"},
    }
    handle = find_session(live)
    assert handle is not None

    def process_worker(index: int) -> None:
        for n in range(per_worker):
            data = payload(live, "PostToolUse", index * 100_000 + n, **read)
            subprocess.run(hook, input=data, cwd=live, stdout=subprocess.DEVNULL, check=True)

    def client_worker(index: int) -> None:
        for n in range(per_worker * 10):
            event = new_event(
                "note",
                {"text": f"bench {index} {n}"},
                channel="hook",
                integration="claude-code",
                emitter="bench",
            )
            outcomes.append(send_events(handle, [event]).via)  # list.append is thread-safe

    outcomes: list[str] = []  # a busy recorder's client falls back to the spool

    def run(worker: Callable[[int], None]) -> float:
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(worker, range(workers)))
        return time.perf_counter() - start

    try:
        processes = run(process_worker)
        clients = run(client_worker)
    finally:
        stop_recorded(session_dir)
    spool = session_dir / "spool.jsonl"
    spooled = spool.read_bytes().count(b"\n") if spool.exists() else 0
    got = journal_count(session_dir, '"kind":"tool_result"')
    notes = journal_count(session_dir, '"kind":"note"')
    total, total_notes = workers * per_worker, workers * per_worker * 10
    print(f"concurrent senders into one recorder ({workers} at a time; {os.cpu_count()} CPUs)")
    print(f"  hook processes: {total} events in {processes:.2f} s = {total / processes:,.0f}/s")
    rate = total_notes / clients
    print(f"  client threads: {total_notes} events in {clients:.2f} s = {rate:,.0f}/s")
    print(f"  journal: {got}/{total} hook events, {notes}/{total_notes} notes; spool: {spooled}")
    print(f"  client outcomes: {dict(Counter(outcomes))}")
    assert got + spooled >= total and notes >= total_notes, "events were lost"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--per-worker", type=int, default=40)
    parser.add_argument("--baseline-src", type=Path, help="also time this checkout's src")
    parser.add_argument("--skip-concurrency", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="promptster-bench-hook-") as tmp:
        root = Path(tmp)
        if args.baseline_src:
            BASELINE.append(baseline_script(args.baseline_src.resolve(), root))
        runtime = Path("/tmp") / f"pst-bench-{os.getpid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["PROMPTSTER_HOME"] = str(root / "home")
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        os.environ.pop("PROMPTSTER_SESSION_DIR", None)
        bench_calls(root, args.calls)
        if not args.skip_concurrency:
            bench_concurrency(root, args.workers, args.per_worker)


if __name__ == "__main__":
    main()
