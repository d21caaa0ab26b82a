"""Benchmark line authorship: its cost at submit, and `blame` of a big file.

1. A session of 2,000 file events on a 500-file workspace (half of them AI `Write`s with their
   hook events, half hand edits), as a real shadow repository (made with `git fast-import`)
   and a hash-chained timeline. Measured in the same run, best of --repeat, interleaved, wall
   and CPU time (this process and its git children): what `submit` does without line
   authorship (write the bundle, verify it), the same with `authorship.json` computed and
   checked as submit does it after a recorded session (resumed from the recorder's checkpoint,
   taken when the journal held the events up to two minutes before the end), and the same
   replayed from the start (no checkpoint). Budget: authorship adds at most 20 %.
2. `blame` of one 10,000-line file (an AI `Write`, then hand edits) in a bundle: the whole
   command's core (`blame_bundle`: verify, read the member, unpack the snapshots, read the
   file) and the authorship part alone (decode the member, join it with the lines). Budget:
   under 0.5 s.

    python benchmarks/bench_blame.py                # the budgets' sizes
    python benchmarks/bench_blame.py --events 400 --files 100   # a quick run

With `--baseline-src DIR` (another checkout's `src`, e.g. `git archive main src | tar -x -C
/tmp/base`), the authorship computation of the submit case is also timed with that code, in
child processes run alternately with this checkout's (same session, same load), and the two
results are compared byte for byte.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from promptster.analysis.blame import blame_bundle
from promptster.bundle.authorship import decode, encode, split_text
from promptster.bundle.verify import verify_bundle
from promptster.bundle.writer import SessionMaterial, create_git_bundle, write_bundle
from promptster.formats.crypto import SigningKey
from promptster.formats.events import Event, make_event
from promptster.gitutil import git_env, git_executable, run_git
from promptster.integrations.claude import events as ce
from promptster.integrations.claude import tool_events as cte
from promptster.integrations.claude.values import parse_time
from promptster.record.attribution import checkpoint
from promptster.record.attribution.authorship import (
    authorship_member,
    compute_authorship,
    replay_events,
    replay_prefix,
)
from promptster.record.journal import JournalWriter, read_journal

WS = "/home/candidate/work"
SUBMIT_BUDGET = 0.20
BLAME_BUDGET_S = 0.5
# At submit the recorder's last checkpoint is up to a minute old (one job a minute at most)
# and the job takes time: the events of the session's last two minutes are replayed at submit.
CHECKPOINT_LAG_S = 120.0
CHECKPOINT_SECRET = b"bench session key"
LINES_PER_FILE = 40


def ts(second: float) -> str:
    minutes, rest = divmod(second, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"2026-01-05T{9 + hours:02d}:{minutes:02d}:{rest:06.3f}Z"


def content(path: str, version: int, lines: int = LINES_PER_FILE) -> str:
    """The file at a version: every version rewrites 4 lines in place (numstat +4 -4)."""
    out = []
    for n in range(lines):
        last = version - (version - n) % 10  # the last version that rewrote line n
        stamp = last if last >= 1 else 0
        out.append(f"value_{n} = compute('{path}', {n}, {stamp})  # line {n}")
    return "\n".join(out) + "\n"


class Session:
    """Commits streamed to `git fast-import`, and the events that describe them."""

    def __init__(self, root: Path) -> None:
        self.git_dir = root / "shadow.git"
        run_git(["init", "--quiet", "--bare", str(self.git_dir)])
        self.commands: list[bytes] = []
        self.marks = 0
        self.events: list[tuple[str, dict[str, Any]]] = []  # ("file", data) or ("raw", event)
        self.baseline_mark = self.commit({"README.md": "# Project\n"}, 0)

    def commit(self, files: dict[str, str], second: float) -> int:
        self.marks += 1
        body = [
            b"commit refs/heads/snapshots\n",
            f"mark :{self.marks}\n".encode(),
            f"committer P <p@p> {1767603600 + int(second)} +0000\n".encode(),
            b"data 8\nsnapshot\n",
        ]
        if self.marks > 1:
            body.append(f"from :{self.marks - 1}\n".encode())
        for path, text in files.items():
            data = text.encode()
            body.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        self.commands.append(b"".join(body))
        return self.marks

    def finish(self) -> dict[int, str]:
        marks = self.git_dir / "marks"
        subprocess.run(
            [git_executable(), f"--git-dir={self.git_dir}", "fast-import", "--quiet",
             f"--export-marks={marks}"],
            input=b"".join(self.commands), check=True, env=git_env(),
        )  # fmt: skip
        found = {}
        for line in marks.read_text().splitlines():
            mark, commit = line.split()
            found[int(mark[1:])] = commit
        return found


def build_session(root: Path, events: int, files: int, big_lines: int = 0) -> SessionMaterial:
    """A session of `events` file events over `files` paths; with `big_lines`, one more file
    of that many lines written by the AI and edited by hand twice."""
    session = Session(root)
    versions: dict[str, int] = {}
    planned: list[tuple[str, float, int, bool, str, int, int]] = []
    for index in range(events):
        path = f"src/pkg{index % 25}/mod_{index % files}.py"
        version = versions.get(path, -1) + 1
        versions[path] = version
        second = 10 + index * 3.0
        text = content(path, version)
        mark = session.commit({path: text}, second)
        added, removed = (LINES_PER_FILE, 0) if version == 0 else (4, 4)
        planned.append((path, second, mark, index % 2 == 0, text, added, removed))
    if big_lines:
        second = 10 + events * 3.0
        for step in range(3):
            text = "".join(
                f"big_{n} = {n + (step if n % 997 == 0 else 0)}\n" for n in range(big_lines)
            )
            mark = session.commit({"big.py": text}, second + step * 30)
            added = big_lines if step == 0 else sum(1 for n in range(big_lines) if n % 997 == 0)
            planned.append(("big.py", second + step * 30, mark, step == 0, text, added,
                            0 if step == 0 else added))  # fmt: skip
    commits = session.finish()
    session_id = str(uuid.uuid4())
    timeline: list[Event] = [
        make_event(
            "session_start",
            {"sessionId": session_id, "workspace": WS, "tools": ["claude-code", "shell"],
             "snapshot": commits[session.baseline_mark]},
            channel="cli", integration="promptster", emitter="bench", actor="system",
            attribution="system_generated", ts=ts(0),
        )
    ]  # fmt: skip
    for n, (path, second, mark, by_ai, text, added, removed) in enumerate(planned):
        tool_id = f"toolu_{n:06d}"
        tool_input = {"file_path": f"{WS}/{path}", "content": text}
        ctx = ce.Context(lane="lane", workspace=WS, cwd=WS, ts=ts(second - 0.5))
        if by_ai:
            timeline.extend(map(hook_event, cte.tool_use_events(ctx, "Write", tool_id, tool_input)))
        kind = "file_create" if added and not removed else "file_diff"
        data = {"path": path, "commit": commits[mark], "linesAdded": added, "linesRemoved": removed}
        timeline.append(make_event(kind, data, channel="watcher", integration="promptster",
                                   emitter="bench", ts=ts(second)))  # fmt: skip
        if by_ai:
            ctx = ce.Context(lane="lane", workspace=WS, cwd=WS, ts=ts(second + 0.2))
            timeline.extend(
                map(hook_event, cte.tool_result_events(ctx, "Write", tool_id, tool_input, {}))
            )
    end_second = (planned[-1][1] if planned else 0) + 5
    timeline.append(make_event("session_end", {"reason": "submit"}, channel="cli",
                               integration="promptster", emitter="bench", actor="system",
                               attribution="system_generated", ts=ts(end_second)))  # fmt: skip
    journal = root / "timeline.jsonl"
    with JournalWriter(journal, session_id) as writer:
        for event in timeline:
            writer.append(event)
    return SessionMaterial(
        session_id=session_id,
        started_at=ts(0),
        ended_at=ts(end_second),
        timeline=journal.read_bytes(),
        shadow_git_dir=session.git_dir,
    )


def hook_event(body: dict[str, Any]) -> Event:
    """An AI tool's event as the hook hands it to the recorder (the journal assigns seq)."""
    return Event.from_dict({**body, "seq": 0})


