"""Benchmark: the recorded shell's worker CPU per command, offline (no shell, no recorder).

    python benchmarks/bench_shell_worker.py                      # `true` and mixed, bash + zsh
    python benchmarks/bench_shell_worker.py --commands 5000 --rounds 7
    python benchmarks/bench_shell_worker.py --profile            # cProfile, top functions
    python benchmarks/bench_shell_worker.py --dump OUT           # events + cast, for a diff

A byte stream of N commands is built with the marks the rc files print (record/shell/rc/bash.sh and
record/shell/rc/zsh/.zshrc: bash writes the command text to its history records, zsh sends
it with its start mark),
cut into the frames the pty loop would send (the typed line's echo, then the start mark, then
the output, the end mark and the next prompt) and fed through the worker's own code path:
`record_frames` into a `ShellRecording` with a real `CastEncoder`, `CastFile` and
`CommandAssembler`, events into a list instead of the recorder; `tick()` once per command, as
the stream goes quiet between commands. The figure is the process CPU time (best of --rounds)
divided by N. The `mix` workload is the mixed stream described below, repeated.

--dump writes, per style, the events (JSON lines) and the cast of a mixed stream (test runs,
builds, `cd` in and out of the workspace, quoting, heredocs, a nested shell) with event ids
drawn from a seeded generator, so two revisions' outputs can be compared byte for byte.
Plain script: prints a table, asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from unittest import mock

from promptster.record.shell.cast import CastEncoder, CastFile, CastHeader
from promptster.record.shell.commands import CommandAssembler
from promptster.record.shell.osc import MarkParser
from promptster.record.shell.pipe import Frame, record_frames
from promptster.record.shell.recording import ShellRecording

TOKEN = "Zq8wK2pL"
WORKSPACE = "/tmp/pst-bench-ws"
PID = 4242
T0_US = 1_780_000_000_000_000
PROMPT = b"\x1b]133;A\x07cand@box:~/ws$ \x1b]133;B\x07"

# (command line, output, exit status, cwd after it ran)
Command = tuple[str, bytes, int, str]
MIX: list[Command] = [
    ("true", b"", 0, WORKSPACE),
    ("ls", b"README.md  src  tests\r\n", 0, WORKSPACE),
    (
        "pytest -q",
        b"..F.\r\nFAILED tests/test_x.py::test_b\r\n=== 1 failed, 3 passed in 0.12s ===\r\n",
        1,
        WORKSPACE,
    ),
    ("git status", b"On branch main\r\nnothing to commit\r\n", 0, WORKSPACE),
    ("cd src", b"", 0, WORKSPACE + "/src"),
    ("ruff check .", b"Found 2 errors.\r\n", 1, WORKSPACE + "/src"),
    ("FOO=1 uv run pytest -x tests | tee log", b"5 passed in 0.3s\r\n", 0, WORKSPACE + "/src"),
    ("cd /tmp", b"", 0, "/tmp"),
    ("ls", b"secret-stuff\r\n", 0, "/tmp"),
    ("cd -", b"", 0, WORKSPACE + "/src"),
    ("cd ..", b"", 0, WORKSPACE),
    ('echo "pytest; it\'s fine"', b"pytest; it's fine\r\n", 0, WORKSPACE),
    ("bash -lc 'cd src && npm test'", b"Tests: 4 passed, 4 total\r\n", 0, WORKSPACE),
    ("mypy src", b"Success: no issues found in 3 source files\r\n", 0, WORKSPACE),
    ("cat <<EOF\npytest\nEOF", b"pytest\r\n", 0, WORKSPACE),
    ("python -m pytest -k 'a or b'", b"2 passed in 0.1s\r\n", 0, WORKSPACE),
    ("# just a comment", b"", 0, WORKSPACE),
    ("make build", b"\x1b[1mcc -o x x.c\x1b[0m\r\n", 0, WORKSPACE),
    ("sleep 10", b"^C", 130, WORKSPACE),
    ("vim notes.txt", b"\x1b[?1049h\x1b[Hnotes\x1b[?1049l", 0, WORKSPACE),
    ("go test ./...", b"ok  \texample.com/x\t0.01s\r\n", 0, WORKSPACE),
    ("echo 100%", b"100%\r\n", 0, WORKSPACE),
    (
        "cat README.md",
        b"".join(b"line %d of the readme, some words\r\n" % i for i in range(120)),
        0,
        WORKSPACE,
    ),
    (
        "git log --oneline",
        b"".join(b"\x1b[33m%07x\x1b[m commit %d\r\n" % (i, i) for i in range(40)),
        0,
        WORKSPACE,
    ),
]


def _enc(text: str) -> str:
    """The rc files' percent-encoding: `%`, `;` and control characters."""
    return "".join(f"%{ord(c):02X}" if c in "%;" or ord(c) < 32 or c == "\x7f" else c for c in text)


def _mark(kind: str, body: str) -> bytes:
    return f"\x1b]6973;{TOKEN};{kind};{body}\x07".encode()


