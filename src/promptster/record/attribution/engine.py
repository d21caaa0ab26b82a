"""Who wrote a file change: the AI, the candidate, or both.

Pure and typed: inputs are explicit values (model.py: the change the snapshots observed, the
edits the AI tool reported, the windows in which the AI ran shell commands); the output is a
verdict per change. The algorithm and its limits are described in docs/attribution.md.

In short: every line an AI edit claim adds goes into a per-file pool (claims.py). A change's
added lines that match the pool are the AI's (and are taken out of it); lines added while an
AI-run shell command was running are the AI's too, unless the change's `WriteEvidence` shows
the command's processes did not write it (windows.py); every other line is the candidate's.
Lines the AI wrote stay "live" per file, so a later hand edit that removes or rewrites them
makes that change `ai_revised_by_human` (verdict.py).

`Attributor` is incremental (feed it claims, windows and changes in time order, as the recorder
sees them); `attribute_changes` runs it over a whole session at once. The values it works on
are importable from here too.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from promptster.record.attribution.claims import FileState, is_trivial, key, take_fragment
from promptster.record.attribution.model import (
    ChangeVerdict,
    CommandCounts,
    CommandWindow,
    EditClaim,
    FileChange,
    Verdict,
    WriteEvidence,
)
from promptster.record.attribution.verdict import CONFIDENCE_SHELL, SIMILARITY, decide, variants
from promptster.record.attribution.windows import COMMAND_SETTLE, DIRTY_WINDOW, CommandWindows

__all__ = [
    "CLAIM_EXPIRY",
    "CLAIM_SKEW",
    "COMMAND_SETTLE",
    "DIRTY_WINDOW",
    "SIMILARITY",
    "Attributor",
    "ChangeVerdict",
    "CommandCounts",
    "CommandWindow",
    "EditClaim",
    "FileChange",
    "Verdict",
    "WriteEvidence",
    "ai_attribution_pct",
    "attribute_changes",
    "is_trivial",
]

# How far a change may precede the claim that explains it (the watcher may commit a snapshot
# before the PostToolUse event that carries the claim reaches the recorder).
CLAIM_SKEW = timedelta(seconds=5)
# How long an AI edit's lines stay match candidates after the edit ran: a snapshot shows an
# edit within a second or two, so a line typed minutes later that happens to equal an unused
# line of an old proposal (`import logging`) is the candidate's, not the AI's.
CLAIM_EXPIRY = timedelta(seconds=60)


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
        self._files: dict[str, FileState] = {}
        self._packed: dict[str, bytes] = {}  # files' states as a checkpoint keeps them
        self._pending: list[EditClaim] = []
        self._windows = CommandWindows(command_settle)
        self._changed_at: dict[str, datetime] = {}  # path -> its last change attributed
        self._claim_skew = claim_skew
        self._expiry = claim_expiry

    @property
    def windows_consulted(self) -> list[datetime]:
        """The change times at which the candidate's shell windows were looked at: a window
        learnt later (its command ended later) matters only if it covers one of them."""
        return self._windows.consulted

    def _file(self, path: str) -> FileState:
        state = self._files.get(path)
        if state is None:  # not setdefault: a FileState is 10 fields to build on every call
            packed = self._packed.pop(path, None)
            state = FileState() if packed is None else pickle.loads(packed)
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
        self._windows.add(window)

    def withdraw(self, tool_use_id: str) -> None:
        """An edit that was proposed but never ran: its lines are no longer candidates."""
        self._pending = [c for c in self._pending if c.tool_use_id != tool_use_id]
        for path in list(self._packed):
            self._file(path)
        for state in self._files.values():
            state.withdraw(tool_use_id)

    def add_human_window(self, start: datetime, end: datetime) -> None:
        """A command the candidate ran in the recorded shell (an editor, `cp`, a redirect):
        files that change while it runs are the candidate's, even inside an AI command's
        window."""
        self._windows.add_human(start, end)

    def _release_claims(self, until: datetime) -> None:
        """Move claims made before `until + skew` into their file's pool."""
        keep: list[EditClaim] = []
        for claim in self._pending:
            if claim.time > until + self._claim_skew:
                keep.append(claim)
                continue
            self._file(claim.path).release(claim)
        self._pending = keep

    def ai_command_at(self, time: datetime, slack: timedelta = timedelta(seconds=1)) -> bool:
        """Whether an AI-run shell command was running at `time` (give or take `slack`: git's
        reflog keeps whole seconds)."""
        return self._windows.ai_command_at(time, slack)

    def attribute(self, change: FileChange) -> ChangeVerdict:
        self._release_claims(change.time)
        state = self._file(change.path)
        # AI lines proposed longer than CLAIM_EXPIRY ago that no change has shown are dropped.
        state.expire(change.time - self._expiry)
        window = self._windows.explaining(change, self._changed_at.get(change.path))
        owners: list[str] = []
        line_owners: list[str] = []

        labels = self._label_added(change, state, window, owners, line_owners)
        if window is not None and "shell" in labels:
            owners.append(window.tool_use_id)
            if "claim" not in labels:  # the client's own edits are not in the command's count
                self._windows.spend(window, change)
        ai_added = sum(1 for label in labels if label != "human")
        human_added = len(labels) - ai_added

        ai_removed = human_removed = revised = 0
        for line in map(key, change.removed):
            if state.old_pool[line] > 0:
                state.old_pool[line] -= 1
                ai_removed += 1
            elif take_fragment(state.old_fragments, line) is not None or window is not None:
                ai_removed += 1
            else:
                human_removed += 1
                revised += state.live_ai[line] > 0
            if state.live_ai[line] > 0:
                state.live_ai[line] -= 1
        human_new = [
            key(x) for x, mark in zip(change.added, labels, strict=True) if mark == "human"
        ]
        # A hand-tweaked version of an AI proposal that the snapshots never saw as the AI wrote it.
        revised += variants(human_new, list(state.pool.elements()))
        for line, mark in zip(change.added, labels, strict=True):
            if mark != "human":
                state.live_ai[key(line)] += 1
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
        attribution, confidence = decide(
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
        state: FileState,
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
            label, owner = self._take(key(line), state, window is not None, shell_owner)
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
                state.pool.take(key(added[index]))
            if label == "claim" and owner:
                owners.append(owner)
            result.append(label)
            line_owners.append(owner if label != "human" else "")
        return result

    @staticmethod
    def _take(line: str, state: FileState, in_window: bool, shell_owner: str) -> tuple[str, str]:
        owner = state.pool.take(line)
        if owner is not None:
            for index, whole in enumerate(state.fragments):  # the same line, seen whole
                if whole.owner == owner and whole.text.strip() == line.strip():
                    del state.fragments[index]
                    break
            return "claim", owner
        part = take_fragment(state.fragments, line)
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
