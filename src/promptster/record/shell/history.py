"""bash's command lines, read from the history records its prompt hook writes.

bash's end mark is part of its prompt (rc/bash.sh), so it cannot carry the command line:
reading it back from history inside the shell at every prompt was most of the integration's
cost. Instead the first PROMPT_COMMAND entry appends one record per prompt to a file in the
runtime's state directory, named in the shell's ``init`` mark::

    \\0<n> <`history 1`: "%5d%c %s\\n", the entry's number, '*' or ' ', a space, the entry>

(the separator comes first: one `printf` fewer per prompt), and the end mark of prompt ``n``
says which record is its own. The record is on disk before the mark is written to the pty,
so the file read to its end when the mark is parsed always holds it whole: a record ends at
the next separator or at the end of what was read.
`HistoryRecords.resolve` then decides what bash itself decided before, with the same rules:

* a command ran (PS0 saved HISTCMD as ``h0``): the entry is its line when its number is
  ``h0 - 1``; otherwise the line never reached history (history off, ``history -c`` in the
  line...) and the assembler falls back to the terminal echo;
* nothing ran: a new entry (a number above the last one seen) is a line that was accepted
  but never executed (a comment, a syntax error); no new entry is an empty line or Ctrl-C at
  the prompt, and the mark is dropped;
* HISTCMD at the prompt (``hc``) equal to the entry's number means the hook deleted the
  entry again (the user's HISTCONTROL/HISTIGNORE, applied after the fact), so the next
  entry will reuse that number;
* the first prompt of a shell only says where history stands; a prompt number seen before
  is a redisplay of the prompt (Ctrl-L, a completion listing) repeating its mark: dropped.

Marks without a prompt number pass through as they are; zsh's, which carry their line
themselves and may be part of the prompt too, are only checked for repeats. A file that
cannot be read gives no line, never an error: the echo is the fallback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from pathlib import Path

from promptster.record.shell.osc import CommandEnd, ShellInit

MAX_COMMAND_CHARS = 8192  # as much of a line as a command event keeps
MAX_BUFFER = 4 * 1024 * 1024  # records are read as they are needed; more is not ours
MAX_FILES = 32  # open record files (one per integrated bash; nested shells are few)
READ_SIZE = 256 * 1024
RECORDS = "records"  # the `src` of a mark whose line is in the history records
_NAME = re.compile(r"history\.[0-9]{1,10}\.[0-9]{1,20}")


@dataclasses.dataclass
class _Shell:
    """What is known about one integrated bash (by PID; `exec bash` starts a new one)."""

    path: Path | None
    fd: int | None = None
    offset: int = 0
    buffer: bytearray = dataclasses.field(default_factory=bytearray)
    pos: int = 0  # where the records not taken yet start in `buffer`
    last_entry: int | None = None  # None: no prompt seen yet
    last_prompt: int = 0


class HistoryRecords:
    """Fills in bash's command lines from its history records (see the module doc)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self._folder = Path(folder) if folder is not None else None
        self._shells: dict[int, _Shell] = {}

    def started(self, init: ShellInit) -> None:
        """A shell finished its startup files: its records are in the file it names."""
        self._forget(init.pid)
        path = None
        if self._folder is not None and _NAME.fullmatch(init.history):
            path = self._folder / init.history
        self._shells[init.pid] = _Shell(path)
        if len(self._shells) > MAX_FILES:
            self._forget(next(iter(self._shells)))

    def resolve(self, end: CommandEnd) -> CommandEnd | None:
        """`end` with its command line, or None when it records nothing."""
        if end.prompt is None:
            return end
        shell = self._shells.get(end.pid)
        if shell is None:
            shell = self._shells[end.pid] = _Shell(None)
        if end.prompt <= shell.last_prompt:
            return None  # the prompt was shown again
        shell.last_prompt = end.prompt
        if end.source != RECORDS:
            return end  # zsh's mark carries its line itself
        number, line = _entry(self._record(shell, end.prompt))
        first = shell.last_entry is None
        new = False
        if number is not None:
            if end.executed:
                new = end.history_at_start is not None and number + 1 == end.history_at_start
            elif shell.last_entry is not None:
                new = number > shell.last_entry
            deleted = new and end.history_next == number
            shell.last_entry = number - 1 if deleted else number
        elif first:
            shell.last_entry = 0
        if first or not (end.executed or new):
            return None
        return CommandEnd(  # not dataclasses.replace: it costs more than all the rest here
            end.level,
            end.pid,
            end.exit_code,
            end.executed,
            end.started_us if end.executed else None,
            end.ended_us,
            end.cwd,
            line[:MAX_COMMAND_CHARS] if new else None,
            "history" if new else "none",
            end.pipestatus,
            end.prompt,
            end.history_at_start,
            end.history_next,
        )

    def close(self) -> None:
        for pid in list(self._shells):
            self._forget(pid)

    def _forget(self, pid: int) -> None:
        shell = self._shells.pop(pid, None)
        if shell is not None and shell.fd is not None:
            with contextlib.suppress(OSError):
                os.close(shell.fd)

    def _record(self, shell: _Shell, prompt: int) -> bytes | None:
        """The record of `prompt`; older ones are dropped (their marks are gone or were
        shown before). A record followed by the next one's NUL is whole; one at the end of
        what was read may have been cut short, so the file is read to its end first (the
        record was whole there before its mark was printed)."""
        found = self._take(shell, prompt, whole_only=True)
        if found is None:
            self._read(shell)
            found = self._take(shell, prompt, whole_only=False)
        return found

    @staticmethod
    def _take(shell: _Shell, prompt: int, *, whole_only: bool) -> bytes | None:
        buffer = shell.buffer
        pos = shell.pos
        found = None
        size = len(buffer)
        while pos < size:
            end = buffer.find(b"\0", pos + 1)
            if end < 0:
                if whole_only:
                    break  # perhaps cut short: read on first
                end = size
            if buffer[pos] == 0:  # else bytes before the first record: not ours
                space = buffer.find(b" ", pos + 1, end)
                number = buffer[pos + 1 : space] if space >= 0 else b""
                if number.isdigit() and int(number) > prompt:
                    break  # a later prompt's (perhaps still being written): kept for its mark
                if number.isdigit() and int(number) == prompt:
                    found = bytes(buffer[space + 1 : end])
                    pos = end
                    break
            pos = end
        if pos > READ_SIZE:  # what was taken goes, now and then (not a copy per record)
            del buffer[:pos]
            pos = 0
        shell.pos = pos
        return found

    def _read(self, shell: _Shell) -> None:
        """Read the file to its end (as it is now)."""
        if shell.path is None:
            return
        while True:
            try:
                if shell.fd is None:
                    shell.fd = os.open(shell.path, os.O_RDONLY | os.O_CLOEXEC)
                data = os.pread(shell.fd, READ_SIZE, shell.offset)
            except OSError:
                shell.path = None
                return
            shell.offset += len(data)
            shell.buffer += data
            if len(shell.buffer) - shell.pos > MAX_BUFFER:  # no record ends: not our hook's
                shell.buffer.clear()
                shell.pos = 0
            if len(data) < READ_SIZE:  # a regular file: that was its end
                return


def _entry(record: bytes | None) -> tuple[int | None, str]:
    """(number, line) of a `history 1` record; (None, "") when history was empty."""
    if not record:
        return None, ""
    text = record.decode("utf-8", "replace").removesuffix("\n").lstrip(" ")
    digits = len(text) - len(text.lstrip("0123456789"))
    if not digits:
        return None, ""
    return int(text[:digits]), text[digits + 2 :]
