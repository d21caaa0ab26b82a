"""The event envelope a client writes: ids, timestamps and the fields every event carries.

Ids come from `os.urandom` and timestamps from `time` (not `uuid` or `datetime`: the package's
note on the hook budget).
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # typing costs ~2 ms at import; mypy still reads the block below
if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from typing import Any

SCHEMA_VERSION = 1  # the event envelope's `v` (formats.events and bundle.verify use this one)


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


def complete_event(event: dict[str, Any]) -> dict[str, Any]:
    """Fill `v`, `id` and `ts` when a caller left them out; never touch anything else."""
    if "v" in event and "id" in event and "ts" in event:
        return event
    filled = dict(event)
    filled.setdefault("v", SCHEMA_VERSION)
    filled.setdefault("id", new_id())
    filled.setdefault("ts", now_ts())
    return filled
