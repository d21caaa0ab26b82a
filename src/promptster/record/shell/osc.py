"""Shell marks in the recorded pty stream: OSC 133 and Promptster's private OSC 6973.

The shell integration (``rc/``, described in ``integration.py``) writes two kinds
of Operating System Command sequences into the terminal stream:

* OSC 133 semantic prompt marks, ``ESC ] 133 ; A|B|C|D[;exit] BEL``. Terminals (iTerm2,
  VS Code, WezTerm, kitty, Ghostty...) use them, so they are passed through untouched and
  also reported as marks.
* Our private mark, which carries what OSC 133 cannot (command line, cwd, times, shell
  level). It is removed from the stream, so the terminal and the cast never see it::

      ESC ] 6973 ; <token> ; <kind> ; key=value ; key=value ... BEL     (or ST = ESC \\)

  ``6973`` is an OSC number no terminal we know of uses. ``<token>`` is random per recorded
  shell (``PROMPTSTER_SHELL_TOKEN``), so marks printed by anything else, for instance by
  ``cat`` of an old typescript, are not ours and pass through as data. Values are
  percent-encoded: ``%``, ``;`` and the control characters, nothing else, which the shells
  can do with parameter expansion alone (base64 or JSON would need a fork per command).
  Kinds: ``init`` (shell, ver, lvl, pid, hist), ``start`` (lvl, pid, t0, cwd, cmd) and
  ``end`` (lvl, pid, exit, ran, pipe, t0, t1, src, cwd, cmd; bash's also n, h0, hc and no
  cmd, see `CommandEnd`); times are integer microseconds since the epoch. Unknown kinds and
  keys are kept, for a newer rc file.

``MarkParser`` also reports switches to and from the alternate screen (``CSI ? 1049 h/l``
and the older 47/1047), which full-screen programs use. It is incremental: a sequence split
across reads gives the same marks and bytes as in one read, and the bytes it holds back are
bounded by ``max_sequence``; an OSC that is not terminated within that many bytes is data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from promptster.record.shell.osc_strip import DEFAULT_MAX_SEQUENCE

ESC = 0x1B
BEL = 0x07
_TERMINATOR = re.compile(rb"[\x07\x1b]")
# The escapes that can be a mark (OSC, DEC private mode, full reset) or may still become one
# (cut at the end of the read); every other ESC is data and is skipped without a look.
_MARK_BEL = re.compile(rb"\x1b\](133|6973);([^\x07\x1b]*)\x07")  # as `_osc` finds it
_CANDIDATE = re.compile(rb"\x1b(?:[\]c]|\[(?:\?|\Z)|\Z)")
_INTEGER = re.compile(r"-?[0-9]{1,18}")
# bash's EPOCHREALTIME: seconds, the locale's decimal point (one byte), microseconds
_REALTIME = re.compile(r"([0-9]{1,12})[^0-9]([0-9]{6})")
_ALT_SCREEN_MODES = frozenset({b"47", b"1047", b"1049"})
_MAX_CSI = 32  # `ESC [ ? 1049 ; 1 h` is far shorter; longer private-mode CSIs are not ours


@dataclass(frozen=True, slots=True)
class PromptStart:
    """OSC 133 A: the prompt begins."""


@dataclass(frozen=True, slots=True)
class CommandInput:
    """OSC 133 B: the prompt ended; what follows is the typed command line."""


@dataclass(frozen=True, slots=True)
class OutputStart:
    """OSC 133 C: the command line was accepted; its output follows."""


@dataclass(frozen=True, slots=True)
class CommandFinished:
    """OSC 133 D: the command's output ended, with its exit status when the shell gave one."""

    exit_code: int | None


@dataclass(frozen=True, slots=True)
class AltScreen:
    """A full-screen program switched the alternate screen on or off."""

    active: bool


@dataclass(frozen=True, slots=True)
class ShellInit:
    """Private ``init``: an integrated shell finished its startup files."""

    shell: str
    version: str
    level: int
    pid: int
    history: str = ""  # bash: the name of its history records' file (history.py)


@dataclass(frozen=True, slots=True)
class CommandStart:
    """Private ``start``: a command line is about to run (zsh also sends its text here)."""

    level: int
    pid: int
    started_us: int | None
    cwd: str
    command: str | None


@dataclass(frozen=True, slots=True)
class CommandEnd:
    """Private ``end``: the shell is back at its prompt.

    ``executed`` is false for a line that was accepted but never ran (a comment, a syntax
    error); ``command`` is then the line. bash's mark is part of its prompt and goes out at
    every prompt: ``prompt`` numbers it, and its command line is in the history record of
    that number, which `history.HistoryRecords` reads (with ``history_at_start``, HISTCMD
    when the line was accepted, and ``history_next``, HISTCMD at the prompt) and fills in
    as ``command`` (``source == "history"``; ``"none"``: it was not available).
    """

    level: int
    pid: int
    exit_code: int | None
    executed: bool
    started_us: int | None
    ended_us: int | None
    cwd: str
    command: str | None
    source: str
    pipestatus: tuple[int, ...] = ()
    prompt: int | None = None
    history_at_start: int | None = None
    history_next: int | None = None


