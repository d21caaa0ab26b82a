"""Terminal recordings (`terminal/<n>.cast`, asciicast v2, also v3) for the page's player.

Only output ("o"), resize ("r") and marker ("m") events are kept, as `[seconds, code, text]`
with absolute times. The text stays raw (escape sequences included): the player interprets a
small, safe subset and writes characters into text nodes. Casts are bounded per recording and
in total; a cut recording says so. A cast is streamed from the bundle and reading stops at the
budget, so a recording of any size costs the budget, not its size; an event line longer than
`MAX_LINE` or nested too deeply is skipped.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptster.bundle import format as fmt
from promptster.bundle.reader import BundleReader, bounded_lines
from promptster.errors import PromptsterError

MAX_CAST_CHARS = 3 * 1024 * 1024
CASTS_BUDGET = 8 * 1024 * 1024
MAX_FRAMES = 60_000
MAX_CASTS = 32
MAX_LINE = 4 * 1024 * 1024


@dataclass
class Cast:
    name: str
    width: int
    height: int
    frames: list[tuple[float, str, str]] = field(default_factory=list)
    truncated: bool = False
    problem: str | None = None

    @property
    def duration(self) -> float:
        return self.frames[-1][0] if self.frames else 0.0

    def to_json_obj(self) -> dict[str, object]:
        return {
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "frames": [[round(t, 3), code, text] for t, code, text in self.frames],
            "truncated": self.truncated,
        }


def _size(value: object, default: int, low: int, high: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return max(low, min(high, value))
    return default


def _loads(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: a line nested 100,000 deep
        return None


def parse_cast(name: str, data: bytes, budget: int) -> Cast:
    """One recording from its bytes; never raises (see `parse_cast_lines`)."""
    return parse_cast_lines(name, bounded_lines(io.BytesIO(data), MAX_LINE), budget)


def parse_cast_lines(name: str, lines: Iterator[bytes | int], budget: int) -> Cast:
    """One recording from its lines (an int: an over-long line, skipped); reads no further
    than the budget; never raises (a broken file becomes a cast with a `problem`)."""
    first = next(lines, None)
    header = _loads(first) if isinstance(first, bytes) and first.strip() else None
    if not isinstance(header, dict) or header.get("version") not in (2, 3):
        return Cast(name, 80, 24, problem="not an asciicast v2 or v3 recording")
    term = header.get("term") if isinstance(header.get("term"), dict) else {}
    assert isinstance(term, dict)
    width = _size(header.get("width", term.get("cols")), 80, 10, 400)
    height = _size(header.get("height", term.get("rows")), 24, 4, 200)
    cast = Cast(name, width, height)
    relative = header.get("version") == 3
    clock, used = 0.0, 0
    limit = min(MAX_CAST_CHARS, budget)
    for line in lines:
        if isinstance(line, int) or not line.strip():
            continue
        item = _loads(line)
        if not (isinstance(item, list) and len(item) >= 3 and isinstance(item[2], str)):
            continue
        at, code, text = item[0], item[1], item[2]
        if isinstance(at, bool) or not isinstance(at, int | float) or not at >= 0:
            continue
        clock = clock + float(at) if relative else max(clock, float(at))
        if code not in ("o", "r", "m"):
            continue
        if used + len(text) > limit or len(cast.frames) >= MAX_FRAMES:
            cast.truncated = True
            break
        used += len(text)
        cast.frames.append((clock, code, text))
    return cast


def load_casts(bundle: Path) -> list[Cast]:
    """Every terminal recording in the bundle, in member order, within CASTS_BUDGET."""
    casts: list[Cast] = []
    budget = CASTS_BUDGET
    try:
        with BundleReader(bundle) as reader:
            names = sorted(
                (n for n in reader.names if fmt.CAST_PATTERN.fullmatch(n)),
                key=lambda n: int(n.split("/")[1].split(".")[0]),
            )
            for name in names[:MAX_CASTS]:
                try:
                    cast = parse_cast_lines(
                        name, reader.iter_lines(name, max_line=MAX_LINE), budget
                    )
                except PromptsterError as exc:  # corrupt (CRC, inflate) while streaming
                    casts.append(Cast(name, 80, 24, problem=exc.message))
                    continue
                budget -= sum(len(f[2]) for f in cast.frames)
                casts.append(cast)
    except PromptsterError:
        return casts
    return casts
