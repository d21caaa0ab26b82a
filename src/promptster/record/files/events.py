"""Turn a snapshot into `file_create / file_diff / file_delete` events (docs/event-kinds.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from promptster.formats.events import Event, Kind, format_ts, make_event
from promptster.record.files.changes import FileChange
from promptster.record.files.snapshots import Snapshot
from promptster.record.pipeline import warning

if TYPE_CHECKING:
    from promptster.formats.payloads import FileChangeData

KIND_BY_STATUS = {"A": Kind.FILE_CREATE, "D": Kind.FILE_DELETE}


def change_data(change: FileChange, commit: str) -> FileChangeData:
    data: FileChangeData = {
        "path": change.path,
        "commit": commit,
        "linesAdded": change.added,
        "linesRemoved": change.removed,
    }
    if change.diff is not None:
        data["diff"] = change.diff
        if change.diff_truncated:
            data["diffTruncated"] = True
    if change.binary:
        data["binary"] = True
    if change.size is not None:
        data["sizeBytes"] = change.size
    if change.sha256 is not None:
        data["sha256"] = change.sha256
    if change.renamed_from is not None:
        data["renamedFrom"] = change.renamed_from
    return data


def snapshot_events(
    snapshot: Snapshot, trigger: str, lines: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
) -> list[Event]:
    """Warnings for skipped files and nested repositories first, then one event per path.

    `lines` receives, per file event id, the full added and removed lines (for attribution).
    """
    events: list[Event] = []
    for skipped in snapshot.skipped:
        if skipped.reason == "secret":
            events.append(
                warning(
                    "redaction",
                    f"{skipped.path} looks like a secrets file; it is not captured",
                    path=skipped.path,
                    count=1,
                    kinds={"secret_file": 1},
                )
            )
        elif skipped.reason == "unreadable":
            events.append(
                warning(
                    "file_unreadable",
                    f"{skipped.path} cannot be read (permissions?); it is not captured",
                    path=skipped.path,
                )
            )
        else:
            events.append(
                warning(
                    "file_too_large",
                    f"{skipped.path} ({skipped.size:,} bytes) is over the size cap; "
                    "it is not captured",
                    path=skipped.path,
                    sizeBytes=skipped.size,
                )
            )
    for path, kinds in snapshot.redacted:
        total = sum(kinds.values()) or 1
        names = ", ".join(sorted(kinds)) or "secret"
        events.append(
            warning(
                "redaction",
                f"Redacted {total} secret(s) ({names}) in {path} before it was snapshotted.",
                path=path,
                count=total,
                kinds=kinds,
            )
        )
    for nested in snapshot.nested_repos:
        events.append(
            warning(
                "nested_repo",
                f"{nested}/ is a separate git repository; its files are not captured "
                "(work in the workspace itself, or remove its .git)",
                path=nested,
            )
        )
    for change in snapshot.changes:
        kind = KIND_BY_STATUS.get(change.status, Kind.FILE_DIFF)
        data = change_data(change, snapshot.commit)
        data["trigger"] = trigger
        event = make_event(
            kind,
            data,
            channel="watcher",
            integration="promptster",
            emitter="promptster-recorder",
            actor="unknown",
            attribution="unknown",
            confidence=0.5,
            observability="high",
        )
        lines[event.id] = (change.added_lines, change.removed_lines)
        events.append(event)
    return events


def is_file_event(event: Event) -> bool:
    return event.kind in (Kind.FILE_CREATE, Kind.FILE_DIFF, Kind.FILE_DELETE)


# Modification times are whole seconds on some file systems.
_MTIME_SLACK = timedelta(seconds=1)


def mark_gap_writes(
    events: list[Event], workspace: Path, down_since: datetime, restarted: datetime
) -> int:
    """Give each file created or changed while the recorder was down its modification time
    (`writtenDuringGapAt`), so the time limit judges it by when it was written; return how many.

    Only times inside the gap count: an mtime set earlier (`touch -d`) or later is ignored, and
    the gap itself is on record (`recorder_restart`, `gapMs`). Deletions keep the restart time.
    """
    marked = 0
    for event in events:
        path = event.data.get("path")
        if event.kind not in (Kind.FILE_CREATE, Kind.FILE_DIFF) or not isinstance(path, str):
            continue
        try:
            mtime = datetime.fromtimestamp((workspace / path).stat().st_mtime, UTC)
        except (OSError, ValueError, OverflowError):
            continue
        if down_since - _MTIME_SLACK <= mtime <= restarted:
            event.data["writtenDuringGapAt"] = format_ts(mtime)
            marked += 1
    return marked