@dataclass(frozen=True, slots=True)
class UnknownMark:
    """A private mark of a kind this version does not know (kept, not dropped)."""

    kind: str
    fields: tuple[tuple[str, str], ...]


_PROMPT_START = PromptStart()  # immutable and without fields: one of each will do
_COMMAND_INPUT = CommandInput()
_OUTPUT_START = OutputStart()

Mark = (
    PromptStart
    | CommandInput
    | OutputStart
    | CommandFinished
    | AltScreen
    | ShellInit
    | CommandStart
    | CommandEnd
    | UnknownMark
)
Item = bytes | Mark


class MarkParser:
    """Incremental splitter of a pty output stream into passthrough bytes and marks."""

    def __init__(self, token: str | None = None, *, max_sequence: int = DEFAULT_MAX_SEQUENCE):
        # token None accepts private marks with any token (tests, replaying old casts)
        self._token = token.encode("ascii") if token is not None else None
        self._max = max(max_sequence, 16)
        self._held = b""  # an incomplete sequence, always starting with ESC

    @property
    def pending(self) -> int:
        """Bytes held back because they may start a mark; see `flush`."""
        return len(self._held)

    def feed(self, data: bytes) -> tuple[bytes, list[Mark]]:
        """Passthrough bytes (our private marks removed) and the marks found, in order."""
        items = self.parse(data)
        passthrough = b"".join(i for i in items if isinstance(i, bytes))
        return passthrough, [i for i in items if not isinstance(i, bytes)]

    def parse(self, data: bytes) -> list[Item]:
        """Bytes and marks in stream order, so output can be attributed to commands."""
        buf = self._held + data if self._held else bytes(data)
        self._held = b""
        out: list[Item] = []
        text_from = 0  # start of passthrough bytes not yet emitted
        pos = 0
        search = _CANDIDATE.search
        while (found := search(buf, pos)) is not None:
            esc = found.start()
            step = self._sequence(buf, esc)
            if step is None:  # incomplete: hold it back until more data arrives
                self._held = buf[esc:]
                _emit(out, buf[text_from:esc])
                return out
            end, mark, strip = step
            if mark is None:
                pos = end
                continue
            if strip:
                _emit(out, buf[text_from:esc])
            else:
                _emit(out, buf[text_from:end])
            out.append(mark)
            text_from = pos = end
        _emit(out, buf[text_from:])
        return out

    def flush(self) -> list[Item]:
        """Release held bytes as data: at end of stream, or when the recorder sees the
        output go idle with a lone ESC pending (no mark is ever written that slowly)."""
        held, self._held = self._held, b""
        return [held] if held else []

    def _sequence(self, buf: bytes, esc: int) -> tuple[int, Mark | None, bool] | None:
        """Classify the escape sequence at `esc`: None when more bytes are needed, else
        (end, mark or None, strip). With no mark, scanning resumes at `end` and the bytes
        stay data."""
        n = len(buf)
        if esc + 1 >= n:
            return None
        kind = buf[esc + 1]
        if kind == 0x5D:  # ']' OSC
            whole = _MARK_BEL.match(buf, esc)  # the shells' marks, complete: one regex match
            if whole is not None and whole.end() - esc <= self._max:
                return self._mark(whole[1], whole[2], whole.end())
            return self._osc(buf, esc)
        if kind == 0x5B:  # '[' CSI
            return _csi(buf, esc)
        if kind == 0x63:  # 'c' full reset also leaves the alternate screen
            return esc + 2, AltScreen(active=False), False
        return esc + 1, None, False

    def _osc(self, buf: bytes, esc: int) -> tuple[int, Mark | None, bool] | None:
        n = len(buf)
        k = esc + 2
        while k < n and 0x30 <= buf[k] <= 0x39 and k - esc < 8:
            k += 1
        if k >= n:
            return None if k - esc < 8 else (esc + 1, None, False)
        number = buf[esc + 2 : k]
        if buf[k] != 0x3B or number not in (b"133", b"6973"):
            return esc + 1, None, False
        limit = min(n, esc + self._max)
        term = _TERMINATOR.search(buf, k + 1, limit)
        if term is None:
            # unterminated within max_sequence bytes: data, whatever follows later
            return None if n - esc < self._max else (esc + 1, None, False)
        t = term.start()
        if buf[t] == BEL:
            end = t + 1
        elif t + 1 >= n:
            return None
        elif buf[t + 1] == 0x5C:  # ST is ESC '\'
            end = t + 2
        else:
            return t, None, False  # an ESC aborts the OSC; rescan from there
        return self._mark(number, buf[k + 1 : t], end)

    def _mark(self, number: bytes, body: bytes, end: int) -> tuple[int, Mark | None, bool]:
        """A complete OSC 133 or 6973 (`body` is what follows the number's ";")."""
        if number == b"133":
            return end, _parse_133(body), False
        token, has_kind, rest = body.partition(b";")
        if self._token is not None and token != self._token:
            return end, None, False  # someone else's mark: not ours to remove
        if not has_kind:
            return end, None, False
        kind, has_fields, rest = rest.partition(b";")
        return end, _parse_private(kind, rest if has_fields else None), True


