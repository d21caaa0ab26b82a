"""The AI's lines per file, as the attributor (engine.py) keeps them between changes.

Lines an AI edit claim adds wait in the file's pool until a change shows them (or they expire);
the first and last line of an edit may be only part of a file line (`Fragment`); the lines the
AI wrote that are still in the file are counted, so a later hand edit of them is a revision.
Lines are compared without trailing whitespace (`key`); trivial lines match nothing."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from promptster.record.attribution.model import EditClaim

_TWO_WORD_CHARS = re.compile(r"\w\W*\w")


def key(line: str) -> str:
    return line.rstrip()


def is_trivial(line: str) -> bool:
    """Blank lines and bare punctuation (`}`, `);`) say nothing about who wrote them (fewer
    than two word characters)."""
    return _TWO_WORD_CHARS.search(line) is None


@dataclass(frozen=True)
class Fragment:
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


class Pool:
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
class FileState:
    pool: Pool = field(default_factory=Pool)  # AI-added lines not yet observed
    old_pool: Counter[str] = field(default_factory=Counter)  # lines AI edits removed
    fragments: list[Fragment] = field(default_factory=list)  # ... when edits split lines
    old_fragments: list[Fragment] = field(default_factory=list)
    live_ai: Counter[str] = field(default_factory=Counter)  # AI lines now in the file
    modified_claims: dict[str, datetime] = field(default_factory=dict)  # userModified claims
    last_claim: datetime | None = None
    last_owner: str = ""
    truncated: dict[str, datetime] = field(default_factory=dict)  # cut claims: owner -> time

    def release(self, claim: EditClaim) -> None:
        """Take in a claim of this file: its lines become match candidates."""
        added, removed = claim_lines(claim)
        for line, count in added.items():
            self.pool.add(line, claim.tool_use_id, claim.time, count)
        self.old_pool.update(removed)
        self.fragments.extend(fragments(claim.new_text, added, claim.tool_use_id, claim.time))
        self.old_fragments.extend(fragments(claim.old_text, removed, claim.tool_use_id))
        if claim.user_modified:
            self.modified_claims[claim.tool_use_id] = claim.time
        if claim.truncated:
            self.truncated[claim.tool_use_id] = claim.time
        if self.last_claim is None or claim.time >= self.last_claim:
            self.last_claim, self.last_owner = claim.time, claim.tool_use_id

    def expire(self, before: datetime) -> None:
        """Drop AI lines proposed before `before` that no change has shown."""
        self.pool.expire(before)
        self.fragments = [f for f in self.fragments if f.time is None or f.time >= before]
        self.truncated = {k: v for k, v in self.truncated.items() if v >= before}

    def withdraw(self, owner: str) -> None:
        """An edit that never ran: its lines are no longer candidates."""
        self.pool.withdraw(owner)
        self.fragments = [f for f in self.fragments if f.owner != owner]
        self.truncated.pop(owner, None)


def claim_lines(claim: EditClaim) -> tuple[Counter[str], Counter[str]]:
    """The lines a claim adds and removes (its context lines cancel out)."""
    new = Counter(key(x) for x in claim.new_text.splitlines())
    old = Counter(key(x) for x in claim.old_text.splitlines())
    return new - old, old - new


def fragments(
    text: str, changed: Counter[str], owner: str, time: datetime | None = None
) -> list[Fragment]:
    """The first and last lines of an edit's text, which may be parts of file lines (only those
    the edit changed: its context lines explain nothing)."""
    lines = [key(line) for line in text.splitlines()]
    if not lines:
        return []
    if len(lines) == 1:
        ends = [(lines[0], Fragment(lines[0].strip(), "within", owner, time))]
    else:
        ends = [(lines[0], Fragment(lines[0], "end", owner, time))]
        ends.append((lines[-1], Fragment(lines[-1], "start", owner, time)))
    return [fragment for line, fragment in ends if changed[line]]


def take_fragment(fragments: list[Fragment], line: str) -> Fragment | None:
    for index, fragment in enumerate(fragments):
        if not is_trivial(fragment.text) and fragment.matches(line):
            return fragments.pop(index)
    return None
