"""The `commandWrites` evidence of a snapshot's file events (procio.py measures the bytes).

For each file created or changed while AI shell commands were being measured, the event gets
`data.commandWrites`: `bytesNeeded`, the fewest bytes a writer must have written to make the
change (procio.bytes_needed, from the snapshot's old and new blobs), and `commands`, what each
measured command's process tree had written since it began (`written` and, where the file
system counts it, `dirtied`: procio.py), sampled after the snapshot read the files (so every
byte that made the change was written before the sample); and, when the file was last modified
before the snapshot began, `modifiedAt` (its modification time) and per command
`idleWhenModified`: whether its processes wrote nothing, no byte and no page, from 50 ms before
that moment to 50 ms after (measure.py; absent when the samples do not bracket it).

A change that may have arrived without write(2) gets no evidence: a rename, a hard link or a
clone (the content was already in the workspace, or is in two new files at once), a symbolic
link, a binary file (mmap, clones), a file
whose stored content was redacted (it differs from what was written).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from promptster.formats.events import Event, Kind, format_ts
from promptster.gitblobs import BlobReader, tree_files
from promptster.record.attribution.measure import evidence
from promptster.record.attribution.procio import bytes_needed
from promptster.record.files.gitobjects import read_loose_blob

if TYPE_CHECKING:
    from promptster.record.files.changes import FileChange
    from promptster.record.files.snapshots import Snapshot


Idle = Callable[[str, float], "bool | None"]


def _plain_write(change: FileChange, workspace: Path) -> bool:
    try:
        return not os.path.islink(workspace / change.path)
    except (OSError, ValueError):
        return False


def _modified(path: Path, before: float) -> float | None:
    """The file's modification time, if it is before `before` (the snapshot's start: a file
    modified since may hold other bytes than the snapshot read)."""
    try:
        mtime = os.lstat(path).st_mtime_ns / 1e9
    except (OSError, ValueError):
        return None
    return mtime if mtime < before else None


def _blobs(git_dir: Path, oids: list[str]) -> list[bytes | None]:
    """The blobs' contents: loose ones read here (the snapshot just wrote them), the others
    (packed) through one `git cat-file --batch`."""
    found = [read_loose_blob(git_dir, oid) for oid in oids]
    missing = [oid for oid, data in zip(oids, found, strict=True) if data is None]
    if not missing:
        return found
    with BlobReader(git_dir) as blobs:
        rest = iter(list(blobs.read_many(missing)))
    return [data if data is not None else next(rest) for data in found]


def attach(
    snapshot: Snapshot,
    events: Sequence[Event],
    written: Mapping[str, Mapping[str, int]],
    git_dir: Path,
    workspace: Path,
    idle: Idle | None = None,
    taken_at: float | None = None,
) -> int:
    """Add `commandWrites` to the snapshot's file events; return how many got it. `idle(tool_use_id,
    time)` says whether a command's processes wrote nothing around a moment (measure.py);
    `taken_at`: when the snapshot began reading the files (wall-clock seconds)."""
    by_path = {
        str(e.data.get("path")): e for e in events if e.kind in (Kind.FILE_CREATE, Kind.FILE_DIFF)
    }
    redacted = {path for path, _ in snapshot.redacted}
    left = {c.old_oid for c in snapshot.changes if c.old_oid}  # moved within this snapshot
    wanted = [
        c
        for c in snapshot.changes
        if c.new_oid
        and c.path in by_path
        and not c.binary
        and c.renamed_from is None
        and c.path not in redacted
        and c.new_oid not in left
        and _plain_write(c, workspace)
    ]
    fresh = [c.new_oid for c in wanted]
    wanted = [c for c in wanted if fresh.count(c.new_oid) == 1]  # one may be a copy of another
    if wanted and snapshot.parent:
        present = {oid for _, oid in tree_files(git_dir, snapshot.parent)}
        wanted = [c for c in wanted if c.new_oid not in present]  # copied or linked
    if not wanted:
        return 0
    names = [name for c in wanted for name in (c.old_oid or "", c.new_oid or "")]
    found = iter(_blobs(git_dir, [name for name in names if name]))
    attached = 0
    for change in wanted:
        old = next(found) if change.old_oid else b""
        new = next(found)
        if old is None or new is None:
            continue
        needed = bytes_needed(old, new)
        if not needed:
            continue
        proof = evidence(needed, written)
        when = _modified(workspace / change.path, taken_at) if taken_at is not None else None
        if when is not None and idle is not None:
            proof["modifiedAt"] = format_ts(datetime.fromtimestamp(when, UTC))
            commands = proof["commands"]
            assert isinstance(commands, dict)
            for key, counts in commands.items():
                quiet = idle(key, when)
                if quiet is not None:
                    counts["idleWhenModified"] = quiet
        by_path[change.path].data["commandWrites"] = proof
        attached += 1
    return attached
