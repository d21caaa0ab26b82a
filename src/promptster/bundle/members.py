"""Streaming a bundle's members for `verify`: hashing, the timeline's lines, the git bundle.

Nothing here holds a member whole: hashes are computed over a stream, the timeline is checked
line by line (its lines are written to a spool file only for a caller that loads it, and the
spool is dropped as soon as a line fails), and snapshots.bundle goes to a file in pieces. Sizes are
compared with the signed manifest before a member is inflated, and inflation stops at that
size (BundleReader.open_member).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from promptster.bundle import format as fmt
from promptster.bundle.reader import BundleReader

CHUNK = 1 << 20
MAX_GIT_BUNDLE_HEADER = 64 * 1024  # the writer's header is two short lines
_OBJECT_ID = re.compile(r"[0-9a-f]{40}")


def size_problem(reader: BundleReader, name: str, entry: fmt.MemberEntry) -> str | None:
    """Why `name` must not be inflated: its zip entry declares more bytes than the signed
    manifest (checked before a single byte is inflated). A smaller declaration is read (that
    is bounded already) and fails on its hash or CRC."""
    info = reader.infos[name]
    if info.file_size > entry.size:
        return (
            f"member {name!r} was changed after signing: its zip entry declares "
            f"{info.file_size:,} bytes, the signed manifest {entry.size:,} (not inflated)"
        )
    return None


def stream_sha256(reader: BundleReader, name: str) -> tuple[str, int]:
    """`sha256:<hex>` and length of the member, read in chunks (FormatError if corrupt)."""
    digest, size = hashlib.sha256(), 0
    with reader.open_member(name) as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return "sha256:" + digest.hexdigest(), size


def timeline_lines(
    reader: BundleReader, max_line: int, kept: IO[bytes] | None
) -> Iterator[bytes | str]:
    """The timeline's lines without their newline, streamed; a str says what is wrong with the
    line at that position (too long: not read further; or the last one unterminated) and ends
    the lines. With `kept` (a spool file), each good line (newline included) is written to it."""
    with reader.open_member(fmt.TIMELINE) as stream:
        seq = 0
        while raw := stream.readline(max_line + 1):
            if len(raw) > max_line and not (len(raw) == max_line + 1 and raw.endswith(b"\n")):
                yield f"line {seq} is more than {max_line:,} bytes long; the limit is {max_line:,}"
                return
            if not raw.endswith(b"\n"):
                yield "timeline.jsonl ends with a partial line (no newline)"
                return
            if kept is not None:
                kept.write(raw)
            yield raw[:-1]
            seq += 1


def split_git_bundle(bundle_file: Path, pack_file: Path) -> tuple[str | None, str | None]:
    """Check the git bundle's header is the writer's form and copy its pack to `pack_file`.

    Returns (the snapshot branch's commit, None) or (None, what is wrong). The writer makes a
    v2 bundle (v3 with only ``@object-format=sha1``) with no prerequisites and exactly one ref,
    `fmt.SNAPSHOT_REF`: any other ref name is refused.
    """
    with open(bundle_file, "rb") as stream:
        header = stream.readline(64)
        if header not in (b"# v2 git bundle\n", b"# v3 git bundle\n"):
            return None, "snapshots.bundle is not a git bundle (v2 or v3 header)"
        tips: list[str] = []
        foreign: list[str] = []
        used = len(header)
        while True:
            line = stream.readline(MAX_GIT_BUNDLE_HEADER)
            used += len(line)
            if not line.endswith(b"\n") or used > MAX_GIT_BUNDLE_HEADER:
                return None, "snapshots.bundle's header is too long or cut short"
            if line == b"\n":
                break
            text = line[:-1].decode("utf-8", "replace")
            if text == "@object-format=sha1" and header.startswith(b"# v3"):
                continue
            object_id, _, ref = text.partition(" ")
            if ref == fmt.SNAPSHOT_REF and _OBJECT_ID.fullmatch(object_id):
                tips.append(object_id)
            else:
                foreign.append(text[:80].encode("unicode_escape").decode("ascii"))
        if not tips:
            carries = f" (it carries {foreign[0]!r})" if foreign else ""
            return None, f"snapshots.bundle has no {fmt.SNAPSHOT_REF} branch{carries}"
        if foreign or len(tips) > 1:
            shown = foreign[0] if foreign else f"{fmt.SNAPSHOT_REF} twice"
            return None, (
                f"snapshots.bundle carries {shown!r}; the writer makes exactly one ref, "
                f"{fmt.SNAPSHOT_REF}"
            )
        pack_file.parent.mkdir(parents=True, exist_ok=True)
        with open(pack_file, "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK)
    return tips[0], None


def copy_member(reader: BundleReader, name: str, dest: Path) -> None:
    """Write the member to `dest` in chunks (FormatError if corrupt)."""
    with reader.open_member(name) as stream, open(dest, "wb") as out:
        shutil.copyfileobj(stream, out, CHUNK)
