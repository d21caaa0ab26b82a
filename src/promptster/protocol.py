"""The client side of the recorder protocol: how every capture source sends events.

Stdlib only, on purpose: the Claude Code hook, the MCP server and the recorded shell import
this module on every call, so it must not pull in click, rich, cryptography, duckdb, gitpython
or watchdog (and it imports nothing else from promptster).

Protocol (docs/recorder-protocol.md): newline-delimited JSON over the session's Unix domain
socket. A client sends ``{"op": "append", "events": [...]}`` and the recorder answers
``{"ok": true, "seqs": [...]}`` once every event is in the journal. When the recorder cannot be
reached (not running, busy past the timeout, socket missing) the events are appended to the
session's spool file instead (flock'd, fsynced, one event per line); the recorder ingests the
spool in order when it starts and every few seconds while it runs, skipping event ids it already
has. An event is acknowledged once it is in the journal or durably in the spool.

Lean on purpose (the hook budget: a hook call ≤ 3× `python -c pass`): no `dataclasses`,
`typing`, `pathlib`, `socket`, `uuid`, `datetime` or `contextlib` at import, which together cost
more than the interpreter's own start; ids come from `os.urandom`, timestamps from `time`, the
socket from `_socket`. tests/core/test_layers.py keeps them out.
"""

from __future__ import annotations

import _socket
import fcntl
import json
import os
import sys
import time

TYPE_CHECKING = False  # typing costs ~2 ms at import; mypy still reads the block below
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime
    from pathlib import Path
    from typing import Any

SESSION_DIR_ENV = "PROMPTSTER_SESSION_DIR"
SESSION_DIR_NAME = ".promptster"
SESSION_FILE = "session.json"
SPOOL_FILE = "spool.jsonl"
# Events a capture source could neither send nor spool (count_client_loss).
CLIENT_LOSSES_FILE = "losses-clients.json"
CLIENT_LOSSES_SIZE = 1024
JOURNAL_FILE = "timeline.jsonl"
SCHEMA_VERSION = 1  # the event envelope's `v` (formats.events and bundle.verify use this one)
DEFAULT_TIMEOUT_S = 1.0
MAX_REPLY_BYTES = 16 * 1024 * 1024
# session.json `status` values; only an active session accepts events.
ACTIVE = "active"
RECORDER_MODULE = "promptster.record.recorder"
STARTING_FILE = "recorder.starting"
REVIVE_WINDOW_S = 10.0


def uuid_text(raw: bytes, version: int) -> str:
    """The UUID made of 16 bytes with its version and variant bits set, as `str(uuid.UUID(bytes=
    raw, version=version))` writes it (without importing `uuid`, which pulls in `platform`)."""
    b = bytearray(raw[:16])
    b[6] = (b[6] & 0x0F) | (version << 4)
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_id() -> str:
    """A random (version 4) UUID as text, as `str(uuid.uuid4())` writes it."""
    return uuid_text(os.urandom(16), 4)


class SessionHandle:
    """A located session: its `.promptster` folder and what a client needs from session.json.

    The paths are kept as text (`dir`, `workspace_dir`, `socket_file`); `session_dir`,
    `workspace`, `socket_path` and `spool_path` give them as `Path` for callers off the hook
    path (pathlib is imported on first use)."""

    __slots__ = ("deadline", "dir", "session_id", "socket_file", "status", "workspace_dir")

    def __init__(
        self,
        session_dir: str | os.PathLike[str],
        session_id: str,
        workspace: str | os.PathLike[str],
        socket_path: str | os.PathLike[str],
        status: str,
        deadline: str | None = None,
    ) -> None:
        self.dir = os.fspath(session_dir)
        self.session_id = session_id
        self.workspace_dir = os.fspath(workspace)
        self.socket_file = os.fspath(socket_path)
        self.status = status
        self.deadline = deadline

    def _key(self) -> tuple[str, str, str, str, str, str | None]:
        return (
            self.dir,
            self.session_id,
            self.workspace_dir,
            self.socket_file,
            self.status,
            self.deadline,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SessionHandle) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"SessionHandle(session_dir={self.dir!r}, session_id={self.session_id!r}, "
            f"workspace={self.workspace_dir!r}, socket_path={self.socket_file!r}, "
            f"status={self.status!r}, deadline={self.deadline!r})"
        )

    @property
    def session_dir(self) -> Path:
        from pathlib import Path

        return Path(self.dir)

    @property
    def workspace(self) -> Path:
        from pathlib import Path

        return Path(self.workspace_dir)

    @property
    def socket_path(self) -> Path:
        from pathlib import Path

        return Path(self.socket_file)

    @property
    def spool_file(self) -> str:
        return os.path.join(self.dir, SPOOL_FILE)

    @property
    def spool_path(self) -> Path:
        from pathlib import Path

        return Path(self.spool_file)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


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


