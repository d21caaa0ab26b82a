"""What was asked and what was delivered: the brief and the starter from the assessment pack,
and the combined diff of the submitted tree against the starter, for the report's
"Asked and delivered" section.

The pack's fields are the candidate-visible brief as the reviewer wrote it; like every string
from a bundle they are made visible (no control or bidi characters) and bounded here, and the
template escapes them. The repository URL is shown as text, never as a link.
"""

from __future__ import annotations

from typing import Any

from promptster.report import final_diff
from promptster.report.model import Delivered, DeliveredFile, DiffLine
from promptster.report.snapshots import SnapshotData
from promptster.report.text import one_line, visible

BRIEF_CHARS = 64 * 1024


def _lines(patch: str) -> list[DiffLine]:
    out = []
    for line in patch.split("\n"):
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "ctx")
        out.append(DiffLine(kind, visible(line)))
    return out


def _file_note(status: str, binary: bool, patch: str | None, left_out: int) -> str:
    if binary:
        return "binary file: no line diff"
    if patch is None:
        return "diff left out: the section's size budget is used up"
    if not patch:
        return "no line changes (mode or empty file)" if status != "deleted" else ""
    if left_out:
        return f"{left_out:,} more lines not shown"
    return ""


def delivered(
    pack: dict[str, Any], snaps: SnapshotData, starter_commit: object = None
) -> Delivered:
    """The section's data from the pack's fields (may be empty), the snapshots, and the
    commit the starter repository was cloned at (`session_start.starterCommit`), if any."""
    brief_value, repo_value = pack.get("brief"), pack.get("repo")
    brief_raw = brief_value if isinstance(brief_value, str) else ""
    repo: dict[str, Any] = repo_value if isinstance(repo_value, dict) else {}
    final = snaps.final_diff
    files, notes = [], []
    for item in final.files if final else []:
        binary = item.added is None and item.removed is None
        files.append(
            DeliveredFile(
                path=visible(item.path),
                status=item.status,
                added=item.added,
                removed=item.removed,
                lines=_lines(item.patch) if item.patch else [],
                note=_file_note(item.status, binary, item.patch, item.lines_left_out),
            )
        )
    if final and final.total_files > len(final.files):
        notes.append(
            f"{final.total_files:,} files differ; the first {final_diff.FILES_SHOWN:,} are listed"
        )
    if final and final.patches_left_out:
        notes.append(
            f"{final.patches_left_out:,} files are listed without their diff: the section shows "
            f"at most {final_diff.PATCH_BUDGET // 1024:,} KiB of diff"
        )
    return Delivered(
        brief=visible(brief_raw[:BRIEF_CHARS]),
        brief_cut=len(brief_raw) > BRIEF_CHARS,
        repo_url=one_line(repo.get("url"), 300),
        repo_rev=one_line(repo.get("rev"), 120),
        starter_commit=one_line(starter_commit, 64),
        baseline_commit=one_line(snaps.baseline_commit, 64),
        final_commit=one_line(snaps.final_commit, 64),
        files=files,
        total_files=final.total_files if final else 0,
        added=final.added if final else 0,
        removed=final.removed if final else 0,
        notes=notes,
        available=final is not None,
    )
