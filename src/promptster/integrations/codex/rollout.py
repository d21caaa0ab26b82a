"""Codex rollout files: finding this workspace's, tailing them live, backfilling at the end.

Codex writes every session to `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`
(`~/.codex` by default), append-only, one JSON record per line, the first a `session_meta`
naming the session's `cwd`. A file is this session's when it was written to since the session
started and its `cwd` lies inside the workspace; records older than the session's start (a
resumed conversation) are skipped. Other projects' files are remembered as foreign and never
read again.

Reading is streamed line by line with a bounded line length, so a huge rollout costs no more
memory than its longest record: a line longer than `MAX_LINE` is skipped (counted as
malformed), a last line without its newline is left for the next read (Codex is still writing
it), unknown record types are counted and skipped. `RolloutWatcher.poll` is what the recorder
calls (live); `backfill` re-reads every file from the start at the end of the session.

Standard library only.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from promptster.integrations.claude import events as ce
from promptster.integrations.claude import values as cv
from promptster.integrations.codex.events import INTEGRATION, RolloutParser

MAX_LINE = 16 * 1024 * 1024
BATCH_LINES = 5000  # lines per read in the backfill
RESCAN_S = 1.0  # how often the watcher looks for new rollout files
HOMES_FILE = ("integrations", "codex", "homes.json")  # CODEX_HOMEs the launcher used

Json = dict[str, Any]


def default_home() -> Path:
    configured = os.environ.get("CODEX_HOME", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".codex"


def codex_homes(session_dir: Path) -> list[Path]:
    """$CODEX_HOME (or ~/.codex) plus every home `promptster codex` ran Codex with."""
    homes = [default_home()]
    try:
        noted = json.loads(session_dir.joinpath(*HOMES_FILE).read_bytes())
    except (OSError, ValueError):
        noted = []
    for home in noted if isinstance(noted, list) else []:
        if isinstance(home, str) and Path(home) not in homes:
            homes.append(Path(home))
    return homes


def note_home(session_dir: Path, home: Path) -> None:
    """Remember a CODEX_HOME for the watcher and the backfill (the launcher calls this)."""
    path = session_dir.joinpath(*HOMES_FILE)
    homes = [str(h) for h in codex_homes(session_dir)[1:]]
    if str(home) in homes:
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps([*homes, str(home)]))
    os.replace(tmp, path)


def _day_folders(home: Path, since: datetime | None, now: datetime) -> Iterator[Path]:
    """The `sessions/YYYY/MM/DD` folders a file written since `since` can be in (Codex names
    them by local date: a day of slack on each side covers any time zone)."""
    first = (since or now - timedelta(days=1)) - timedelta(days=1)
    day = first.date()
    while day <= (now + timedelta(days=1)).date():
        yield home / "sessions" / f"{day.year:04d}" / f"{day.month:02d}" / f"{day.day:02d}"
        day += timedelta(days=1)


def rollout_files(homes: list[Path], since: datetime | None) -> list[Path]:
    """Rollout files written to since `since`, oldest name first."""
    cutoff = since.timestamp() - 1 if since is not None else None
    found: list[Path] = []
    now = datetime.now(UTC)
    for home in homes:
        for folder in _day_folders(home, since, now):
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            for name in names:
                if not (name.startswith("rollout-") and name.endswith(".jsonl")):
                    continue
                path = folder / name
                try:
                    fresh = cutoff is None or path.stat().st_mtime >= cutoff
                except OSError:
                    continue
                if fresh and path not in found:
                    found.append(path)
    return found


@dataclass
class RolloutTail:
    """One rollout file read incrementally: an offset, the parser, and what was not used."""

    path: Path
    parser: RolloutParser
    offset: int = 0
    belongs: bool | None = None  # None until its session_meta has been read
    records: int = 0
    malformed: int = 0
    partial_tail: bool = False
    _skipping: bool = False  # inside an over-long line

    def read(self, max_lines: int | None = None) -> list[Json]:
        """Events from the complete lines written since the last read (at most `max_lines` of
        them, so that a caller can stream a huge file in batches). Never raises."""
        if self.belongs is False:
            return []
        events: list[Json] = []
        try:
            if self.path.stat().st_size <= self.offset:
                return []
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                budget = max_lines if max_lines is not None else -1
                while budget != 0:
                    budget -= 1
                    line = handle.readline(MAX_LINE + 1)
                    if not line:
                        break
                    if not line.endswith(b"\n"):
                        if len(line) <= MAX_LINE:
                            self.partial_tail = True  # still being written: wait for it
                            break
                        self.offset += len(line)  # over-long: skip to its end
                        if not self._skipping:
                            self.malformed += 1
                        self._skipping = True
                        continue
                    self.offset += len(line)
                    if self._skipping:
                        self._skipping = False
                        continue
                    self.partial_tail = False
                    found = self._line(line)
                    if found is None:
                        return []  # another project's rollout: never read again
                    events.extend(found)
        except OSError:
            pass
        return events

    def _line(self, line: bytes) -> list[Json] | None:
        self.records += 1
        try:
            record = json.loads(line)
        except ValueError:
            self.malformed += 1
            return []
        if not isinstance(record, dict):
            self.malformed += 1
            return []
        if self.belongs is None:
            self.belongs = self._is_ours(record)
            if not self.belongs:
                return None
        return self.parser.record(record)

    def _is_ours(self, record: Json) -> bool:
        payload = record.get("payload")
        if record.get("type") != "session_meta" or not isinstance(payload, dict):
            return False  # not a rollout this version of Promptster understands
        return cv.relative(payload.get("cwd"), self.parser.workspace) is not None


def session_start(session_dir: Path) -> str | None:
    try:
        state = json.loads((session_dir / "session.json").read_bytes())
    except (OSError, ValueError):
        return None
    started = state.get("startedAt") if isinstance(state, dict) else None
    return started if isinstance(started, str) else None


@dataclass
class RolloutWatcher:
    """The live tail of this session's rollout files, polled by the recorder."""

    session_dir: Path
    workspace: Path
    since: str | None = None
    tails: dict[Path, RolloutTail] = field(default_factory=dict)
    last_scan: float = 0.0
    last_event_at: str | None = None
    events: int = 0

    def __post_init__(self) -> None:
        if self.since is None:
            self.since = session_start(self.session_dir)

    def poll(self) -> list[Json]:
        now = time.monotonic()
        if now - self.last_scan >= RESCAN_S or not self.tails:
            self.last_scan = now
            since = cv.parse_time(self.since)
            for path in rollout_files(codex_homes(self.session_dir), since):
                if path not in self.tails:
                    parser = RolloutParser(str(self.workspace), since=self.since)
                    self.tails[path] = RolloutTail(path, parser)
        events: list[Json] = []
        for tail in self.tails.values():
            events.extend(tail.read())
        if events:
            self.events += len(events)
            self.last_event_at = max(str(e.get("ts") or "") for e in events) or None
        return events

    def status(self) -> Json:
        ours = [t for t in self.tails.values() if t.belongs]
        skipped = sum(sum(t.parser.skipped.values()) + t.malformed for t in ours)
        detail = f"{len(ours)} rollout file(s) of this workspace, {self.events} event(s)"
        if skipped:
            detail += f", {skipped} record(s) skipped"
        return {"alive": True, "detail": detail, "lastSeen": self.last_event_at}


