"""What attribution reads and what it returns: the values the attributor (engine.py) works on.

Plain frozen dataclasses, no behaviour beyond a lookup: a file change the snapshots observed,
an edit the AI tool reported, an AI-run shell command's window and the I/O evidence about its
writes, and the verdict on one change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Verdict = Literal["likely_ai", "ai_revised_by_human", "likely_human", "mixed", "unknown"]


@dataclass(frozen=True)
class CommandCounts:
    """What one measured AI shell command had written when the snapshot showed the change."""

    tool_use_id: str
    written: int  # bytes passed to write(2) since it began
    dirtied: int | None = None  # bytes of file pages it made dirty (where that is counted)
    idle: bool | None = None  # its processes wrote nothing around the file's modification


@dataclass(frozen=True)
class WriteEvidence:
    """The file event's `commandWrites` (procio.py, measure.py): a command whose processes
    wrote fewer bytes than the change needs, or wrote nothing at all around the moment the file
    was modified, did not make it."""

    needed: int  # the fewest bytes any writer must have written to make the change
    commands: tuple[CommandCounts, ...]

    def of(self, tool_use_id: str) -> CommandCounts | None:
        return next((c for c in self.commands if c.tool_use_id == tool_use_id), None)


@dataclass(frozen=True)
class FileChange:
    """One path in one snapshot commit, as `file_create` / `file_diff` / `file_delete` saw it."""

    path: str  # workspace-relative, "/"-separated
    commit: str
    added: tuple[str, ...]  # the added lines' text, without line endings
    removed: tuple[str, ...]
    time: datetime
    event_id: str | None = None
    writes: WriteEvidence | None = None


@dataclass(frozen=True)
class EditClaim:
    """An edit the AI tool reported (Write, Edit, MultiEdit, NotebookEdit), one per replacement."""

    path: str  # workspace-relative, "/"-separated
    time: datetime
    tool_use_id: str
    new_text: str  # Edit: new_string; Write: the file content
    old_text: str = ""  # Edit: old_string; Write: ""
    user_modified: bool = False  # the candidate changed the proposal before it was applied
    truncated: bool = False  # the recorded text was cut (over 64 KiB): its tail is unknown


@dataclass(frozen=True)
class CommandWindow:
    """An AI-run shell command: files written between `start` and `end` are the AI's."""

    start: datetime
    end: datetime | None  # None while the command is still running
    tool_use_id: str = ""
    paths: frozenset[str] | None = None  # files it changed, when the tool reported them
    settled_at: datetime | None = None  # the AI acted again: later changes are not this command's


@dataclass(frozen=True)
class ChangeVerdict:
    path: str
    commit: str
    attribution: Verdict
    confidence: float
    ai_lines: int
    human_lines: int
    tool_use_ids: tuple[str, ...] = ()  # the AI edits and commands that explain the AI lines
    event_id: str | None = None
    # Per added line (in the order of `FileChange.added`): "claim", "shell" or "human", and the
    # tool_use_id that explains an AI line ("" for the candidate's).
    line_labels: tuple[str, ...] = ()
    line_owners: tuple[str, ...] = ()
    likely_paste: bool = False  # a large block nothing recorded explains (paste.py)
