"""Removing the shell's private marks from the pty stream on its way to the terminal.

The pty loop only has to hide Promptster's private OSC 6973 marks of this shell's token (see
osc.py for the format); everything else, OSC 133 included, goes to the terminal untouched.
`MarkStripper` does just that, with one `find` per read in the common case, so the loop does
not pay for parsing every escape sequence: the worker process parses the marks in full
(`MarkParser`) from the raw reads. Both agree on what a mark is: ``ESC ] 6973 ; <token> ;``
up to BEL or ST (``ESC \\``) within `max_sequence` bytes; an ESC that is not ST ends it early
and it is then data, as is an unterminated one and a mark with another token.
"""

from __future__ import annotations

# Defined here, not in osc.py, so that the pty loop does not import the worker's parser.
PRIVATE_OSC = 6973
DEFAULT_MAX_SEQUENCE = 64 * 1024

_ESC = 0x1B
_BEL = 0x07
_ST_END = 0x5C  # '\'


class MarkStripper:
    """Incremental: a mark split across reads is held back until it is complete."""

    def __init__(self, token: str, *, max_sequence: int = DEFAULT_MAX_SEQUENCE) -> None:
        self._start = f"\x1b]{PRIVATE_OSC};{token};".encode("ascii")
        self._max = max(max_sequence, 16)
        self._held = b""

    @property
    def pending(self) -> int:
        return len(self._held)

    def flush(self) -> bytes:
        """Release held bytes as data (the stream went quiet, or ended)."""
        held, self._held = self._held, b""
        return held

    def strip(self, data: bytes) -> bytes:
        buf = self._held + data if self._held else data
        self._held = b""
        start = self._start
        found = buf.find(start)
        if found < 0 and self._partial_start(buf) == len(buf):
            return buf  # the common case: no mark of ours begins here
        out: list[bytes] = []
        pos = 0
        while True:
            found = buf.find(start, pos)
            if found < 0:
                cut = self._partial_start(buf, pos)
                out.append(buf[pos:cut])
                self._held = buf[cut:]
                return b"".join(out)
            end = self._end(buf, found)
            if end is None:  # not terminated yet: hold it, unless it is too long to be ours
                if len(buf) - found < self._max:
                    out.append(buf[pos:found])
                    self._held = buf[found:]
                    return b"".join(out)
                out.append(buf[pos : found + 1])
                pos = found + 1
                continue
            if end < 0:  # an ESC that is not ST aborted it: data up to that ESC
                out.append(buf[pos:-end])
                pos = -end
                continue
            out.append(buf[pos:found])
            pos = end

    def _end(self, buf: bytes, found: int) -> int | None:
        """Just past the mark's terminator; -(position of an aborting ESC); None: not yet."""
        limit = min(len(buf), found + self._max)
        k = found + len(self._start)
        bel = buf.find(b"\x07", k, limit)
        esc = buf.find(b"\x1b", k, limit)
        if bel >= 0 and (esc < 0 or bel < esc):
            return bel + 1
        if esc < 0:
            return None
        if esc + 1 >= len(buf):
            return None  # ESC at the very end: ST or not, the next read tells
        return esc + 2 if buf[esc + 1] == _ST_END else -esc

    def _partial_start(self, buf: bytes, pos: int = 0) -> int:
        """Where a possible beginning of a mark at the end of `buf` starts (len: none)."""
        n = len(buf)
        k = buf.rfind(b"\x1b", max(pos, n - len(self._start) + 1))
        if k >= 0 and self._start.startswith(buf[k:]):
            return k
        return n