def _emit(out: list[Item], data: bytes) -> None:
    if not data:
        return
    if out and isinstance(out[-1], bytes):
        out[-1] += data
    else:
        out.append(data)


def _csi(buf: bytes, esc: int) -> tuple[int, Mark | None, bool] | None:
    n = len(buf)
    if esc + 2 >= n:
        return None
    if buf[esc + 2] != 0x3F:  # only DEC private modes ('?') matter here
        return esc + 2, None, False
    k = esc + 3
    while k < n and (0x30 <= buf[k] <= 0x39 or buf[k] == 0x3B) and k - esc < _MAX_CSI:
        k += 1
    if k >= n:
        return None if k - esc < _MAX_CSI else (esc + 1, None, False)
    final = buf[k]
    if final in (0x68, 0x6C) and _ALT_SCREEN_MODES.intersection(buf[esc + 3 : k].split(b";")):
        return k + 1, AltScreen(active=final == 0x68), False
    return esc + 1, None, False


def _parse_133(body: bytes) -> Mark | None:
    parts = body.split(b";")
    code = parts[0]
    if code == b"A":
        return _PROMPT_START
    if code == b"B":
        return _COMMAND_INPUT
    if code == b"C":
        return _OUTPUT_START
    if code == b"D":
        return CommandFinished(
            _int(parts[1].decode("ascii", "replace")) if len(parts) > 1 else None
        )
    return None


def _decode(value: bytes) -> str:
    if b"%" not in value:  # most fields: the pty loop parses two marks per command
        return value.decode("utf-8", "replace")
    return unquote_to_bytes(value).decode("utf-8", "replace")


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    if value.isascii() and value.isdigit() and len(value) <= 18:  # the usual case
        return int(value)
    value = value.strip()
    return int(value) if _INTEGER.fullmatch(value) else None


def _us(value: str | None) -> int | None:
    """A time in microseconds since the epoch: digits, or bash's EPOCHREALTIME as it is."""
    if value is None:
        return None
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    found = _REALTIME.fullmatch(value)
    return int(found.group(1) + found.group(2)) if found else _int(value)


def _parse_private(kind_raw: bytes, raw_fields: bytes | None) -> Mark:
    """`raw_fields`: the ";"-separated key=value fields after the kind (None: no fields)."""
    kind = _decode(kind_raw)
    fields: dict[str, str] = {}
    if raw_fields is not None and b"%" not in raw_fields:
        # Nothing escaped: decode once. The same as field by field, as UTF-8 never hides
        # ";" or "=" inside a character and an invalid sequence ends at either.
        for field in raw_fields.decode("utf-8", "replace").split(";"):
            key, _, value = field.partition("=")
            fields[key] = value
    elif raw_fields is not None:
        for raw in raw_fields.split(b";"):
            raw_key, _, raw_value = raw.partition(b"=")
            fields[_decode(raw_key)] = _decode(raw_value)
    level = _int(fields.get("lvl")) or 0
    pid = _int(fields.get("pid")) or 0
    if kind == "init":
        return ShellInit(
            fields.get("shell", ""), fields.get("ver", ""), level, pid, fields.get("hist", "")
        )
    if kind == "start":
        cmd = fields.get("cmd")
        return CommandStart(level, pid, _us(fields.get("t0")), fields.get("cwd", ""), cmd or None)
    if kind == "end":
        pipe = tuple(p for p in (_int(x) for x in fields.get("pipe", "").split()) if p is not None)
        return CommandEnd(
            level=level,
            pid=pid,
            exit_code=_int(fields.get("exit")),
            executed=fields.get("ran") == "1",
            started_us=_us(fields.get("t0")),
            ended_us=_us(fields.get("t1")),
            cwd=fields.get("cwd", ""),
            command=fields.get("cmd") or None,
            source=fields.get("src", "none"),
            pipestatus=pipe,
            prompt=_int(fields.get("n")),
            history_at_start=_int(fields.get("h0")),
            history_next=_int(fields.get("hc")),
        )
    return UnknownMark(kind, tuple(sorted(fields.items())))
