"""How many bytes an AI client's commands have written, from Linux I/O accounting: the
evidence that separates a hand save from an AI shell command's writes (docs/attribution.md,
"Hand saves during an AI command").

When an AI shell command starts, its PreToolUse hook (a child of the AI client, still waiting
for the recorder's answer, so the command has not started) asks the recorder to take a
baseline of the client's process tree. At each snapshot while the command runs or settles, the
recorder measures again (measure.py): the difference is every byte the command's processes
(and anything else the client started) have written since. A file change that needs more bytes
than that cannot be the command's doing.

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
from collections.abc import Callable

from promptster.integrations.proctree import ProcId, alive, stat

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


def _scan() -> dict[int, list[int]]:
    """Every process's children, from a scan of /proc (kernels without the children lists)."""
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


def _listed(pid: int) -> list[int]:
    """`pid`'s children from the kernel's own per-thread lists (CONFIG_PROC_CHILDREN)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    kids: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as file:
                kids.extend(int(word) for word in file.read().split())
        except (OSError, ValueError):
            continue
    return kids


# Sampled ten times a second while an AI command runs: read only the subtree from the kernel's
# children lists where it keeps them, rather than scanning every process of the machine.
_KERNEL_LISTS = os.path.exists(f"/proc/self/task/{os.getpid()}/children")


def _children() -> Callable[[int], list[int]]:
    """How to find a process's children, for one sample."""
    if _KERNEL_LISTS:
        return _listed
    scanned = _scan()
    return lambda pid: scanned.get(pid, [])


def _below(root: int, children: Callable[[int], list[int]]) -> Written:
    """The summed counters of `root`'s descendants (not `root`), each with its reaped ones."""
    order: list[int] = []  # deepest first: a child read before the parent that may reap it
    stack = [(root, False)]
    while stack:
        pid, expanded = stack.pop()
        if expanded:
            order.append(pid)
            continue
        stack.append((pid, True))
        stack.extend((child, False) for child in children(pid))
    wchar = write_bytes = 0
    for pid in order[:-1]:
        got = _io(f"/proc/{pid}/io")
        if got is not None:
            wchar, write_bytes = wchar + got[0], write_bytes + got[1]
    return wchar, write_bytes


def subtree_written(proc: ProcId) -> Written | None:
    """What `proc` and its descendants have written since it started (its reaped children
    included); None when it is gone."""
    if not alive(proc):
        return None
    wchar, write_bytes = _below(proc[0], _children())
    own = _io(f"/proc/{proc[0]}/io")
    if own is None or not alive(proc):
        return None
    return wchar + own[0], write_bytes + own[1]


def _plain(text: str) -> str:
    """Text with quotes and backslashes dropped: a command as the shell's command line holds it
    after quoting (`eval '…'`) compares equal."""
    return text.translate({ord("'"): None, ord('"'): None, ord("\\"): None})


def find_command(client: ProcId, since: int, command: str) -> ProcId | None:
    """The child of `client` started at or after `since` (clock ticks) whose command line holds
    `command` (its first line): the shell running an AI tool's command. None if none or many."""
    needle = _plain(command.strip().split("\n", 1)[0])[:120]
    if len(needle) < 4:
        return None
    found: list[ProcId] = []
    for pid in _children()(client[0]):
        started = stat(pid)
        if started is None or started[1] < since:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                line = file.read().decode("utf-8", "replace").replace("\0", " ")
        except OSError:
            continue
        if needle in _plain(line):
            found.append((pid, started[1]))
    return found[0] if len(found) == 1 else None


def tree_written(client: ProcId) -> Written | None:
    """Bytes written so far by `client`'s descendants, living and reaped (its own live threads
    left out); None without /proc or when the client is gone."""
    if not alive(client):
        return None
    wchar, write_bytes = _below(client[0], _children())
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
