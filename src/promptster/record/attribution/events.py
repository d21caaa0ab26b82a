"""Attribution fed from timeline events: what the recorder calls as it journals a session.

`EventAttributor.observe(event)` for every event the recorder writes (it picks out the AI's edit
claims from `tool_use` / `tool_result` and its shell-command windows); `annotate(file_event,
added, removed)` for each `file_create` / `file_diff` / `file_delete` before it is written, with
the text of the lines that snapshot added and removed for that path. The file event gets
`provenance.attribution` and `confidence`, `actor`, and `data.aiLines` / `data.humanLines`.

`attribute_timeline` does the same over a finished timeline (for a bundle, or at submit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from promptster.formats.events import FILE_KINDS, Event
from promptster.integrations.claude.events import EDIT_TOOLS, SHELL_TOOLS, parse_time, relative
from promptster.record.attribution.engine import (
    Attributor,
    ChangeVerdict,
    CommandWindow,
    EditClaim,
    FileChange,
)

# Events that follow a shell command's end without being a new action.
AFTERMATH = frozenset({"command", "test_run", "build_run", "warning", "note", "checkpoint"})
ACTOR = {
    "likely_ai": "ai",
    "likely_human": "human",
    "ai_revised_by_human": "human",
    "mixed": "unknown",
    "unknown": "unknown",
}

Json = Mapping[str, Any]


def lines_from_diff(diff: str) -> tuple[list[str], list[str]]:
    """(added, removed) line texts of a unified diff (headers and context skipped)."""
    added: list[str] = []
    removed: list[str] = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")) and not (added or removed):
            continue
        if line.startswith("+"):
            added.append(line[1:])
        elif line.startswith("-"):
            removed.append(line[1:])
    return added, removed


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def claims_from_input(
    tool: str, tool_input: Json, tool_use_id: str, time: datetime, workspace: str
) -> list[EditClaim]:
    """Edit claims from an edit tool's input (`tool_use` data), one per replacement."""
    path = relative(tool_input.get("file_path") or tool_input.get("notebook_path"), workspace)
    if path is None:
        return []
    if tool == "Write":
        pairs = [("", _text(tool_input.get("content")))]
    elif tool == "Edit":
        pairs = [(_text(tool_input.get("old_string")), _text(tool_input.get("new_string")))]
    elif tool == "MultiEdit":
        edits = tool_input.get("edits")
        pairs = [
            (_text(e.get("old_string")), _text(e.get("new_string")))
            for e in (edits if isinstance(edits, list) else [])
            if isinstance(e, dict)
        ]
    else:
        pairs = [("", _text(tool_input.get("new_source")))]
    return [EditClaim(path, time, tool_use_id, new, old) for old, new in pairs]


def claims_from_edit(edit: Json, tool_use_id: str, time: datetime) -> list[EditClaim]:
    """Edit claims from the `edit` object of a `tool_result` (paths already relative)."""
    path = edit.get("path")
    if not isinstance(path, str):
        return []
    modified = edit.get("userModified") is True
    if isinstance(edit.get("edits"), list):
        pairs = [
            (_text(e.get("oldString")), _text(e.get("newString")))
            for e in edit["edits"]
            if isinstance(e, dict)
        ]
    elif "content" in edit:
        pairs = [("", _text(edit.get("content")))]
    else:
        pairs = [(_text(edit.get("oldString")), _text(edit.get("newString")))]
    return [EditClaim(path, time, tool_use_id, new, old, modified) for old, new in pairs]


