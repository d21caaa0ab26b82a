"""The steps a scenario is made of: what the stand-in model has Claude Code do, and what the
candidate does by hand, each with its effect on the ground truth (truth.py).

An AI step becomes one tool call of a scripted Claude Code turn; a hand step is done by the
driver itself on the workspace, between Claude Code runs (or, for `during`, while an AI shell
command runs). Paths are relative to the workspace.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truth import AI, HUMAN, REVISED, UNKNOWN, Truth

Block = dict[str, Any]


def lines_of(text: str) -> list[str]:
    return text.replace("\r\n", "\n").removesuffix("\n").split("\n")


@dataclass(frozen=True)
class AIWrite:
    """Claude Code's `Write` tool: the whole file, new or replaced."""

    path: str
    text: str

    def apply(self, truth: Truth) -> None:
        truth.write(self.path, self.text, AI)


@dataclass(frozen=True)
class AIEdit:
    """Claude Code's `Edit` tool: lines [start, end) replaced by `new` (old text taken from the
    truth when the step runs, so it is exactly what the file holds)."""

    path: str
    start: int
    end: int
    new: tuple[str, ...]

    def strings(self, truth: Truth) -> tuple[str, str]:
        old = truth.files[self.path].texts()[self.start : self.end]
        return "\n".join(old), "\n".join(self.new)

    def apply(self, truth: Truth) -> None:
        truth.replace(self.path, self.start, self.end, list(self.new), AI)


@dataclass(frozen=True)
class AIDenied(AIEdit):
    """An `Edit` Claude Code refuses to run (a permission deny rule in the workspace settings):
    the proposal reaches the model's transcript, the file never changes."""

    def apply(self, truth: Truth) -> None:
        pass


@dataclass(frozen=True)
class AIShell:
    """Claude Code's `Bash` tool writing files: `writes` is {path: content} written with a
    heredoc (new files or whole rewrites), `moves` renames, `removes` deletes."""

    writes: tuple[tuple[str, str], ...] = ()
    moves: tuple[tuple[str, str], ...] = ()
    removes: tuple[str, ...] = ()
    # Hand steps the driver does while the command sleeps (a save during an AI command).
    during: tuple[Any, ...] = ()
    sleep: float = 0.0
    # Files written before the sleep (the `writes` come after it).
    before: tuple[tuple[str, str], ...] = ()

    def command(self, marker: Path | None) -> str:
        parts: list[str] = []
        if marker is not None:
            parts.append(f"touch {shlex.quote(str(marker))}")
        for path, content in self.before:
            parts.append(f"cat > {shlex.quote(path)} <<'PST_EOF'\n{content}PST_EOF")
        if self.sleep:
            parts.append(f"sleep {self.sleep}")
        for path, content in self.writes:
            parts.append(f"cat > {shlex.quote(path)} <<'PST_EOF'\n{content}PST_EOF")
        for old, new in self.moves:
            parts.append(f"mv {shlex.quote(old)} {shlex.quote(new)}")
        for path in self.removes:
            parts.append(f"rm {shlex.quote(path)}")
        return "\n".join(parts)

    def apply(self, truth: Truth) -> None:
        for path, content in (*self.before, *self.writes):
            truth.write(path, content, AI)
        for old, new in self.moves:
            truth.rename(old, new)
        for path in self.removes:
            truth.delete(path)


@dataclass(frozen=True)
class HandWrite:
    """The candidate writes a whole file (new, or a rewrite): every line is `author`'s
    (`unknown` for a pasted block)."""

    path: str
    text: str
    author: str = HUMAN
    newline: str = "\n"

    def apply(self, truth: Truth) -> None:
        truth.write(self.path, self.text, self.author, self.newline)


@dataclass(frozen=True)
class HandReplace:
    """The candidate replaces lines [start, end) with `new`; `revise` marks an in-place
    revision (an AI line changed by hand becomes `ai_then_human`); `author` may be `unknown`
    for a paste."""

    path: str
    start: int
    end: int
    new: tuple[str, ...]
    revise: bool = False
    author: str = HUMAN
    # Every line retyped (a rewrite): even lines equal to the old ones are the candidate's.
    retyped: bool = False

    def apply(self, truth: Truth) -> None:
        author = REVISED if self.revise else self.author
        truth.replace(self.path, self.start, self.end, list(self.new), author, self.retyped)


@dataclass(frozen=True)
class HandReindent:
    path: str
    start: int
    end: int
    prefix: str

    def apply(self, truth: Truth) -> None:
        truth.reindent(self.path, self.start, self.end, self.prefix)


@dataclass(frozen=True)
class HandRename:
    old: str
    new: str

    def apply(self, truth: Truth) -> None:
        truth.rename(self.old, self.new)


@dataclass(frozen=True)
class HandDelete:
    path: str

    def apply(self, truth: Truth) -> None:
        truth.delete(self.path)


AIStep = AIWrite | AIEdit | AIDenied | AIShell
HandStep = HandWrite | HandReplace | HandReindent | HandRename | HandDelete


@dataclass(frozen=True)
class Round:
    """One turn of a scenario: the AI's steps (one Claude Code run) or the candidate's."""

    ai: tuple[AIStep, ...] = ()
    hand: tuple[HandStep, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    starter: dict[str, str] = field(default_factory=dict)
    rounds: tuple[Round, ...] = ()
    tool: str = "claude"
    # Authors a scenario also accepts for a line, when the contract allows either reading.
    also: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def denied(self) -> list[str]:
        return [s.path for r in self.rounds for s in r.ai if isinstance(s, AIDenied)]


def ai(*steps: AIStep) -> Round:
    return Round(ai=steps)


def hand(*steps: HandStep) -> Round:
    return Round(hand=steps)


__all__ = ["AI", "HUMAN", "REVISED", "UNKNOWN"]
