"""Reading many blobs of a repository through one `git cat-file --batch` process.

The authorship computation at submit reads the file at every snapshot a file event names, and
`verify` counts the lines of every file in the final snapshot: one process for all of them
instead of one per blob.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from promptster.gitutil import SAFE_CONFIG, git_env, git_executable, run_git

CHUNK = 512  # objects per `cat-file --batch` run in read_many


class BlobReader:
    """`read("<commit>:<path>")` or `read(<oid>)`: the object's bytes, or None if missing."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        # started by the first `read` (`read_many` runs its own): a process spawn saved for
        # the callers that only read in batches
        self._proc: subprocess.Popen[bytes] | None = None

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(
                [
                    git_executable(),
                    *SAFE_CONFIG,
                    f"--git-dir={self.git_dir}",
                    "cat-file",
                    "--batch",
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=git_env(),
            )
        return self._proc

    def read(self, name: str) -> bytes | None:
        if "\n" in name:
            return None
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) != 3 or not header[2].isdigit():
            return None  # "<name> missing" or "ambiguous"
        size = int(header[2])
        data = proc.stdout.read(size)
        proc.stdout.read(1)  # the newline after the object
        return data if header[1] == b"blob" else None

    def read_many(self, names: Iterable[str]) -> Iterator[bytes | None]:
        """The objects in order, read by one `cat-file --batch` run per `CHUNK` names (the
        requests written and the answers read at once, not one round trip per object: a
        round trip costs a scheduler wake-up each). Memory is bounded by a chunk's objects."""
        chunk: list[str] = []
        for name in names:
            chunk.append(name if "\n" not in name else "\0invalid")
            if len(chunk) == CHUNK:
                yield from self._batch(chunk)
                chunk = []
        if chunk:
            yield from self._batch(chunk)

    def _batch(self, names: list[str]) -> list[bytes | None]:
        request = "".join(name + "\n" for name in names).encode("utf-8", "surrogateescape")
        out = run_git(
            ["cat-file", "--batch"], git_dir=self.git_dir, stdin=request, spool=True
        ).stdout
        found: list[bytes | None] = []
        position = 0
        for _ in names:
            end = out.find(b"\n", position)
            header = out[position:end].split() if end >= 0 else []
            if len(header) != 3 or not header[2].isdigit():
                found.append(None)
                position = end + 1 if end >= 0 else len(out)
                continue
            size = int(header[2])
            data = out[end + 1 : end + 1 + size]
            found.append(data if header[1] == b"blob" else None)
            position = end + 1 + size + 1
        return found

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def tree_files(git_dir: Path, commit: str) -> Iterator[tuple[str, str]]:
    """(path, blob id) of every regular file and link in the commit's tree."""
    out = run_git(["ls-tree", "-r", "-z", "--full-tree", commit], git_dir=git_dir).stdout
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            yield path.decode("utf-8", "surrogateescape"), parts[2].decode("ascii")


def changed_blobs(git_dir: Path, head: str, since: str | None = None) -> dict[tuple[str, str], str]:
    """(commit, path) -> the blob id the commit gives the path, for every path each commit of
    `head`'s history (after `since`, when given) changes: one `git log --raw` instead of a
    tree walk per lookup."""
    span = [head, f"^{since}"] if since else [head]
    return _raw_log(run_git([*RAW_LOG, *span], git_dir=git_dir).stdout)[1]


def changes_since(
    git_dir: Path, head: str, since: str
) -> tuple[set[str], dict[tuple[str, str], str]] | None:
    """The commits after `since` and `changed_blobs(git_dir, head, since)`, when those commits
    are one line from `head` down to a child of `since` (each with one parent): then `since`
    is on `head`'s first-parent line. None otherwise, or when git cannot tell."""
    out = run_git([*RAW_LOG, head, f"^{since}"], git_dir=git_dir, check=False)
    if out.returncode != 0:
        return None
    parents, found = _raw_log(out.stdout)
    at, line = head, set()
    while at != since:
        above = parents.get(at)
        if above is None or len(above) != 1 or at in line:
            return None
        line.add(at)
        at = above[0]
    return (line, found) if len(line) == len(parents) else None


# `%P` too: changes_since checks the line of commits (it changes nothing else of the output)
RAW_LOG = ["log", "--format=%x01%H %P", "--raw", "--no-abbrev", "--no-renames", "-z"]


def _raw_log(out: bytes) -> tuple[dict[str, list[str]], dict[tuple[str, str], str]]:
    """commit -> its parents, and (commit, path) -> blob id, from `RAW_LOG`'s output."""
    parents: dict[str, list[str]] = {}
    found: dict[tuple[str, str], str] = {}
    commit = ""
    tokens = out.split(b"\0")
    index = 0
    while index < len(tokens):
        token = tokens[index].lstrip(b"\n")
        index += 1
        if token.startswith(b"\x01"):
            header, _, rest = token[1:].partition(b"\n")
            commit, *above = header.decode("ascii", "replace").split() or [""]
            parents[commit] = above
            token = rest.lstrip(b"\n")
        if token.startswith(b":") and index < len(tokens):
            parts = token.split()
            path = tokens[index].decode("utf-8", "surrogateescape")
            index += 1
            if len(parts) >= 4:
                found[(commit, path)] = parts[3].decode("ascii")
    return parents, found
