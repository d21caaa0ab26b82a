"""The client side of the recorder protocol: how every capture source sends events.

Stdlib only, on purpose: the Claude Code hook, the MCP server and the recorded shell import
this package on every call, so it must not pull in click, rich, cryptography, duckdb, gitpython
or watchdog (and it imports nothing else from promptster).

Protocol (docs/recorder-protocol.md): newline-delimited JSON over the session's Unix domain
socket. A client sends ``{"op": "append", "events": [...]}`` and the recorder answers
``{"ok": true, "seqs": [...]}`` once every event is in the journal. When the recorder cannot be
reached (not running, busy past the timeout, socket missing) the events are appended to the
session's spool file instead (flock'd, fsynced, one event per line); the recorder ingests the
spool in order when it starts and every few seconds while it runs, skipping event ids it already
has. An event is acknowledged once it is in the journal or durably in the spool.

`session` locates the session, `envelope` writes an event's ids, timestamps and fields,
`client` delivers events (`send_events`, `request`), `spool` is where they go when the recorder
cannot take them (and the client loss ledger when even the spool fails), and `revive` starts a
recorder that is gone. Every public name is importable from here.

Lean on purpose (the hook budget: a hook call ≤ 3× `python -c pass`): no `dataclasses`,
`typing`, `pathlib`, `socket`, `uuid`, `datetime` or `contextlib` at import, which together cost
more than the interpreter's own start; ids come from `os.urandom`, timestamps from `time`, the
socket from `_socket`. tests/core/test_layers.py keeps them out.
"""

from __future__ import annotations

from promptster.protocol.client import (
    DEFAULT_TIMEOUT_S,
    MAX_REPLY_BYTES,
    RecorderUnavailable,
    SendResult,
    request,
    say_dropped,
    send_events,
)
from promptster.protocol.envelope import (
    SCHEMA_VERSION,
    format_ts,
    new_event,
    new_id,
    now_ts,
    uuid_text,
)
from promptster.protocol.revive import (
    RECORDER_MODULE,
    REVIVE_WINDOW_S,
    STARTING_FILE,
    revive_recorder,
)
from promptster.protocol.session import (
    ACTIVE,
    JOURNAL_FILE,
    SESSION_DIR_ENV,
    SESSION_DIR_NAME,
    SESSION_FILE,
    SPOOL_FILE,
    SessionHandle,
    find_session,
    load_handle,
)
from promptster.protocol.spool import (
    CLIENT_LOSSES_FILE,
    CLIENT_LOSSES_SIZE,
    SessionEnded,
    append_to_spool,
    client_losses_record,
    count_client_loss,
    parse_client_losses,
)

__all__ = [
    "ACTIVE",
    "CLIENT_LOSSES_FILE",
    "CLIENT_LOSSES_SIZE",
    "DEFAULT_TIMEOUT_S",
    "JOURNAL_FILE",
    "MAX_REPLY_BYTES",
    "RECORDER_MODULE",
    "REVIVE_WINDOW_S",
    "SCHEMA_VERSION",
    "SESSION_DIR_ENV",
    "SESSION_DIR_NAME",
    "SESSION_FILE",
    "SPOOL_FILE",
    "STARTING_FILE",
    "RecorderUnavailable",
    "SendResult",
    "SessionEnded",
    "SessionHandle",
    "append_to_spool",
    "client_losses_record",
    "count_client_loss",
    "find_session",
    "format_ts",
    "load_handle",
    "new_event",
    "new_id",
    "now_ts",
    "parse_client_losses",
    "request",
    "revive_recorder",
    "say_dropped",
    "send_events",
    "uuid_text",
]
