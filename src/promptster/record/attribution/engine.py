"""Who wrote a file change: the AI, the candidate, or both.

Pure and typed: inputs are explicit values (the change the snapshots observed, the edits the AI
tool reported, the windows in which the AI ran shell commands); the output is a verdict per
change. The algorithm and its limits are described in docs/attribution.md.

In short: every line an AI edit claim adds goes into a per-file pool. A change's added lines
that match the pool are the AI's (and are taken out of it); lines added while an AI-run shell
command was running are the AI's too, unless the change's `WriteEvidence` shows the command's
processes did not write it (Linux I/O accounting); every other line is the candidate's. Lines
the AI wrote stay "live" per file, so a later hand edit that removes or rewrites them makes
that change `ai_revised_by_human`.

`Attributor` is incremental (feed it claims, windows and changes in time order, as the recorder
sees them); `attribute_changes` runs it over a whole session at once.
"""

from __future__ import annotations

import difflib
import pickle
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

Verdict = Literal["likely_ai", "ai_revised_by_human", "likely_human", "mixed", "unknown"]

# How far a change may precede the claim that explains it (the watcher may commit a snapshot
# before the PostToolUse event that carries the claim reaches the recorder).
CLAIM_SKEW = timedelta(seconds=5)
# How long after an AI shell command ends its writes may still show up in a snapshot.
COMMAND_SETTLE = timedelta(seconds=2)
# How long an AI edit's lines stay match candidates after the edit ran: a snapshot shows an
# edit within a second or two, so a line typed minutes later that happens to equal an unused
# line of an old proposal (`import logging`) is the candidate's, not the AI's.
CLAIM_EXPIRY = timedelta(seconds=60)
# A page dirtied this long before a command began may still be dirty (not yet written back:
# the kernel's default is 30 s) and is not counted again when the command rewrites it: the
# `dirtied` count of a command is trusted only for a file that did not change that recently.
DIRTY_WINDOW = timedelta(seconds=120)
# A rewritten line at least this similar to an AI line counts as a revision of it.
SIMILARITY = 0.6
_MAX_SIMILARITY_PAIRS = 20_000

CONFIDENCE_CLAIM = 0.95
CONFIDENCE_SHELL = 0.75
CONFIDENCE_HUMAN_QUIET = 0.9  # no AI activity on this file nearby
CONFIDENCE_HUMAN_BUSY = 0.75  # the AI was active on this file or in a shell nearby
CONFIDENCE_REVISED = 0.8
CONFIDENCE_MIXED = 0.6


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


@dataclass(frozen=True)
class _Fragment:
    """A claim line that may be only part of a file line: an `Edit` can start or end mid-line."""

    text: str
    where: Literal["end", "start", "within"]  # the file line ends with / starts with / holds it
    owner: str
    time: datetime | None = None  # when its edit ran (for CLAIM_EXPIRY)

    def matches(self, line: str) -> bool:
        if self.where == "end":
            return line.endswith(self.text)
        if self.where == "start":
            return line.startswith(self.text)
        return self.text in line


class _Pool:
    """AI-added lines not yet observed, each with the edit that added it and when: taken
    oldest first, dropped once older than CLAIM_EXPIRY."""

    def __init__(self) -> None:
        self._lines: dict[str, list[tuple[str, datetime]]] = {}

    def __getitem__(self, line: str) -> int:
        return len(self._lines.get(line, ()))

    def add(self, line: str, owner: str, time: datetime, count: int = 1) -> None:
        self._lines.setdefault(line, []).extend([(owner, time)] * count)

    def take(self, line: str) -> str | None:
        entries = self._lines.get(line)
        if not entries:
            return None
        owner, _ = entries.pop(0)
        if not entries:
            del self._lines[line]
        return owner

    def expire(self, before: datetime) -> None:
        for line in [k for k, v in self._lines.items() if v and v[-1][1] < before]:
            del self._lines[line]
        for line, entries in self._lines.items():
            if entries[0][1] < before:
                self._lines[line] = [e for e in entries if e[1] >= before]

    def withdraw(self, owner: str) -> None:
        for line in list(self._lines):
            kept = [e for e in self._lines[line] if e[0] != owner]
            if kept:
                self._lines[line] = kept
            else:
                del self._lines[line]

    def elements(self) -> list[str]:
        return [line for line, entries in self._lines.items() for _ in entries]


