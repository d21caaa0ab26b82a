"""Shared pieces of the test-summary parsers: cleaning terminal output, durations, counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Bounded digit runs: int() of a huge digit string raises ValueError (3.11 limit) and no real
# counter has more than nine digits.
NUM = r"(?<!\d)(\d{1,9})(?!\d)"

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, shell-integration marks
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
)


def clean_output(text: str) -> str:
    """Strip terminal escapes and normalise line ends, as every parser expects."""
    text = _ANSI.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class Counts:
    """What a parser found: the counts of one run and where its summary ends in the text."""

    passed: int
    failed: int
    skipped: int
    errors: int
    duration_ms: int | None
    end: int


Parser = Callable[[str], Counts | None]

_UNIT_MS = {
    "ms": 1.0,
    "millisecond": 1.0,
    "milliseconds": 1.0,
    "s": 1000.0,
    "sec": 1000.0,
    "secs": 1000.0,
    "second": 1000.0,
    "seconds": 1000.0,
    "m": 60_000.0,
    "min": 60_000.0,
    "mins": 60_000.0,
    "minute": 60_000.0,
    "minutes": 60_000.0,
    "h": 3_600_000.0,
    "hour": 3_600_000.0,
    "hours": 3_600_000.0,
}
_DURATION_PART = re.compile(r"(\d{1,9}(?:\.\d{1,9})?)\s?([a-zA-Z]+)")
_CLOCK = re.compile(r"^\s*(\d{1,4}):(\d{1,2})(?::(\d{1,2}))?(?:\.(\d{1,6}))?\s*(min|h)?\b")


def duration_ms(text: str) -> int | None:
    """Milliseconds in a human duration such as '0.61s', '1m 5s', '2 minutes 3.5 seconds',
    '579ms', '01:05 min' (Maven) or '00:00.002' (PHPUnit); None when there is none."""
    clock = _CLOCK.match(text)
    if clock:
        first, second, third, fraction, unit = clock.groups()
        if unit == "h":  # Maven: hh:mm[:ss] h
            seconds = int(first) * 3600 + int(second) * 60 + int(third or 0)
        elif third is not None:  # h:mm:ss
            seconds = int(first) * 3600 + int(second) * 60 + int(third)
        else:  # mm:ss
            seconds = int(first) * 60 + int(second)
        millis = float(f"0.{fraction}") * 1000 if fraction else 0.0
        return round(seconds * 1000 + millis)
    total = 0.0
    end: int | None = None
    for match in _DURATION_PART.finditer(text):
        factor = _UNIT_MS.get(match.group(2).lower())
        if end is not None and (factor is None or text[end : match.start()].strip()):
            break  # the duration ended: "0.14 s, estimated 1 s" is 0.14 s
        if factor is not None:
            total += float(match.group(1)) * factor
            end = match.end()
    return round(total) if end is not None else None


def seconds_ms(value: str | None) -> int | None:
    if value is None:
        return None
    return round(float(value) * 1000)


def last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = None
    for found in pattern.finditer(text):  # noqa: B007 - we want the last match
        pass
    return found


def start_after_last(pattern: re.Pattern[str], text: str) -> int:
    """Offset just past the last match of `pattern`: where the latest invocation starts."""
    found = last_match(pattern, text)
    return found.end() if found else 0


def line_end(text: str, pos: int) -> int:
    newline = text.find("\n", pos)
    return len(text) if newline < 0 else newline


def make_counts(
    passed: int, failed: int, skipped: int, errors: int, duration: int | None, end: int
) -> Counts:
    # A summary that contradicts itself must not produce negative counts.
    return Counts(max(passed, 0), max(failed, 0), max(skipped, 0), max(errors, 0), duration, end)