def build_frames(style: str, commands: list[Command], history: Path) -> list[Frame]:
    """The frames the pty loop sends for `commands`, typed one after the other (bash's
    command lines go to its history records in `history`, as its prompt hook writes them)."""
    shell = "bash" if style == "bash" else "zsh"
    name = f"history.{PID}.{T0_US}"
    hist = f";hist={name}" if style == "bash" else ""
    init = _mark("init", f"lvl=1;pid={PID};shell={shell};ver=5.2.21{hist}")
    first = _mark("end", f"lvl=1;pid={PID};n=1;exit=0;ran=0;pipe=0;t0=0;t1={T0_US};h0=;hc=1;"
                  f"src=records;cwd={_enc(WORKSPACE)}")  # fmt: skip
    records = [b"\x001 "]
    frames: list[Frame] = [(b"o", 0.0, init + (first if style == "bash" else b"") + PROMPT)]
    t = 0.5
    cwd = WORKSPACE
    for number, (line, output, status, after) in enumerate(commands, start=1):
        t0 = T0_US + int(t * 1e6) + 100
        t1 = t0 + 1500
        frames.append((b"o", t, line.replace("\n", "\r\n> ").encode()))  # the echo
        t += 0.3
        if style == "bash":
            start = _mark("start", f"lvl=1;pid={PID};t0={t0};cwd={_enc(cwd)}")
        else:
            start = _mark("start", f"lvl=1;pid={PID};t0={t0};cwd={_enc(cwd)};cmd={_enc(line)}")
        frames.append((b"o", t, b"\r\n\x1b]133;C\x07" + start))
        cwd = after
        if style == "bash":
            records.append(b"\0" + f"{number + 1} {number:5d}  {line}\n".encode())
            fields = f"n={number + 1};h0={number + 1};hc={number + 1};src=records"
        else:
            fields = "src=preexec;cmd="
        end = b"\x1b]133;D;%d\x07" % status + _mark(
            "end",
            f"lvl=1;pid={PID};exit={status};ran=1;pipe={status};t0={t0};t1={t1};"
            f"cwd={_enc(cwd)};{fields}",
        )
        frames.append((b"o", t + 0.0015, output + end + PROMPT))
        t += 0.5
    if style == "bash":
        (history / name).write_bytes(b"".join(records))
    return frames


class ListSender:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def send(self, events: list[dict[str, Any]]) -> None:
        self.events += events


def run(frames: list[Frame], cast_path: Path) -> tuple[ShellRecording, ListSender]:
    """Feed `frames` through the worker's path, one `tick()` after each command (bash's
    history records are read from the cast's folder)."""
    sender = ListSender()
    clock = iter(range(10**9)).__next__
    recording = ShellRecording(
        cast=CastFile(cast_path, CastHeader(80, 24, 1_780_000_000.0)),
        encoder=CastEncoder(),
        assembler=CommandAssembler(WORKSPACE, history_dir=cast_path.parent),
        sender=sender,  # type: ignore[arg-type]
        clock=lambda: clock() * 1e-3,
        origin=0.0,
        workspace=WORKSPACE,
        cwd=WORKSPACE,
    )
    parser = MarkParser(TOKEN)
    batch: list[Frame] = []
    for frame in frames:
        batch.append(frame)
        if frame[2].endswith(PROMPT):  # the prompt is back: the stream goes quiet
            record_frames(recording, parser, batch)
            recording.tick()
            batch = []
    record_frames(recording, parser, batch)
    recording.output(frames[-1][1], parser.flush())
    recording.close()
    return recording, sender


def workload(name: str, commands: int) -> list[Command]:
    """`true` repeated, or the mixed commands repeated (about `commands` in all)."""
    if name == "mix":
        return MIX * max(1, commands // len(MIX))
    return [("true", b"", 0, WORKSPACE)] * commands


def cpu_per_command(style: str, commands: list[Command], rounds: int, workdir: Path) -> float:
    frames = build_frames(style, commands, workdir)
    best = float("inf")
    for i in range(rounds):
        start = time.process_time()
        run(frames, workdir / f"{style}-{i}.cast")
        best = min(best, time.process_time() - start)
    return best / len(commands) * 1e6


def dump(out: Path, workdir: Path, repeat: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for style in ("bash", "zsh"):
        bits = random.Random(7).getrandbits
        ids = mock.patch.object(uuid, "uuid4", lambda bits=bits: uuid.UUID(int=bits(128)))
        with ids, mock.patch("promptster.protocol.envelope.now_ts", lambda: "2026-01-01T00:00:00Z"):
            _, sender = run(build_frames(style, MIX * repeat, out), out / f"{style}.cast")
        with (out / f"{style}.events.jsonl").open("w") as f:
            for event in sender.events:
                f.write(json.dumps(event, sort_keys=True) + "\n")
        print(f"{style}: {len(sender.events)} events -> {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commands", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--styles", default="bash,zsh")
    ap.add_argument("--workloads", default="true,mix", help="`true` only, the mixed commands")
    ap.add_argument("--profile", action="store_true", help="cProfile one run per style")
    ap.add_argument("--dump", type=Path, help="write events and casts of the mixed stream")
    args = ap.parse_args()
    os.makedirs(WORKSPACE + "/src", exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.dump:
            dump(args.dump, workdir, repeat=20)
            return
        for name in args.workloads.split(","):
            commands = workload(name, args.commands)
            for style in args.styles.split(","):
                if args.profile:
                    profile = cProfile.Profile()
                    profile.runcall(run, build_frames(style, commands, workdir), workdir / "p.cast")
                    print(f"--- {style}, {name} ---")
                    pstats.Stats(profile).sort_stats("tottime").print_stats(25)
                    continue
                us = cpu_per_command(style, commands, args.rounds, workdir)
                print(f"{style:5} {len(commands):6,} x {name:4}: {us:7.1f} µs CPU per command")


if __name__ == "__main__":
    main()
