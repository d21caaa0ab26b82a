"""Turn the recorded shell's marks and output into per-command records.

`CommandAssembler` consumes the items of `osc.MarkParser.parse` (bytes and marks, in stream
order) and yields a `CommandRecord` per command line, ready to become a ``command`` event.
It relies on the private marks only: they carry the shell level and PID, which is what lets
nested shells (a ``bash`` run inside the recorded shell) and ``exec bash`` be told apart;
OSC 133 marks from any other integration the user runs cannot confuse it.

Rules (docs/event-kinds.md, `command`):

* empty lines and comment-only lines are not commands; a line that was accepted but never
  ran (a syntax error) is recorded with ``executed=False``;
* Ctrl-C'd commands are recorded with their status (130) and ``interrupted=True``; a line
  abandoned with Ctrl-C at the prompt never ran and is not recorded;
* a command whose cwd is outside the workspace is recorded as location only: no command
  text and no output, ``outside_workspace=True``;
* while a full-screen program has the alternate screen, its output is not excerpted and
  marks are ignored (keys typed into vim never look like commands), except the end mark of
  the command that started it: the shell being back proves the program has gone;
* output excerpts are the first and last ``excerpt_bytes`` of the output with escape
  sequences removed and carriage returns applied, as a terminal would show the lines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promptster.record.shell.history import HistoryRecords
from promptster.record.shell.osc import (
    AltScreen,
    CommandEnd,
    CommandInput,
    CommandStart,
    Item,
    OutputStart,
    ShellInit,
)

if TYPE_CHECKING:  # the shell worker imports this: the payload types cost nothing here
    from promptster.formats.payloads import CommandData

DEFAULT_EXCERPT_BYTES = 8 * 1024
SIGINT_STATUS = 130
_MAX_CARRY = 4096  # an escape sequence split across reads, kept until its end arrives
_MAX_PLACES = 1024  # cwds whose location is kept (a session visits far fewer)

_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    rb"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC, DCS, SOS, PM, APC strings
    rb"|\x1b[ -/]*[0-~]"  # two-byte escapes, charset selection
    rb"|[\x00-\x07\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]"  # controls but \b \t \n \r ESC
)
_INCOMPLETE = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*|[\]PX^_][^\x07\x1b]*\x1b?|[ -/]*)\Z")


def is_inside(cwd: str | os.PathLike[str], workspace: str | os.PathLike[str]) -> bool:
    """Whether `cwd` is `workspace` or below it, by the path as given or as resolved (the
    shell reports logical paths, which may run through symlinks such as macOS's /tmp)."""
    cwd_s, ws_s = os.fspath(cwd), os.fspath(workspace)
    found = _inside_logically(cwd_s, ws_s)
    if found is not None:
        return found  # resolve symlinks only when the logical paths disagree (syscalls)
    c, w = os.path.realpath(cwd_s), os.path.realpath(ws_s)
    return os.path.commonpath([c, w]) == w


def _inside_logically(cwd: str, workspace: str) -> bool | None:
    """`is_inside` by the paths as given; None when only resolving symlinks can tell."""
    if not (os.path.isabs(cwd) and os.path.isabs(workspace)):
        return False
    c, w = os.path.normpath(cwd), os.path.normpath(workspace)
    return True if os.path.commonpath([c, w]) == w else None


def _relative_logically(cwd: str, workspace: str) -> str | None:
    """The workspace-relative path by the paths as given; None when they disagree."""
    try:
        rel = Path(os.path.normpath(cwd)).relative_to(os.path.normpath(workspace))
    except ValueError:
        return None
    return rel.as_posix()


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """One command line of a recorded shell. Times are microseconds since the epoch."""

    command: str | None  # None: outside the workspace, or the shell could not tell
    exit_code: int | None  # None: the shell went away first (`exit`, `exec bash`)
    duration_ms: int | None
    cwd: str  # absolute, as the shell reported it
    shell_level: int
    output_head: str
    output_tail: str
    truncated: bool
    started_us: int | None = None
    outside_workspace: bool = False
    interrupted: bool = False
    fullscreen: bool = False
    executed: bool = True
    relative_cwd: str | None = None  # workspace-relative ('/'-separated), when inside
    command_source: str = "shell"  # "echo": read back from the terminal echo, see below

    def event_data(self) -> CommandData:
        """The ``data`` of a ``command`` event (docs/event-kinds.md)."""
        data: CommandData = {
            # bash's history ends a heredoc's entry with a newline; the command does not
            "command": None if self.command is None else self.command.rstrip("\n"),
            "exitCode": self.exit_code,
            "durationMs": self.duration_ms,
            "cwd": self.relative_cwd if self.relative_cwd is not None else self.cwd,
            "shellLevel": self.shell_level,
        }
        if self.outside_workspace:
            data["outsideWorkspace"] = True
            return data
        if self.output_head:
            data["outputHead"] = self.output_head
        if self.output_tail:
            data["outputTail"] = self.output_tail
        if self.truncated:
            data["outputTruncated"] = True
        if self.interrupted:
            data["interrupted"] = True
        if self.fullscreen:
            data["fullscreen"] = True
        if not self.executed:
            data["executed"] = False
        if self.command_source != "shell":
            data["commandSource"] = self.command_source
        return data


class OutputExcerpt:
    """First and last `limit` bytes of a command's output, escape sequences removed."""

    def __init__(self, limit: int = DEFAULT_EXCERPT_BYTES) -> None:
        self._limit = limit
        self._head = bytearray()
        self._tail = bytearray()
        self._dropped = False
        self._carry = b""

    def feed(self, data: bytes) -> None:
        if len(self._head) >= self._limit and len(data) > 4 * self._limit:
            # Only the end of a large read can reach the tail: leave the rest unparsed (a
            # `cat` of a big file would otherwise run the escape regex over all of it).
            keep = data[-3 * self._limit :]
            newline = keep.find(b"\n")
            if 0 <= newline < self._limit:
                keep = keep[newline + 1 :]  # start on a line, outside any escape sequence
            data, self._carry = keep, b""
            self._tail.clear()
            self._dropped = True
        data = self._carry + data
        self._carry = b""
        cut = _INCOMPLETE.search(data)
        if cut is not None and len(data) - cut.start() <= _MAX_CARRY:
            data, self._carry = data[: cut.start()], data[cut.start() :]
        text = _ESCAPES.sub(b"", data)
        room = self._limit - len(self._head)
        if room > 0:
            self._head += text[:room]
            text = text[room:]
        if text:
            self._tail += text
            if len(self._tail) > 2 * self._limit:  # trim in batches, not on every read
                self._dropped = True
                del self._tail[: len(self._tail) - self._limit]

    def result(self) -> tuple[str, str, bool]:
        """(head, tail, truncated) as text."""
        tail = self._tail
        dropped = self._dropped
        if len(tail) > self._limit:
            tail, dropped = tail[-self._limit :], True
        return _render(bytes(self._head)), _render(bytes(tail)), dropped


def _render(data: bytes) -> str:
    """Lines as a terminal shows them: CR returns to the line start, BS steps back."""
    if not data:
        return ""
    lines: list[str] = []
    for raw in data.decode("utf-8", "replace").split("\n"):
        if "\b" not in raw and "\r" not in raw.rstrip("\r"):
            # no CR but the line ending's (output lines end "\r\n"), which overwrites nothing
            lines.append(raw.rstrip())
            continue
        cells: list[str] = []
        col = 0
        for ch in raw:
            if ch == "\r":
                col = 0
            elif ch == "\b":
                col = max(col - 1, 0)
            else:
                if col < len(cells):
                    cells[col] = ch
                else:
                    cells.append(ch)
                col += 1
        lines.append("".join(cells).rstrip())
    return "\n".join(lines).strip("\n")


def _skippable(command: str) -> bool:
    """Empty and comment-only lines are not commands."""
    return all(not line.strip() or line.lstrip().startswith("#") for line in command.split("\n"))


@dataclass
class _Running:
    start: CommandStart
    inside: bool
    excerpt: OutputExcerpt | None
    echo: str = ""
    fullscreen: bool = False


class CommandAssembler:
    """Feed it `MarkParser.parse` items; it returns the commands that completed."""

    def __init__(
        self,
        workspace: str | os.PathLike[str] | None = None,
        *,
        excerpt_bytes: int = DEFAULT_EXCERPT_BYTES,
        history_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """`history_dir`: where bash writes its history records (`history.HistoryRecords`);
        without it bash's command lines come from the terminal echo."""
        self._workspace = os.fspath(workspace) if workspace is not None else None
        self._history = HistoryRecords(history_dir)
        self._limit = excerpt_bytes
        self._running: list[_Running] = []  # innermost (highest shell level) last
        self._alt = False
        # What the terminal echoed between OSC 133 B and C: the typed line. bash reports a
        # command's text with its end mark, so a command that ends its shell (`exit`,
        # `exec bash`) has none, and this is the fallback (`command_source="echo"`).
        self._echo: OutputExcerpt | None = None
        self._echo_text = ""
        # The shell reports its cwd with every mark and it rarely changes: where each cwd
        # is, as far as the paths alone tell (what needs the file system is not kept).
        self._inside_at: dict[str, bool] = {}
        self._relative_at: dict[str, str] = {}

    def feed(self, items: Iterable[Item]) -> list[CommandRecord]:
        done: list[CommandRecord] = []
        for item in items:
            if isinstance(item, bytes):
                if self._echo is not None:
                    self._echo.feed(item)
                elif self._running and not self._alt:
                    excerpt = self._running[-1].excerpt
                    if excerpt is not None:
                        excerpt.feed(item)
            elif isinstance(item, AltScreen):
                self._alt = item.active
                if item.active and self._running:
                    self._running[-1].fullscreen = True
            elif isinstance(item, CommandEnd):
                end = self._history.resolve(item)
                if end is not None:
                    self._end(end, done)
            elif self._alt:
                continue  # a mark while a full-screen program owns the screen is not ours
            elif isinstance(item, CommandInput):
                self._echo = OutputExcerpt(self._limit)
            elif isinstance(item, OutputStart) and self._echo is not None:
                self._echo_text = self._echo.result()[0]
                self._echo = None
            elif isinstance(item, ShellInit):
                self._history.started(item)
                # a shell starting at level N replaced (exec) or outlived what ran there
                self._close_from(item.level, done)
            elif isinstance(item, CommandStart):
                self._close_from(item.level, done)
                inside = self._inside(item.cwd)
                excerpt = OutputExcerpt(self._limit) if inside else None
                self._running.append(_Running(item, inside, excerpt, self._echo_text))
                self._echo_text = ""
        return done

    def close(self) -> list[CommandRecord]:
        """End of the stream: commands still running are recorded without an exit code."""
        done: list[CommandRecord] = []
        self._close_from(0, done)
        self._history.close()
        return done

    def _end(self, end: CommandEnd, done: list[CommandRecord]) -> None:
        top = self._running[-1] if self._running else None
        if self._alt:
            if top is None or (top.start.level, top.start.pid) != (end.level, end.pid):
                return
            self._alt = False  # the shell prompt is back, so the program has exited
        self._close_from(end.level + 1, done)  # nested shells that exited (`exit`)
        running = None
        if self._running and self._running[-1].start.level == end.level:
            running = self._running.pop()
        if running is None and end.executed and end.started_us is None:
            return
        record = self._record(running, end)
        if record is not None:
            done.append(record)

    def _close_from(self, level: int, done: list[CommandRecord]) -> None:
        while self._running and self._running[-1].start.level >= level:
            record = self._record(self._running.pop(), None)
            if record is not None:
                done.append(record)

    def _inside(self, cwd: str) -> bool:
        if self._workspace is None:
            return True
        found = self._inside_at.get(cwd)
        if found is None:
            found = _inside_logically(cwd, self._workspace)
            if found is None:
                return is_inside(cwd, self._workspace)
            if len(self._inside_at) >= _MAX_PLACES:
                self._inside_at.clear()
            self._inside_at[cwd] = found
        return found

    def _record(self, running: _Running | None, end: CommandEnd | None) -> CommandRecord | None:
        start = running.start if running is not None else None
        command = (start.command if start else None) or (end.command if end else None)
        source = "shell"
        if command is None and running is not None and running.echo:
            command, source = running.echo, "echo"
        if command is not None and _skippable(command):
            return None
        if start is None and end is not None and not end.executed and command is None:
            return None
        cwd = (start.cwd if start else "") or (end.cwd if end else "")
        started = start.started_us if start else (end.started_us if end else None)
        ended = end.ended_us if end else None
        exit_code = end.exit_code if end else None
        inside = running.inside if running is not None else self._inside(cwd)
        head, tail, truncated = "", "", False
        if running is not None and running.excerpt is not None:
            head, tail, truncated = running.excerpt.result()
        return CommandRecord(
            command=command if inside else None,
            exit_code=exit_code,
            duration_ms=(ended - started) // 1000 if started and ended else None,
            cwd=cwd,
            shell_level=start.level if start else (end.level if end else 0),
            output_head=head,
            output_tail=tail,
            truncated=truncated,
            started_us=started,
            outside_workspace=not inside,
            interrupted=exit_code == SIGINT_STATUS,
            fullscreen=running.fullscreen if running is not None else False,
            executed=end.executed if end is not None else True,
            relative_cwd=self._relative(cwd) if inside else None,
            command_source=source if command is not None and inside else "",
        )

    def _relative(self, cwd: str) -> str | None:
        if self._workspace is None or not cwd:
            return None
        found = self._relative_at.get(cwd)
        if found is not None:
            return found
        ws = self._workspace
        found = _relative_logically(cwd, ws)  # the logical paths first: realpath costs syscalls
        if found is not None:
            if len(self._relative_at) >= _MAX_PLACES:
                self._relative_at.clear()
            self._relative_at[cwd] = found
            return found
        return _relative_logically(os.path.realpath(cwd), os.path.realpath(ws))
