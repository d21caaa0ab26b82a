"""AI/human attribution of file events, as the recorder writes them (best effort).

The attribution engine (promptster.record.attribution.events) sees every event the
recorder journals, in order: the AI tool's edit claims and shell windows, then each file event
just before it is written, with the full text of the lines its snapshot added and removed. A
failure here never stops recording: the file event is then written with attribution unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptster.formats.events import FILE_KINDS, Event
from promptster.record.attribution.measure import CommandWrites, Sampler
from promptster.record.attribution.procio import counts_dirtied_pages

if TYPE_CHECKING:
    from promptster.record.files.snapshots import Snapshot

log = logging.getLogger("promptster.recorder.attribution")
Lines = tuple[tuple[str, ...], tuple[str, ...]]


class Attribution:
    def __init__(self, workspace: str) -> None:
        from promptster.record.attribution.events import EventAttributor

        self._engine = EventAttributor(workspace)
        self._workspace = Path(workspace)
        self._lines: dict[str, Lines] = {}
        self.failures = 0
        self.commands = CommandWrites(pages=counts_dirtied_pages(workspace))
        self._sampler = Sampler(self.commands)

    def command_started(
        self, tool_use_id: str, client: tuple[int, int], hook: tuple[int, int], command: str
    ) -> bool:
        """An AI shell command is about to run: take the baseline of its writes."""
        try:
            measured = self.commands.start(tool_use_id, client, hook, command)
            if measured:
                self._sampler.wake()
            return measured
        except Exception:  # best effort: without a baseline the command is attributed as before
            self.failures += 1
            log.exception("could not measure the AI client's writes")
            return False

    def command_writes(
        self, snapshot: Snapshot, events: Sequence[Event], git_dir: Path, taken_at: float
    ) -> None:
        """Give the file events of a snapshot taken while AI shell commands were measured their
        `commandWrites` evidence (what the commands wrote, what each change needed)."""
        try:
            written = self.commands.sample()
            if written:
                from promptster.record.attribution.writes import attach

                idle = self.commands.idle_around
                attach(snapshot, events, written, git_dir, self._workspace, idle, taken_at)
        except Exception:
            self.failures += 1
            log.exception("could not attach the AI commands' write counts")

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
        if event.kind == "tool_result":
            self.commands.ended(str(event.data.get("toolUseId", "")))
        try:
            self._engine.observe(event)
        except Exception:
            self.failures += 1
            log.exception("attribution could not read a %s event", event.kind)

    def replay(self, body: Mapping[str, Any]) -> None:
        """An event journaled before this recorder started (after a restart)."""
        from promptster.integrations.claude.values import parse_time
        from promptster.record.attribution.events import lines_from_diff, write_evidence

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
            path, commit = str(data.get("path", "")), str(data.get("commit", ""))
            self._engine.verdict(path, commit, added, removed, moment, write_evidence(data))
        except Exception:
            self.failures += 1
            log.exception("attribution could not replay an event")
