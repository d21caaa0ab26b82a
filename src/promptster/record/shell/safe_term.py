"""What of a recorded terminal stream may reach the reviewer's terminal: `TerminalFilter`.

A cast comes from a stranger's machine, so `promptster replay` treats its output as hostile
and passes only what a terminal needs to draw the session, as terminal-safe players do:

* printable text, and the C0 controls that move the cursor (BS, HT, LF, VT, FF, CR);
* CSI sequences on an allow-list: SGR colours (``m``), cursor movement and positioning,
  erase and insert/delete of characters and lines, scrolling and scroll regions, save and
  restore of the cursor, the cursor's shape, and the private modes that draw (cursor
  visibility, autowrap, origin mode, the alternate screen);
* ESC 7 / ESC 8, index / reverse index / next line, and the line-drawing character sets.

Everything else is dropped whole: OSC (titles, OSC 8 links, OSC 52 clipboard, OSC 1337 file
transfers, colour-palette changes), DCS, APC, PM and SOS strings, every request that makes the
terminal answer (device status and attributes, mode and window reports), mouse and keyboard
modes, bracketed paste, BEL, shifts, and C1 controls (U+0080–U+009F). A full reset (ESC c)
becomes "reset colours, clear the screen". The filter streams: a sequence split across
events is held (bounded by `MAX_SEQUENCE`) until it is complete, so the result does not
depend on where the recording was cut into events.
"""

from __future__ import annotations

import re
from typing import Final

MAX_SEQUENCE: Final = 64  # a longer CSI is not one the allow-list has: dropped

_ESC = "\x1b"
_KEPT_C0 = frozenset("\b\t\n\x0b\x0c\r")
_ABORT = frozenset("\x18\x1a")  # CAN, SUB: end any sequence, print nothing
# ESC <final> with no intermediate: save/restore cursor, index, next line, reverse index.
_KEPT_ESC = frozenset("78DEM")
# ESC <intermediate> <final>: character sets G0/G1 (ASCII, UK, line drawing).
_KEPT_CHARSET = re.compile(r"[()][0AB]")
# 8-bit C1 introducers, read as their 7-bit forms so the whole sequence is judged.
_C1_INTRODUCER = {"\x9b": "[", "\x9d": "]", "\x90": "P", "\x9f": "_", "\x9e": "^", "\x98": "X"}
_STRING_STARTS = frozenset("]P_^X")  # OSC, DCS, APC, PM, SOS: dropped up to their end
# CSI finals that only draw, with plain numeric parameters.
_KEPT_CSI_FINALS = frozenset("@ABCDEFGHJKLMPSXZ`abdefmr")
_PARAMS = re.compile(r"[0-9;:]*")
_KEPT_PRIVATE_MODES = frozenset({"6", "7", "12", "25", "47", "1047", "1048", "1049"})
_RESET = "\x1b[0m\x1b[H\x1b[2J"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _csi_allowed(params: str, intermediates: str, final: str) -> bool:
    """Whether ``CSI params intermediates final`` only draws (never answers, never grabs)."""
    if final == "q":  # DECSCUSR: the cursor's shape
        return intermediates == " " and (params.isdigit() or params == "")
    if intermediates:
        return False
    if final in "hl":  # set / reset mode: only the private modes that draw
        if not params.startswith("?"):
            return params == "4"  # insert mode
        modes = params[1:].split(";")
        return all(mode in _KEPT_PRIVATE_MODES for mode in modes)
    if final in "su":  # save / restore cursor, with no parameters (CSI ? u asks the terminal)
        return params == ""
    if final in "JK" and params.startswith("?"):  # selective erase
        params = params[1:]
    if final not in _KEPT_CSI_FINALS or not _PARAMS.fullmatch(params):
        return False
    return all(len(p) <= 5 for p in re.split(r"[;:]", params))