@dataclass
class _FileState:
    pool: _Pool = field(default_factory=_Pool)  # AI-added lines not yet observed
    old_pool: Counter[str] = field(default_factory=Counter)  # lines AI edits removed
    fragments: list[_Fragment] = field(default_factory=list)  # ... when edits split lines
    old_fragments: list[_Fragment] = field(default_factory=list)
    live_ai: Counter[str] = field(default_factory=Counter)  # AI lines now in the file
    modified_claims: dict[str, datetime] = field(default_factory=dict)  # userModified claims
    last_claim: datetime | None = None
    last_owner: str = ""
    truncated: dict[str, datetime] = field(default_factory=dict)  # cut claims: owner -> time


def _key(line: str) -> str:
    return line.rstrip()


_TWO_WORD_CHARS = re.compile(r"\w\W*\w")


def is_trivial(line: str) -> bool:
    """Blank lines and bare punctuation (`}`, `);`) say nothing about who wrote them (fewer
    than two word characters)."""
    return _TWO_WORD_CHARS.search(line) is None


def _claim_lines(claim: EditClaim) -> tuple[Counter[str], Counter[str]]:
    """The lines a claim adds and removes (its context lines cancel out)."""
    new = Counter(_key(x) for x in claim.new_text.splitlines())
    old = Counter(_key(x) for x in claim.old_text.splitlines())
    return new - old, old - new


def _fragments(
    text: str, changed: Counter[str], owner: str, time: datetime | None = None
) -> list[_Fragment]:
    """The first and last lines of an edit's text, which may be parts of file lines (only those
    the edit changed: its context lines explain nothing)."""
    lines = [_key(line) for line in text.splitlines()]
    if not lines:
        return []
    if len(lines) == 1:
        ends = [(lines[0], _Fragment(lines[0].strip(), "within", owner, time))]
    else:
        ends = [(lines[0], _Fragment(lines[0], "end", owner, time))]
        ends.append((lines[-1], _Fragment(lines[-1], "start", owner, time)))
    return [fragment for line, fragment in ends if changed[line]]


def _take_fragment(fragments: list[_Fragment], line: str) -> _Fragment | None:
    for index, fragment in enumerate(fragments):
        if not is_trivial(fragment.text) and fragment.matches(line):
            return fragments.pop(index)
    return None


