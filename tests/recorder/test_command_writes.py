"""Measuring what an AI client's commands wrote (Linux I/O accounting, procio.py) and the
`commandWrites` evidence a snapshot's file events get (writes.py): real processes, real /proc,
a real shadow repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import pytest

from promptster.integrations import proctree
from promptster.integrations.proctree import ProcId
from promptster.record.attribution import procio
from promptster.record.attribution.measure import CommandWrites, Probe
from promptster.record.attribution.procio import (
    Written,
    bytes_needed,
    counts_dirtied_pages,
    descends,
    find_command,
    subtree_written,
    tree_written,
)
from promptster.record.attribution.writes import attach
from promptster.record.files.events import snapshot_events
from promptster.record.files.snapshots import ShadowRepo, Snapshot
from promptster.record.server import handle_request
from support import require


@pytest.fixture(autouse=True)
def _linux() -> None:
    require(Path("/proc/self/io").exists(), "Linux I/O accounting (/proc/<pid>/io) is missing")


def test_bytes_needed_counts_changed_and_new_positions() -> None:
    assert bytes_needed(b"", b"- todo\n") == 7
    assert bytes_needed(b"abcdef\n", b"abXdef\n") == 1  # one byte rewritten in place
    assert bytes_needed(b"line\n", b"line\nmore\n") == 5  # an append
    assert bytes_needed(b"ab\ncd\n", b"x\nab\ncd\n") == 8  # an insertion shifts the rest
    assert bytes_needed(b"abcdef\n", b"abc\n") == 1  # truncating writes nothing past the end
    assert bytes_needed(b"same\n", b"same\n") == 0
    assert bytes_needed(b"", b"\0binary") is None  # mmap, clones: no bound for binary files


# A client that starts a child which writes a file, optionally stays alive, and is reaped; the
# client itself also writes (its own writes are not its commands').
CLIENT = """
import subprocess, sys, time
open(sys.argv[1] + ".own", "w").write("c" * 50_000)  # the client's own write
print("ready", flush=True)
sys.stdin.readline()
child = subprocess.Popen(["sh", "-c", "head -c 100000 /dev/zero | tr '\\\\0' x > " + sys.argv[1]
                          + "; touch " + sys.argv[1] + ".done; sleep " + sys.argv[2]])
