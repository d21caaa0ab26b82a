"""The timeline event: envelope, kinds, and their canonical JSON lines.

An event is one line of `timeline.jsonl` (see docs/bundle-format.md). The envelope is typed;
the kind-specific `data` stays a plain JSON object so that kinds and fields written by a newer
Promptster are kept and round-trip unchanged. Unknown top-level fields are kept in `extra`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, TypedDict, cast

from promptster.errors import FormatError
from promptster.formats.jsonio import JsonObject, canonical_json

# The envelope version, timestamps and defaults are written once, in the stdlib-only wire
# format (the hook path imports it without this module); re-exported here for the rest.
from promptster.protocol import SCHEMA_VERSION as SCHEMA_VERSION
from promptster.protocol import format_ts as format_ts
from promptster.protocol import new_event
from promptster.protocol import now_ts as now_ts

if TYPE_CHECKING:  # the hook path imports this module: the payload types cost nothing here
    from promptster.formats.payloads import Payload


class Kind(StrEnum):
    SESSION_START = "session_start"
    SESSION_END = "session_end"
    PROMPT = "prompt"
    AI_RESPONSE = "ai_response"
    TOOL_USE = "tool_use"
    TOOL_RESULT = "tool_result"
    FILE_DIFF = "file_diff"
    FILE_CREATE = "file_create"
    FILE_DELETE = "file_delete"
    COMMAND = "command"
    TEST_RUN = "test_run"
    BUILD_RUN = "build_run"
    GIT_ACTION = "git_action"
    DECISION_EVENT = "decision_event"
    CHECKPOINT = "checkpoint"
    PLANNING = "planning"
    MCP_CALL = "mcp_call"
    NOTE = "note"
    WARNING = "warning"


KNOWN_KINDS = frozenset(k.value for k in Kind)
FILE_KINDS = frozenset({Kind.FILE_CREATE.value, Kind.FILE_DIFF.value, Kind.FILE_DELETE.value})

Channel = Literal["hook", "cli", "mcp", "terminal", "watcher", "import", "proxy"]
ActorType = Literal["ai", "human", "system", "unknown"]
Attribution = Literal[
    "likely_ai", "ai_revised_by_human", "likely_human", "mixed", "system_generated", "unknown"
]
Observability = Literal["high", "medium", "partial", "low", "unknown"]

CHANNELS: frozenset[str] = frozenset(
    {"hook", "cli", "mcp", "terminal", "watcher", "import", "proxy"}
)
ACTOR_TYPES: frozenset[str] = frozenset({"ai", "human", "system", "unknown"})
ATTRIBUTIONS: frozenset[str] = frozenset(
    {"likely_ai", "ai_revised_by_human", "likely_human", "mixed", "system_generated", "unknown"}
)


class Source(TypedDict, total=False):
    channel: str
    integration: str
    emitter: str


class Actor(TypedDict, total=False):
    type: str


class Provenance(TypedDict, total=False):
    attribution: str
    confidence: float
    observability: str
    likelyPaste: bool  # file events: a large block nothing recorded explains


ENVELOPE_FIELDS = frozenset(
    {"v", "id", "seq", "ts", "kind", "source", "actor", "provenance", "data", "prev"}
)


def parse_ts(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError) as exc:
        raise FormatError(f"not an RFC 3339 timestamp: {text!r}") from exc
    if moment.tzinfo is None:
        raise FormatError(f"timestamp has no time zone: {text!r}")
    return moment.astimezone(UTC)


@dataclass
class Event:
    """One timeline event. `seq` and `prev` are assigned by the journal when it is written."""

    kind: str
    data: JsonObject
    source: Source
    actor: Actor = field(default_factory=lambda: Actor(type="unknown"))
    provenance: Provenance = field(
        default_factory=lambda: Provenance(
            attribution="unknown", confidence=0.5, observability="partial"
        )
    )
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ts: str = field(default_factory=now_ts)
    seq: int = -1
    prev: str = ""
    v: int = SCHEMA_VERSION
    extra: JsonObject = field(default_factory=dict)

    def to_dict(self) -> JsonObject:
        body: JsonObject = dict(self.extra)
        body.update(
            v=self.v,
            id=self.id,
            seq=self.seq,
            ts=self.ts,
            kind=self.kind,
            source=dict(self.source),
            actor=dict(self.actor),
            provenance=dict(self.provenance),
            data=self.data,
            prev=self.prev,
        )
        return body

    def to_line(self) -> bytes:
        """The canonical JSON line, without the trailing newline."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, body: Any) -> Event:
        """Build an event from a parsed line; raises FormatError naming the bad field."""
        if not isinstance(body, dict):
            raise FormatError("event is not a JSON object")
        missing = sorted(f for f in ("v", "id", "seq", "ts", "kind", "data") if f not in body)
        if missing:
            raise FormatError(f"event lacks {', '.join(missing)}")
        checks: list[tuple[str, type | tuple[type, ...]]] = [
            ("v", int),
            ("id", str),
            ("seq", int),
            ("ts", str),
            ("kind", str),
            ("data", dict),
            ("source", dict),
            ("actor", dict),
            ("provenance", dict),
            ("prev", str),
        ]
        for name, expected in checks:
            if name in body and (
                not isinstance(body[name], expected) or isinstance(body[name], bool)
            ):
                raise FormatError(f"event field {name!r} has the wrong type")
        return cls(
            kind=body["kind"],
            data=body["data"],
            source=cast(Source, dict(body.get("source", {}))),
            actor=cast(Actor, dict(body.get("actor", {}))),
            provenance=cast(Provenance, dict(body.get("provenance", {}))),
            id=body["id"],
            ts=body["ts"],
            seq=body["seq"],
            prev=body.get("prev", ""),
            v=body["v"],
            extra={k: v for k, v in body.items() if k not in ENVELOPE_FIELDS},
        )

    @property
    def is_known_kind(self) -> bool:
        return self.kind in KNOWN_KINDS


def make_event(
    kind: Kind | str,
    data: Payload | JsonObject,
    *,
    channel: str,
    integration: str,
    emitter: str,
    actor: str = "unknown",
    attribution: str = "unknown",
    confidence: float = 0.5,
    observability: str = "partial",
    ts: str | None = None,
    event_id: str | None = None,
) -> Event:
    """Convenience constructor used by every capture source: `protocol.new_event`, typed."""
    envelope = new_event(
        str(kind),
        data,
        channel=channel,
        integration=integration,
        emitter=emitter,
        actor=actor,
        attribution=attribution,
        confidence=confidence,
        observability=observability,
        event_id=event_id,
        ts=ts,
    )
    return Event(
        kind=envelope["kind"],
        data=cast(JsonObject, data),  # a payload TypedDict is a plain dict at run time
        source=cast(Source, envelope["source"]),
        actor=cast(Actor, envelope["actor"]),
        provenance=cast(Provenance, envelope["provenance"]),
        id=envelope["id"],
        ts=envelope["ts"],
        v=envelope["v"],
    )