class Attributor:
    """Incremental attribution: `add_claim` / `add_window` as the AI acts, `attribute` per change.

    Claims and windows must be added before the changes they explain are attributed; a claim
    may be up to `CLAIM_SKEW` later than its change.
    """

    def __init__(
        self,
        *,
        claim_skew: timedelta = CLAIM_SKEW,
        command_settle: timedelta = COMMAND_SETTLE,
        claim_expiry: timedelta = CLAIM_EXPIRY,
    ) -> None:
        self._files: dict[str, _FileState] = {}
        self._packed: dict[str, bytes] = {}  # files' states as a checkpoint keeps them
        self._pending: list[EditClaim] = []
        self._windows: list[CommandWindow] = []
        self._human_windows: list[tuple[datetime, datetime]] = []
        # Bytes of a command's writes already explained by earlier snapshots' changes: window
        # tool_use_id -> snapshot commit -> bytes.
        self._spent: dict[str, dict[str, int]] = {}
        self._changed_at: dict[str, datetime] = {}  # path -> its last change attributed
        # The change times at which the candidate's shell windows were looked at: a window
        # learnt later (its command ended later) matters only if it covers one of them.
        self.windows_consulted: list[datetime] = []
        self._claim_skew = claim_skew
        self._settle = command_settle
        self._expiry = claim_expiry

    def _file(self, path: str) -> _FileState:
        state = self._files.get(path)
        if state is None:  # not setdefault: a _FileState is 10 fields to build on every call
            packed = self._packed.pop(path, None)
            state = _FileState() if packed is None else pickle.loads(packed)
            self._files[path] = state
        return state

    def __getstate__(self) -> dict[str, Any]:
        # Pickled for a checkpoint (checkpoint.py): each file's state pickled on its own, and
        # unpickled only when a later change needs it (most files see none).
        packed = dict(self._packed)
        for path, state in self._files.items():
            packed[path] = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        return {**self.__dict__, "_files": {}, "_packed": packed}

    def add_claim(self, claim: EditClaim) -> None:
        self._pending.append(claim)

    def mark_user_modified(self, path: str, tool_use_id: str, time: datetime) -> None:
        """The candidate changed this AI proposal before it was applied (`userModified`)."""
        self._file(path).modified_claims[tool_use_id] = time

    def add_window(self, window: CommandWindow) -> None:
        """Add a command window; a window with the same tool_use_id replaces the earlier one."""
        if window.tool_use_id:
            self._windows = [w for w in self._windows if w.tool_use_id != window.tool_use_id]
        self._windows.append(window)

    def withdraw(self, tool_use_id: str) -> None:
        """An edit that was proposed but never ran: its lines are no longer candidates."""
        self._pending = [c for c in self._pending if c.tool_use_id != tool_use_id]
        for path in list(self._packed):
            self._file(path)
        for state in self._files.values():
            state.pool.withdraw(tool_use_id)
            state.fragments = [f for f in state.fragments if f.owner != tool_use_id]
            state.truncated.pop(tool_use_id, None)

    def add_human_window(self, start: datetime, end: datetime) -> None:
        """A command the candidate ran in the recorded shell (an editor, `cp`, a redirect):
        files that change while it runs are the candidate's, even inside an AI command's
        window."""
        self._human_windows.append((start, end))

    def _human_command_at(self, time: datetime) -> bool:
        return any(start <= time <= end for start, end in self._human_windows)

    def _release_claims(self, until: datetime) -> None:
        """Move claims made before `until + skew` into their file's pool."""
        keep: list[EditClaim] = []
        for claim in self._pending:
            if claim.time > until + self._claim_skew:
                keep.append(claim)
                continue
            state = self._file(claim.path)
            added, removed = _claim_lines(claim)
            for line, count in added.items():
                state.pool.add(line, claim.tool_use_id, claim.time, count)
            state.old_pool.update(removed)
            state.fragments.extend(_fragments(claim.new_text, added, claim.tool_use_id, claim.time))
            state.old_fragments.extend(_fragments(claim.old_text, removed, claim.tool_use_id))
            if claim.user_modified:
                state.modified_claims[claim.tool_use_id] = claim.time
            if claim.truncated:
                state.truncated[claim.tool_use_id] = claim.time
            if state.last_claim is None or claim.time >= state.last_claim:
                state.last_claim, state.last_owner = claim.time, claim.tool_use_id
        self._pending = keep

    def _expire(self, state: _FileState, now: datetime) -> None:
        """Drop AI lines proposed longer than CLAIM_EXPIRY ago that no change has shown."""
        before = now - self._expiry
        state.pool.expire(before)
        state.fragments = [f for f in state.fragments if f.time is None or f.time >= before]
        state.truncated = {k: v for k, v in state.truncated.items() if v >= before}

    def ai_command_at(self, time: datetime, slack: timedelta = timedelta(seconds=1)) -> bool:
        """Whether an AI-run shell command was running at `time` (give or take `slack`: git's
        reflog keeps whole seconds)."""
        for window in self._windows:
            end = window.end
            if window.start - slack <= time and (end is None or time <= end + slack):
                return True
        return False

    def _shell_window(self, change: FileChange) -> CommandWindow | None:
        for window in reversed(self._windows):
            end = window.end + self._settle if window.end is not None else None
            if end is not None and window.settled_at is not None:
                end = min(end, max(window.settled_at, window.end or window.settled_at))
            in_time = window.start <= change.time and (end is None or change.time <= end)
            if in_time and (window.paths is None or change.path in window.paths):
                if self._not_its_change(window, change):
                    continue  # its processes were idle then, or wrote too few bytes
                self.windows_consulted.append(change.time)
                if self._human_command_at(change.time):
                    return None  # the candidate's own command was writing at that moment
                return window
        return None

    def _not_its_change(self, window: CommandWindow, change: FileChange) -> bool:
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
        last = self._changed_at.get(change.path)
        if counts.dirtied is not None and (last is None or last < window.start - DIRTY_WINDOW):
            budget = counts.dirtied  # every page the change touched was clean: it was counted
        else:
            budget = max(counts.written, counts.dirtied or 0)
        spent = self._spent.get(window.tool_use_id, {})
        return writes.needed > budget - sum(b for c, b in spent.items() if c != change.commit)

    def _spend(self, window: CommandWindow, change: FileChange) -> None:
        writes = change.writes
        if writes is not None and writes.of(window.tool_use_id) is not None:
            spent = self._spent.setdefault(window.tool_use_id, {})
            spent[change.commit] = spent.get(change.commit, 0) + writes.needed

    def attribute(self, change: FileChange) -> ChangeVerdict:
        self._release_claims(change.time)
        state = self._file(change.path)
        self._expire(state, change.time)
        window = self._shell_window(change)
        owners: list[str] = []
        line_owners: list[str] = []

        labels = self._label_added(change, state, window, owners, line_owners)
        if window is not None and "shell" in labels:
            owners.append(window.tool_use_id)
            if "claim" not in labels:  # the client's own edits are not in the command's count
                self._spend(window, change)
        ai_added = sum(1 for label in labels if label != "human")
        human_added = len(labels) - ai_added

        ai_removed = human_removed = revised = 0
        for line in map(_key, change.removed):
            if state.old_pool[line] > 0:
                state.old_pool[line] -= 1
                ai_removed += 1
            elif _take_fragment(state.old_fragments, line) is not None or window is not None:
                ai_removed += 1
            else:
                human_removed += 1
                revised += state.live_ai[line] > 0
            if state.live_ai[line] > 0:
                state.live_ai[line] -= 1
        human_new = [
            _key(x) for x, mark in zip(change.added, labels, strict=True) if mark == "human"
        ]
        # A hand-tweaked version of an AI proposal that the snapshots never saw as the AI wrote it.
        revised += _variants(human_new, list(state.pool.elements()))
        for line, mark in zip(change.added, labels, strict=True):
            if mark != "human":
                state.live_ai[_key(line)] += 1
        recent = {
            tool_use_id
            for tool_use_id, when in state.modified_claims.items()
            if abs(change.time - when) <= self._claim_skew or tool_use_id in owners
        }
        user_modified = bool(recent) and (human_added > 0 or bool(recent & set(owners)))
        if user_modified:
            owners.extend(sorted(recent))
            for tool_use_id in recent:
                del state.modified_claims[tool_use_id]

        ai_active = window is not None or (
            state.last_claim is not None and abs(change.time - state.last_claim) <= self._claim_skew
        )
        attribution, confidence = _decide(
            ai_added, human_added, ai_removed, human_removed, revised, user_modified, ai_active
        )
        if attribution == "likely_ai" and "shell" in labels and "claim" not in labels:
            confidence = CONFIDENCE_SHELL
        self._changed_at[change.path] = change.time
        return ChangeVerdict(
            path=change.path,
            commit=change.commit,
            attribution=attribution,
            confidence=confidence,
            ai_lines=ai_added,
            human_lines=human_added,
            tool_use_ids=tuple(dict.fromkeys(o for o in owners if o)),
            event_id=change.event_id,
            line_labels=tuple(labels),
            line_owners=tuple(line_owners),
        )

    def _label_added(
        self,
        change: FileChange,
        state: _FileState,
        window: CommandWindow | None,
        owners: list[str],
        line_owners: list[str],
    ) -> list[str]:
        """'claim', 'shell' or 'human' per added line (and its owner into `line_owners`).

        Trivial lines (blank, bare punctuation) are never matched by text: they take the label
        of the nearest meaningful line of the same change, or, when the change holds nothing
        else, of the edit that placed them (an AI edit of this file just now, an AI command
        running, else the candidate)."""
        added = change.added
        shell_owner = window.tool_use_id if window is not None else ""
        # A claim whose text was cut (over 64 KiB) explains the rest of its change too.
        cut = next(
            (o for o, t in state.truncated.items() if abs(change.time - t) <= self._claim_skew),
            None,
        )
        picks: list[tuple[str, str] | None] = []
        for line in added:
            if is_trivial(line):
                picks.append(None)
                continue
            label, owner = self._take(_key(line), state, window is not None, shell_owner)
            if label == "human" and cut is not None:
                label, owner = "claim", cut
            picks.append((label, owner))
        if not any(pick is not None for pick in picks):
            fresh = state.last_claim is not None and (
                abs(change.time - state.last_claim) <= self._claim_skew
            )
            if window is not None:
                whole = ("shell", shell_owner)
            elif fresh:
                whole = ("claim", state.last_owner)
            else:
                whole = ("human", "")
            picks = [whole] * len(added)
        result: list[str] = []
        for index, pick in enumerate(picks):
            label, owner = pick if pick is not None else _nearest(picks, index)
            if label == "claim" and pick is None:
                state.pool.take(_key(added[index]))
            if label == "claim" and owner:
                owners.append(owner)
            result.append(label)
            line_owners.append(owner if label != "human" else "")
        return result

    @staticmethod
    def _take(line: str, state: _FileState, in_window: bool, shell_owner: str) -> tuple[str, str]:
        owner = state.pool.take(line)
        if owner is not None:
            for index, whole in enumerate(state.fragments):  # the same line, seen whole
                if whole.owner == owner and whole.text.strip() == line.strip():
                    del state.fragments[index]
                    break
            return "claim", owner
        part = _take_fragment(state.fragments, line)
        if part is not None:
            if part.where != "within":
                state.pool.take(part.text)  # its exact-line entry is used up too
            return "claim", part.owner
        return ("shell", shell_owner) if in_window else ("human", "")


