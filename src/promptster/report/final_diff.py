"""The combined diff of the submitted tree against the starter: one entry per changed file.

`load_snapshots` runs three `git diff` commands between the baseline (the first snapshot, the
starter the candidate was given) and the final snapshot; this module turns their output into
a bounded list for the report. Paths are read in git's quoted form, as in `snapshots`. Bounds:
at most FILES_SHOWN files are listed, each file's patch is cut like every diff in the report
(`bound_patch`), and patches stop once PATCH_BUDGET characters are used; the counts of every
file stay. What was left out is counted so the page can say so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

FILES_SHOWN = 1000
PATCH_BUDGET = 1024 * 1024
_RAW_STATUS = re.compile(r":\d+ \d+ [0-9a-f]+ [0-9a-f]+ ([A-Z])\d*\t(.*)")
_STATUS = {"A": "added", "D": "deleted", "M": "modified", "T": "modified"}


@dataclass(frozen=True)
class FinalFile:
    path: str
    status: str  # added, deleted, modified
    added: int | None  # None for binary files
    removed: int | None
    patch: str | None  # None for binary files and patches beyond the budget
    lines_left_out: int  # patch lines cut from this file


@dataclass
class FinalDiff:
    files: list[FinalFile] = field(default_factory=list)
    total_files: int = 0  # changed files, listed or not
    added: int = 0  # over every text file, listed or not
    removed: int = 0
    patches_left_out: int = 0  # listed files shown without their patch (budget)


def _statuses(raw: str, unquote: Callable[[str], str]) -> dict[str, str]:
    found = {}
    for line in raw.splitlines():
        match = _RAW_STATUS.fullmatch(line)
        if match:
            found[unquote(match.group(2))] = _STATUS.get(match.group(1), "modified")
    return found


def _numstat(text: str, unquote: Callable[[str], str]) -> dict[str, tuple[int | None, int | None]]:
    counts: dict[str, tuple[int | None, int | None]] = {}
    for line in text.splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        added, removed = (int(p) if p.isdigit() else None for p in parts[:2])
        counts[unquote(parts[2])] = (added, removed)
    return counts


def build_final_diff(
    raw: str,
    numstat: str,
    patches: dict[str, tuple[str, int]],
    unquote: Callable[[str], str],
) -> FinalDiff:
    """The bounded combined diff from `git diff --raw`, `--numstat` and the parsed `-p`
    patches (path -> (hunks, lines left out))."""
    statuses = _statuses(raw, unquote)
    counts = _numstat(numstat, unquote)
    paths = sorted(set(statuses) | set(counts))
    diff = FinalDiff(total_files=len(paths))
    used = 0
    for path in paths:
        added, removed = counts.get(path, (None, None))
        diff.added += added or 0
        diff.removed += removed or 0
        if len(diff.files) >= FILES_SHOWN:
            continue
        patch, more = patches.get(path, (None, 0))
        binary = added is None and removed is None
        if binary:
            patch, more = None, 0
        elif patch is not None and used + len(patch) > PATCH_BUDGET:
            patch, more = None, 0
            diff.patches_left_out += 1
        used += len(patch or "")
        diff.files.append(
            FinalFile(path, statuses.get(path, "modified"), added, removed, patch, more)
        )
    return diff
