"""The hash-chained timeline: line hashing, the chain's genesis, and a tolerant line reader.

Rules (docs/bundle-format.md, "timeline.jsonl"): each line is one canonical JSON event followed
by `\\n`. `prev` of line 0 is sha256(session id as UTF-8); `prev` of line n is the sha256 of the
bytes of line n-1 without its newline. The chain head is the sha256 of the last line's bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from promptster.formats.crypto import sha256_digest

MAX_LINE_BYTES = 4 * 1024 * 1024


def genesis_hash(session_id: str) -> str:
    return sha256_digest(session_id.encode("utf-8"))


def line_hash(line: bytes) -> str:
    return "sha256:" + hashlib.sha256(line).hexdigest()


@dataclass(frozen=True)
class SplitTimeline:
    """Complete lines, plus what followed the last newline (a torn tail after a crash)."""

    lines: list[bytes]
    torn_tail: bytes

    @property
    def complete_bytes(self) -> int:
        return sum(len(line) + 1 for line in self.lines)


def split_lines(data: bytes) -> SplitTimeline:
    """Split journal bytes into complete lines; bytes after the last newline are a torn tail."""
    cut = data.rfind(b"\n") + 1
    body, tail = data[:cut], data[cut:]
    lines = body.split(b"\n")
    lines.pop()  # the empty string after the final newline
    return SplitTimeline(lines, tail)


def iter_chain(lines: list[bytes], session_id: str) -> Iterator[tuple[int, bytes, str]]:
    """Yield (index, line, expected prev) for each line."""
    expected = genesis_hash(session_id)
    for index, line in enumerate(lines):
        yield index, line, expected
        expected = line_hash(line)


def chain_head(lines: list[bytes], session_id: str) -> str:
    return line_hash(lines[-1]) if lines else genesis_hash(session_id)
