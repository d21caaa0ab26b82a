"""The recorded shell's terminal stream as asciicast v2 (docs.asciinema.org/manual/asciicast/v2).

A cast is newline-delimited JSON: a header object (``version`` 2, ``width``, ``height``,
``timestamp``, ``env``, ``title``, plus a ``promptster`` object with the session id and the
precise start time), then one ``[seconds since the start, code, data]`` array per event:
``"o"`` output, ``"r"`` resize (``"COLSxROWS"``), ``"m"`` marker.

`CastEncoder` turns what the pty loop read into those lines:

* bytes are decoded with an incremental UTF-8 decoder (``errors="replace"``, as asciinema
  does), so a character split across reads survives and binary output still gives valid JSON;
* secrets are redacted with `StreamRedactor`, which holds back an incomplete line. Timing stays
  exact anyway: every chunk keeps the time it was read, and what the redactor releases later is
  cut back into those chunks (a redacted secret and its placeholder go with the chunk where the
  secret began). A resize or marker that arrives while text is held is written after that text;
* output read within `coalesce` seconds of the first chunk of an event joins that event.

`CastFile` writes the lines (mode 0600, whole lines only, a size cap with a closing marker);
the shell's worker process writes it (shell_pipe.py), so the terminal never waits for the disk.
`read_cast` (cast_reader.py) reads v2 and v3 for `promptster replay`; `collect_casts` is what
submit puts in the bundle: complete lines, and nothing after the session ended.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import deque
from collections.abc import Iterable
from itertools import islice
from pathlib import Path

from promptster.record.redact.redactor import Finding, StreamRedactor, placeholder
from promptster.record.shell.cast_header import (
    CAST_NAME,
    CAST_VERSION,
    CASTS_DIR,
    CastHeader,
    new_cast_path,
)

# Reading casts lives in cast_reader.py, not re-exported here: the recording worker imports this
# module before the shell starts, and the reader pulls in the bundle reader and cryptography.
__all__ = ["CastEncoder", "CastFile", "CastHeader", "new_cast_path"]

COALESCE_S = 0.004
MAX_CAST_BYTES = 512 * 1024 * 1024  # the bundle accepts 1 GiB per cast
_EVENT_TIME = re.compile(rb"\[\s*([0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)\s*,")


def event_line(t: float, code: str, data: str) -> bytes:
    return f'[{t:.6f}, "{code}", {json.dumps(data, ensure_ascii=False)}]\n'.encode()


class CastEncoder:
    """Output, resizes and markers in, asciicast v2 event lines out (see the module doc)."""

    def __init__(self, *, redact: bool = True, coalesce: float = COALESCE_S) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._redactor = StreamRedactor() if redact else None
        self._coalesce = coalesce
        self._fed = 0  # characters given to the redactor
        self._emitted = 0  # of those, characters it has released
        self._chunks: deque[tuple[int, float]] = deque()  # (offset where a chunk starts, time)
        self._deferred: deque[tuple[int, bytes]] = deque()  # (offset, line) waiting for text
        self._pending: list[str] = []  # the output event being coalesced
        self._pending_t = 0.0
        self._last_t = 0.0
        self._findings: list[Finding] = []  # redactions not yet reported

    def output(self, t: float, data: bytes) -> list[bytes]:
        text = self._decoder.decode(data)
        if not text:
            return []
        if self._redactor is None:
            return self._add([(t, text)])
        self._chunks.append((self._fed, t))
        self._fed += len(text)
        return self._released(self._redactor.feed(text))

    def resize(self, t: float, cols: int, rows: int) -> list[bytes]:
        return self._other(t, "r", f"{cols}x{rows}")

    def marker(self, t: float, label: str) -> list[bytes]:
        return self._other(t, "m", label)

    def idle(self, now: float) -> list[bytes]:
        """Write the coalesced event once its window has passed."""
        if self._pending and now - self._pending_t > self._coalesce:
            return self._flush_pending()
        return []

    def finish(self) -> list[bytes]:
        """The stream ended: release everything held (decoder, redactor, coalescer)."""
        lines: list[bytes] = []
        tail = self._decoder.decode(b"", final=True)
        if tail:
            t = self._chunks[-1][1] if self._chunks else self._last_t
            if self._redactor is None:
                lines += self._add([(t, tail)])
            else:
                self._chunks.append((self._fed, t))
                self._fed += len(tail)
                lines += self._released(self._redactor.feed(tail))
        if self._redactor is not None:
            lines += self._released(self._redactor.flush())
        lines += self._flush_pending()
        while self._deferred:
            lines.append(self._deferred.popleft()[1])
        return lines

    # -- internals -------------------------------------------------------------------------

    def _other(self, t: float, code: str, data: str) -> list[bytes]:
        if self._redactor is not None and self._emitted < self._fed:
            self._deferred.append((self._fed, event_line(max(t, self._last_t), code, data)))
            return []
        lines = self._flush_pending()
        t = max(t, self._last_t)
        self._last_t = t
        lines.append(event_line(t, code, data))
        return lines

    def _released(self, out: str) -> list[bytes]:
        """Cut text the redactor released back into the chunks it came from, in order, with
        the resizes and markers that arrived between them."""
        assert self._redactor is not None
        found = self._redactor.take_findings()  # spans clipped at the cut: all end <= end
        self._findings += found
        if not out:
            return []
        start, end = self._emitted, self._fed - self._redactor.held
        self._emitted = end
        while len(self._chunks) > 1 and self._chunks[1][0] <= start:
            self._chunks.popleft()
        if not found and not self._deferred:
            # the common case, no secret and nothing waiting: each chunk's text at its time
            # (what the general way below gives then, without its bookkeeping)
            quick: list[tuple[float, str]] = []
            at, t = start, self._chunks[0][1]
            for offset, next_t in islice(self._chunks, 1, None):
                if offset >= end:
                    break
                quick.append((t, out[at - start : offset - start]))
                at, t = offset, next_t
            quick.append((t, out[at - start :]))
            return self._add(quick)
        bounds = [(start, self._chunks[0][1])]
        bounds += [(o, t) for o, t in list(self._chunks)[1:] if o < end]
        spans = [(f.start, f.end, len(placeholder(f.kind))) for f in found]
        positions: list[tuple[int, int, float]] = []  # (output position, offset, time)
        for offset, t in bounds:
            if any(s < offset < e for s, e, _ in spans):
                continue  # inside a secret: that chunk joins the one where the secret began
            shift = sum(n - (e - s) for s, e, n in spans if start <= s and e <= offset)
            positions.append((offset - start + shift, offset, t))
        pieces: list[tuple[float, str, int]] = []
        if positions[-1][0] > len(out) or positions != sorted(positions):
            pieces.append((bounds[0][1], out, start))  # cannot happen; never lose text
        else:
            cuts = [p for p, _, _ in positions] + [len(out)]
            for (p, offset, t), q in zip(positions, cuts[1:], strict=True):
                if q > p:
                    pieces.append((t, out[p:q], offset))
        lines: list[bytes] = []
        for t, text, offset in pieces:
            while self._deferred and self._deferred[0][0] <= offset:
                lines += self._flush_pending()
                lines.append(self._deferred.popleft()[1])
            lines += self._add([(t, text)])
        while self._deferred and self._deferred[0][0] <= end:
            lines += self._flush_pending()
            lines.append(self._deferred.popleft()[1])
        return lines

    def _add(self, pieces: Iterable[tuple[float, str]]) -> list[bytes]:
        lines: list[bytes] = []
        for t, text in pieces:
            t = max(t, self._last_t)
            if self._pending and t - self._pending_t > self._coalesce:
                lines += self._flush_pending()
            if not self._pending:
                self._pending_t = t
            self._pending.append(text)
            self._last_t = t
        return lines

    def _flush_pending(self) -> list[bytes]:
        if not self._pending:
            return []
        text = "".join(self._pending)
        self._pending = []
        return [event_line(self._pending_t, "o", text)]

    @property
    def pending(self) -> bool:
        """An output event is being coalesced (`idle` will write it)."""
        return bool(self._pending)

    def take_findings(self) -> list[Finding]:
        """Redactions made since the last call (for the `redaction` warning)."""
        found, self._findings = self._findings, []
        return found


class CastFile:
    """One cast on disk: the header, then whole event lines, up to `max_bytes`."""

    def __init__(self, path: Path, header: CastHeader, *, max_bytes: int = MAX_CAST_BYTES):
        self.path = path
        self._file = open(path, "wb", buffering=256 * 1024)  # noqa: SIM115  closed by close()
        self._max = max_bytes
        self.size = 0
        self.dropped = 0  # output bytes not written because the cast reached max_bytes
        self.dirty = False
        self._write(header.line())
        self.flush()

    def write(self, lines: Iterable[bytes]) -> None:
        for line in lines:
            if self.dropped or self.size + len(line) > self._max:
                self.dropped += len(line)
                continue
            self._write(line)

    def _write(self, line: bytes) -> None:
        self._file.write(line)
        self.size += len(line)
        self.dirty = True

    def flush(self) -> None:
        if self.dirty:
            self._file.flush()
            self.dirty = False

    def close(self, t: float) -> None:
        if self._file.closed:
            return
        if self.dropped:
            note = f"promptster: the cast reached its size limit; {self.dropped:,} bytes not kept"
            self._file.write(event_line(t, "m", note))
        self._file.close()


def complete_lines(data: bytes, *, until: float | None = None) -> bytes:
    """The cast's whole lines (a writer may be in the middle of one), and with `until`
    (seconds since the recording started) only the events up to that time."""
    data = data[: data.rfind(b"\n") + 1]
    if until is None:
        return data
    end = data.find(b"\n") + 1
    pos = end
    while pos < len(data):
        nl = data.find(b"\n", pos) + 1
        match = _EVENT_TIME.match(data, pos, nl)
        if match is not None and float(match.group(1)) > until:
            break
        pos = end = nl
    return data[:end]


def collect_casts(session_dir: Path, ended_epoch: float | None = None) -> list[bytes]:
    """Every cast of the session, in number order, cut to whole lines and, with
    `ended_epoch`, to what was recorded before the session ended. Unreadable or empty files
    are skipped (a shell that never wrote its header)."""
    folder = session_dir / CASTS_DIR
    if not folder.is_dir():
        return []
    numbered = sorted(
        (int(m.group(1)), p) for p in folder.iterdir() if (m := CAST_NAME.fullmatch(p.name))
    )
    casts: list[bytes] = []
    for _, path in numbered:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        first = data[: data.find(b"\n") + 1]
        try:
            header = json.loads(first) if first else None
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("version") != CAST_VERSION:
            continue
        until = None
        ours = header.get("promptster")
        started = ours.get("startedAt") if isinstance(ours, dict) else header.get("timestamp")
        if ended_epoch is not None and isinstance(started, int | float):
            until = ended_epoch - float(started)
            if until < 0:
                continue  # opened after the session ended
        casts.append(complete_lines(data, until=until))
    return casts