class EventAttributor:
    """Attribution for a live session, fed event by event in journal order."""

    def __init__(self, workspace: str) -> None:
        self.workspace = workspace
        self.attributor = Attributor()
        self._claimed: set[str] = set()  # tool_use_ids whose claims are in
        self._shell_started: dict[str, datetime] = {}
        self._settling: list[CommandWindow] = []  # ended, until the AI or candidate acts again

    def observe(self, event: Json | Event) -> None:
        body = event.to_dict() if isinstance(event, Event) else event
        kind, data = body.get("kind"), body.get("data")
        time = parse_time(body.get("ts"))
        if not isinstance(data, Mapping) or time is None or kind in FILE_KINDS:
            return
        if kind not in AFTERMATH:
            self._settle(time)
        tool, tool_use_id = _text(data.get("toolName")), _text(data.get("toolUseId"))
        if not tool_use_id:
            return
        if kind == "tool_use" and tool in EDIT_TOOLS and tool_use_id not in self._claimed:
            tool_input = data.get("input")
            if isinstance(tool_input, Mapping):
                self._claim(claims_from_input(tool, tool_input, tool_use_id, time, self.workspace))
        elif kind == "tool_use" and tool in SHELL_TOOLS:
            self._shell_started[tool_use_id] = time
            self.attributor.add_window(CommandWindow(time, None, tool_use_id))
        elif kind == "tool_result" and isinstance(data.get("edit"), Mapping):
            claims = claims_from_edit(data["edit"], tool_use_id, time)
            if tool_use_id not in self._claimed:
                self._claim(claims)
            for claim in claims[:1]:
                if claim.user_modified:
                    self.attributor.mark_user_modified(claim.path, tool_use_id, time)
        elif kind in ("tool_use", "tool_result") and isinstance(data.get("edits"), list):
            # a patch (Codex's apply_patch), parsed from the call or as applied: one edit
            # object per file
            if tool_use_id not in self._claimed:
                for edit in data["edits"]:
                    if isinstance(edit, Mapping):
                        self._claim(claims_from_edit(edit, tool_use_id, time))
        elif kind == "tool_result" and tool in SHELL_TOOLS:
            start = self._shell_started.pop(tool_use_id, time)
            changed = data.get("changedFiles")
            paths = (
                frozenset(p for p in changed if isinstance(p, str))
                if isinstance(changed, list)
                else None
            )
            window = CommandWindow(start, time, tool_use_id, paths)
            self.attributor.add_window(window)
            self._settling.append(window)

    def _settle(self, time: datetime) -> None:
        """Something new happened: what changes from now on is not the ended commands' doing."""
        for window in self._settling:
            self.attributor.add_window(dataclasses.replace(window, settled_at=time))
        self._settling.clear()

    def _claim(self, claims: list[EditClaim]) -> None:
        for claim in claims:
            self.attributor.add_claim(claim)
            self._claimed.add(claim.tool_use_id)

    def verdict(
        self, path: str, commit: str, added: Iterable[str], removed: Iterable[str], time: datetime
    ) -> ChangeVerdict:
        return self.attributor.attribute(
            FileChange(path, commit, tuple(added), tuple(removed), time)
        )

    def annotate(self, event: Event, added: Iterable[str], removed: Iterable[str]) -> ChangeVerdict:
        """Attribute a file event in place (before the recorder journals it)."""
        time = parse_time(event.ts) or datetime.now(UTC)
        verdict = self.verdict(
            str(event.data.get("path", "")), str(event.data.get("commit", "")), added, removed, time
        )
        apply_verdict(event, verdict)
        return verdict


def apply_verdict(event: Event, verdict: ChangeVerdict) -> None:
    event.provenance["attribution"] = verdict.attribution
    event.provenance["confidence"] = verdict.confidence
    event.actor["type"] = ACTOR[verdict.attribution]
    event.data["aiLines"] = verdict.ai_lines
    event.data["humanLines"] = verdict.human_lines


LineSource = Callable[[Json], tuple[list[str], list[str]]]


def attribute_timeline(
    events: Iterable[Json], workspace: str, lines: LineSource
) -> dict[str, ChangeVerdict]:
    """Verdicts for every file event of a finished timeline, by event id. `lines(event)` gives
    the added and removed line texts of a file event (from the snapshots)."""
    attributor = EventAttributor(workspace)
    verdicts: dict[str, ChangeVerdict] = {}
    for event in events:
        if event.get("kind") in FILE_KINDS:
            data = event.get("data") or {}
            time = parse_time(event.get("ts"))
            if time is None:
                continue
            added, removed = lines(event)
            verdicts[str(event.get("id"))] = attributor.verdict(
                str(data.get("path", "")), str(data.get("commit", "")), added, removed, time
            )
        else:
            attributor.observe(event)
    return verdicts
