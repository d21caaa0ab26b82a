"""Helpers for the core tests: a shadow repository, a journal and the material of a bundle."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from promptster.bundle import format as fmt
from promptster.bundle.writer import SessionMaterial
from promptster.formats.events import Event, Kind, make_event
from promptster.gitutil import SNAPSHOT_AUTHOR, run_git
from promptster.record.journal import JournalWriter

SESSION_ID = "5e55a0e1-0000-4000-8000-000000000001"
T0 = "2026-03-02T10:00:00.000Z"


def event(kind: Kind | str, data: dict[str, object] | None = None, ts: str = T0) -> Event:
    return make_event(
        kind, dict(data or {}), channel="cli", integration="test", emitter="pytest", ts=ts
    )


class ShadowRepo:
    """A bare repository whose `refs/heads/snapshots` is built commit by commit."""

    def __init__(self, root: Path) -> None:
        self.git_dir = root / "shadow.git"
        run_git(["init", "--quiet", "--bare", str(self.git_dir)])
        self.head: str | None = None
        self.tick = 1_767_600_000

    def commit(self, files: dict[str, str | None], message: str = "snapshot") -> str:
        name, email = SNAPSHOT_AUTHOR
        self.tick += 1
        parts = [
            f"commit {fmt.SNAPSHOT_REF}",
            f"committer {name} <{email}> {self.tick} +0000",
            f"data {len(message.encode())}",
            message,
        ]
        if self.head:
            parts.append(f"from {self.head}")
        for path, content in sorted(files.items()):
            if content is None:
                parts.append(f"D {path}")
                continue
            data = content.encode()
            parts += [f"M 100644 inline {path}", f"data {len(data)}", content]
        stream = ("\n".join(parts) + "\n\n").encode()
        run_git(["fast-import", "--quiet"], git_dir=self.git_dir, stdin=stream)
        self.head = run_git(["rev-parse", fmt.SNAPSHOT_REF], git_dir=self.git_dir).text.strip()
        return self.head


@dataclass
class Session:
    """A small recorded session: journal + shadow repository, ready to become a bundle."""

    root: Path
    repo: ShadowRepo
    journal_path: Path

    def material(self, **overrides: object) -> SessionMaterial:
        timeline = self.journal_path.read_bytes()
        lines = timeline.splitlines()
        material = SessionMaterial(
            session_id=SESSION_ID,
            started_at=json.loads(lines[0])["ts"],
            ended_at=json.loads(lines[-1])["ts"],
            timeline=timeline,
            shadow_git_dir=self.repo.git_dir,
            assessment_id="assessment-1",
        )
        for name, value in overrides.items():
            setattr(material, name, value)
        return material


def record_session(
    root: Path,
    events: list[Event] | Callable[[ShadowRepo], list[Event]] | None = None,
    *,
    extra_start: dict[str, object] | None = None,
) -> Session:
    """A baseline snapshot, `session_start`, the events (default: one edit), `session_end`.

    `events` may be a function of the shadow repository, to make the commits it refers to.
    """
    repo = ShadowRepo(root)
    baseline = repo.commit({"app.py": "print('hello')\n"}, "baseline")
    if events is None:
        commit = repo.commit({"app.py": "print('hello')\nprint('world')\n"})
        edit = {"path": "app.py", "commit": commit, "linesAdded": 1, "linesRemoved": 0}
        events = [event(Kind.FILE_DIFF, edit, ts="2026-03-02T10:05:00.000Z")]
    elif callable(events):
        events = events(repo)
    journal_path = root / "timeline.jsonl"
    # What a recorded session_start carries and the format-2 manifest must repeat.
    start = {"sessionId": SESSION_ID, "assessmentId": "assessment-1", "snapshot": baseline} | (
        extra_start or {}
    )
    with JournalWriter(journal_path, SESSION_ID) as journal:
        journal.append(event(Kind.SESSION_START, start))
        for item in events:
            journal.append(item)
        journal.append(event(Kind.SESSION_END, {"reason": "submit"}, ts=T0))  # clamped up
    return Session(root, repo, journal_path)