print("started", flush=True)
sys.stdin.readline()
child.wait()
print("reaped", flush=True)
sys.stdin.readline()
"""


def _client(tmp_path: Path, linger: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(tmp_path / "out.txt"), linger],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _say(proc: subprocess.Popen[str], expected: str) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == expected


def _wait_for(path: Path) -> None:
    for _ in range(400):
        if path.exists():
            return
        time.sleep(0.025)
    raise AssertionError(f"{path} never appeared")


# Both ways of finding a process's children: the kernel's lists, and a scan of /proc.
BOTH_WAYS = pytest.mark.parametrize("kernel_lists", [True, False], ids=["lists", "scan"])


@BOTH_WAYS
def test_a_child_counts_alive_and_once_reaped_the_client_itself_does_not(
    tmp_path: Path, kernel_lists: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(procio, "_KERNEL_LISTS", kernel_lists)
    proc = _client(tmp_path, "1")
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        me = proctree.ident(proc.pid)
        assert me is not None
        base = tree_written(me)
        assert base is not None and base[0] < 50_000  # the client's own 50 kB left out
        _say(proc, "started")
        _wait_for(tmp_path / "out.txt.done")
        alive = tree_written(me)
        assert alive is not None and alive[0] - base[0] >= 100_000  # the child, still running
        _say(proc, "reaped")
        reaped = tree_written(me)
        # now in the client's count: head's 100 kB into the pipe, tr's 100 kB into the file,
        # once each, and not the client's own 50 kB
        assert reaped is not None and 200_000 <= reaped[0] - base[0] < 250_000
    finally:
        proc.kill()
        proc.wait()
    assert tree_written(me) is None  # gone: nothing is measured


def test_the_client_of_a_hook_is_its_nearest_ancestor_that_is_no_shell() -> None:
    probe = "import os; from promptster.integrations import proctree as p; "
    probe += "print(p.client_of(os.getpid()))"
    done = subprocess.run(
        ["sh", "-c", f"{sys.executable} -c {probe!r}; true"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(proctree.ident(os.getpid()))
    assert proctree.client_of(10**9) is None


@BOTH_WAYS
def test_the_command_s_own_process_is_found_by_its_command_line(
    tmp_path: Path, kernel_lists: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(procio, "_KERNEL_LISTS", kernel_lists)
    me = proctree.ident(os.getpid())
    assert me is not None
    since = me[1]
    out = tmp_path / "gen.txt"
    script = f"eval 'sleep 0.1; head -c 5000 /dev/zero > \"{out}\"; sleep 5'"
    shell = subprocess.Popen(["sh", "-c", script])
    try:
        command = f'sleep 0.1; head -c 5000 /dev/zero > "{out}"; sleep 5'
        found = None
        for _ in range(200):
            found = find_command(me, since, command)
            if found is not None and out.exists() and out.stat().st_size == 5000:
                break
            time.sleep(0.025)
        assert found is not None and found[0] == shell.pid
        counts = subtree_written(found)
        assert counts is not None and counts[0] >= 5000  # head's write, reaped by the shell
        assert find_command(me, since, "sleep 99; not this command") is None
        assert find_command(me, since, "ab") is None  # too short to tell commands apart
    finally:
        shell.kill()
        shell.wait()
    assert subtree_written(found) is None


class FakeProbe(Probe):
    def __init__(self, trees: list[Written], shell: ProcId | None = None) -> None:
        self.trees = iter(trees)
        self.shell = shell
        self.shell_counts: Written | None = None

    def tree(self, client: ProcId) -> Written | None:
        return next(self.trees)

    def subtree(self, proc: ProcId) -> Written | None:
        return self.shell_counts

    def find(self, client: ProcId, since: int, command: str) -> ProcId | None:
        return self.shell if command else None


def _procs() -> tuple[ProcId, ProcId]:
    me, parent = proctree.ident(os.getpid()), proctree.ident(os.getppid())
    assert me is not None and parent is not None and descends(me, parent)
    return me, parent


def test_a_baseline_is_taken_only_for_a_live_hook_below_its_client() -> None:
    clock = [0.0]
    probe = FakeProbe([(1000, 8192), (1500, 8192), (1900, 16384)])
    commands = CommandWrites(probe, clock=lambda: clock[0], pages=True)
    me, parent = _procs()
    assert not commands.start("t0", me, parent)  # the "client" is below the "hook"
    assert not commands.start("", parent, me)
    assert commands.start("t1", parent, me)
    assert commands.sample() == {"t1": {"written": 500, "dirtied": 0}}
    commands.ended("t1")
    clock[0] = 5.0
    assert commands.sample() == {"t1": {"written": 900, "dirtied": 8192}}
    clock[0] = 60.0
    assert commands.sample() == {} and not commands.active()  # long after its result


def test_the_command_s_own_processes_are_measured_while_they_run() -> None:
    me, parent = _procs()
    # the client tree wrote 30 kB more meanwhile (its own helpers), the command 700 bytes
    probe = FakeProbe([(1000, 0), (31_000, 8192), (32_000, 12_288)], shell=(4242, 1))
    commands = CommandWrites(probe, pages=False)
    assert commands.start("t1", parent, me, "sleep 4 && python gen.py")
    probe.shell_counts = (700, 0)
    assert commands.sample() == {"t1": {"written": 700}}
    probe.shell_counts = None  # it ended: the whole tree's count, which holds it
    assert commands.sample() == {"t1": {"written": 31_000}}


def test_a_file_modified_while_the_command_wrote_nothing() -> None:
    me, parent = _procs()
    wall = [100.0]
    trees = [(1000, 0), (1500, 4096), (1600, 4096), (1600, 4096), (1600, 4096)]
    probe = FakeProbe(trees, shell=(4242, 1))
    commands = CommandWrites(probe, pages=True, wall=lambda: wall[0])
    assert commands.start("t1", parent, me, "sleep 4 && python gen.py")
    for now, own in ((100.2, (668, 0)), (100.4, (668, 0)), (100.6, (668, 0)), (100.8, (900, 0))):
        wall[0] = now
        probe.shell_counts = own
        commands.poll()
    # its own processes wrote nothing from 100.2 to 100.6 (its client's helpers did)
    assert commands.idle_around("t1", 100.45) is True
    assert commands.idle_around("t1", 100.7) is False  # 232 bytes between 100.6 and 100.8
    assert commands.idle_around("t1", 100.78) is None  # no sample 50 ms after it yet
    assert commands.idle_around("t1", 99.0) is None  # before the command began
    assert commands.idle_around("t0", 100.45) is None


def test_which_file_systems_count_dirtied_pages() -> None:
    assert not counts_dirtied_pages("/proc")
    assert not counts_dirtied_pages("/dev/shm") or not Path("/dev/shm").exists()


def _repo(workspace: Path) -> ShadowRepo:
    session = workspace.parent / "session"
    session.mkdir()
    shadow = ShadowRepo(
        session / "shadow.git", workspace, session / "shadow.index", max_file_bytes=1 << 20
    )
    shadow.create()
    shadow.load()
    shadow.take("baseline")
    return shadow


def _take(shadow: ShadowRepo) -> Snapshot:
    snapshot = shadow.take()
    assert snapshot is not None
    return snapshot


def test_file_events_get_the_evidence_except_where_bytes_may_come_without_writes(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "old.txt").write_text("kept as it is\n")
    (ws / "notes.md").write_text("a\n")
    shadow = _repo(ws)
    (ws / "todo.md").write_text("- check the report\n")  # new: 19 bytes needed
    (ws / "notes.md").write_text("a\nb\n")  # appended: 2 bytes
    (ws / "old.txt").rename(ws / "moved.txt")  # a rename writes nothing
    (ws / "pic.bin").write_bytes(b"\0\1\2")  # binary: no bound
    (ws / "link.md").symlink_to("notes.md")  # a symbolic link: no write
    snapshot = _take(shadow)
    lines: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    events = snapshot_events(snapshot, "watcher", lines)
    written = {"toolu_1": {"written": 600, "dirtied": 0}}
    assert attach(snapshot, events, written, shadow.git_dir, ws) == 2
    evidence = {e.data["path"]: e.data.get("commandWrites") for e in events}
    assert evidence == {
        "todo.md": {"bytesNeeded": 19, "commands": written},
        "notes.md": {"bytesNeeded": 2, "commands": written},
        "moved.txt": None,
        "old.txt": None,
        "pic.bin": None,
        "link.md": None,
    }
    os.link(ws / "todo.md", ws / "linked.md")  # a hard link to a file of the tree
    (ws / "a.md").write_text("twice\n")  # two new files with one content: one may be a copy
    (ws / "b.md").write_text("twice\n")
    snapshot = _take(shadow)
    events = snapshot_events(snapshot, "watcher", lines)
    assert attach(snapshot, events, written, shadow.git_dir, ws) == 0
    assert all("commandWrites" not in e.data for e in events)


class _Attribution:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ProcId, ProcId, str]] = []

    def command_started(self, tool_use_id: str, client: ProcId, hook: ProcId, command: str) -> bool:
        self.calls.append((tool_use_id, client, hook, command))
        return True


class _Recorder:
    def __init__(self) -> None:
        self.attribution = _Attribution()


def test_the_recorder_takes_command_start_and_refuses_bad_ones() -> None:
    recorder = _Recorder()

    def ask(request: dict[str, Any]) -> dict[str, Any]:
        reply, stop = handle_request(cast(Any, recorder), json.dumps(request).encode())
        assert not stop
        return reply

    good = {"op": "command_start", "toolUseId": "t1", "client": [10, 5], "hook": [11, 6]}
    assert ask({**good, "command": "make"}) == {"ok": True, "measured": True}
    assert recorder.attribution.calls == [("t1", (10, 5), (11, 6), "make")]
    for bad in ({"client": [10]}, {"hook": ["11", 6]}, {"toolUseId": 3}, {"client": None}):
        reply = ask({**good, **bad})
        assert reply["ok"] is False and reply["code"] == "invalid"
    assert len(recorder.attribution.calls) == 1
