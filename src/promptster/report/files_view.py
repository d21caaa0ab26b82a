"""The Files view and the diffs: per file its changes' totals, final text and authors; per
file change its diff, within the report's diff budget.

A million-event session has 150,000 file changes: they are read as they go by (totals per
path, the diffs block streamed), never gathered per path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from promptster.report.digest_model import Digest, FileEvent
from promptster.report.events_block import make_block, stream_object_block
from promptster.report.model import DataBlock, FileRow
from promptster.report.snapshots import SnapshotData
from promptster.report.text import visible

DIFF_BUDGET = 16 * 1024 * 1024
FILES_SHOWN = 3000


class _Changes:
    """One path's file changes: their seqs and totals, and the last one's attribution."""

    __slots__ = ("added", "ai_lines", "attribution", "human_lines", "removed", "seqs")

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.added = self.removed = self.ai_lines = self.human_lines = 0
        self.attribution = ""

    def add(self, change: FileEvent) -> None:
        self.seqs.append(change.seq)
        self.added += change.added
        self.removed += change.removed
        self.ai_lines += change.ai_lines
        self.human_lines += change.human_lines
        self.attribution = change.attribution


def _authors(member: bytes | None) -> dict[str, list[list[Any]]]:
    """path -> [[first line, last line, author, event seq], …] from the verified authorship.json
    (none for a bundle without it): the Files view colours lines and links them to events."""
    if member is None:
        return {}
    from promptster.bundle.authorship import decode
    from promptster.errors import FormatError

    try:
        authorship = decode(member)
    except FormatError:
        return {}
    return {
        visible(item.path): [
            [r.start, r.end, r.origin.author, r.origin.seq, r.origin.tool] for r in item.ranges
        ]
        for item in authorship.files
    }


def files_view(
    digest: Digest, snaps: SnapshotData, limits: list[str], authorship: bytes | None = None
) -> tuple[list[FileRow], Any]:
    """The Files view's rows and its data block (each file's final text, authors and the seqs
    of its changes)."""
    authors = _authors(authorship)
    by_path: dict[str, _Changes] = {}  # totals, not the changes: 150,000 in 1M events
    for change in digest.files:
        found = by_path.get(change.path)
        if found is None:
            found = by_path[change.path] = _Changes()
        found.add(change)
    tree = {visible(f.path): f for f in snaps.tree}
    baseline = {visible(p) for p in snaps.baseline_paths}
    paths = sorted(set(tree) | set(by_path), key=lambda p: (p not in by_path, p))
    rows: list[FileRow] = []
    block: list[dict[str, Any]] = []
    for path in paths[:FILES_SHOWN]:
        changes = by_path.get(path, _Changes())
        final = tree.get(path)
        status: Literal["added", "modified", "deleted", "unchanged"]
        if final is None:
            status = "deleted"
        elif not changes.seqs:
            status = "unchanged"
        else:
            status = "modified" if path in baseline or not snaps.tree else "added"
        index = len(block)
        rows.append(
            FileRow(
                path=path,
                status=status,
                size=final.size if final else None,
                changes=len(changes.seqs),
                added=changes.added,
                removed=changes.removed,
                ai_lines=changes.ai_lines,
                human_lines=changes.human_lines,
                attribution=changes.attribution,
                index=index,
            )
        )
        entry: dict[str, Any] = {
            "path": path,
            "status": status,
            "history": changes.seqs,
        }
        if final is not None:
            entry.update(size=final.size, bin=final.binary, cut=final.cut)
            if final.text is not None:
                entry["text"] = visible(final.text)
                if path in authors:
                    entry["authors"] = authors[path]
        block.append(entry)
    if len(paths) > FILES_SHOWN:
        limits.append(f"the file view lists {FILES_SHOWN:,} of {len(paths):,} files")
    if any(f.cut for f in snaps.tree):
        limits.append("some large files are listed without their content")
    return rows, block


def diffs_block(digest: Digest, snaps: SnapshotData, limits: list[str]) -> DataBlock:
    """The diffs block, streamed (its 16 MB of text is not held twice over as one JSON text)
    when each file change has its own seq, as in every verified timeline."""
    previous = None
    for change in digest.files:
        if previous is not None and change.seq <= previous:  # a dict keeps the last of a seq
            return make_block("ps-diffs", dict(_diff_items(digest, snaps, limits)))
        previous = change.seq
    return stream_object_block("ps-diffs", _diff_items(digest, snaps, limits))


def _diff_items(
    digest: Digest, snaps: SnapshotData, limits: list[str]
) -> Iterator[tuple[str, Any]]:
    """(seq, [diff, lines left out]) of the changes whose diffs fit the budget, in order."""
    used = 0
    dropped = 0
    for change in digest.files:
        found = snaps.diffs.get((change.commit, change.path))
        if found is None and change.diff is not None:
            found = (change.diff, 0)
        if found is None:
            continue
        text, more = found
        if used + len(text) > DIFF_BUDGET:
            dropped += 1
            continue
        used += len(text)
        yield str(change.seq), [visible(text), more]
    if dropped:
        limits.append(
            f"{dropped:,} diffs beyond the {DIFF_BUDGET // 2**20} MB diff budget are left out"
        )
