"""A timeline spooled to a temporary file, so that no reader holds a whole timeline in memory.

`verify` writes each line it checked to a `SpooledTimeline` (in the temporary folder of the
run: `TMPDIR`); DuckDB reads that file itself (`read_json`), the report digests it line by
line, and `score` moves it into its batch folder. Whoever receives one closes it (the file is
removed); a spool nobody closed is removed when it is collected, or at exit at the latest.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

CHUNK = 1 << 20


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):  # moved away or removed already
        os.unlink(path)


class SpooledTimeline:
    """Timeline bytes (complete lines) in a temporary file owned by this object."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._finalizer = weakref.finalize(self, _unlink, str(self.path))

    @classmethod
    def create(cls) -> tuple[SpooledTimeline, IO[bytes]]:
        """A new, empty spool and a binary handle to write it with (the caller closes it)."""
        fd, name = tempfile.mkstemp(prefix="promptster-timeline-", suffix=".jsonl")
        return cls(Path(name)), os.fdopen(fd, "wb", buffering=CHUNK)

    @classmethod
    def from_stream(cls, stream: IO[bytes]) -> SpooledTimeline:
        """A spool of everything `stream` yields, copied in pieces (for an unverified timeline:
        the stream bounds its size)."""
        spool, out = cls.create()
        try:
            with out:
                shutil.copyfileobj(stream, out, CHUNK)
        except BaseException:
            spool.close()
            raise
        return spool

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def lines(self) -> Iterator[bytes]:
        """Each complete line without its newline, streamed; a torn last line is left out."""
        with open(self.path, "rb", buffering=CHUNK) as handle:
            for line in handle:
                if line.endswith(b"\n"):
                    yield line[:-1]

    def read_bytes(self) -> bytes:
        """The whole timeline (for small timelines and tests; readers stream `lines()`)."""
        return self.path.read_bytes()

    def move_to(self, target: Path) -> None:
        """Hand the file over to `target` (which then belongs to the caller)."""
        shutil.move(str(self.path), str(target))
        self._finalizer.detach()

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> SpooledTimeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
