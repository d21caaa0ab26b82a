"""The snapshots' patches, kept in a temporary file rather than in memory.

A million-event session has 100,000 patches (MAX_PATCHES) and ~70 MB of patch text, which as
Python strings took ~110 MB of the reviewer's memory for the whole of `review`, while the page
shows at most its diff budget (16 MB) of them. `DiffStore` is the mapping
(commit, path) -> (patch, lines left out) that the report reads: each key and patch is written
to a temporary file as the log is parsed, and the index is a few compact columns (the key's
64-bit hash, where the record is, how long its key and patch are, the lines left out; ~40
bytes a patch), searched by hash once the parsing is done; the key stored with each record
decides between keys of one hash. Only the patches the page shows are read back.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from promptster.report.events_block import CHUNK, TempFile

Patch = tuple[str, int]  # (patch hunks, lines left out)


def _encoded(key: tuple[str, str]) -> bytes:
    commit, path = key
    return f"{len(commit)}:{commit}{path}".encode("utf-8", "surrogatepass")  # one per key


def _hash(raw: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big", signed=True)


class DiffStore(Mapping[tuple[str, str], Patch]):
    """A write-then-read mapping of patches: `d[key] = patch` while parsing, then lookups (a
    repeated key: the last patch wins, as in a dict). `close()` removes its file (so does
    collection, or exit at the latest)."""

    def __init__(self) -> None:
        self._file = TempFile("promptster-diffs-")
        self._out = open(self._file.path, "wb", buffering=CHUNK)  # noqa: SIM115 (see close)
        self._in: BinaryIO | None = None
        self._size = 0
        self._hashes = array("q")
        self._offsets = array("q")
        self._key_sizes = array("q")
        self._text_sizes = array("q")
        self._more = array("q")
        self._seen: set[int] | None = set()  # hashes while writing, for the count
        self._order: array[int] | None = None  # positions sorted by hash, once finished
        self._sorted = array("q")  # their hashes
        self._count = 0

    def __setitem__(self, key: tuple[str, str], patch: Patch) -> None:
        if self._seen is None:
            raise RuntimeError("a DiffStore is written before it is read")
        text, more = patch
        raw_key, data = _encoded(key), text.encode("utf-8", "surrogatepass")
        hashed = _hash(raw_key)
        self._seen.add(hashed)
        self._hashes.append(hashed)
        self._offsets.append(self._size)
        self._key_sizes.append(len(raw_key))
        self._text_sizes.append(len(data))
        self._more.append(more)
        self._out.write(raw_key)
        self._out.write(data)
        self._size += len(raw_key) + len(data)

    def finish(self) -> None:
        """Writing is done: index the patches by hash (and drop the count's set)."""
        if self._order is not None:
            return
        self._out.close()
        hashes = self._hashes
        self._order = array("q", sorted(range(len(hashes)), key=hashes.__getitem__))
        self._sorted = array("q", (hashes[i] for i in self._order))
        self._count = len(self._seen) if self._seen is not None else 0
        self._seen = None

    def _reading(self) -> tuple[BinaryIO, array[int]]:
        self.finish()
        if self._in is None:
            self._in = open(self._file.path, "rb")  # noqa: SIM115 (closed by close)
        assert self._order is not None
        return self._in, self._order

    def _find(self, key: object) -> int | None:
        """The position of the last patch written for `key`, if any."""
        if not (isinstance(key, tuple) and len(key) == 2):
            return None
        commit, path = key
        if not (isinstance(commit, str) and isinstance(path, str)):
            return None
        handle, order = self._reading()
        raw_key = _encoded((commit, path))
        hashed = _hash(raw_key)
        found = None
        at = bisect_left(self._sorted, hashed)
        while at < len(order) and self._sorted[at] == hashed:
            position = order[at]
            if self._key_sizes[position] == len(raw_key):
                handle.seek(self._offsets[position])
                if handle.read(len(raw_key)) == raw_key:
                    found = position if found is None else max(found, position)
            at += 1
        return found

    def __getitem__(self, key: tuple[str, str]) -> Patch:
        position = self._find(key)
        if position is None:
            raise KeyError(key)
        handle, _ = self._reading()
        handle.seek(self._offsets[position] + self._key_sizes[position])
        data = handle.read(self._text_sizes[position])
        return data.decode("utf-8", "surrogatepass"), self._more[position]

    def __contains__(self, key: object) -> bool:
        return self._find(key) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        handle, _ = self._reading()
        seen: set[tuple[str, str]] = set()
        for position in range(len(self._offsets)):  # in the order written, each key once
            handle.seek(self._offsets[position])
            raw = handle.read(self._key_sizes[position]).decode("utf-8", "surrogatepass")
            size, _, rest = raw.partition(":")
            key = (rest[: int(size)], rest[int(size) :])
            if key not in seen:
                seen.add(key)
                yield key

    def __len__(self) -> int:
        """Distinct keys (while writing: distinct key hashes, the same but for a 64-bit
        collision)."""
        if self._seen is not None:
            return len(self._seen)
        return self._count

    def close(self) -> None:
        self._out.close()
        if self._in is not None:
            self._in.close()
        self._file.close()