def _nearest(picks: Sequence[tuple[str, str] | None], index: int) -> tuple[str, str]:
    for distance in range(1, len(picks)):
        for probe in (index - distance, index + distance):
            if 0 <= probe < len(picks):
                found = picks[probe]
                if found is not None:
                    return found
    return ("human", "")


def _variants(human_lines: Sequence[str], ai_lines: Sequence[str]) -> int:
    """How many of the candidate's new lines are rewrites of lines the AI wrote."""
    candidates = [line for line in human_lines if not is_trivial(line)]
    reference = list(dict.fromkeys(line for line in ai_lines if not is_trivial(line)))
    if not candidates or not reference:
        return 0
    exact = len(candidates) * len(reference) <= _MAX_SIMILARITY_PAIRS
    count = 0
    for line in candidates:
        matcher = difflib.SequenceMatcher(None, "", line.strip(), autojunk=False)
        for other in reference:
            matcher.set_seq1(other.strip())
            ratio = matcher.ratio() if exact else matcher.quick_ratio()
            if ratio >= SIMILARITY:
                count += 1
                break
    return count


def _decide(
    ai_added: int,
    human_added: int,
    ai_removed: int,
    human_removed: int,
    revised: int,
    user_modified: bool,
    ai_active: bool,
) -> tuple[Verdict, float]:
    human_quiet = CONFIDENCE_HUMAN_BUSY if ai_active else CONFIDENCE_HUMAN_QUIET
    if user_modified or (revised and (human_added or human_removed)):
        return "ai_revised_by_human", CONFIDENCE_REVISED
    human = human_added or human_removed
    ai = ai_added or ai_removed
    if ai and human:
        return "mixed", CONFIDENCE_MIXED
    if ai:
        return "likely_ai", CONFIDENCE_CLAIM
    if human:
        return "likely_human", human_quiet
    return "unknown", 0.5  # nothing added or removed (a mode change, an empty file)


