"""The snapshots' patches, kept in a temporary file rather than in memory.

A million-event session has 100,000 patches (MAX_PATCHES) and ~70 MB of patch text, which as
Python strings took ~110 MB of the reviewer's memory for the whole of `review`, while the page
shows at most its diff budget (16 MB) of them. `DiffStore` is the mapping
(commit, path) -> (patch, lines left out) that the report reads, with the text written to a
temporary file as the log is parsed and read back only for the patches the page shows: the
index is a dict of keys (one string each) to a position in three compact columns (offset,
size, lines left out).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from promptster.report.events_block import CHUNK, TempFile

Patch = tuple[str, int]  # (patch hunks, lines left out)


class DiffStore(Mapping[tuple[str, str], Patch]):
    """A write-then-read mapping of patches: `d[key] = patch` while parsing, then lookups.
    `close()` removes its file (so does collection, or exit at the latest)."""

    def __init__(self) -> None:
        self._file = TempFile("promptster-diffs-")
        self._out = open(self._file.path, "wb", buffering=CHUNK)  # noqa: SIM115 (see close)
        self._in: BinaryIO | None = None
        self._size = 0
        self._index: dict[str, int] = {}  # one string a key (see _key), not a tuple of two
        self._offsets = array("q")
        self._lengths = array("q")
        self._more = array("q")

    def __setitem__(self, key: tuple[str, str], patch: Patch) -> None:
        text, more = patch
        data = text.encode("utf-8", "surrogatepass")  # any str round-trips
        self._index[_key(key)] = len(self._offsets)  # repeated: the last patch wins, as a dict
        self._offsets.append(self._size)
        self._lengths.append(len(data))
        self._more.append(more)
        self._out.write(data)
        self._size += len(data)

    def __getitem__(self, key: tuple[str, str]) -> Patch:
        if key not in self:
            raise KeyError(key)
        at = self._index[_key(key)]
        if self._in is None:
            self._out.close()
            self._in = open(self._file.path, "rb")  # noqa: SIM115 (closed by close)
        self._in.seek(self._offsets[at])
        data = self._in.read(self._lengths[at])
        return data.decode("utf-8", "surrogatepass"), self._more[at]

    def __contains__(self, key: object) -> bool:
        if not (isinstance(key, tuple) and len(key) == 2):
            return False
        commit, path = key
        return isinstance(commit, str) and isinstance(path, str) and _key(key) in self._index

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for key in self._index:
            size, _, rest = key.partition(":")
            yield rest[: int(size)], rest[int(size) :]

    def __len__(self) -> int:
        return len(self._index)

    def close(self) -> None:
        self._out.close()
        if self._in is not None:
            self._in.close()
        self._file.close()


def _key(key: tuple[str, str]) -> str:
    """(commit, path) as one string, the commit's length first: no two keys give the same."""
    commit, path = key
    return f"{len(commit)}:{commit}{path}"
