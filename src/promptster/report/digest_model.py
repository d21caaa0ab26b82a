"""What the page's digest of a timeline keeps (report.timeline_data makes it): counts and
compact per-event columns for the charts, the file changes, the test runs, the first
decisions and capture warnings.

A million-event session has 150,000 file changes: `FileColumns` keeps them in columns (~80
bytes each instead of ~240 as objects with their own strings and numbers) and makes each
`FileEvent` when it is read.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, overload

# Warnings that say the record may be incomplete or its time unreliable: the report lists
# them in a banner near the top (report.capture), at most CAPTURE_KEPT of them.
CAPTURE_CODES = frozenset({"capture_gap", "recorder_restart", "clock_jump", "deadline_mismatch"})
CAPTURE_KEPT = 50
# Characters kept per long field; divided among the events that have one, within these bounds.
TEXT_BUDGET = 12 * 1024 * 1024
FIELD_MAX, FIELD_MIN = 8 * 1024, 400


@dataclass(frozen=True, slots=True)
class FileEvent:
    seq: int
    t: int
    kind: str
    path: str
    commit: str
    added: int
    removed: int
    ai_lines: int
    human_lines: int
    attribution: str
    diff: str | None  # the event's own bounded diff, used when the snapshots have none


@dataclass(frozen=True, slots=True)
class TestPoint:
    seq: int
    t: int
    passed: int
    failed: int
    skipped: int
    errors: int
    exit: int | None = None
    outcome: str | None = None  # as recorded; None in events from before outcomes were kept


# Test-run outcomes the timeline names beside the counts (passed and failed read from them).
_INT64 = (-(2**63), 2**63 - 1)
_COMMIT = 20  # bytes of a commit id written as 40 lower-case hex digits


class FileColumns(Sequence[FileEvent]):
    """File changes in timeline order; read-only, each access makes its `FileEvent`. A change
    whose values do not fit the columns (a number beyond 64 bits, a commit that is not a SHA-1
    in lower-case hex, a diff of its own) is kept whole, aside."""

    def __init__(self) -> None:
        self._numbers = array("q")  # seq, t, added, removed, ai lines, human lines
        self._codes = array("I")  # kind, path, attribution: indexes into _names
        self._commits = bytearray()
        self._names: list[str] = []
        self._name_codes: dict[str, int] = {}
        self._whole: dict[int, FileEvent] = {}

    def _code(self, text: str) -> int:
        code = self._name_codes.get(text)
        if code is None:
            code = self._name_codes[text] = len(self._names)
            self._names.append(text)
        return code

    def append(self, change: FileEvent) -> None:
        position = len(self)
        numbers = (
            change.seq, change.t, change.added, change.removed, change.ai_lines,
            change.human_lines,
        )  # fmt: skip
        low, high = _INT64
        commit = _commit_bytes(change.commit)
        if change.diff is not None or commit is None or not all(low <= n <= high for n in numbers):
            self._whole[position] = change
            numbers, commit = (0, 0, 0, 0, 0, 0), bytes(_COMMIT)
        self._numbers.extend(numbers)
        self._codes.extend(
            (self._code(change.kind), self._code(change.path), self._code(change.attribution))
        )
        self._commits += commit

    def __len__(self) -> int:
        return len(self._codes) // 3

    @overload
    def __getitem__(self, index: int) -> FileEvent: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[FileEvent]: ...
    def __getitem__(self, index: int | slice) -> FileEvent | Sequence[FileEvent]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        whole = self._whole.get(index)
        if whole is not None:
            return whole
        seq, t, added, removed, ai, human = self._numbers[6 * index : 6 * index + 6]
        kind, path, attribution = self._codes[3 * index : 3 * index + 3]
        commit = self._commits[_COMMIT * index : _COMMIT * (index + 1)].hex()
        names = self._names
        return FileEvent(
            seq, t, names[kind], names[path], commit, added, removed, ai, human,
            names[attribution], None,
        )  # fmt: skip

    def __iter__(self) -> Iterator[FileEvent]:
        for index in range(len(self)):
            yield self[index]


def _commit_bytes(commit: str) -> bytes | None:
    if len(commit) != 2 * _COMMIT:
        return None
    try:
        packed = bytes.fromhex(commit)
    except ValueError:
        return None
    return packed if packed.hex() == commit else None


_SAID_OUTCOMES = ("error", "no_tests", "interrupted", "unknown")

DECISIONS_KEPT = 300  # decisions whose fields the digest keeps (the report lists as many)


class SeqColumn(Sequence[int]):
    """Each event's seq, in timeline order: kept only where it differs from the event's
    position (in a verified timeline, nowhere)."""

    def __init__(self) -> None:
        self._count = 0
        self._other: dict[int, int] = {}

    def append(self, seq: int) -> None:
        if seq != self._count:
            self._other[self._count] = seq
        self._count += 1

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...
    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(self._count)[index]]
        position = range(self._count)[index]  # IndexError beyond the end, as a list
        return self._other.get(position, position)

    def __iter__(self) -> Iterator[int]:
        other = self._other
        for position in range(self._count):
            yield other.get(position, position)


def append_code(column: array[int], code: int) -> array[int]:
    """`column` with `code` appended: the same array, or (past 255) one of 4-byte codes."""
    if code > 255 and column.typecode == "B":
        column = array("I", column)
    column.append(code)
    return column


class RowSink(Protocol):
    """Where each page row goes (a list, or events_block.RowsFile)."""

    def append(self, row: list[Any]) -> None: ...


@dataclass
class Digest:
    t0: datetime | None = None
    event_count: int = 0
    kinds: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    attributions: list[str] = field(default_factory=list)
    # per event, in timeline order: its seq, ms offset, and kind and actor (indexes into
    # `kinds` and `actors`), for the charts; ~10 bytes an event, not a Python row: a seq is
    # stored only where it is not the event's position, a code in one byte while it fits
    seqs: SeqColumn = field(default_factory=lambda: SeqColumn())
    times: array[int] = field(default_factory=lambda: array("q"))
    kind_codes: array[int] = field(default_factory=lambda: array("B"))
    actor_codes: array[int] = field(default_factory=lambda: array("B"))
    # events per index of kinds, actors, sources, attributions
    code_counts: tuple[Counter[int], ...] = field(
        default_factory=lambda: (Counter(), Counter(), Counter(), Counter())
    )
    id_to_seq: dict[str, int] = field(default_factory=dict)  # of the ids asked for only
    files: FileColumns = field(default_factory=FileColumns)  # compact: 150,000 in 1M events
    tests: list[TestPoint] = field(default_factory=list)
    decisions: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)  # the first
    decision_count: int = 0
    start: dict[str, Any] = field(default_factory=dict)
    integrations: set[str] = field(default_factory=set)
    end_t: int = 0
    field_cap: int = FIELD_MAX
    cut_fields: int = 0
    unreadable_lines: int = 0
    # (seq, t, code, data) of each CAPTURE_CODES warning, the first CAPTURE_KEPT; and how many
    capture: list[tuple[int, int, str, dict[str, Any]]] = field(default_factory=list)
    capture_total: int = 0

    def counts(self, column: int, names: list[str]) -> list[tuple[str, int]]:
        """(name, events) of a row column (2 kind, 3 actor, 4 source, 5 attribution), most
        first."""
        counter = self.code_counts[column - 2]
        return sorted(((names[i], n) for i, n in counter.items()), key=lambda kv: (-kv[1], kv[0]))

    def kind_count(self, kind: str) -> int:
        return self.code_counts[0][self.kinds.index(kind)] if kind in self.kinds else 0
