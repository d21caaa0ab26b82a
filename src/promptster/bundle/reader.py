"""Read a `.pst` bundle without trusting it.

Member names are checked (no absolute paths, no `..`, no links, only the names the format
defines), declared sizes and the total are capped before anything is inflated, and every
member is read through a size-limited stream whose CRC zipfile checks at the end. The zip must
have the writer's layout (`layout_problems`): members back to back from the first byte, the
central directory right after them, then the end record with no comment and nothing after it;
so no HTML or script can ride in front of, between or behind the members (a polyglot).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO

from promptster import heap
from promptster.bundle import format as fmt
from promptster.errors import FormatError, InputError

MAX_STREAM_LINE = 16 * 1024 * 1024  # iter_lines: a longer line is reported, not held


@dataclass(frozen=True)
class MemberProblem:
    name: str
    message: str


def _name_problem(name: str) -> str | None:
    if "\\" in name or "\0" in name:
        return "contains a backslash or NUL byte"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    if any(part in ("..", ".") for part in name.split("/")):
        return "contains '..' or '.' path segments"
    if not fmt.is_allowed_name(name):
        return "is not a member the bundle format defines"
    return None


def _open_regular_file(path: Path) -> BinaryIO:
    """Open `path` for reading only if it is a regular file: a FIFO would block the open and
    a device like /dev/zero would never end. O_NONBLOCK makes the open itself safe."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except PermissionError as exc:
        raise InputError(f"{path}: permission denied") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror}") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputError(f"{path} is {kind}, not a bundle")
    return os.fdopen(fd, "rb")


