"""Benchmark: the hooks of Gemini CLI, Cursor and Copilot CLI against the hook budget, and how
fast Aider's histories are read.

    python benchmarks/bench_tool_hooks.py              # 40 calls per case, 20,000 Aider entries
    python benchmarks/bench_tool_hooks.py --calls 10 --entries 2000   # quick

1. Wall time of one `promptster hook <tool>` call, median and p95, against `python -c pass`
   (and Claude Code's hook in the same run, as a reference for the machine's load)
   (budget: median ratio ≤ 3), with the recorder down (events spooled) and live: a tool call
   before it runs (a snapshot first, then one event) and a shell command's result (a snapshot,
   then the result, the command and its test run).
2. Aider: N prompts and N replies appended to its histories, then read by the recorder's poll
   (at most 256 KiB per history per poll); records per second and the growth of the process's
   peak memory while reading.

With `--baseline-src DIR` every hook case also runs that code's hook, interleaved, and the live
cases send it to a session whose recorder runs that code too (as in bench_hook.py).

Plain script: prints results (docs/performance.md has the figures).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_hook import (
    BASELINE,
    PROMPTSTER,
    baseline_script,
    case,
    start_baseline_recorded,
    start_recorded,
    stop_recorded,
)

Make = Callable[[Path, str, int], dict[str, object]]


def gemini(ws: Path, kind: str, n: int) -> dict[str, object]:
    base = {"session_id": "bench", "cwd": str(ws), "transcript_path": ""}
    if kind == "pre":
        tool = {"file_path": f"{ws}/app.py", "content": f"print({n})\n"}
        return {
            **base,
            "hook_event_name": "BeforeTool",
            "tool_name": "write_file",
            "tool_input": tool,
        }
    return {
        **base,
        "hook_event_name": "AfterTool",
        "tool_name": "run_shell_command",
        "tool_input": {"command": f"python -m pytest -q # {n}"},
        "tool_response": {"llmContent": "Output: 3 passed in 0.01s", "returnDisplay": "ok"},
    }


def cursor(ws: Path, kind: str, n: int) -> dict[str, object]:
    base = {"conversation_id": "bench", "generation_id": "g", "workspace_roots": [str(ws)]}
    if kind == "pre":
        tool = {"file_path": f"{ws}/app.py", "contents": f"print({n})\n"}
        return {
            **base,
            "hook_event_name": "preToolUse",
            "tool_name": "Write",
            "tool_input": tool,
            "tool_use_id": f"t{n}",
        }
    return {
        **base,
        "hook_event_name": "postToolUse",
        "tool_name": "Shell",
        "tool_input": {"command": f"python -m pytest -q # {n}"},
        "tool_use_id": f"s{n}",
        "tool_output": "3 passed in 0.01s",
    }


def copilot(ws: Path, kind: str, n: int) -> dict[str, object]:
    base = {"sessionId": "bench", "cwd": str(ws), "timestamp": 1}
    if kind == "pre":
        return {
            **base,
            "toolName": "create",
            "toolArgs": {"path": f"{ws}/app.py", "file_text": f"{n}\n"},
        }
    return {
        **base,
        "toolName": "bash",
        "toolArgs": {"command": f"python -m pytest -q # {n}"},
        "toolResult": {
            "resultType": "success",
            "textResultForLlm": "3 passed\n<shellId: 0 completed with exit code 0>",
        },
    }


TOOLS: dict[str, tuple[Make, dict[str, list[str]]]] = {
    "gemini-cli": (gemini, {"pre": [], "post": []}),
    "cursor": (cursor, {"pre": [], "post": []}),
    "copilot-cli": (copilot, {"pre": ["preToolUse"], "post": ["postToolUse"]}),
}


def payloads(make: Make, where: Path, kind: str) -> Callable[[int], bytes]:
    return lambda n: json.dumps(make(where, kind, n)).encode()


def bench_hooks(root: Path, calls: int) -> None:
    print(f"hook wall time per call ({calls} calls each; {PROMPTSTER})")
    down = root / "recorder-down"
    (down / ".promptster").mkdir(parents=True)
    state = {"sessionId": "bench", "workspace": str(down), "status": "active"}
    state["socket"] = str(down / "none.sock")
    (down / ".promptster" / "session.json").write_text(json.dumps(state))
    reference: dict[str, object] = {"session_id": "bench", "cwd": str(down)}
    reference["hook_event_name"] = "PreToolUse"
    reference |= {"tool_name": "Read", "tool_input": {"file_path": str(down / "app.py")}}
    case(
        "claude-code (reference) recorder down",
        [PROMPTSTER, "hook", "claude-code"],
        lambda n: json.dumps({**reference, "tool_use_id": f"t{n}"}).encode(),
        down,
        calls,
    )
    live = root / "live"
    session_dir = start_recorded(live)
    before = root / "live-baseline"  # the baseline's own session (`--baseline-src`)
    before_dir = start_baseline_recorded(before)
    try:
        for tool, (make, argv) in TOOLS.items():
            for where, label in ((down, "recorder down: spooled"), (live, "live")):
                for kind in ("pre", "post") if where == live else ("pre",):
                    command = [PROMPTSTER, "hook", tool, *argv[kind]]
                    what = "tool call (snapshot + 1 event)" if kind == "pre" else "shell result"
                    baseline = None
                    if where == live and before_dir is not None:
                        baseline = (payloads(make, before, kind), before)
                    case(
                        f"{tool} {label}: {what if where == live else 'tool call'}",
                        command,
                        payloads(make, where, kind),
                        where,
                        calls,
                        baseline,
                    )
    finally:
        stop_recorded(session_dir)
        if before_dir is not None:
            stop_recorded(before_dir)


def bench_aider(root: Path, entries: int) -> None:
    from promptster.integrations.aider import adapter

    ws = root / "aider"
    ws.mkdir()
    (ws / ".promptster").mkdir()
    adapter.setup(ws)
    with (
        (ws / ".aider.input.history").open("w") as inputs,
        (ws / ".aider.chat.history.md").open("w") as chat,
    ):
        chat.write("# aider chat started at 2026-12-07 10:00:00\n\n> Model: openai/x  \n\n")
        for n in range(entries):
            inputs.write(f"\n# 2026-12-07 10:00:{n % 60:02d}.{n:06d}\n+prompt number {n}\n")
            chat.write(
                f"#### prompt number {n}  \n\nReply {n}: done.\n\n"
                "> Tokens: 1.2k sent, 9 received.  \n\n"
            )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    records = polls = 0
    while True:
        events = adapter.poll(ws / ".promptster", ws)
        polls += 1
        if not events:
            break
        records += len(events)
    elapsed = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(
        f"aider histories: {records:,} records ({2 * entries:,} expected) in {polls} polls, "
        f"{elapsed:.2f} s = {records / elapsed:,.0f} records/s; "
        f"peak memory grew {grown / 1024:.1f} MiB"
    )
    assert records == 2 * entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--baseline-src", type=Path, help="also time this checkout's src")
    parser.add_argument("--skip-aider", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pst-bench-tools-") as tmp:
        root = Path(tmp)
        if args.baseline_src:  # before/after in one run (bench_hook.py explains)
            BASELINE.append(baseline_script(args.baseline_src.resolve(), root))
        bench_hooks(root, args.calls)
        if not args.skip_aider:
            bench_aider(root, args.entries)


if __name__ == "__main__":
    main()
