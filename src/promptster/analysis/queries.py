"""Reviewer queries over loaded sessions: the list, one session, its timeline (cursor
pagination like the hosted API: `after` an event id, `limit` 1–2000, `hasMore`) and its
decisions. They run on any connection holding the analysis tables (in memory or a workspace).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from promptster.analysis.signals import iso_ms, run_family, set_scope
from promptster.errors import InputError
from promptster.formats.jsonio import JsonValue

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    assessment_id: str | None
    candidate_name: str | None
    started_at: str | None
    ended_at: str | None
    event_count: int
    decision_flag_count: int
    ai_attribution_pct: float | None
    source_service: tuple[str, ...]
    verified: bool
    bundle_path: str | None

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "id": self.session_id,
            "assessmentId": self.assessment_id,
            "candidateName": self.candidate_name,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "eventCount": self.event_count,
            "decisionFlagCount": self.decision_flag_count,
            "aiAttributionPct": self.ai_attribution_pct,
            "sourceService": list(self.source_service),
            "verified": self.verified,
            "bundle": self.bundle_path,
        }


def _ai_pct(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, float | None]:
    """aiAttributionPct exactly as the headline signal family computes it."""
    set_scope(con, ids)
    out: dict[str, float | None] = {}
    for row in run_family(con, "headline"):
        if row[1] == "aiAttributionPct":
            out[row[0]] = None if row[2] is None else float(json.loads(row[2]))
    return out


def list_sessions(
    con: duckdb.DuckDBPyConnection, assessment_id: str | None = None
) -> list[SessionRow]:
    """Loaded sessions, most recent first, optionally of one assessment."""
    rows = con.execute(
        """
        SELECT s.session_id, s.assessment_id, s.candidate_name, s.started_at, s.ended_at,
               s.event_count, (SELECT count(*) FROM decisions d WHERE d.session_id = s.session_id),
               s.source_service, s.verified, s.bundle_path
        FROM sessions s
        WHERE ?::VARCHAR IS NULL OR s.assessment_id = ?::VARCHAR
        ORDER BY s.started_at DESC NULLS LAST, s.session_id
        """,
        [assessment_id, assessment_id],
    ).fetchall()
    pct = _ai_pct(con, [r[0] for r in rows]) if rows else {}
    return [
        SessionRow(
            session_id=r[0],
            assessment_id=r[1],
            candidate_name=r[2],
            started_at=iso_ms(r[3]),
            ended_at=iso_ms(r[4]),
            event_count=int(r[5] or 0),
            decision_flag_count=int(r[6]),
            ai_attribution_pct=pct.get(r[0]),
            source_service=tuple(r[7] or ()),
            verified=bool(r[8]),
            bundle_path=r[9],
        )
        for r in rows
    ]


def get_session(con: duckdb.DuckDBPyConnection, session_id: str) -> SessionRow:
    """One session by id, or by a unique prefix of it."""
    matches = [s for s in list_sessions(con) if s.session_id.startswith(session_id)]
    exact = [s for s in matches if s.session_id == session_id]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InputError(f"no session {session_id!r}", "`promptster sessions list` shows them")
    raise InputError(f"{session_id!r} matches {len(matches)} sessions; give more of the id")


def _event(row: tuple[Any, ...]) -> dict[str, JsonValue]:
    seq, event_id, ts, kind, channel, integration, actor, attribution, confidence, data = row
    moment: datetime | None = ts
    return {
        "id": event_id,
        "seq": seq,
        "ts": iso_ms(moment),
        "kind": kind,
        "source": {"channel": channel, "integration": integration},
        "actor": {"type": actor},
        "provenance": {"attribution": attribution, "confidence": confidence},
        "data": json.loads(data) if data is not None else None,
    }


_EVENT_COLUMNS = (
    "seq, event_id, ts, kind, channel, integration, actor, attribution, attr_confidence, data"
)


@dataclass(frozen=True)
class TimelinePage:
    events: list[dict[str, JsonValue]]
    has_more: bool

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {"events": list(self.events), "hasMore": self.has_more}


def timeline_page(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    *,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
    kind: str | None = None,
) -> TimelinePage:
    """Events in timeline order after the event `after` (exclusive), at most `limit`."""
    limit = max(1, min(MAX_LIMIT, limit))
    start = -1
    if after is not None:
        found = con.execute(
            "SELECT seq FROM events WHERE session_id = ? AND event_id = ?", [session_id, after]
        ).fetchall()
        if not found:
            raise InputError(f"no event {after!r} in session {session_id}")
        start = int(found[0][0])
    rows = con.execute(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE session_id = ? AND seq > ? "
        "AND (?::VARCHAR IS NULL OR kind = ?::VARCHAR) ORDER BY seq LIMIT ?",
        [session_id, start, kind, kind, limit + 1],
    ).fetchall()
    return TimelinePage([_event(r) for r in rows[:limit]], len(rows) > limit)


def decisions(con: duckdb.DuckDBPyConnection, session_id: str) -> list[dict[str, JsonValue]]:
    """The session's `decision_event`s, oldest first."""
    rows = con.execute(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE session_id = ? AND kind = 'decision_event' "
        "ORDER BY ts, seq",
        [session_id],
    ).fetchall()
    return [_event(r) for r in rows]
