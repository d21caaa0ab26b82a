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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from promptster.formats.events import FILE_KINDS, Event
from promptster.integrations.claude.events import EDIT_TOOLS, SHELL_TOOLS
from promptster.integrations.claude.values import parse_time, relative
from promptster.record.attribution.engine import CLAIM_SKEW, Attributor
from promptster.record.attribution.model import (
    ChangeVerdict,
    CommandCounts,
    CommandWindow,
    EditClaim,
    FileChange,
    WriteEvidence,
)
from promptster.record.attribution.paste import PASTE_CONFIDENCE, PasteDetector

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


def _count(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def write_evidence(data: Any) -> WriteEvidence | None:
    """A file event's `commandWrites` (procio.py), or None when it has none or it is unusable."""
    found = data.get("commandWrites") if isinstance(data, Mapping) else None
    if not isinstance(found, Mapping):
        return None
    needed, commands = _count(found.get("bytesNeeded")), found.get("commands")
    if needed is None or not isinstance(commands, Mapping):
        return None
    entries: list[CommandCounts] = []
    for key, counts in commands.items():
        written = _count(counts.get("written")) if isinstance(counts, Mapping) else None
        if isinstance(key, str) and isinstance(counts, Mapping) and written is not None:
            idle = counts.get("idleWhenModified")
            dirtied = _count(counts.get("dirtied"))
            entries.append(
                CommandCounts(key, written, dirtied, idle if isinstance(idle, bool) else None)
            )
    return WriteEvidence(needed, tuple(entries))


def claims_from_input(
    tool: str,
    tool_input: Json,
    tool_use_id: str,
    time: datetime,
    workspace: str,
    truncated: bool = False,
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
    return [EditClaim(path, time, tool_use_id, new, old, truncated=truncated) for old, new in pairs]


def claims_from_edit(edit: Json, tool_use_id: str, time: datetime) -> list[EditClaim]:
    """Edit claims from the `edit` object of a `tool_result` (paths already relative)."""
    path = edit.get("path")
    if not isinstance(path, str):
        return []
    modified = edit.get("userModified") is True
    cut = edit.get("truncated") is True
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
    return [EditClaim(path, time, tool_use_id, new, old, modified, cut) for old, new in pairs]


# Events that end the AI's turn: an edit proposed before them that never ran (no tool_result:
# the candidate rejected it, or it failed) is withdrawn.
TURN_ENDS = frozenset({"prompt", "ai_response", "session_end"})


class EventAttributor:
    """Attribution fed event by event in journal order.

    `ran`: the tool_use_ids that have a `tool_result` anywhere in the timeline, with its time,
    when the whole timeline is known (at submit). Then an edit proposed in a `tool_use` counts
    only when it ran, from when it ran (a permission prompt may hold it for minutes). Live
    (`ran` is None) the proposal is provisional: it is withdrawn when the AI's turn ends
    without its result (the result may reach the recorder after the snapshot that shows the
    edit, so it cannot wait for it)."""

    def __init__(
        self,
        workspace: str,
        ran: Mapping[str, datetime] | None = None,
        shell_windows: Sequence[tuple[datetime, datetime]] = (),
    ) -> None:
        self.workspace = workspace
        self.attributor = Attributor()
        self._claimed: set[str] = set()  # tool_use_ids whose claims are in
        self._shell_started: dict[str, datetime] = {}
        self._settling: list[CommandWindow] = []  # ended, until the AI or candidate acts again
        self._ran = ran
        self._provisional: set[str] = set()
        self.unran: set[str] = set()  # proposals skipped because `ran` had no result for them
        self.paste = PasteDetector(shell_windows)
        for start, end in shell_windows:
            self.attributor.add_human_window(start, end)

    def __getstate__(self) -> dict[str, Any]:
        # Pickled for a checkpoint: `ran` is the whole timeline's, given again by `learn`.
        return {**self.__dict__, "_ran": None if self._ran is None else {}}

    def learn(
        self, ran: Mapping[str, datetime], windows: Iterable[tuple[datetime, datetime]]
    ) -> None:
        """More of the timeline is known (resuming a replay): the tool calls that ran, and more
        of the candidate's shell windows. The caller checks first that none of it changes what
        was already replayed (`authorship.ReplayState.fits`)."""
        self._ran = ran
        for start, end in windows:
            self.attributor.add_human_window(start, end)
            self.paste.add_window(start, end)

    def observe(self, event: Json | Event) -> None:
        body = event.to_dict() if isinstance(event, Event) else event
        kind, data = body.get("kind"), body.get("data")
        time = parse_time(body.get("ts"))
        if not isinstance(data, Mapping) or time is None or kind in FILE_KINDS:
            return
        self.paste.observe(body)
        if kind not in AFTERMATH:
            self._settle(time)
        if kind in TURN_ENDS:
            for withdrawn in sorted(self._provisional):
                self.attributor.withdraw(withdrawn)
            self._provisional.clear()
        tool, tool_use_id = _text(data.get("toolName")), _text(data.get("toolUseId"))
        if not tool_use_id:
            return
        if kind == "tool_result":
            self._provisional.discard(tool_use_id)
            if failed_edit(tool, data):
                # Refused by the candidate or failed: nothing was written, so its lines are
                # never a match candidate (a transcript import still carries the proposal).
                self.attributor.withdraw(tool_use_id)
                self._claimed.add(tool_use_id)
                return
        proposed = kind == "tool_use" and tool_use_id not in self._claimed
        if proposed and self._ran is not None and tool_use_id not in self._ran:
            self.unran.add(tool_use_id)  # a result learnt later would change this
            return  # proposed, never ran: never a match candidate
        if proposed and tool in EDIT_TOOLS:
            tool_input = data.get("input")
            if isinstance(tool_input, Mapping):
                cut = data.get("inputTruncated") is True
                when = self._ran.get(tool_use_id, time) if self._ran is not None else time
                self._claim(
                    claims_from_input(tool, tool_input, tool_use_id, when, self.workspace, cut)
                )
                if self._ran is None:
                    self._provisional.add(tool_use_id)
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
                if kind == "tool_use" and self._ran is None:
                    self._provisional.add(tool_use_id)
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
        self,
        path: str,
        commit: str,
        added: Iterable[str],
        removed: Iterable[str],
        time: datetime,
        writes: WriteEvidence | None = None,
    ) -> ChangeVerdict:
        lines = tuple(added)
        change = FileChange(path, commit, lines, tuple(removed), time, writes=writes)
        verdict = self.attributor.attribute(change)
        if self.paste.is_paste(time, verdict, lines):
            return dataclasses.replace(
                verdict, attribution="unknown", confidence=PASTE_CONFIDENCE, likely_paste=True
            )
        return verdict

    def annotate(self, event: Event, added: Iterable[str], removed: Iterable[str]) -> ChangeVerdict:
        """Attribute a file event in place (before the recorder journals it)."""
        time = parse_time(event.ts) or datetime.now(UTC)
        data = event.data
        path, commit = str(data.get("path", "")), str(data.get("commit", ""))
        verdict = self.verdict(path, commit, added, removed, time, write_evidence(data))
        apply_verdict(event, verdict)
        return verdict


def apply_verdict(event: Event, verdict: ChangeVerdict) -> None:
    event.provenance["attribution"] = verdict.attribution
    event.provenance["confidence"] = verdict.confidence
    event.actor["type"] = ACTOR[verdict.attribution]
    event.data["aiLines"] = verdict.ai_lines
    event.data["humanLines"] = verdict.human_lines
    if verdict.likely_paste:
        event.provenance["likelyPaste"] = True


LineSource = Callable[[Json], tuple[list[str], list[str]]]


def failed_edit(tool: str, data: Mapping[str, Any]) -> bool:
    """A tool_result of an edit that did not happen (`ok: false`: denied, or it failed)."""
    is_edit = tool in EDIT_TOOLS or "edit" in data or "edits" in data
    return is_edit and data.get("ok") is False


def tool_results(events: Iterable[Json]) -> dict[str, datetime]:
    """The tool_use_ids that have a `tool_result` (the tool calls that ran), with its time;
    an edit whose result says it failed (denied by the candidate) did not run."""
    ran: dict[str, datetime] = {}
    for event in events:
        data, time = event.get("data"), parse_time(event.get("ts"))
        if (
            event.get("kind") == "tool_result"
            and isinstance(data, Mapping)
            and time
            and not failed_edit(_text(data.get("toolName")), data)
        ):
            ran.setdefault(_text(data.get("toolUseId")), time)
    return ran


def human_command_windows(events: Iterable[Json]) -> list[tuple[datetime, datetime]]:
    """(start, end) of each command the candidate ran in the recorded shell (the event is
    written when the command ends; `durationMs` gives its start)."""
    windows: list[tuple[datetime, datetime]] = []
    for event in events:
        source, data = event.get("source"), event.get("data")
        if event.get("kind") != "command" or not isinstance(data, Mapping):
            continue
        if not isinstance(source, Mapping) or source.get("channel") != "terminal":
            continue
        end, duration = parse_time(event.get("ts")), data.get("durationMs")
        if end is None or not isinstance(duration, int) or duration < 0:
            continue
        windows.append((end - timedelta(milliseconds=duration), end))
    return windows


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def in_time_order(events: Sequence[Json], skew: timedelta = CLAIM_SKEW) -> Iterator[Json]:
    """A finished timeline as attribution reads it: the file events in journal order (the
    snapshots' order), every other event by its timestamp, each before the first file event it
    may explain (up to `skew` after it: a claim can reach the recorder after the snapshot that
    shows its change). A hook delivery that went through the spool is journaled after the
    snapshots it explains; its timestamp puts it back in place."""
    return (events[index] for index in time_order(events, skew))


def time_order(events: Sequence[Json], skew: timedelta = CLAIM_SKEW) -> list[int]:
    """The positions of `events` in the order `in_time_order` gives them."""
    others = sorted(
        (
            (parse_time(event.get("ts")) or _EARLIEST, index)
            for index, event in enumerate(events)
            if event.get("kind") not in FILE_KINDS
        )
    )
    order: list[int] = []
    position = 0
    for index, event in enumerate(events):
        if event.get("kind") not in FILE_KINDS:
            continue
        time = parse_time(event.get("ts"))
        if time is not None:
            while position < len(others) and others[position][0] <= time + skew:
                order.append(others[position][1])
                position += 1
        order.append(index)
    order.extend(index for _, index in others[position:])
    return order


def attribute_timeline(
    events: Sequence[Json], workspace: str, lines: LineSource
) -> dict[str, ChangeVerdict]:
    """Verdicts for every file event of a finished timeline, by event id. `lines(event)` gives
    the added and removed line texts of a file event (from the snapshots).

    Knowing the whole timeline, it counts a proposed edit only when it ran, and keeps the
    candidate's own shell commands apart from the AI's (`human_command_windows`)."""
    attributor = EventAttributor(
        workspace, ran=tool_results(events), shell_windows=human_command_windows(events)
    )
    verdicts: dict[str, ChangeVerdict] = {}
    for event in in_time_order(events):
        if event.get("kind") in FILE_KINDS:
            data = event.get("data") or {}
            time = parse_time(event.get("ts"))
            if time is None:
                continue
            added, removed = lines(event)
            path, commit = str(data.get("path", "")), str(data.get("commit", ""))
            verdicts[str(event.get("id"))] = attributor.verdict(
                path, commit, added, removed, time, write_evidence(data)
            )
        else:
            attributor.observe(event)
    return verdicts