def load_handle(session_dir: str | os.PathLike[str]) -> SessionHandle | None:
    """Read `session_dir/session.json`; None when it is missing or unreadable."""
    folder = os.fspath(session_dir)
    try:
        with open(os.path.join(folder, SESSION_FILE), "rb") as file:
            raw = file.read()
        state = json.loads(raw)
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    session_id, socket_path = state.get("sessionId"), state.get("socket")
    if not isinstance(session_id, str) or not isinstance(socket_path, str):
        return None
    workspace = state.get("workspace")
    deadline = state.get("deadline")
    return SessionHandle(
        session_dir=folder,
        session_id=session_id,
        workspace=workspace if isinstance(workspace, str) else os.path.dirname(folder),
        socket_path=socket_path,
        status=str(state.get("status", "")),
        deadline=deadline if isinstance(deadline, str) else None,
    )


def find_session(start: str | os.PathLike[str] | None = None) -> SessionHandle | None:
    """Locate the session: $PROMPTSTER_SESSION_DIR, else the nearest `.promptster/session.json`
    in `start` (default: the current folder) or one of its parents. Ended sessions are returned
    too; check `handle.active` before sending."""
    configured = os.environ.get(SESSION_DIR_ENV)
    if configured:
        return load_handle(os.path.expanduser(configured))
    try:
        here = os.path.abspath(os.fspath(start) if start is not None else os.getcwd())
    except OSError:  # the current folder was deleted
        return None
    while True:
        candidate = os.path.join(here, SESSION_DIR_NAME)
        if os.path.isfile(os.path.join(candidate, SESSION_FILE)):
            return load_handle(candidate)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def format_ts(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds (2026-11-28T12:48:39.123Z): every timestamp Promptster
    writes, in events, state files, packs and reports. A naive datetime (DuckDB's TIMESTAMP)
    is taken as UTC already."""
    if moment.tzinfo is not None:
        from datetime import UTC

        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_ts() -> str:
    """Now, as `format_ts` writes it (from `time`, not `datetime`: see the module's note)."""
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds)) + f"{micros // 1000:03d}Z"


def new_event(
    kind: str,
    data: Mapping[str, Any],
    *,
    channel: str,
    integration: str,
    emitter: str,
    actor: str = "unknown",
    attribution: str = "unknown",
    confidence: float = 0.5,
    observability: str = "partial",
    event_id: str | None = None,
    ts: str | None = None,
) -> dict[str, Any]:
    """An event dict ready for `send_events` (the journal adds `seq` and `prev`).

    The one place the envelope's fields and defaults are written: `formats.events.make_event`
    builds its typed Event from this dict."""
    return {
        "v": SCHEMA_VERSION,
        "id": event_id or new_id(),
        "ts": ts or now_ts(),
        "kind": kind,
        "source": {"channel": channel, "integration": integration, "emitter": emitter},
        "actor": {"type": actor},
        "provenance": {
            "attribution": attribution,
            "confidence": confidence,
            "observability": observability,
        },
        "data": data,
    }


def _complete(event: dict[str, Any]) -> dict[str, Any]:
    """Fill `v`, `id` and `ts` when a caller left them out; never touch anything else."""
    if "v" in event and "id" in event and "ts" in event:
        return event
    filled = dict(event)
    filled.setdefault("v", SCHEMA_VERSION)
    filled.setdefault("id", new_id())
    filled.setdefault("ts", now_ts())
    return filled


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
    batch = [_complete(event) for event in events]
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


def revive_recorder(handle: SessionHandle) -> bool:
    """Start the session's recorder in the background if none runs (it then ingests the spool).

    Does not wait for it. Returns whether this call started one. A burst of hooks that all find
    the recorder gone starts exactly one: the first to create `recorder.starting` (O_EXCL)
    spawns it, the others see the marker and leave it be; the recorder removes the marker once
    it holds its lock, and a marker older than REVIVE_WINDOW_S (a start that failed) is taken
    over by one caller (rename: only one succeeds).
    """
    if not os.path.exists(os.path.join(handle.dir, JOURNAL_FILE)):
        return False  # not a session `promptster start` made (a test's stand-in, a half start)
    lock = os.path.join(handle.dir, "recorder.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # held: a recorder runs (or is starting)
    finally:
        os.close(fd)
    if not _claim_start(os.path.join(handle.dir, STARTING_FILE)):
        return False  # another caller is starting it
    import subprocess

    try:
        subprocess.Popen(
            [sys.executable, "-m", RECORDER_MODULE, "--daemon", handle.dir],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=handle.dir,
            start_new_session=True,
        )
    except OSError:
        _unlink_quietly(os.path.join(handle.dir, STARTING_FILE))
        return False
    return True


def _unlink_quietly(path: str) -> None:
    try:  # noqa: SIM105 (contextlib: ~1 ms more per hook call)
        os.unlink(path)
    except OSError:
        pass


def _claim_start(marker: str) -> bool:
    """True for the one caller that may start the recorder now."""
    for _ in range(2):
        try:
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return True
        except FileExistsError:
            pass
        except OSError:
            return False
        try:
            age = time.time() - os.stat(marker).st_mtime
        except OSError:
            continue  # removed meanwhile: try to create it again
        if age < REVIVE_WINDOW_S:
            return False
        stale = f"{marker}.stale-{os.urandom(16).hex()}"
        try:  # stale: exactly one caller wins the rename and tries again
            os.rename(marker, stale)
        except OSError:
            return False
        _unlink_quietly(stale)
    return False


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
