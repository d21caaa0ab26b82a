"""What one snapshot changed, read from the shadow repository: per path, git's own numstat
(`diff-tree --numstat --no-renames`, exactly what `verify` replays), the new blob's size, a
rename's source (detected separately: it only adds `renamedFrom`) and a bounded unified diff
(one `diff-tree -p` read up to a byte budget per snapshot).

Sizes come from the loose objects' headers (gitobjects.py); `cat-file --batch-check` is asked
only for objects that are packed (a big batch is written as one pack).
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from promptster.gitutil import SAFE_CONFIG, git_env, git_executable, run_git
from promptster.record.files import gitobjects
from promptster.record.files.gitparse import Patch, parse_raw_numstat, split_patch

MAX_DIFF_BYTES_PER_SNAPSHOT = 8 * 1024 * 1024  # read from git at most, per snapshot


@dataclass(frozen=True)
class FileChange:
    """One path changed by a snapshot, with git's own numstat for it."""

    path: str
    status: str  # A (create), M (modify), D (delete), T (type change)
    added: int
    removed: int
    binary: bool
    old_oid: str | None
    new_oid: str | None
    size: int | None = None
    sha256: str | None = None
    diff: str | None = None
    diff_truncated: bool = False
    renamed_from: str | None = None
    added_lines: tuple[str, ...] = ()  # full text, for attribution (not written to the event)
    removed_lines: tuple[str, ...] = ()


def _git(git_dir: Path, args: list[str], *, stdin: bytes | None = None) -> bytes:
    return run_git(args, git_dir=git_dir, stdin=stdin).stdout


def snapshot_changes(git_dir: Path, parent: str, commit: str) -> list[FileChange]:
    """Each path the commit changed against its parent, with git's numstat (what `verify`
    replays), sizes, renames and bounded diffs."""
    raw = _git(
        git_dir, ["diff-tree", "-r", "-z", "--no-renames", "--raw", "--numstat", parent, commit]
    )
    entries = parse_raw_numstat(raw)
    sizes = _sizes(git_dir, [e.new_oid for e in entries if e.new_oid])
    renames: dict[str, str] = {}
    statuses = {e.status for e in entries}
    if "A" in statuses and "D" in statuses:
        renames = _renames(git_dir, parent, commit)
    diffs = _diffs(git_dir, parent, commit, {e.path for e in entries if not e.binary})
    changes = []
    for entry in entries:
        size = sizes.get(entry.new_oid or "")
        digest = _blob_sha256(git_dir, entry.new_oid) if entry.binary and entry.new_oid else None
        patch = diffs.get(entry.path)
        changes.append(
            FileChange(
                path=entry.path,
                status=entry.status,
                added=entry.added,
                removed=entry.removed,
                binary=entry.binary,
                old_oid=entry.old_oid,
                new_oid=entry.new_oid,
                size=size,
                sha256=digest,
                diff=patch.text if patch else None,
                diff_truncated=patch.truncated if patch else False,
                renamed_from=renames.get(entry.path),
                added_lines=patch.added if patch else (),
                removed_lines=patch.removed if patch else (),
            )
        )
    return changes


def _sizes(git_dir: Path, oids: list[str]) -> dict[str, int]:
    """Object sizes: from the loose objects' headers, from git for packed ones."""
    sizes: dict[str, int] = {}
    packed = []
    for oid in oids:
        size = gitobjects.loose_size(git_dir, oid)
        if size is None:
            packed.append(oid)
        else:
            sizes[oid] = size
    if not packed:
        return sizes
    out = _git(
        git_dir,
        ["cat-file", "--batch-check=%(objectname) %(objectsize)"],
        stdin="\n".join(packed).encode() + b"\n",
    )
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def _blob_sha256(git_dir: Path, oid: str) -> str:
    return "sha256:" + hashlib.sha256(_git(git_dir, ["cat-file", "blob", oid])).hexdigest()


def _renames(git_dir: Path, parent: str, commit: str) -> dict[str, str]:
    out = _git(git_dir, ["diff-tree", "-r", "-z", "-M", "--name-status", parent, commit])
    tokens = out.decode("utf-8", "surrogateescape").split("\0")
    renames: dict[str, str] = {}
    index = 0
    while index < len(tokens) and tokens[index]:
        status = tokens[index]
        if status.startswith(("R", "C")):
            renames[tokens[index + 2]] = tokens[index + 1]
            index += 3
        else:
            index += 2
    return renames


def _diffs(git_dir: Path, parent: str, commit: str, wanted: set[str]) -> dict[str, Patch]:
    """Bounded unified diffs per path, read from one `diff-tree -p` with a byte budget."""
    if not wanted:
        return {}
    command = [
        git_executable(), *SAFE_CONFIG, f"--git-dir={git_dir}", "diff-tree", "-r", "-p",
        "--no-renames", "--no-color", "--no-ext-diff", "--no-textconv", parent, commit,
    ]  # fmt: skip
    chunks: list[bytes] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_env()
    ) as proc:
        assert proc.stdout is not None
        total = 0
        while total < MAX_DIFF_BYTES_PER_SNAPSHOT:
            block = proc.stdout.read(65536)
            if not block:
                break
            chunks.append(block)
            total += len(block)
        proc.kill()
    return split_patch(b"".join(chunks), wanted)
