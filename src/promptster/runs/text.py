"""Shared pieces of the test-summary parsers: cleaning terminal output, durations, counts."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator

TYPE_CHECKING = False  # typing and dataclasses cost ~8 ms at import, on every hook shell result
if TYPE_CHECKING:
    from typing import Any

# Bounded digit runs: int() of a huge digit string raises ValueError (3.11 limit) and no real
# counter has more than nine digits.
NUM = r"(?<!\d)(\d{1,9})(?!\d)"

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, shell-integration marks
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
)


class LazyPattern:
    """A regular expression compiled on its first use. The parsers hold about fifty patterns,
    and a run's output needs the few of its own tool: compiling them all at import cost every
    hook call with a shell result, and the shell's recording worker at start, several ms."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().search(text, pos, endpos)

    def match(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().match(text, pos, endpos)

    def fullmatch(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().fullmatch(text, pos, endpos)

    def finditer(
        self, text: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[re.Match[str]]:
        return self.compiled().finditer(text, pos, endpos)

    def findall(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]:
        return self.compiled().findall(text, pos, endpos)

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str, count: int = 0) -> str:
        return self.compiled().sub(repl, text, count)


def lazy_re(pattern: str, flags: int = 0) -> LazyPattern:
    """`re.compile`, deferred to the pattern's first use (see LazyPattern)."""
    return LazyPattern(pattern, flags)


def clean_output(text: str) -> str:
    """Strip terminal escapes and normalise line ends, as every parser expects."""
    text = _ANSI.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


class Value:
    """A small immutable record compared, hashed and shown by its `__slots__` (what a frozen
    dataclass gives, without importing `dataclasses` and `inspect` on the hook path)."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _set(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __reduce__(self) -> tuple[object, ...]:  # pickle and copy, despite __setattr__
        return (_rebuild, (type(self), {n: getattr(self, n) for n in self.__slots__}))


def _rebuild(cls: type[Value], values: dict[str, object]) -> Value:
    value = object.__new__(cls)
    value._set(**values)
    return value


class Counts(Value):
    """What a parser found: the counts of one run and where its summary ends in the text."""

    __slots__ = ("duration_ms", "end", "errors", "failed", "passed", "skipped")
    passed: int
    failed: int
    skipped: int
    errors: int
    duration_ms: int | None
    end: int

    def __init__(
        self, passed: int, failed: int, skipped: int, errors: int, duration_ms: int | None, end: int
    ) -> None:
        self._set(
            passed=passed,
            failed=failed,
            skipped=skipped,
            errors=errors,
            duration_ms=duration_ms,
            end=end,
        )


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


def last_match(pattern: re.Pattern[str] | LazyPattern, text: str) -> re.Match[str] | None:
    found = None
    for found in pattern.finditer(text):  # noqa: B007 - we want the last match
        pass
    return found


def start_after_last(pattern: re.Pattern[str] | LazyPattern, text: str) -> int:
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