def attribute_changes(
    changes: Iterable[FileChange],
    claims: Iterable[EditClaim] = (),
    windows: Iterable[CommandWindow] = (),
    *,
    claim_skew: timedelta = CLAIM_SKEW,
    command_settle: timedelta = COMMAND_SETTLE,
    claim_expiry: timedelta = CLAIM_EXPIRY,
) -> list[ChangeVerdict]:
    """Attribute a whole session's changes; verdicts come back in the order of `changes`."""
    attributor = Attributor(
        claim_skew=claim_skew, command_settle=command_settle, claim_expiry=claim_expiry
    )
    for claim in sorted(claims, key=lambda c: c.time):
        attributor.add_claim(claim)
    for window in sorted(windows, key=lambda w: w.start):
        attributor.add_window(window)
    ordered = sorted(enumerate(changes), key=lambda item: item[1].time)
    verdicts: dict[int, ChangeVerdict] = {}
    for index, change in ordered:
        verdicts[index] = attributor.attribute(change)
    return [verdicts[index] for index in sorted(verdicts)]


def ai_attribution_pct(verdicts: Iterable[ChangeVerdict]) -> float | None:
    """AI-attributed added lines over all added lines × 100; None when nothing was added."""
    ai = human = 0
    for verdict in verdicts:
        ai += verdict.ai_lines
        human += verdict.human_lines
    return None if ai + human == 0 else 100.0 * ai / (ai + human)
