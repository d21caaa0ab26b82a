"""How many bytes an AI client's commands have written, from Linux I/O accounting: the
evidence that separates a hand save from an AI shell command's writes (docs/attribution.md,
"Hand saves during an AI command").

When an AI shell command starts, its PreToolUse hook (a child of the AI client, still waiting
for the recorder's answer, so the command has not started) asks the recorder to take a
baseline of the client's process tree. At each snapshot while the command runs or settles, the
recorder measures again: the difference is every byte the command's processes (and anything
else the client started) have written since. A file change that needs more bytes than that
cannot be the command's doing.

Two counters of every descendant of the client, living or reaped (the kernel adds a reaped
child's counters to its parent's `/proc/<pid>/io`; the client's own share is its total minus its
live threads' own counters, so the client's own writes — its transcript, its event loop — are
left out, and a command that has ended still counts through it):

- `written` (`wchar`): bytes passed to write(2) and friends, to files, pipes, sockets and
  /dev/null alike (a shell's start-up alone writes several hundred bytes);
- `dirtied` (`write_bytes`): a page (4 KiB) each time a clean page of a file is first made
  dirty, by write(2) or through mmap; pipes and /dev/null do not count. Only file systems that
  write back through the page cache count it (ext4, xfs, btrfs…; not tmpfs): elsewhere it is
  left out. A page already dirty (written in the last half minute or so and not yet flushed)
  is not counted again: the engine trusts `dirtied` only for a file nothing changed shortly
  before the command began.

Everything errs towards more bytes: the evidence can only say "too few bytes for this file",
never "the AI wrote it".

Without /proc (macOS) nothing is measured and attribution is as before.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from promptster.integrations.proctree import ProcId, alive, stat

# Counters kept this long after the command's result arrived (its writes may show up in the
# next snapshot; the engine's settle window is shorter).
KEEP_AFTER_END_S = 10.0
# A command whose result never arrives (the client was killed) stops being measured after this.
MAX_OPEN_S = 3600.0

Written = tuple[int, int]  # (wchar, write_bytes)
# File systems whose page-cache writeback counts `write_bytes` (tmpfs, ramfs, FUSE and network
# file systems may not).
PAGE_COUNTING = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs"})


def _unescape(field: str) -> str:
    return (
        field.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
    )


def counts_dirtied_pages(path: str) -> bool:
    """Whether the file system holding `path` counts dirtied pages (`write_bytes`)."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as file:
            mounts = file.read().splitlines()
        target = os.path.realpath(path)
    except OSError:
        return False
    best, fstype = -1, ""
    for line in mounts:
        fields = line.split(" ")
        if " - " not in line or len(fields) < 5:
            continue
        point = _unescape(fields[4])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > best:
            best, fstype = len(point), line.split(" - ", 1)[1].split(" ")[0]
    return fstype in PAGE_COUNTING


def _io(path: str) -> Written | None:
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except OSError:
        return None
    wchar = write_bytes = None
    for line in raw.splitlines():
        name, _, value = line.partition(b":")
        if name == b"wchar":
            wchar = int(value)
        elif name == b"write_bytes":
            write_bytes = int(value)
    if wchar is None:
        return None
    return wchar, write_bytes or 0


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return children
    for name in names:
        if name.isdigit():
            found = stat(int(name))
            if found is not None:
                children.setdefault(found[0], []).append(int(name))
    return children


def tree_written(client: ProcId) -> Written | None:
    """Bytes written so far by `client`'s descendants, living and reaped (its own live threads
    left out); None without /proc or when the client is gone."""
    if not alive(client):
        return None
    children = _children()
    order: list[int] = []  # deepest first: a child read before the parent that may reap it
    stack = [(client[0], False)]
    while stack:
        pid, expanded = stack.pop()
        if expanded:
            order.append(pid)
            continue
        stack.append((pid, True))
        stack.extend((child, False) for child in children.get(pid, ()))
    wchar = write_bytes = 0
    for pid in order[:-1]:
        got = _io(f"/proc/{pid}/io")
        if got is not None:
            wchar, write_bytes = wchar + got[0], write_bytes + got[1]
    pid = client[0]
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    own_w = own_b = 0
    for tid in tids:  # before the total: a thread writing meanwhile makes the count larger
        got = _io(f"/proc/{pid}/task/{tid}/io")
        if got is not None:
            own_w, own_b = own_w + got[0], own_b + got[1]
    total = _io(f"/proc/{pid}/io")
    if total is None or not alive(client):
        return None
    return wchar + max(total[0] - own_w, 0), write_bytes + max(total[1] - own_b, 0)