def timeline_dicts(material: SessionMaterial) -> list[dict[str, Any]]:
    return [json.loads(line) for line in material.timeline.splitlines()]


def journal_events(root: Path, material: SessionMaterial) -> list[Event]:
    """The journal as submit reads it whatever it writes (its events, parsed and checked)."""
    return read_journal(root / "timeline.jsonl", material.session_id).events


def take_checkpoint(root: Path, material: SessionMaterial, lag_s: float) -> tuple[Path, int]:
    """The recorder's checkpoint as it stands at submit: taken when the journal held the
    events up to `lag_s` seconds before the end (the job runs at most once a minute), up to
    its settled point. Returns the file and how many events it covers."""
    events = timeline_dicts(material)
    end = parse_time(events[-1]["ts"])
    assert end is not None
    known = [e for e in events if (parse_time(e["ts"]) or end) <= end - timedelta(seconds=lag_s)]
    count = checkpoint.settled_count(known)
    state = replay_prefix(known, count, material.shadow_git_dir, head_of(material), WS)
    target = root / checkpoint.FILE_NAME
    checkpoint.save(target, state, CHECKPOINT_SECRET)
    return target, count


def head_of(material: SessionMaterial) -> str:
    return run_git(
        ["rev-parse", "refs/heads/snapshots"], git_dir=material.shadow_git_dir
    ).text.strip()


