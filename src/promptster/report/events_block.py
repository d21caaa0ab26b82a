"""The page's events block, streamed: one row per event, never a list of all of them.

A million-event timeline makes ~100 MB of page rows (JSON), far more as Python lists, so the
digest hands each row to a `RowsFile` (JSON text in a temporary file, written in batches);
`stream_block` then compresses the block around those rows into another temporary file,
which `render.write_report` copies into the page. The bytes are the same as
`data.make_block` gives for the whole value at once: the same JSON, the same gzip stream
(zlib level 6, mtime 0), the same base64, so an ordinary report does not change.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import itertools
import json
import os
import secrets
import tempfile
import weakref
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from promptster.report.model import DataBlock

CHUNK = 1 << 20
ROWS_PER_BATCH = 4096  # rows serialised by one json.dumps (one call per row is ~3x slower)
_ROWS = '"rows":[]'  # where the rows go in the block's JSON (an object key: never in a string)


def make_block(block_id: str, value: Any) -> DataBlock:
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    packed = gzip.compress(raw, compresslevel=6, mtime=0)
    return DataBlock(block_id, base64.b64encode(packed).decode("ascii"), len(raw))


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class TempFile:
    """A temporary file owned by this object: removed by `close()`, when the object is
    collected, or at exit at the latest."""

    def __init__(self, prefix: str) -> None:
        fd, name = tempfile.mkstemp(prefix=prefix)
        os.close(fd)
        self.path = Path(name)
        self._finalizer = weakref.finalize(self, _unlink, name)

    def chunks(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            while piece := handle.read(CHUNK):
                yield piece

    def close(self) -> None:
        self._finalizer()


class RowsFile(TempFile):
    """Page rows as JSON text, comma-separated without the enclosing brackets."""

    def __init__(self) -> None:
        super().__init__("promptster-rows-")
        self._out = open(self.path, "wb", buffering=CHUNK)  # noqa: SIM115 (closed by finish)
        self._batch: list[list[Any]] = []
        self.count = 0
        self.size = 0

    def append(self, row: list[Any]) -> None:
        self._batch.append(row)
        if len(self._batch) >= ROWS_PER_BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        text = json.dumps(self._batch, ensure_ascii=False, separators=(",", ":"))[1:-1]
        data = ("," + text if self.count else text).encode("utf-8")
        self._out.write(data)
        self.size += len(data)
        self.count += len(self._batch)
        self._batch.clear()

    def finish(self) -> None:
        """Write what is pending and close the file for writing (then read `chunks()`)."""
        self._flush()
        self._out.close()

    def close(self) -> None:
        self._out.close()
        super().close()


class BlockFile(TempFile):
    """A data block's payload (base64 text) in a temporary file; the page is written around
    it (render.write_report), where `marker` stands for it in the rendered template."""

    def __init__(self) -> None:
        super().__init__("promptster-block-")
        self.marker = f"\x00ps-block-{secrets.token_hex(16)}\x00"  # never in a rendered page


def stream_block(block_id: str, head: dict[str, Any], rows: RowsFile) -> DataBlock:
    """The block of `head` with its empty "rows" list holding the rows of `rows`, compressed
    into a `BlockFile` as it is read."""
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    before, found, after = text.partition(_ROWS)
    if not found:
        raise ValueError(f"the head of {block_id} has no empty rows list")
    rows.finish()
    pieces = itertools.chain(
        [(before + '"rows":[').encode("utf-8")], rows.chunks(), [("]" + after).encode("utf-8")]
    )
    return _compressed(block_id, pieces)


def stream_object_block(block_id: str, items: Iterable[tuple[str, Any]]) -> DataBlock:
    """The block of the JSON object of `items` (distinct keys, in order), made as they come:
    the same bytes as `data.make_block` of the dict, without the dict or its whole text."""

    def pieces() -> Iterator[bytes]:
        batch: list[str] = []
        size = 0
        for count, (key, value) in enumerate(items):
            text = json.dumps({key: value}, ensure_ascii=False, separators=(",", ":"))[1:-1]
            batch.append("," + text if count else text)
            size += len(text)
            if size >= CHUNK:
                yield "".join(batch).encode("utf-8")
                batch, size = [], 0
        yield "".join(batch).encode("utf-8")

    return _compressed(block_id, itertools.chain([b"{"], pieces(), [b"}"]))


def _compressed(block_id: str, pieces: Iterable[bytes]) -> DataBlock:
    """`pieces` of JSON, compressed as `data.make_block` compresses, into a `BlockFile`."""
    block = BlockFile()
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # as gzip.compress(level 6, mtime 0)
    raw = 0
    pending = b""  # compressed bytes not yet encoded: base64 takes 3 at a time
    try:
        with open(block.path, "wb") as out:
            for piece in pieces:
                raw += len(piece)
                pending += compressor.compress(piece)
                cut = len(pending) - len(pending) % 3
                out.write(base64.b64encode(pending[:cut]))
                pending = pending[cut:]
            out.write(base64.b64encode(pending + compressor.flush()))
    except BaseException:
        block.close()
        raise
    return DataBlock(block_id, "", raw, block)
