"""Delivering events: one request over the session's socket, else the spool, else a count.

Never raises for delivery problems (`send_events`): the result says where the events went, and
`say_dropped` tells the AI tool when they went nowhere.
"""

from __future__ import annotations

import _socket
import json
import sys

from promptster.protocol.envelope import complete_event
from promptster.protocol.revive import revive_recorder
from promptster.protocol.spool import SessionEnded, append_to_spool, count_client_loss

TYPE_CHECKING = False  # typing costs ~2 ms at import; mypy still reads the block below
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from promptster.protocol.session import SessionHandle

DEFAULT_TIMEOUT_S = 1.0
MAX_REPLY_BYTES = 16 * 1024 * 1024


class SendResult:
    """What happened to a batch: `via` is "recorder", "spool" or "none" (not acknowledged)."""

    __slots__ = ("error", "seqs", "via")

    def __init__(self, via: str, seqs: list[int] | None = None, error: str | None = None) -> None:
        self.via = via
        self.seqs: list[int] = seqs if seqs is not None else []
        self.error = error

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SendResult) and (self.via, self.seqs, self.error) == (
            other.via,
            other.seqs,
            other.error,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        return f"SendResult(via={self.via!r}, seqs={self.seqs!r}, error={self.error!r})"

    @property
    def acknowledged(self) -> bool:
        return self.via in ("recorder", "spool")


class RecorderUnavailable(Exception):
    """The recorder could not be asked (no socket, refused, timed out, or a broken reply)."""


def request(
    handle: SessionHandle, message: dict[str, Any], timeout: float = DEFAULT_TIMEOUT_S
) -> dict[str, Any]:
    """Send one request line and return the reply object. Raises RecorderUnavailable."""
    try:
        payload = (json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"request is not JSON-serialisable: {exc}") from exc
    try:
        conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            conn.settimeout(timeout)
            conn.connect(handle.socket_file)
            conn.sendall(payload)
            reply = _read_line(conn)
        finally:
            conn.close()
    except OSError as exc:  # includes TimeoutError, ConnectionRefused, FileNotFound
        raise RecorderUnavailable(f"recorder not reachable at {handle.socket_file}: {exc}") from exc
    try:
        answer = json.loads(reply)
    except ValueError as exc:
        raise RecorderUnavailable("the recorder sent a reply that is not JSON") from exc
    if not isinstance(answer, dict):
        raise RecorderUnavailable("the recorder sent a reply that is not a JSON object")
    return answer


def _read_line(conn: _socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("the recorder closed the connection without a reply")
        newline = chunk.find(b"\n")
        if newline >= 0:
            chunks.append(chunk[:newline])
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise ConnectionError("the recorder's reply is too large")


def send_events(
    handle: SessionHandle,
    events: Iterable[dict[str, Any]],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    spool: bool = True,
    revive: bool = True,
) -> SendResult:
    """Deliver events to the recorder, or to the spool when it cannot be reached.

    Never raises for delivery problems: the result says where the events went. Events sent to
    an ended session are refused (not spooled): nothing would ever read them. After spooling,
    a recorder that is not running is started in the background (`revive`), which ingests the
    spool: any capture source that notices the recorder is gone brings it back.
    """
    batch = [complete_event(event) for event in events]
    if not batch:
        return SendResult("recorder")
    if not handle.active:
        return SendResult("none", error=f"the session is {handle.status or 'not active'}")
    try:
        answer = request(handle, {"op": "append", "events": batch}, timeout)
    except RecorderUnavailable as exc:
        return _spool_or_fail(handle, batch, str(exc), spool, revive)
    except ValueError as exc:
        return SendResult("none", error=str(exc))
    if answer.get("ok") is True:
        seqs = answer.get("seqs")
        return SendResult("recorder", [s for s in seqs if isinstance(s, int)] if seqs else [])
    code, message = answer.get("code"), str(answer.get("error", "refused by the recorder"))
    if code == "unavailable":  # e.g. the disk was full for the journal: try the spool
        # The recorder counted these refusals itself (its own loss ledger): not counted here.
        return _spool_or_fail(handle, batch, message, spool, revive=False, counted=True)
    return SendResult("none", error=message)  # "invalid" or "ended": spooling would not help


def _spool_or_fail(
    handle: SessionHandle,
    batch: list[dict[str, Any]],
    reason: str,
    spool: bool,
    revive: bool,
    counted: bool = False,
) -> SendResult:
    if not spool:
        return SendResult("none", error=reason)
    try:
        append_to_spool(handle.spool_file, batch, session_dir=handle.dir)
    except SessionEnded as exc:
        return SendResult("none", error=str(exc))
    except OSError as exc:
        if not counted:
            count_client_loss(handle.dir, batch)
        return SendResult("none", error=f"{reason}; spool failed too: {exc.strerror or exc}")
    if revive:
        revive_recorder(handle)
    return SendResult("spool", error=None)


def say_dropped(source: str, count: int, result: SendResult) -> None:
    """One line on stderr when a capture source could not record its events (the recorder
    down past the spool, the spool unwritable, the session ended meanwhile): the AI tool shows
    or logs it, and goes on (the caller's exit code does not change)."""
    if result.acknowledged or count == 0:
        return
    reason = " ".join(str(result.error or "refused").split())[:300]
    noun = "event" if count == 1 else "events"
    try:
        sys.stderr.write(f"promptster: {source}: {count} {noun} not recorded: {reason}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # no stderr to say it on
        pass
