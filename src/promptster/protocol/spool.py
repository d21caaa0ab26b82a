"""Where events go when the recorder cannot take them: the session's spool and, when even the
spool cannot be written, the client loss ledger that counts them.
"""

from __future__ import annotations

import fcntl
import json
import os

from promptster.protocol.session import load_handle

TYPE_CHECKING = False  # typing costs ~2 ms at import; mypy still reads the block below
if TYPE_CHECKING:
    from typing import Any

# Events a capture source could neither send nor spool (count_client_loss).
CLIENT_LOSSES_FILE = "losses-clients.json"
CLIENT_LOSSES_SIZE = 1024


class SessionEnded(Exception):
    """The session ended before the events could be spooled: nothing would read them."""


def count_client_loss(session_dir: str, batch: list[dict[str, Any]]) -> None:
    """Count events that reached neither the recorder nor the spool in the session's client
    loss ledger, so the recorder can record the loss as a `capture_gap` once it can write.

    The recorder allocates the ledger's bytes while there is room; rewriting it in place (same
    size, under its flock) needs no new block, so this works on the full disk that made the
    spool fail. Without the ledger (no recorder ever started) there is nothing to count into.
    """
    try:
        fd = os.open(os.path.join(session_dir, CLIENT_LOSSES_FILE), os.O_RDWR)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        count, kinds = parse_client_losses(os.pread(fd, CLIENT_LOSSES_SIZE, 0))
        for event in batch:
            kind = str(event.get("kind"))[:64]
            if len(kinds) < 32 or kind in kinds:
                kinds[kind] = kinds.get(kind, 0) + 1
        os.pwrite(fd, client_losses_record(count + len(batch), kinds), 0)
    except OSError:
        pass  # nowhere left to say it but stderr (say_dropped)
    finally:
        try:  # noqa: SIM105 (contextlib: ~1 ms more per hook call)
            os.close(fd)  # closing releases the flock
        except OSError:
            pass


def parse_client_losses(raw: bytes) -> tuple[int, dict[str, int]]:
    """The count and per-kind counts in a client loss ledger (zeros when empty or unreadable)."""
    try:
        body = json.loads(raw.strip(b"\0 \n") or b"{}")
    except ValueError:
        return 0, {}
    if not isinstance(body, dict):
        return 0, {}
    count = body.get("open")
    kinds = body.get("kinds")
    clean = (
        {str(k)[:64]: v for k, v in kinds.items() if isinstance(v, int) and v > 0}
        if isinstance(kinds, dict)
        else {}
    )
    return (count if isinstance(count, int) and count > 0 else 0), clean


def client_losses_record(count: int, kinds: dict[str, int]) -> bytes:
    """The ledger's fixed-size record (padded with spaces: rewritten in place)."""
    record = json.dumps({"v": 1, "open": count, "kinds": kinds}, sort_keys=True).encode()
    if len(record) > CLIENT_LOSSES_SIZE:
        record = json.dumps({"v": 1, "open": count, "kinds": {}}).encode()
    return record.ljust(CLIENT_LOSSES_SIZE)


def append_to_spool(
    spool_path: str | os.PathLike[str],
    events: list[dict[str, Any]],
    *,
    session_dir: str | os.PathLike[str] | None = None,
) -> None:
    """Append events, one JSON line each, under an exclusive flock, and fsync them.

    With `session_dir`, the session's status is read again under the lock: the recorder ends a
    session while holding the same lock, after its last look at the spool, so an event spooled
    here is always either ingested or refused, never stranded.
    """
    lines = b"".join(
        json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        + b"\n"
        for event in events
    )
    fd = os.open(spool_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if session_dir is not None:
            current = load_handle(session_dir)
            if current is None or not current.active:
                status = current.status if current else "gone"
                raise SessionEnded(f"the session is {status or 'not active'}")
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            lines = b"\n" + lines  # a writer died mid-line: never glue onto its torn tail
        view = memoryview(lines)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        try:  # noqa: SIM105 (contextlib: ~1 ms more per hook call)
            os.close(fd)  # closing releases the flock
        except OSError:
            pass
