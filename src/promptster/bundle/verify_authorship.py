"""`verify`'s check of `authorship.json` against the final snapshot (check name `authorship`).

The member must parse (bundle/authorship.py), name the final snapshot, list exactly the files
of that snapshot, and give each the snapshot's line count (0 and `binary` for a binary file).
A bundle without the member (written before it existed, or when it could not be computed) is
valid: the check then says authorship is unavailable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from promptster.bundle.authorship import count_lines, decode_outline, is_binary
from promptster.errors import FormatError
from promptster.gitblobs import BlobReader, tree_files

CHECK = "authorship"
Result = tuple[Literal["ok", "warning", "failed"], str]


def final_counts(git_dir: Path, commit: str) -> dict[str, tuple[int, bool]]:
    """path -> (line count, binary) of every file of `commit`, blobs read one at a time."""
    counts: dict[str, tuple[int, bool]] = {}
    files = list(tree_files(git_dir, commit))
    with BlobReader(git_dir) as blobs:
        for (path, _), found in zip(files, blobs.read_many(o for _, o in files), strict=True):
            content = found or b""
            binary = is_binary(content)
            counts[path] = (0 if binary else count_lines(content), binary)
    return counts


def check_authorship(data: bytes, head: str, counts: dict[str, tuple[int, bool]]) -> Result:
    try:
        authorship = decode_outline(data)
    except FormatError as exc:
        return "failed", exc.message
    if authorship.snapshot != head:
        return "failed", (
            f"authorship.json describes snapshot {authorship.snapshot[:12]}, not the final "
            f"snapshot {head[:12]}"
        )
    listed = {item.path: item for item in authorship.files}
    if len(listed) != len(authorship.files):
        return "failed", "authorship.json lists a file twice"
    missing = sorted(set(counts) - set(listed))
    extra = sorted(set(listed) - set(counts))
    if missing or extra:
        which = f"misses {missing[0]!r}" if missing else f"lists {extra[0]!r}, not in it"
        return "failed", f"authorship.json does not match the final snapshot's files: it {which}"
    for path, (lines, binary) in sorted(counts.items()):
        item = listed[path]
        if item.binary != binary or item.lines != lines:
            return "failed", (
                f"authorship.json gives {path!r} {item.lines} line(s)"
                f"{' (binary)' if item.binary else ''}; the final snapshot has {lines}"
                f"{' (binary)' if binary else ''}"
            )
    total = sum(item.lines for item in authorship.files)
    return "ok", f"{len(counts)} files, {total:,} lines match the final snapshot"
