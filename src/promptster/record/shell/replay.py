"""Playing a terminal recording back, as `asciinema play` does: `promptster replay`.

`load_recording` finds the cast (a `.pst` bundle's ``terminal/<n>.cast`` member, or a `.cast`
file) and `play` writes its output with the recorded timing: `speed` divides every pause,
`idle_limit` caps each pause (default: the cast's own ``idle_time_limit``; the recording's
timing is never changed, only how it is played). While it plays, space pauses and resumes,
``.`` steps to the next frame when paused, and ``q`` or Ctrl-C stops.

The recording is a stranger's bytes: it is streamed from the bundle (read once for its
length, once to play), never held whole, and every frame goes through `TerminalFilter`, which
passes only what draws the session (no titles, links, clipboard writes, file transfers or
requests the terminal would answer); `restore` puts the terminal back afterwards.
"""

from __future__ import annotations

import contextlib
import os
import select
import termios
import time
import tty
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from promptster.bundle import format as fmt
from promptster.bundle.reader import BundleReader
from promptster.errors import FormatError, InputError
from promptster.record.shell.cast_reader import CastStream, Event
from promptster.record.shell.safe_term import TerminalFilter


class Playable(Protocol):
    header: dict[str, Any]

    @property
    def events(self) -> Iterable[Event]: ...


class StreamedRecording:
    """A cast read through `opener` (a fresh stream each time): the header and duration at
    once, the events again each time `events` is iterated."""

    def __init__(self, opener: Callable[[], contextlib.AbstractContextManager[BinaryIO]]):
        self._opener = opener
        with opener() as stream:
            cast = CastStream(stream)
            last = 0.0
            for at, _, _ in cast.events():
                last = at
        self.width, self.height, self.header = cast.width, cast.height, cast.header
        self.duration, self.skipped = last, cast.skipped

    @property
    def events(self) -> Iterator[Event]:
        with self._opener() as stream:
            yield from CastStream(stream).events()


@dataclass(frozen=True)
class LoadedCast:
    name: str  # the member name, or the file name
    recording: StreamedRecording
    available: list[str]  # every cast member of the bundle


def cast_members(reader: BundleReader) -> list[str]:
    names = [n for n in reader.names if fmt.CAST_PATTERN.fullmatch(n)]
    return sorted(names, key=lambda n: int(n.split("/")[1].split(".")[0]))


def load_recording(path: Path, index: int = 0) -> LoadedCast:
    """The `index`-th cast of a bundle, or the cast file `path` itself."""
    with open(path, "rb") as stream:
        start = stream.read(1)
    if start == b"{":  # a cast file (a bundle is a zip, which starts with "PK")
        return LoadedCast(path.name, StreamedRecording(lambda: open(path, "rb")), [path.name])
    with BundleReader(path) as reader:
        members = cast_members(reader)
        if not members:
            raise InputError(
                f"{path} has no terminal recording",
                "casts come from `promptster shell`; a session worked only in other "
                "terminals or in an AI tool has none",
            )
        name = f"terminal/{index}.cast"
        if name not in members:
            listed = ", ".join(m.split("/")[1].removesuffix(".cast") for m in members)
            raise InputError(f"{path} has no cast {index}", f"choose one of: {listed}")

    @contextlib.contextmanager
    def member() -> Iterator[BinaryIO]:
        with BundleReader(path) as again, again.open_member(name) as stream:
            yield stream

    try:
        recording = StreamedRecording(member)
    except FormatError as exc:
        raise FormatError(f"{name} in {path}: {exc.message}") from exc
    return LoadedCast(name, recording, members)


def frames(
    recording: Playable,
    *,
    speed: float = 1.0,
    idle_limit: float | None = None,
    terminal: TerminalFilter | None = None,
) -> Iterator[tuple[float, str]]:
    """(pause before it in seconds, safe text) for every output event, as played."""
    terminal = terminal or TerminalFilter()
    previous = 0.0
    for at, code, data in recording.events:
        if code != "o":
            continue
        pause = max(at - previous, 0.0)
        previous = at
        if idle_limit is not None:
            pause = min(pause, idle_limit)
        yield pause / speed, terminal.feed(data)


def default_idle_limit(recording: Playable) -> float | None:
    value = recording.header.get("idle_time_limit")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


class Keys:
    """Single keys from a terminal, without echo, while a recording plays."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd if fd is not None and os.isatty(fd) else None
        self._saved: list[Any] | None = None

    def __enter__(self) -> Keys:
        if self.fd is not None:
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd, termios.TCSANOW)
            attrs = termios.tcgetattr(self.fd)
            attrs[3] &= ~termios.ISIG  # Ctrl-C arrives as a key: stop cleanly
            termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None and self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def wait(self, seconds: float | None) -> str | None:
        """A key pressed within `seconds` (None: wait for one), else None."""
        if self.fd is None:
            if seconds:
                time.sleep(seconds)
            return None
        ready, _, _ = select.select([self.fd], [], [], seconds)
        if not ready:
            return None
        data = os.read(self.fd, 32)
        return data.decode("utf-8", "replace")[:1] if data else "q"


def play(
    recording: Playable,
    write: Callable[[str], None],
    keys: Keys,
    *,
    speed: float = 1.0,
    idle_limit: float | None = None,
) -> bool:
    """Play to the end (True) or until the viewer quits (False); either way the terminal is
    put back (colours, cursor, scroll region, main screen) before this returns."""
    terminal = TerminalFilter()
    try:
        return _play(recording, write, keys, terminal, speed=speed, idle_limit=idle_limit)
    finally:
        write(terminal.restore())


def _play(
    recording: Playable,
    write: Callable[[str], None],
    keys: Keys,
    terminal: TerminalFilter,
    *,
    speed: float,
    idle_limit: float | None,
) -> bool:
    paused = False
    remaining = 0.0
    for pause, text in frames(recording, speed=speed, idle_limit=idle_limit, terminal=terminal):
        deadline = time.monotonic() + pause
        while True:
            left = None if paused else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            key = keys.wait(left)
            if key in ("q", "\x03", "\x04"):
                return False
            if key == " ":
                if paused:  # resume with the rest of the pause it was stopped in
                    deadline = time.monotonic() + remaining
                else:
                    remaining = max(deadline - time.monotonic(), 0.0)
                paused = not paused
            elif key == "." and paused:
                break
        write(text)
    return True
