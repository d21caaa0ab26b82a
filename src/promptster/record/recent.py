"""What happened in the last minutes of a session: the activity `explain --last` asks about.

Read from the end of the session's journal (timeline.jsonl), newest first, until an event is
older than the window, so the cost follows the window, not the session's length.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from promptster.formats.events import parse_ts
from promptster.record.session import SessionPaths

FILE_KINDS = ("file_create", "file_diff", "file_delete")
MAX_ITEMS = 20


@dataclass
class RecentActivity:
    minutes: int
    files: list[str] = field(default_factory=list)  # changed files, most recent first
    commands: list[str] = field(default_factory=list)  # commands run, most recent first
    prompts: int = 0  # prompts to an AI tool

    @property
    def empty(self) -> bool:
        return not (self.files or self.commands or self.prompts)


def recent_activity(
    paths: SessionPaths, minutes: int, now: datetime | None = None
) -> RecentActivity:
    cutoff = (now or datetime.now(UTC)) - timedelta(minutes=minutes)
    activity = RecentActivity(minutes)
    try:
        lines = paths.journal.read_bytes().splitlines()
    except OSError:
        return activity
    for line in reversed(lines):
        try:
            event = json.loads(line)
            if parse_ts(str(event["ts"])) < cutoff:
                break
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line, or not an event: skip it
        kind, data = event.get("kind"), event.get("data") or {}
        if kind in FILE_KINDS and isinstance(data.get("path"), str):
            if data["path"] not in activity.files and len(activity.files) < MAX_ITEMS:
                activity.files.append(data["path"])
        elif kind == "command" and isinstance(data.get("command"), str):
            if len(activity.commands) < MAX_ITEMS:
                activity.commands.append(data["command"].splitlines()[0][:120])
        elif kind == "prompt":
            activity.prompts += 1
    return activity


def parse_window(text: str) -> int:
    """`--last` values as the hosted CLI takes them: `20m`, `1h`, `45` (minutes); 1 to 60."""
    value = text.strip().lower()
    scale = 60 if value.endswith("h") else 1
    number = value.rstrip("mh").strip()
    if not number.isdigit():
        raise ValueError(f"{text!r} is not a duration (e.g. 20m, 1h)")
    return min(max(int(number) * scale, 1), 60)
