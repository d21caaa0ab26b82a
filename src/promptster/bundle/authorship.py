"""The `authorship.json` member: who wrote each line of the final snapshot (docs/bundle-format.md).

Written at submit (promptster.record.attribution.authorship computes it), checked by `verify`
against the final snapshot (same files, same line counts), read by `blame`, the report and the
analysis. Agent Trace–style: per file, run-length ranges of lines that share an author, tool
and event, so a 10,000-line file written in one go is one range.

    {"format": "promptster-authorship", "version": 1, "snapshot": "<final commit>",
     "files": [{"path": "src/x.py", "lines": 12, "binary": false,
                "ranges": [{"start": 1, "end": 10, "author": "ai", "tool": "claude",
                            "eventId": "…", "seq": 14}, …]}]}

Lines are split on "\\n" only (a "\\r" before it is part of neither the count nor the author),
and a last line without a newline counts; a file is binary when its first 8,000 bytes hold a
NUL byte (git's rule), and then has no lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from promptster.errors import FormatError, NewerFormatError
from promptster.formats.jsonio import canonical_json, loads_limited

FORMAT = "promptster-authorship"
VERSION = 1
AUTHORS = ("ai", "human", "ai_then_human", "starter", "unknown")
Author = Literal["ai", "human", "ai_then_human", "starter", "unknown"]
MAX_PATH = 4096


@dataclass(frozen=True)
class LineOrigin:
    """Who wrote one line: the author, the AI tool, and the file event that put it there."""

    author: str
    tool: str | None = None
    event_id: str | None = None
    seq: int | None = None


@dataclass(frozen=True)
class Range:
    start: int  # 1-based, inclusive
    end: int
    origin: LineOrigin


@dataclass(frozen=True)
class FileAuthorship:
    path: str
    lines: int
    binary: bool
    ranges: tuple[Range, ...]

    def origins(self) -> Iterator[tuple[int, LineOrigin]]:
        for item in self.ranges:
            for line in range(item.start, item.end + 1):
                yield line, item.origin


@dataclass(frozen=True)
class Authorship:
    snapshot: str
    files: tuple[FileAuthorship, ...]

    def file(self, path: str) -> FileAuthorship | None:
        return next((f for f in self.files if f.path == path), None)


def is_binary(content: bytes) -> bool:
    return b"\0" in content[:8000]


def count_lines(content: bytes) -> int:
    if not content:
        return 0
    return content.count(b"\n") + (0 if content.endswith(b"\n") else 1)


def split_text(content: bytes) -> list[str]:
    """The lines of a text file as text: UTF-8 (undecodable bytes replaced), without the "\\n"
    and a "\\r" before it."""
    text = content.decode("utf-8", "replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" not in text:  # the common case: no line to trim
        return lines
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def run_length(path: str, origins: Sequence[LineOrigin], binary: bool = False) -> FileAuthorship:
    ranges: list[Range] = []
    start = 1
    for index in range(1, len(origins) + 1):
        if index == len(origins) or (
            origins[index] is not origins[start - 1] and origins[index] != origins[start - 1]
        ):
            ranges.append(Range(start, index, origins[start - 1]))
            start = index + 1
    return FileAuthorship(path, len(origins), binary, tuple(ranges))


def encode(authorship: Authorship) -> bytes:
    return encode_parts(authorship.snapshot, [(f.path, file_json(f)) for f in authorship.files])


def file_json(item: FileAuthorship) -> bytes:
    """One file's entry of the member, in canonical form (`encode_parts` joins them)."""
    ranges = []
    for piece in item.ranges:
        entry: dict[str, Any] = {
            "start": piece.start,
            "end": piece.end,
            "author": piece.origin.author,
        }
        if piece.origin.tool is not None:
            entry["tool"] = piece.origin.tool
        if piece.origin.event_id is not None:
            entry["eventId"] = piece.origin.event_id
            entry["seq"] = piece.origin.seq
        ranges.append(entry)
    return canonical_json(
        {"path": item.path, "lines": item.lines, "binary": item.binary, "ranges": ranges}
    )


