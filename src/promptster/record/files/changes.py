"""What one snapshot changed, read from the shadow repository: per path, git's own numstat
(`diff-tree --numstat --no-renames`, exactly what `verify` replays) and a bounded unified diff
(the first 8 MiB of `diff-tree -p`), both from one `diff-tree`; the new blob's size and a
rename's source (detected separately: it only adds `renamedFrom`).

Sizes come from the loose objects' headers (gitobjects.py); `cat-file --batch-check` is asked
only for objects that are packed (a big batch is written as one pack).
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from promptster.errors import EnvironmentProblem
from promptster.gitutil import SAFE_CONFIG, git_env, git_executable, run_git
from promptster.record.files import gitobjects
from promptster.record.files.gitparse import parse_raw_numstat, split_patch

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
    records, patch_text = numstat_and_patch(git_dir, parent, commit)
    entries = parse_raw_numstat(records)
    sizes = _sizes(git_dir, [e.new_oid for e in entries if e.new_oid])
    renames: dict[str, str] = {}
    statuses = {e.status for e in entries}
    if "A" in statuses and "D" in statuses:
        renames = _renames(git_dir, parent, commit)
    wanted = {e.path for e in entries if not e.binary}
    diffs = split_patch(patch_text, wanted) if wanted else {}
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


def numstat_and_patch(git_dir: Path, parent: str, commit: str) -> tuple[bytes, bytes]:
    """What `diff-tree -r -z --no-renames --raw --numstat` prints, and the first
    MAX_DIFF_BYTES_PER_SNAPSHOT bytes of what `diff-tree -r -p --no-renames` prints, from one
    `diff-tree` asked for both (it prints the records, a NUL, then the patch: -z changes
    only the records)."""
    command = [
        git_executable(), *SAFE_CONFIG, f"--git-dir={git_dir}", "diff-tree", "-r", "-z",
        "--no-renames", "--raw", "--numstat", "-p", "--no-color", "--no-ext-diff",
        "--no-textconv", parent, commit,
    ]  # fmt: skip
    data = bytearray()
    records = _Records()
    end: int | None = None
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=git_env()) as proc,
    ):
        assert proc.stdout is not None
        finished = False
        while end is None or len(data) - end - 1 < MAX_DIFF_BYTES_PER_SNAPSHOT:
            block = proc.stdout.read(65536)
            if not block:
                finished = True
                break
            data += block
            if end is None:
                end = records.scan(data)
        if finished:
            end = records.scan(data, done=True)
            if proc.wait() != 0:
                errors.seek(0)
                message = errors.read().decode("utf-8", "replace").strip()
                raise EnvironmentProblem(f"git diff-tree failed: {message or proc.returncode}")
        else:
            proc.kill()  # the rest of the patch is over the budget
    assert end is not None
    patch = bytes(data[end + 1 : end + 1 + MAX_DIFF_BYTES_PER_SNAPSHOT])
    return bytes(data[:end]), patch


class _Records:
    """Finds where the raw and numstat records end in the output read so far: first raw
    records (`:meta` NUL path NUL, renames off), then one numstat record (NUL-ended) each."""

    def __init__(self) -> None:
        self.pos = 0
        self.raws = 0
        self.stats = 0

    def scan(self, data: bytearray, *, done: bool = False) -> int | None:
        """The offset just after the last record, or None: not read yet."""
        while True:
            if self.stats == 0 and self.pos < len(data) and data[self.pos] == ord(":"):
                meta_end = data.find(b"\0", self.pos)
                path_end = data.find(b"\0", meta_end + 1) if meta_end >= 0 else -1
                if path_end < 0:
                    return len(data) if done else None
                self.pos, self.raws = path_end + 1, self.raws + 1
            elif self.pos >= len(data) and not done:
                return None  # another raw record may follow
            elif self.stats < self.raws:
                stat_end = data.find(b"\0", self.pos)
                if stat_end < 0:
                    return len(data) if done else None
                self.pos, self.stats = stat_end + 1, self.stats + 1
            else:
                return self.pos
