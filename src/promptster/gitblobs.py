"""Reading many blobs of a repository through one `git cat-file --batch` process.

The authorship computation at submit reads the file at every snapshot a file event names, and
`verify` counts the lines of every file in the final snapshot: one process for all of them
instead of one per blob.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from promptster.gitutil import SAFE_CONFIG, git_env, git_executable, run_git


class BlobReader:
    """`read("<commit>:<path>")` or `read(<oid>)`: the object's bytes, or None if missing."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        self._proc = subprocess.Popen(
            [git_executable(), *SAFE_CONFIG, f"--git-dir={git_dir}", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=git_env(),
        )

    def read(self, name: str) -> bytes | None:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        if "\n" in name:
            return None
        self._proc.stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) != 3 or not header[2].isdigit():
            return None  # "<name> missing" or "ambiguous"
        size = int(header[2])
        data = self._proc.stdout.read(size)
        self._proc.stdout.read(1)  # the newline after the object
        return data if header[1] == b"blob" else None

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

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