class BundleReader:
    """An open bundle. Structural problems are collected in `problems`, not raised."""

    def __init__(self, path: Path) -> None:
        heap.bound()  # what a bundle makes this process hold must not fragment its heap
        self.path = Path(path)
        self._file = _open_regular_file(self.path)
        try:
            self._zip = zipfile.ZipFile(self._file)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            self._file.close()
            raise FormatError(
                f"{self.path} is not a readable bundle (not a complete zip file: {exc}); "
                "if it was cut short in a download or an e-mail, ask the sender for it again",
                "a .pst bundle is a zip file; it may be truncated or not a bundle at all",
            ) from exc
        self.problems: list[MemberProblem] = []
        self.infos: dict[str, zipfile.ZipInfo] = {}
        self._check_entries()
        self.layout_problems: list[str] = self._check_layout()

    def _check_entries(self) -> None:
        infos = self._zip.infolist()
        if len(infos) > fmt.MAX_MEMBERS:
            self.problems.append(
                MemberProblem("*", f"has {len(infos):,} members; the limit is {fmt.MAX_MEMBERS:,}")
            )
            return
        total = 0
        for info in infos:
            name = info.filename
            problem = _name_problem(name)
            mode = info.external_attr >> 16
            if problem is None and info.create_system == 3 and stat.S_ISLNK(mode):
                problem = "is a symbolic link"
            if problem is None and info.is_dir():
                problem = "is a directory entry"
            if problem is None and info.flag_bits & 0x1:
                problem = "is encrypted"
            if problem is None and name in self.infos:
                problem = "appears twice in the zip"
            limit = fmt.member_size_limit(name)
            if problem is None and info.file_size > limit:
                problem = f"declares {info.file_size:,} bytes; the limit is {limit:,} (zip bomb?)"
            if (
                problem is None
                and info.compress_size > 0
                and info.file_size / info.compress_size > fmt.MAX_COMPRESSION_RATIO
            ):
                problem = "declares an impossible compression ratio (zip bomb?)"
            if problem is not None:
                self.problems.append(MemberProblem(name, f"member {name!r} {problem}"))
                continue
            total += info.file_size
            self.infos[name] = info
        if total > fmt.MAX_TOTAL_UNCOMPRESSED:
            self.problems.append(
                MemberProblem(
                    "*",
                    f"members total {total:,} bytes uncompressed; the limit is "
                    f"{fmt.MAX_TOTAL_UNCOMPRESSED:,} (zip bomb?)",
                )
            )
            self.infos.clear()  # read nothing: each member is under its cap, but not all of them

    def _check_layout(self) -> list[str]:
        """How the zip departs from the form the writer makes (see the module doc)."""
        problems: list[str] = []
        if self._zip.comment:
            problems.append(
                f"the zip carries a {len(self._zip.comment):,}-byte comment; the writer never "
                "adds one"
            )
        size = os.fstat(self._file.fileno()).st_size
        self._file.seek(max(size - 22, 0))
        end = self._file.read(22)
        if self._zip.comment:
            pass  # said above; the end record is not the last 22 bytes then
        elif len(end) != 22 or end[:4] != b"PK\x05\x06" or end[20:22] != b"\0\0":
            problems.append("the zip has data after its end record (a file appended to it?)")
        else:
            cd_size = struct.unpack("<I", end[12:16])[0]
            zip64 = 56 + 20 if cd_size == 0xFFFFFFFF or end[16:20] == b"\xff" * 4 else 0
            if not zip64 and self._zip.start_dir + cd_size + 22 != size:
                problems.append("the zip has data between its directory and its end record")
        expected = 0
        for info in sorted(self._zip.infolist(), key=lambda i: i.header_offset):
            if info.header_offset != expected:
                where = "in front of the first member" if expected == 0 else "between members"
                problems.append(
                    f"the zip has {abs(info.header_offset - expected):,} bytes of foreign data "
                    f"{where} (a polyglot file?)"
                )
                break
            self._file.seek(info.header_offset)
            local = self._file.read(30)
            if len(local) != 30 or local[:4] != b"PK\x03\x04":
                problems.append(f"member {info.filename!r} has no local header where declared")
                break
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            if info.flag_bits & 0x8:
                problems.append(f"member {info.filename!r} uses a data descriptor")
                break
            expected = info.header_offset + 30 + name_len + extra_len + info.compress_size
        else:
            if expected != self._zip.start_dir:
                problems.append(
                    f"the zip has {abs(self._zip.start_dir - expected):,} bytes of foreign data "
                    "before its directory"
                )
        return problems

    @property
    def names(self) -> list[str]:
        return list(self.infos)

    def order(self) -> list[str]:
        return [info.filename for info in self._zip.infolist()]

    def read(self, name: str) -> bytes:
        """Read one member, bounded by its declared size and its limit; CRC-checked."""
        info = self.infos.get(name)
        if info is None:
            raise FormatError(f"the bundle has no usable member {name!r}")
        limit = min(info.file_size, fmt.member_size_limit(name))
        try:
            with self._zip.open(info) as stream:
                data = stream.read(limit + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise FormatError(f"member {name!r} is corrupt: {exc}") from exc
        if len(data) != info.file_size:
            raise FormatError(f"member {name!r} is not the size its zip entry declares")
        return data

    def open_member(self, name: str) -> BinaryIO:
        """A stream of one member that stops at its declared size (and its limit), so a
        member is never inflated further than the bundle said; corruption and a CRC mismatch
        surface as FormatError while reading."""
        info = self.infos.get(name)
        if info is None:
            raise FormatError(f"the bundle has no usable member {name!r}")
        limit = min(info.file_size, fmt.member_size_limit(name))
        try:
            raw = self._zip.open(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise FormatError(f"member {name!r} is corrupt: {exc}") from exc
        return io.BufferedReader(_BoundedMember(raw, name, limit), buffer_size=1 << 20)

    def iter_lines(self, name: str, *, max_line: int = MAX_STREAM_LINE) -> Iterator[bytes | int]:
        """The member's lines (with their newline), streamed; a line longer than `max_line`
        is skipped without being held, and its length stands in for it."""
        with self.open_member(name) as stream:
            yield from bounded_lines(stream, max_line)

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def __enter__(self) -> BundleReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _BoundedMember(io.RawIOBase):
    """A zip member's inflated bytes, at most `limit` of them, with zipfile's errors turned
    into FormatError (zipfile checks the CRC when the member ends)."""

    def __init__(self, raw: IO[bytes], name: str, limit: int) -> None:
        self._raw, self._name, self._left = raw, name, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        want = min(len(buffer), self._left)
        try:
            data = self._raw.read(want)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise FormatError(f"member {self._name!r} is corrupt: {exc}") from exc
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def bounded_lines(stream: IO[bytes], max_line: int) -> Iterator[bytes | int]:
    """Lines of `stream` (newline kept; the last may lack one). A line longer than `max_line`
    (newline included) is read through in pieces and dropped, so memory stays bounded: its
    length (without the newline) stands in for it."""
    while True:
        line = stream.readline(max_line + 1)
        if not line:
            return
        if len(line) <= max_line:
            yield line
            continue
        length = len(line)
        while not line.endswith(b"\n"):
            line = stream.readline(1 << 20)
            if not line:
                break
            length += len(line)
        yield length - 1 if line.endswith(b"\n") else length