def encode_parts(snapshot: str, files: Sequence[tuple[str, bytes]]) -> bytes:
    """The member from each file's `file_json` (path, entry): exactly the canonical JSON of
    the whole document (keys sorted, so `files` comes first; files sorted by path), built
    without encoding again the entries a checkpoint kept."""
    entries = b",".join(entry for _, entry in sorted(files, key=lambda item: item[0]))
    rest = canonical_json({"format": FORMAT, "snapshot": snapshot, "version": VERSION})
    return b'{"files":[' + entries + b"]," + rest[1:] + b"\n"


def decode(data: bytes) -> Authorship:
    """Parse and check the member's shape (FormatError says what is wrong)."""
    return _decode(data, keep_ranges=True)


def decode_outline(data: bytes) -> Authorship:
    """`decode`, every check included, keeping only each file's path, line count and binary
    flag (no ranges: what `verify` compares with the snapshot, without building them)."""
    return _decode(data, keep_ranges=False)


def _decode(data: bytes, keep_ranges: bool) -> Authorship:
    body = loads_limited(data, what="authorship.json", shape=_containers)
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise FormatError("authorship.json is not a promptster-authorship document")
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FormatError("authorship.json has no valid version")
    if version > VERSION:
        raise NewerFormatError(
            f"authorship.json is version {version}; this promptster reads up to {VERSION}",
            "upgrade promptster (pip install -U promptster) to read it",
        )
    snapshot, raw_files = body.get("snapshot"), body.get("files")
    if not isinstance(snapshot, str) or not isinstance(raw_files, list):
        raise FormatError("authorship.json needs 'snapshot' (text) and 'files' (a list)")
    return Authorship(snapshot, tuple(_file(raw, keep_ranges) for raw in raw_files))


def _containers(body: Any) -> int:
    """The containers of the member's shape found in `body`, at most 5 levels deep: the
    document, its file list, each file entry, its range list, each range (`loads_limited`
    skips its nesting walk when the text holds no other)."""
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, list):
        return 1 if isinstance(body, dict) else 0
    count = 2
    for item in files:
        if type(item) is dict:
            ranges = item.get("ranges")
            # `count(dict)` over the types: C speed (parsed objects are plain dicts)
            count += (2 + [*map(type, ranges)].count(dict)) if type(ranges) is list else 1
    return count


def _count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FormatError(f"authorship.json: {what} is not a count")
    return value


def _file(raw: Any, keep_ranges: bool) -> FileAuthorship:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        raise FormatError("authorship.json: a file entry has no path")
    path = raw["path"]
    if len(path) > MAX_PATH:
        raise FormatError("authorship.json: a path is too long")
    lines = _count(raw.get("lines"), f"{path!r} lines")
    ranges_raw = raw.get("ranges")
    if not isinstance(ranges_raw, list):
        raise FormatError(f"authorship.json: {path!r} has no ranges")
    ranges: list[Range] = []
    expected = 1
    for entry in ranges_raw:
        if not isinstance(entry, dict):
            raise FormatError(f"authorship.json: {path!r} has a malformed range")
        start, end, author = entry.get("start"), entry.get("end"), entry.get("author")
        # `type(...) is int`: what _count accepts, as JSON gives it (no bool, no subclass);
        # _count builds its message only on the way to raising
        if type(start) is not int or start < 0:
            start = _count(start, f"{path!r} range start")
        if type(end) is not int or end < 0:
            end = _count(end, f"{path!r} range end")
        if start != expected or end < start or author not in AUTHORS:
            raise FormatError(
                f"authorship.json: {path!r} ranges must cover lines 1..{lines} in order, each "
                f"with an author among {', '.join(AUTHORS)}"
            )
        if keep_ranges:
            tool, event_id, seq = entry.get("tool"), entry.get("eventId"), entry.get("seq")
            ranges.append(
                Range(
                    start,
                    end,
                    LineOrigin(
                        str(author),
                        tool if isinstance(tool, str) else None,
                        event_id if isinstance(event_id, str) else None,
                        seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
                    ),
                )
            )
        expected = end + 1
    if expected != lines + 1:
        raise FormatError(f"authorship.json: {path!r} ranges cover {expected - 1} of {lines} lines")
    return FileAuthorship(path, lines, raw.get("binary") is True, tuple(ranges))
