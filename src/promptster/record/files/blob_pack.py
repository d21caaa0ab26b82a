"""Write many blobs into one pack, so that a big snapshot does not create a file per object.

`git update-index --add` writes every new blob as a loose object: one zlib stream, one new
file and often one new folder per file. For the first snapshot of a 20,000-file workspace
that is most of `promptster start` (2–10 s of file creation). When the blobs are already in
a pack, update-index finds them there and writes nothing, so a large batch first streams the
contents it has read anyway (for the secret screening) into one `git fast-import` run, which
writes them as a single pack.

Packing is only an optimisation: if fast-import fails or a file changes between the two
reads, update-index writes the missing objects itself as before.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import IO

from promptster.gitutil import SAFE_CONFIG, git_env, git_executable

# Below this many new files the loose objects cost less than starting fast-import.
PACK_AT_LEAST = 256


class BlobPacker:
    """One `git fast-import` process fed blobs; `close()` waits until the pack is written."""

    def __init__(self, git_dir: Path) -> None:
        self.count = 0
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [git_executable(), *SAFE_CONFIG, f"--git-dir={git_dir}", "fast-import", "--quiet"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # a failure only means update-index writes loose objects
            env=git_env(),
        )

    def add(self, data: bytes) -> None:
        if self._proc is None:
            return
        stdin: IO[bytes] | None = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(b"blob\ndata %d\n" % len(data))
            stdin.write(data)
            stdin.write(b"\n")
            self.count += 1
        except OSError:  # fast-import died: nothing is lost, the objects are written loose
            self._stop()

    def close(self) -> bool:
        """Finish the pack; True when fast-import wrote it."""
        if self._proc is None:
            return False
        proc, self._proc = self._proc, None
        try:
            assert proc.stdin is not None
            proc.stdin.close()
        except OSError:
            pass
        return proc.wait() == 0

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def __enter__(self) -> BlobPacker:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self._stop()
        else:
            self.close()