class TerminalFilter:
    """Feed text in pieces, get back only what is safe to print (see the module doc)."""

    def __init__(self) -> None:
        self._held = ""  # the start of an escape sequence not yet complete
        self._swallow = False  # inside an over-long sequence (dropped up to its final byte)
        self._alternate = False  # the recording switched to the alternate screen
        self._region = False  # the recording set a scroll region
        self._origin = False  # the recording set origin mode
        self._in_string = False  # inside an OSC/DCS/APC/PM/SOS string (dropped)
        self._string_esc = False  # inside a string, the last character was ESC

    def feed(self, text: str) -> str:
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            if self._in_string:
                i = self._skip_string(text, i)
                continue
            if self._swallow:
                i = self._drop_until_final(text, i)
                continue
            if self._held:
                i = self._continue_sequence(text, i, out)
                continue
            # the common case: a run of printable text, up to the next control (found in C)
            found = _CONTROL.search(text, i)
            j = found.start() if found else n
            if j > i:
                out.append(text[i:j])
                i = j
                continue
            ch = text[i]
            i += 1
            if ch in _KEPT_C0:
                out.append(ch)
            elif ch == _ESC:
                self._held = _ESC
            elif ch in _C1_INTRODUCER:
                self._start_introduced(_C1_INTRODUCER[ch])
            # other C0, DEL and C1 controls: dropped
        return "".join(out)

    def flush(self) -> str:
        """The stream ended: an incomplete sequence is dropped, never printed."""
        self._held = ""
        self._in_string = self._string_esc = self._swallow = False
        return ""

    def restore(self) -> str:
        """What puts the reviewer's terminal back as it was before the replay: default
        colours, character set, a visible cursor, autowrap, the whole screen scrolling, the
        main screen."""
        parts = ["\x1b[0m\x1b(B\x1b[4l\x1b[?25h\x1b[?7h\x1b[0 q"]
        if self._origin:
            parts.append("\x1b[?6l")
        if self._region:
            parts.append("\x1b[r")
        if self._alternate:
            parts.append("\x1b[?1049l")
        return "".join(parts)

    # -- internals -------------------------------------------------------------------------

    def _track(self, params: str, final: str) -> None:
        if final in "hl" and params.startswith("?"):
            modes = set(params[1:].split(";"))
            if modes & {"47", "1047", "1049"}:
                self._alternate = final == "h"
            if "6" in modes:
                self._origin = final == "h"
        elif final == "r":
            self._region = params not in ("", "0", "0;0")

    def _start_introduced(self, kind: str) -> None:
        if kind == "[":
            self._held = _ESC + "["
        else:
            self._in_string = True

    def _skip_string(self, text: str, i: int) -> int:
        """Drop a string's content up to its terminator (BEL, ST, CAN, SUB, or an ESC that
        starts another sequence)."""
        n = len(text)
        while i < n:
            ch = text[i]
            if self._string_esc:
                self._string_esc = False
                self._in_string = False
                if ch == "\\":
                    return i + 1
                self._held = _ESC  # ESC + something else: that starts a new sequence
                return i
            i += 1
            if ch == _ESC:
                self._string_esc = True
            elif ch in "\x07\x9c" or ch in _ABORT:
                self._in_string = False
                return i
        return i

    def _continue_sequence(self, text: str, i: int, out: list[str]) -> int:
        held = self._held
        n = len(text)
        while i < n:
            ch = text[i]
            if ch in _ABORT:
                self._held = ""
                return i + 1
            if ch < " " or "\x7f" <= ch <= "\x9f":
                # a control inside a sequence: the sequence is dropped, the control handled
                # as if it stood alone (an ESC here starts a new sequence)
                self._held = ""
                return i
            i += 1
            if len(held) == 1:  # after ESC
                if ch == "[":
                    held += ch
                    continue
                if ch in _STRING_STARTS:
                    self._held = ""
                    self._in_string = True
                    return i
                if ch in _KEPT_ESC:
                    out.append(_ESC + ch)
                elif ch == "c":
                    out.append(_RESET)
                elif " " <= ch <= "/":  # an intermediate: the next character decides
                    self._held = held + ch
                    return i
                self._held = ""
                return i
            if held[1] != "[":  # ESC intermediate(s) final
                if " " <= ch <= "/":
                    held += ch
                    if len(held) > 3:
                        self._held = ""
                        return self._drop_until_final(text, i)
                    continue
                if _KEPT_CHARSET.fullmatch(held[1:] + ch):
                    out.append(held + ch)
                self._held = ""
                return i
            if "@" <= ch <= "~":  # CSI final byte
                body = held[2:]
                cut = len(body)
                while cut > 0 and " " <= body[cut - 1] <= "/":
                    cut -= 1
                if _csi_allowed(body[:cut], body[cut:], ch):
                    out.append(held + ch)
                    self._track(body[:cut], ch)
                self._held = ""
                return i
            held += ch
            if len(held) > MAX_SEQUENCE:
                self._held = ""
                return self._drop_until_final(text, i)
        self._held = held
        return i

    def _drop_until_final(self, text: str, i: int) -> int:
        """An over-long sequence: swallow it up to its final byte, printing nothing."""
        self._swallow = True
        n = len(text)
        while i < n:
            ch = text[i]
            if ch < " " or "\x7f" <= ch <= "\x9f":
                self._swallow = False
                return i
            i += 1
            if "@" <= ch <= "~":
                self._swallow = False
                return i
        return i


def sanitize(text: str) -> str:
    """`text` filtered as one whole stream."""
    terminal = TerminalFilter()
    return terminal.feed(text) + terminal.flush()