def backfill(
    session_dir: Path,
    workspace: Path,
    *,
    existing_ids: Collection[str] | None = None,
    homes: list[Path] | None = None,
) -> list[Json]:
    """Every event of this session's rollouts that the journal does not have yet, plus one
    `transcript_skipped` warning per file with records that could not be used."""
    from promptster.integrations.claude.transcript import journal_ids

    since = session_start(session_dir)
    have = (
        set(existing_ids)
        if existing_ids is not None
        else journal_ids(session_dir / "timeline.jsonl")
    )
    found = rollout_files(homes or codex_homes(session_dir), cv.parse_time(since))
    events: list[Json] = []
    for path in found:
        tail = RolloutTail(path, RolloutParser(str(workspace), since=since))
        while True:  # in batches: only the events the journal lacks are kept
            start = tail.offset
            batch = tail.read(max_lines=BATCH_LINES)
            if tail.offset == start:
                batch += tail.parser.flush()
            for event in batch:
                if event["id"] not in have:
                    have.add(event["id"])
                    events.append(event)
            if tail.offset == start or not tail.belongs:
                break
        if not tail.belongs:
            continue
        if tail.parser.skipped or tail.malformed or tail.partial_tail:
            events.append(_skipped_warning(tail, str(workspace)))
    return events


def _skipped_warning(tail: RolloutTail, workspace: str) -> Json:
    skipped: Counter[str] = tail.parser.skipped
    parts = [f"{n} {kind!r}" for kind, n in sorted(skipped.items())]
    if tail.malformed:
        parts.append(f"{tail.malformed} malformed")
    if tail.partial_tail:
        parts.append("a partial last line")
    lane = tail.parser.lane
    ctx = ce.Context(
        lane=lane,
        workspace=workspace,
        channel="import",
        emitter="promptster-codex-rollout",
        integration=INTEGRATION,
    )
    return ce.warning_event(
        ctx,
        "transcript_skipped",
        f"Codex rollout of session {lane}: skipped {', '.join(parts)}",
        lane=lane,
        recordTypes=dict(skipped),
        malformedLines=tail.malformed,
        partialLastLine=tail.partial_tail,
        lines=tail.records,
    )
