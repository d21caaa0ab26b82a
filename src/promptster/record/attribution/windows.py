"""Which shell command explains a file change: the AI's command windows and the candidate's.

A change made while an AI-run shell command was running (or up to COMMAND_SETTLE after it
ended) is the command's, unless the change's write evidence (`WriteEvidence`, Linux I/O
accounting) shows its processes did not make it, or a command of the candidate's in the
recorded shell was running at that moment."""

from __future__ import annotations

from datetime import datetime, timedelta

from promptster.record.attribution.model import CommandWindow, FileChange

# How long after an AI shell command ends its writes may still show up in a snapshot.
COMMAND_SETTLE = timedelta(seconds=2)
# A page dirtied this long before a command began may still be dirty (not yet written back:
# the kernel's default is 30 s) and is not counted again when the command rewrites it: the
# `dirtied` count of a command is trusted only for a file that did not change that recently.
DIRTY_WINDOW = timedelta(seconds=120)


class CommandWindows:
    """The windows learnt so far, and what the command's writes already explained."""

    def __init__(self, settle: timedelta = COMMAND_SETTLE) -> None:
        self._windows: list[CommandWindow] = []
        self._human_windows: list[tuple[datetime, datetime]] = []
        # Bytes of a command's writes already explained by earlier snapshots' changes: window
        # tool_use_id -> snapshot commit -> bytes.
        self._spent: dict[str, dict[str, int]] = {}
        # The change times at which the candidate's shell windows were looked at: a window
        # learnt later (its command ended later) matters only if it covers one of them.
        self.consulted: list[datetime] = []
        self._settle = settle

    def add(self, window: CommandWindow) -> None:
        """Add a command window; a window with the same tool_use_id replaces the earlier one."""
        if window.tool_use_id:
            self._windows = [w for w in self._windows if w.tool_use_id != window.tool_use_id]
        self._windows.append(window)

    def add_human(self, start: datetime, end: datetime) -> None:
        self._human_windows.append((start, end))

    def _human_command_at(self, time: datetime) -> bool:
        return any(start <= time <= end for start, end in self._human_windows)

    def ai_command_at(self, time: datetime, slack: timedelta) -> bool:
        for window in self._windows:
            end = window.end
            if window.start - slack <= time and (end is None or time <= end + slack):
                return True
        return False

    def explaining(self, change: FileChange, last_change: datetime | None) -> CommandWindow | None:
        """The AI command window that explains `change`, if any (`last_change`: when its file
        last changed before)."""
        for window in reversed(self._windows):
            end = window.end + self._settle if window.end is not None else None
            if end is not None and window.settled_at is not None:
                end = min(end, max(window.settled_at, window.end or window.settled_at))
            in_time = window.start <= change.time and (end is None or change.time <= end)
            if in_time and (window.paths is None or change.path in window.paths):
                if self._not_its_change(window, change, last_change):
                    continue  # its processes were idle then, or wrote too few bytes
                self.consulted.append(change.time)
                if self._human_command_at(change.time):
                    return None  # the candidate's own command was writing at that moment
                return window
        return None

    def _not_its_change(
        self, window: CommandWindow, change: FileChange, last: datetime | None
    ) -> bool:
        """Whether the command did not make this change: its processes wrote nothing around
        the moment the file was modified, or fewer bytes than the change needs once what
        explains its changes in earlier snapshots is taken off (changes of one snapshot are
        not charged against each other: which of them the command made is unknown)."""
        writes = change.writes
        counts = writes.of(window.tool_use_id) if writes is not None else None
        if writes is None or counts is None:
            return False
        if counts.idle:
            return True
        if counts.dirtied is not None and (last is None or last < window.start - DIRTY_WINDOW):
            budget = counts.dirtied  # every page the change touched was clean: it was counted
        else:
            budget = max(counts.written, counts.dirtied or 0)
        spent = self._spent.get(window.tool_use_id, {})
        return writes.needed > budget - sum(b for c, b in spent.items() if c != change.commit)

    def spend(self, window: CommandWindow, change: FileChange) -> None:
        """Charge the bytes `change` needs to the command that made it."""
        writes = change.writes
        if writes is not None and writes.of(window.tool_use_id) is not None:
            spent = self._spent.setdefault(window.tool_use_id, {})
            spent[change.commit] = spent.get(change.commit, 0) + writes.needed
