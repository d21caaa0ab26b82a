"""Reading an asciicast (v2: absolute times, v3: intervals) without trusting it.

`CastStream` reads the header, then yields events one line at a time from any stream, so a
recording of any size plays in bounded memory: a line longer than `MAX_EVENT_LINE` or nested
too deeply is skipped and counted, never fatal. `read_cast` is the whole-bytes form.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from promptster.bundle.reader import bounded_lines
from promptster.errors import FormatError

MAX_HEADER_LINE = 1024 * 1024
MAX_EVENT_LINE = 16 * 1024 * 1024

Event = tuple[float, str, str]


@dataclass
class Recording:
    """A cast as read back: header fields and (absolute seconds, code, data) events."""

    width: int
    height: int
    header: dict[str, Any]
    events: list[Event]
    skipped: int = 0  # lines that were not events

    @property
    def duration(self) -> float:
        return self.events[-1][0] if self.events else 0.0


def _loads(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # a hostile line nested 100,000 deep: not an event
        return None


def _dimension(value: object, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10_000:
        return value
    return default


class CastStream:
    """A cast read from `stream`: the header at once (FormatError if it is not one), the
    events as `events()` is iterated."""

    def __init__(self, stream: BinaryIO) -> None:
        self._lines = bounded_lines(stream, MAX_EVENT_LINE)
        first = next(self._lines, None)
        header = (
            _loads(first) if isinstance(first, bytes) and len(first) <= MAX_HEADER_LINE else None
        )
        if not isinstance(header, dict) or header.get("version") not in (2, 3):
            raise FormatError("not an asciicast v2 or v3 recording")
        term = header.get("term") if isinstance(header.get("term"), dict) else {}
        self.header: dict[str, Any] = header
        self.width = _dimension(header.get("width", term.get("cols") if term else None), 80)
        self.height = _dimension(header.get("height", term.get("rows") if term else None), 24)
        self._relative = header["version"] == 3
        self.skipped = 0

    def events(self) -> Iterator[Event]:
        clock = 0.0
        for raw in self._lines:
            if isinstance(raw, int):  # over-long: skipped unread
                self.skipped += 1
                continue
            if not raw.strip() or raw.lstrip().startswith(b"#"):
                continue
            item = _loads(raw)
            if not (isinstance(item, list) and len(item) >= 3) or not isinstance(item[2], str):
                self.skipped += 1
                continue
            at, code = item[0], item[1]
            if isinstance(at, bool) or not isinstance(at, int | float) or not at >= 0:
                self.skipped += 1
                continue
            clock = clock + float(at) if self._relative else max(clock, float(at))
            yield clock, str(code), item[2]


def read_cast(data: bytes) -> Recording:
    """Parse a whole cast. Raises FormatError on a bad header; event lines that do not parse
    are counted in `skipped`, not fatal."""
    cast = CastStream(io.BytesIO(data))
    events = list(cast.events())
    return Recording(cast.width, cast.height, cast.header, events, cast.skipped)
