"""Playing a terminal recording back, as `asciinema play` does: `promptster replay`.

`load_recording` finds the cast (a `.pst` bundle's ``terminal/<n>.cast`` member, or a `.cast`
file) and `play` writes its output with the recorded timing: `speed` divides every pause,
`idle_limit` caps each pause (default: the cast's own ``idle_time_limit``; the recording's
timing is never changed, only how it is played). While it plays, space pauses and resumes,
``.`` steps to the next frame when paused, and ``q`` or Ctrl-C stops.
"""

from __future__ import annotations

import contextlib
import os
import select
import termios
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptster.bundle import format as fmt
from promptster.bundle.reader import BundleReader
from promptster.errors import FormatError, InputError
from promptster.record.shell.cast import Recording, read_cast


@dataclass(frozen=True)
class LoadedCast:
    name: str  # the member name, or the file name
    recording: Recording
    available: list[str]  # every cast member of the bundle


def cast_members(reader: BundleReader) -> list[str]:
    names = [n for n in reader.names if fmt.CAST_PATTERN.fullmatch(n)]
    return sorted(names, key=lambda n: int(n.split("/")[1].split(".")[0]))


def load_recording(path: Path, index: int = 0) -> LoadedCast:
    """The `index`-th cast of a bundle, or the cast file `path` itself."""
    with open(path, "rb") as stream:
        start = stream.read(1)
    if start == b"{":  # a cast file (a bundle is a zip, which starts with "PK")
        return LoadedCast(path.name, read_cast(path.read_bytes()), [path.name])
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
        try:
            recording = read_cast(reader.read(name))
        except FormatError as exc:
            raise FormatError(f"{name} in {path}: {exc.message}") from exc
    return LoadedCast(name, recording, members)


def frames(
    recording: Recording, *, speed: float = 1.0, idle_limit: float | None = None
) -> Iterator[tuple[float, str]]:
    """(pause before it in seconds, text) for every output event, as played."""
    previous = 0.0
    for at, code, data in recording.events:
        if code != "o":
            continue
        pause = max(at - previous, 0.0)
        previous = at
        if idle_limit is not None:
            pause = min(pause, idle_limit)
        yield pause / speed, data


def default_idle_limit(recording: Recording) -> float | None:
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
    recording: Recording,
    write: Callable[[str], None],
    keys: Keys,
    *,
    speed: float = 1.0,
    idle_limit: float | None = None,
) -> bool:
    """Play to the end (True) or until the viewer quits (False)."""
    paused = False
    remaining = 0.0
    for pause, text in frames(recording, speed=speed, idle_limit=idle_limit):
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
