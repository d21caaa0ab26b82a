"""The lines of a file as the line-authorship replay has them, and how one change gives its
lines their origins (the rules are listed in authorship.py)."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from promptster.bundle.authorship import LineOrigin, is_binary, split_text
from promptster.record.attribution.claims import is_trivial
from promptster.record.attribution.model import ChangeVerdict
from promptster.record.attribution.verdict import SIMILARITY

REWRITE_SHARE = 0.5
MAX_PAIRS = 200  # AI lines of a replaced block compared with each new line (bounded work)
STARTER = LineOrigin("starter")
AI_AUTHORS = frozenset({"ai", "ai_then_human"})


@dataclass
class Line:
    text: str
    origin: LineOrigin
    trivial: bool = False

    @classmethod
    def of(cls, text: str, origin: LineOrigin) -> Line:
        return cls(text, origin, is_trivial(text))


Columns = tuple[list[str], list[LineOrigin], bytes]  # texts, origins, trivial flags
Packed = tuple[bool, bytes]


class FileLines:
    """A file's lines as the replay has them. Pickled (checkpoint.py) as its columns (text,
    origins, trivial flags) pickled on their own, unpickled only when the replay or the member
    needs them (most files see no event after a checkpoint), and made `Line`s only when an
    event changes the file again."""

    __slots__ = ("_lines", "_packed", "binary")

    def __init__(self, lines: list[Line], binary: bool = False) -> None:
        self._lines: list[Line] | None = lines
        self._packed: Columns | bytes | None = None  # bytes: the columns, pickled
        self.binary = binary

    def _columns(self) -> Columns | None:
        if isinstance(self._packed, bytes):
            self._packed = pickle.loads(self._packed)
        return cast("Columns | None", self._packed)

    @property
    def lines(self) -> list[Line]:
        if self._lines is None:
            packed = self._columns()
            assert packed is not None
            texts, origins, trivial = packed
            self._lines = [
                Line(*line) for line in zip(texts, origins, map(bool, trivial), strict=True)
            ]
            self._packed = None
        return self._lines

    def copy(self) -> FileLines:
        """The same lines as new objects: a later change to one file leaves the other alone."""
        return FileLines([Line(x.text, x.origin, x.trivial) for x in self.lines], self.binary)

    def columns(self) -> tuple[list[str], list[LineOrigin]]:
        packed = self._columns()
        if packed is not None:
            return packed[0], packed[1]
        lines = self.lines
        return [line.text for line in lines], [line.origin for line in lines]

    def pack(self) -> Packed:
        """The file for pickling: its columns, pickled on their own. (No two files hold the same
        `Line`: a copy gets its own, see `copy`.)"""
        if isinstance(self._packed, bytes):  # as the last checkpoint kept it
            return self.binary, self._packed
        packed = self._packed
        if packed is None:
            lines = self.lines
            texts, origins = [x.text for x in lines], [x.origin for x in lines]
            packed = texts, origins, bytes(x.trivial for x in lines)
        return self.binary, pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def unpack(cls, packed: Packed) -> FileLines:
        binary, kept = packed
        found = cls([], binary)
        found._lines, found._packed = None, kept
        return found


def starter_file(content: bytes) -> FileLines:
    if is_binary(content):
        return FileLines([], binary=True)
    return FileLines([Line.of(text, STARTER) for text in split_text(content)])


def _similar(a: str, b: str) -> bool:
    """A revision of a line keeps most of it: the common prefix and suffix (whitespace at
    the ends ignored) are at least SIMILARITY of the longer line. Linear, unlike difflib."""
    a, b = a.strip(), b.strip()
    longest = max(len(a), len(b))
    if not longest:
        return False
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    suffix = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y or prefix + suffix >= min(len(a), len(b)):
            break
        suffix += 1
    return (prefix + suffix) / longest >= SIMILARITY


def assign(
    old: list[Line],
    new_texts: list[str],
    opcodes: Sequence[tuple[str, int, int, int, int]],
    verdict: ChangeVerdict,
    here: LineOrigin,
    tool_of: Callable[[str], str | None],
    pasted: bool,
) -> list[Line]:
    moved: dict[str, list[LineOrigin]] = {}
    replaced = 0
    for tag, i1, i2, _, _ in opcodes:
        if tag != "equal":
            for line in old[i1:i2]:
                if not line.trivial:
                    moved.setdefault(line.text.strip(), []).append(line.origin)
                    replaced += 1
    meaningful_old = sum(1 for line in old if not line.trivial)
    labels = iter(zip(verdict.line_labels, verdict.line_owners, strict=True))
    result: list[Line] = []
    added_origins: list[LineOrigin] = []
    ai_origins: dict[str, LineOrigin] = {}
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            result.extend(old[i1:i2])
            continue
        block_old = old[i1:i2]
        block_ai = [line for line in block_old if line.origin.author in AI_AUTHORS]
        for text in new_texts[j1:j2]:
            label, owner = next(labels)
            trivial = is_trivial(text)
            carried = moved.get(text.strip()) if not trivial else None
            if carried:
                origin = carried.pop(0)
            elif label != "human":
                origin = ai_origins.get(owner) or ai_origins.setdefault(
                    owner, LineOrigin("ai", tool_of(owner) or None, here.event_id, here.seq)
                )  # one object per owner: run_length compares them by identity first
            elif pasted:
                origin = LineOrigin("unknown", None, here.event_id, here.seq)
            else:
                origin = _human(text, trivial, block_ai, here)
            result.append(Line(text, origin, trivial))
            added_origins.append(origin)
    if not added_origins:
        return result
    change_origin = max(set(added_origins), key=added_origins.count)
    # Lines revised in place (`ai_then_human`: a similar line replaced) are edits of the text
    # that stays, not a rewrite of it: only lines replaced by new text count towards one.
    revised = sum(1 for origin in added_origins if origin.author == "ai_then_human")
    rewrite = meaningful_old > 0 and (replaced - revised) / meaningful_old >= REWRITE_SHARE
    _take_over(result, opcodes, change_origin, rewrite)
    return result


def _human(text: str, trivial: bool, block_ai: list[Line], here: LineOrigin) -> LineOrigin:
    """The candidate's line, or `ai_then_human` when it replaced a similar AI line of the same
    replaced block."""
    if not trivial:
        for line in block_ai[:MAX_PAIRS]:
            if _similar(line.text, text):
                return LineOrigin("ai_then_human", line.origin.tool, here.event_id, here.seq)
    return here


def _take_over(
    result: list[Line],
    opcodes: Sequence[tuple[str, int, int, int, int]],
    origin: LineOrigin,
    rewrite: bool,
) -> None:
    """Unchanged lines the change takes over: all of them in a rewrite (retyped identically),
    else runs of blank/punctuation lines between lines it replaced."""
    for index, (tag, _, _, j1, j2) in enumerate(opcodes):
        if tag != "equal":
            continue
        run = result[j1:j2]
        if rewrite:
            retyped = [
                line
                for line in run
                if line.origin.author != "starter" and line.origin.author != origin.author
            ]
            for line in retyped:
                line.origin = origin
            continue
        before_changed = index > 0 and opcodes[index - 1][0] in ("insert", "replace")
        after_changed = index + 1 < len(opcodes) and opcodes[index + 1][0] in ("insert", "replace")
        if before_changed and after_changed and all(line.trivial for line in run):
            for line in run:
                line.origin = origin
