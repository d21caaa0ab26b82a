"""The events the detectors read, stored in compact columns; an `Ev` is made when one is read.

A million-event session keeps ~450,000 events of the decoded kinds. As Python objects (an
`Ev`, its id string and its `data` dict) they took ~475 bytes each, ~215 MB of the reviewer's
memory; here they take ~90: seq and time in 8-byte columns, kind, actor, attribution and the
set of `data` keys as 4-byte codes, the id in a fixed 16-byte slot (a UUID; any other id is
kept aside), and the kept `data` values as one compact JSON array in a shared buffer.
`EvView` is a read-only sequence of some of them (a kind's, or several kinds' in seq order):
each access builds a fresh `Ev`, equal to the one stored, so nothing a detector does not keep
is held.
"""

from __future__ import annotations

import json
import json.scanner
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from promptster.formats.events import FILE_KINDS

_ID_SLOT = 16  # a UUID's bytes; any other id (not a UUID in lower case) is kept aside
_NO_ID = b"\0" * _ID_SLOT
_DASHES = (8, 13, 18, 23)
# One encoder and one scanner for every event: json.dumps with options builds an encoder per
# call, json.loads wraps the scan in two more calls (450,000 events, each read a few times).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_scan: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(
    json.JSONDecoder()  # type: ignore[arg-type]  # typeshed names the class, not a decoder
)


def _packed(ident: str) -> bytes | None:
    """The 16 bytes of a UUID written as `uuid.uuid4()` writes it, else None."""
    if len(ident) != 36 or any(ident[i] != "-" for i in _DASHES):
        return None
    try:
        packed = bytes.fromhex(ident.replace("-", ""))
    except ValueError:
        return None
    return packed if len(packed) == _ID_SLOT and _unpacked(packed) == ident else None


def _unpacked(packed: bytes | bytearray) -> str:
    h = packed.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to build, 100,000 times
class Ev:
    """One event: where it is (seq, id, ms since the session start), what and who, and its
    `data` when its kind is decoded (else empty). Read-only by convention."""

    seq: int
    id: str
    t: int
    kind: str
    actor: str = "unknown"
    attribution: str = "unknown"
    data: dict[str, Any] = field(default_factory=dict)

    def text(self, key: str) -> str:
        value = self.data.get(key)
        return value if isinstance(value, str) else ""

    def number(self, key: str) -> int | None:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value)

    @property
    def is_file(self) -> bool:
        return self.kind in FILE_KINDS

    @property
    def lines_changed(self) -> int:
        return (self.number("linesAdded") or 0) + (self.number("linesRemoved") or 0)

    @property
    def by_ai(self) -> bool:
        return self.attribution == "likely_ai" or (
            self.actor == "ai" and self.attribution in ("unknown", "mixed")
        )

    @property
    def by_human(self) -> bool:
        return self.attribution in ("likely_human", "ai_revised_by_human") or (
            self.actor == "human" and self.attribution == "unknown"
        )


class EvColumns(Sequence[Ev]):
    """The stored events, in the order they were added."""

    def __init__(self) -> None:
        self._seqs = array("q")
        self._times = array("q")
        # kind, actor, attribution and data keys of each event, as indexes into _names/_keys
        self._codes = array("I")
        self._names: list[str] = []
        self._name_codes: dict[str, int] = {}
        self._keys: list[tuple[str, ...]] = []
        self._key_codes: dict[tuple[str, ...], int] = {}
        self._ids = bytearray()
        self._odd_ids: dict[int, str] = {}
        self._values = bytearray()
        self._ends = array("q")  # where each event's values end in _values
        self.by_kind: dict[str, array[int]] = {}  # positions of each kind's events

    def _name(self, text: str) -> int:
        code = self._name_codes.get(text)
        if code is None:
            code = self._name_codes[text] = len(self._names)
            self._names.append(text)
        return code

    def add(
        self, seq: int, ident: str, t: int, kind: str, actor: str, attribution: str, data: Any
    ) -> None:
        """Store one event; `data` is the dict of its kept fields (values from JSON)."""
        position = len(self._seqs)
        self._seqs.append(seq)
        self._times.append(t)
        keys = tuple(data)
        key_code = self._key_codes.get(keys)
        if key_code is None:
            key_code = self._key_codes[keys] = len(self._keys)
            self._keys.append(keys)
        self._codes.extend((self._name(kind), self._name(actor), self._name(attribution), key_code))
        packed = _packed(ident)
        if packed is None:
            self._ids += _NO_ID
            self._odd_ids[position] = ident
        else:
            self._ids += packed
        if keys:
            values = _encode(list(data.values()))
            self._values += values.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._values))
        found = self.by_kind.get(kind)
        if found is None:
            found = self.by_kind[kind] = array("I")
        found.append(position)

    def seq(self, position: int) -> int:
        return self._seqs[position]

    def __len__(self) -> int:
        return len(self._seqs)

    @overload
    def __getitem__(self, index: int) -> Ev: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Ev]: ...
    def __getitem__(self, index: int | slice) -> Ev | Sequence[Ev]:
        if isinstance(index, slice):
            return EvView(self, array("I", range(len(self))[index]))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.ev(index)

    def ev(self, index: int) -> Ev:
        """The event at `index` (0 ≤ index < len), made now."""
        codes = self._codes[4 * index : 4 * index + 4]
        names = self._names
        keys = self._keys[codes[3]]
        data: dict[str, Any] = {}
        if keys:
            start = self._ends[index - 1] if index else 0
            values = self._values[start : self._ends[index]].decode("utf-8", "surrogatepass")
            data = dict(zip(keys, _scan(values, 0)[0], strict=True))
        ident = self._odd_ids.get(index)
        if ident is None:
            ident = _unpacked(self._ids[_ID_SLOT * index : _ID_SLOT * (index + 1)])
        return Ev(
            self._seqs[index],
            ident,
            self._times[index],
            names[codes[0]],
            names[codes[1]],
            names[codes[2]],
            data,
        )

    def __iter__(self) -> Iterator[Ev]:
        for position in range(len(self)):
            yield self.ev(position)


class EvView(Sequence[Ev]):
    """Some of the stored events, by position: read-only, each access makes its `Ev`."""

    __slots__ = ("_at", "_columns")

    def __init__(self, columns: EvColumns, at: array[int]) -> None:
        self._columns = columns
        self._at = at

    def __len__(self) -> int:
        return len(self._at)

    @overload
    def __getitem__(self, index: int) -> Ev: ...
    @overload
    def __getitem__(self, index: slice) -> EvView: ...
    def __getitem__(self, index: int | slice) -> Ev | EvView:
        if isinstance(index, slice):
            return EvView(self._columns, self._at[index])
        return self._columns[self._at[index]]

    def __iter__(self) -> Iterator[Ev]:
        make = self._columns.ev
        for position in self._at:
            yield make(position)


def view_of(columns: EvColumns, kinds: Sequence[str]) -> EvView:
    """The events of `kinds`, in seq order (one kind: in timeline order)."""
    if len(kinds) == 1:
        return EvView(columns, columns.by_kind.get(kinds[0], array("I")))
    found = array("I")
    for kind in kinds:
        found.extend(columns.by_kind.get(kind, ()))
    return EvView(columns, array("I", sorted(found, key=columns.seq)))  # stable, as before