def cpu_now() -> float:
    """CPU seconds of this process and of the git processes it has waited for."""
    return sum(
        resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    start, start_cpu = time.perf_counter(), cpu_now()
    fn()
    return time.perf_counter() - start, cpu_now() - start_cpu


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def submit_case(root: Path, events: int, files: int, repeat: int) -> bool:
    material = build_session(root, events, files)
    key = SigningKey.from_seed(b"\x01" * 32)
    plain, full = root / "plain.pst", root / "full.pst"

    def submit_without() -> None:
        material.authorship = None
        written = write_bundle(material, key, plain)
        report = verify_bundle(written.path)
        assert report.ok, [f.message for f in report.failures][:3]

    parsed = journal_events(root, material)  # submit reads the journal in any case
    saved, covered = take_checkpoint(root, material, CHECKPOINT_LAG_S)

    def submit_with(resume: bool = False) -> None:
        # as write_submission does it: `git bundle create` alongside
        with ThreadPoolExecutor(1) as worker:
            snapshots = worker.submit(create_git_bundle, material.shadow_git_dir)
            state = checkpoint.load(saved, CHECKPOINT_SECRET) if resume else None
            events = replay_events(parsed)
            material.authorship = authorship_member(events, material.shadow_git_dir,
                                                    head_of(material), WS, state)  # fmt: skip
        material.snapshots = snapshots.result()
        written = write_bundle(material, key, full)
        material.snapshots = None
        report = verify_bundle(written.path)
        assert report.ok, [f.message for f in report.failures]
        if resume:
            assert material.authorship == member, "resumed authorship differs"

    member = encode(
        compute_authorship(timeline_dicts(material), material.shadow_git_dir, head_of(material), WS)
    )

    def submit_member_only() -> None:  # the member's cost in writing and verifying alone
        material.authorship = member
        written = write_bundle(material, key, full)
        assert verify_bundle(written.path).ok

    def compute(resume: bool = False) -> None:
        state = checkpoint.load(saved, CHECKPOINT_SECRET) if resume else None
        events = replay_events(parsed)
        authorship_member(events, material.shadow_git_dir, head_of(material), WS, state)

    def resume_submit() -> None:
        submit_with(resume=True)

    def resume_compute() -> None:
        compute(resume=True)

    def read_the_journal() -> None:  # what write_submission does first, in any case
        journal_events(root, material)

    cases = {"journal": read_the_journal, "without": submit_without, "from the start": submit_with,
             "from the checkpoint": resume_submit, "alone": compute,
             "alone resumed": resume_compute, "member only": submit_member_only}  # fmt: skip
    wall = dict.fromkeys(cases, float("inf"))
    cpu = dict.fromkeys(cases, float("inf"))
    for _ in range(repeat):  # interleaved, so machine noise hits all alike
        for name, case in cases.items():
            took, used = timed(case)
            wall[name], cpu[name] = min(wall[name], took), min(cpu[name], used)
    without = wall["without"]
    added_resumed = wall["from the checkpoint"] / without - 1

    def line(name: str) -> str:
        return (f"{wall[name]:8.3f} s (+{wall[name] / without - 1:6.1%})   "
                f"CPU {cpu[name]:6.3f} s (+{cpu[name] / cpu['without'] - 1:6.1%})")  # fmt: skip

    tail = len(parsed) - covered
    print(f"submit, {events:,} file events on {files} files (best of {repeat}; CPU: this "
          "process and its git children):")  # fmt: skip
    print(f"  without line authorship  {wall['without']:8.3f} s            "
          f"CPU {cpu['without']:6.3f} s")  # fmt: skip
    print(f"  with line authorship, resumed from the session's checkpoint ({tail} of "
          f"{len(parsed):,} events left to replay; budget +{SUBMIT_BUDGET:.0%}):")  # fmt: skip
    print(f"                           {line('from the checkpoint')}")
    print("  with line authorship, replayed from the start (no checkpoint):")
    print(f"                           {line('from the start')}")
    print(f"  computing it alone       {wall['alone resumed']:8.3f} s from the checkpoint "
          f"(CPU {cpu['alone resumed']:.3f} s), {wall['alone']:.3f} s from the start "
          f"(CPU {cpu['alone']:.3f} s)")  # fmt: skip
    journal_wall, journal_cpu = wall["journal"], cpu["journal"]
    whole = (wall["from the checkpoint"] - without) / (without + journal_wall)
    whole_cpu = (cpu["from the checkpoint"] - cpu["without"]) / (cpu["without"] + journal_cpu)
    print(f"  submit as the CLI runs it also reads and checks the journal first "
          f"({journal_wall:.3f} s, CPU {journal_cpu:.3f} s): counted in, authorship from the "
          f"checkpoint adds +{whole:.1%} (CPU +{whole_cpu:.1%})")  # fmt: skip
    member_only = wall["member only"]
    print(f"  the member in write + verify, computed beforehand {member_only - without:+.3f} s "
          f"(CPU {cpu['member only'] - cpu['without']:+.3f} s)")  # fmt: skip
    if BASELINE_SRC:
        compare(root, material, without, member_only - without, repeat)
    return added_resumed <= SUBMIT_BUDGET


BASELINE_SRC: list[Path] = []  # `--baseline-src`, when given
WORKER = """
import hashlib, json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from promptster.bundle.authorship import encode
from promptster.record.attribution.authorship import compute_authorship
root, head, workspace = Path(sys.argv[2]), sys.argv[3], sys.argv[4]
def used():  # CPU seconds of this process and of the git processes it waited for
    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
times, cpu, digest = [], [], ""
for _ in range(int(sys.argv[5])):
    start, start_cpu = time.perf_counter(), used()
    events = [json.loads(line) for line in (root / "timeline.jsonl").read_bytes().splitlines()]
    member = encode(compute_authorship(events, root / "shadow.git", head, workspace))
    times.append(time.perf_counter() - start)
    cpu.append(used() - start_cpu)
    digest = hashlib.sha256(member).hexdigest()
print(json.dumps({"best": min(times), "cpu": min(cpu), "sha256": digest}))
"""


def compare(
    root: Path, material: SessionMaterial, without: float, rest: float, repeat: int
) -> None:
    """The computation timed with this checkout's code and the baseline's, alternately in
    child processes; `rest` is what the member adds to writing and verifying the bundle. The
    overhead shown adds them up, sequentially (as the baseline's submit does)."""
    import promptster

    sources = {"this checkout": Path(promptster.__file__).resolve().parents[1],
               "baseline": BASELINE_SRC[0]}  # fmt: skip
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    for _ in range(repeat):
        for name, src in sources.items():
            out = subprocess.run(
                [sys.executable, "-c", WORKER, str(src), str(root), head_of(material), WS, "2"],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            found[name].append(json.loads(out))
    digests = {run["sha256"] for runs in found.values() for run in runs}
    print(f"  computing + encoding it in child processes (best of {repeat} × 2, alternating):")
    for name, runs in found.items():
        took, cpu = min(run["best"] for run in runs), min(run["cpu"] for run in runs)
        print(f"    {name:14} {took:7.3f} s ({cpu:.3f} s CPU, git included)   "
              f"submit overhead ≈ +{(took + rest) / without:.1%}")  # fmt: skip
    print(f"    same authorship.json: {'yes' if len(digests) == 1 else 'NO, they differ'}")


def blame_case(root: Path, lines: int, repeat: int) -> bool:
    material = build_session(root, 4, 4, big_lines=lines)
    material.authorship = encode(
        compute_authorship(timeline_dicts(material), material.shadow_git_dir, head_of(material), WS)
    )
    bundle = write_bundle(material, SigningKey.from_seed(b"\x02" * 32), root / "big.pst").path
    result = blame_bundle(bundle, "big.py")
    authors = {line.author for line in result.files[0].lines}
    assert len(result.files[0].lines) == lines, len(result.files[0].lines)
    whole = best(lambda: blame_bundle(bundle, "big.py"), repeat)
    member = material.authorship
    text = ("".join(f"big_{n} = {n}\n" for n in range(lines))).encode()

    def core() -> None:
        item = decode(member).file("big.py")
        assert item is not None
        texts = split_text(text)
        _ = [(n, o.author, texts[n - 1]) for n, o in item.origins()]

    part = best(core, repeat)
    print(f"blame of a {lines:,}-line file (authors {sorted(authors)}; best of {repeat}):")
    print(
        f"  whole command core (verify + unpack + read) {whole:7.3f} s (budget {BLAME_BUDGET_S} s)"
    )
    print(f"  authorship part (decode + join lines)       {part:7.3f} s")
    return whole < BLAME_BUDGET_S


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, help="also time this checkout's src")
    args = parser.parse_args(argv)
    if args.baseline_src:
        BASELINE_SRC.append(args.baseline_src.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-blame-") as tmp:
        root = Path(tmp)
        (root / "a").mkdir()
        (root / "b").mkdir()
        ok_submit = submit_case(root / "a", args.events, args.files, args.repeat)
        ok_blame = blame_case(root / "b", args.lines, args.repeat)
    print("within budget" if ok_submit and ok_blame else "OVER BUDGET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