def descends(proc: ProcId, ancestor: ProcId) -> bool:
    if not alive(proc):
        return False
    pid = proc[0]
    for _ in range(64):
        found = stat(pid)
        if found is None or found[0] <= 1:
            return False
        pid = found[0]
        if pid == ancestor[0]:
            return alive(ancestor)
    return False


def bytes_needed(old: bytes, new: bytes) -> int | None:
    """The fewest bytes any writer must have written to turn `old` into `new`: the positions
    whose byte changed or is new (a NUL may come from extending the file without writing, so
    none is counted). None for binary content (its writers may map it or clone it)."""
    if b"\0" in new or b"\0" in old:
        return None
    common = min(len(old), len(new))
    if common:
        mask = int.from_bytes(old[:common], "big") ^ int.from_bytes(new[:common], "big")
        differing = common - mask.to_bytes(common, "big").count(0)
    else:
        differing = 0
    return differing + max(len(new) - len(old), 0)


@dataclass
class _Command:
    client: ProcId
    base: Written
    started: float
    ended: float | None = None


Reader = Callable[[ProcId], Written | None]


class CommandWrites:
    """The AI shell commands being measured, by tool_use_id (thread-safe: the socket threads
    start them, the snapshot thread samples them)."""

    def __init__(
        self,
        reader: Reader = tree_written,
        clock: Callable[[], float] = time.monotonic,
        *,
        pages: bool = False,
    ):
        self._reader = reader
        self._pages = pages  # the workspace's file system counts dirtied pages
        self._clock = clock
        self._commands: dict[str, _Command] = {}
        self._lock = threading.Lock()

    def start(self, tool_use_id: str, client: ProcId, hook: ProcId) -> bool:
        """Take the baseline, while the hook (so the command has not started) is alive."""
        if not tool_use_id or not descends(hook, client):
            return False
        base = self._reader(client)
        if base is None or not alive(hook):
            return False
        with self._lock:
            self._commands[tool_use_id] = _Command(client, base, self._clock())
        return True

    def ended(self, tool_use_id: str) -> None:
        with self._lock:
            command = self._commands.get(tool_use_id)
            if command is not None and command.ended is None:
                command.ended = self._clock()

    def sample(self) -> dict[str, dict[str, int]]:
        """What each measured command has written since it began, `{"written": wchar,
        "dirtied": write_bytes}` (no `dirtied` where it is not counted); {}: none measured."""
        now = self._clock()
        with self._lock:
            for key, command in list(self._commands.items()):
                done = command.ended is not None and now - command.ended > KEEP_AFTER_END_S
                if done or now - command.started > MAX_OPEN_S:
                    del self._commands[key]
            commands = dict(self._commands)
        readings: dict[ProcId, Written | None] = {}
        result: dict[str, dict[str, int]] = {}
        for key, command in commands.items():
            if command.client not in readings:
                readings[command.client] = self._reader(command.client)
            now_written = readings[command.client]
            if now_written is None:
                continue  # the client is gone: its reaped children's counts went with it
            counts = {"written": max(now_written[0] - command.base[0], 0)}
            if self._pages:
                counts["dirtied"] = max(now_written[1] - command.base[1], 0)
            result[key] = counts
        return result


def evidence(needed: int, written: Mapping[str, Mapping[str, int]]) -> dict[str, object]:
    """The `commandWrites` object of a file event (docs/event-kinds.md)."""
    return {
        "bytesNeeded": needed,
        "commands": {key: dict(written[key]) for key in sorted(written)},
    }
