"""AI/human attribution of file events, as the recorder writes them (best effort).

The attribution engine (promptster.record.attribution.events) sees every event the
recorder journals, in order: the AI tool's edit claims and shell windows, then each file event
just before it is written, with the full text of the lines its snapshot added and removed. A
failure here never stops recording: the file event is then written with attribution unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from promptster.formats.events import FILE_KINDS, Event

log = logging.getLogger("promptster.recorder.attribution")
Lines = tuple[tuple[str, ...], tuple[str, ...]]


class Attribution:
    def __init__(self, workspace: str) -> None:
        from promptster.record.attribution.events import EventAttributor

        self._engine = EventAttributor(workspace)
        self._lines: dict[str, Lines] = {}
        self.failures = 0

    def git_actor(self, time: datetime | None) -> str:
        """Who ran a git command that wrote the reflog at `time`: "ai" inside an AI tool's
        shell command, else "human" (the candidate's own git, in a terminal or an editor)."""
        try:
            if time is not None and self._engine.attributor.ai_command_at(time):
                return "ai"
        except Exception:  # attribution is best effort: never stop recording for it
            self.failures += 1
            return "unknown"
        return "human"

    def remember(self, event_id: str, lines: Lines) -> None:
        """The full added/removed lines of a file event that is about to be appended."""
        self._lines[event_id] = lines

    def before_write(self, event: Event) -> None:
        if event.kind not in FILE_KINDS:
            return
        lines = self._lines.pop(event.id, None)
        if lines is None:
            return
        try:
            self._engine.annotate(event, *lines)
        except Exception:  # attribution is advisory; the event is recorded regardless
            self.failures += 1
            log.exception("attribution failed for %s", event.data.get("path"))

    def after_write(self, event: Event) -> None:
        if event.kind in FILE_KINDS:
            return
        try:
            self._engine.observe(event)
        except Exception:
            self.failures += 1
            log.exception("attribution could not read a %s event", event.kind)

    def replay(self, body: Mapping[str, Any]) -> None:
        """An event journaled before this recorder started (after a restart)."""
        from promptster.integrations.claude.events import parse_time
        from promptster.record.attribution.events import lines_from_diff

        try:
            if body.get("kind") not in FILE_KINDS:
                self._engine.observe(body)
                return
            data = body.get("data") or {}
            moment = parse_time(body.get("ts"))
            diff = data.get("diff")
            if moment is None or not isinstance(diff, str):
                return
            added, removed = lines_from_diff(diff)
            self._engine.verdict(
                str(data.get("path", "")), str(data.get("commit", "")), added, removed, moment
            )
        except Exception:
            self.failures += 1
            log.exception("attribution could not replay an event")
