"""Signals: every metric of docs/signals.md, computed in DuckDB SQL over loaded sessions.

The SQL lives in `sql/signals_<family>.sql`, one file per family, each starting with the
definitions that docs/signals.md is generated from; which signals there are, and in what
order they are listed, is the catalog's (`catalog.py`). Every family returns rows of
`(session_id, signal, value JSON, confidence, evidence, evidence_count, detail JSON)`;
`processDescriptors` runs last, over the values of the others.

Public API (used by `score`, `cohort` and the report):
    compute_signals(con, session_ids=None, judge=None) -> dict[session id, SessionSignals]
    bundle_signals(path, allow_invalid=False, judge=None) -> SessionSignals
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

import duckdb

from promptster.analysis.catalog import (
    DERIVED_FAMILIES,
    FAMILIES,
    SIGNAL_NAMES,
)
from promptster.analysis.database import connect, more_memory, sql_text
from promptster.analysis.load import load_bundle
from promptster.analysis.parallel import run_families
from promptster.analysis.prices import Prices, install_prices
from promptster.formats.events import format_ts
from promptster.formats.jsonio import JsonValue

if TYPE_CHECKING:
    from promptster.bundle.verify import ExtraCheck

Confidence = Literal["high", "moderate", "low", "insufficient_data"]
CONFIDENCES: tuple[Confidence, ...] = ("high", "moderate", "low", "insufficient_data")


@dataclass(frozen=True)
class Signal:
    """One signal of one session: a value (number, list, object, or None when undefined),
    how much to trust it, and the events it rests on."""

    name: str
    family: str
    value: JsonValue
    confidence: Confidence
    evidence: tuple[str, ...]  # event ids, in timeline order, at most 1,000
    evidence_count: int  # how many events it rests on in total
    detail: dict[str, JsonValue] = field(default_factory=dict)

    @property
    def number(self) -> float | None:
        """The value as a float when it is a number, else None."""
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            return None
        return float(self.value)

    def to_json_obj(self, *, evidence: bool = True) -> dict[str, JsonValue]:
        body: dict[str, JsonValue] = {
            "value": self.value,
            "confidence": self.confidence,
            "evidenceCount": self.evidence_count,
            "detail": self.detail,
        }
        if evidence:
            body["evidence"] = list(self.evidence)
        return body


@dataclass(frozen=True)
class SessionInfo:
    """The loaded session a set of signals belongs to (from the `sessions` table)."""

    session_id: str
    assessment_id: str | None
    candidate_key: str | None
    candidate_name: str | None
    bundle_path: str | None
    bundle_sha256: str | None
    verified: bool
    problems: tuple[str, ...]
    started_at: str | None
    ended_at: str | None
    event_count: int
    source_service: tuple[str, ...]

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "sessionId": self.session_id,
            "assessmentId": self.assessment_id,
            "candidateKey": self.candidate_key,
            "candidateName": self.candidate_name,
            "bundle": self.bundle_path,
            "bundleSha256": self.bundle_sha256,
            "verified": self.verified,
            "problems": list(self.problems),
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "eventCount": self.event_count,
            "sourceService": list(self.source_service),
        }


@dataclass(frozen=True)
class SessionSignals:
    session: SessionInfo
    signals: dict[str, Signal]

    def __getitem__(self, name: str) -> Signal:
        return self.signals[name]

    def value(self, name: str) -> JsonValue:
        """The value of signal `name`; None when undefined or not computed."""
        signal = self.signals.get(name)
        return None if signal is None else signal.value

    def number(self, name: str) -> float | None:
        signal = self.signals.get(name)
        return None if signal is None else signal.number

    def to_json_obj(self, *, evidence: bool = True) -> dict[str, JsonValue]:
        return {
            "session": self.session.to_json_obj(),
            "signals": {
                name: signal.to_json_obj(evidence=evidence) for name, signal in self.signals.items()
            },
        }


def _finite(value: JsonValue) -> JsonValue:
    """Replace NaN or infinity anywhere in a value by None (the SQL never makes them; this
    guarantees it for every consumer)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _parse(text: str | None) -> JsonValue:
    return None if text is None else _finite(json.loads(text))


def iso_ms(moment: datetime | None) -> str | None:
    return None if moment is None else format_ts(moment)


def set_scope(con: duckdb.DuckDBPyConnection, session_ids: Sequence[str] | None) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _scope (session_id VARCHAR)")
    if session_ids is None:
        con.execute("INSERT INTO _scope SELECT session_id FROM sessions")
    elif session_ids:  # one statement: executemany pays a round trip per row
        con.execute("INSERT INTO _scope SELECT unnest(?::VARCHAR[])", [list(session_ids)])


def run_family(con: duckdb.DuckDBPyConnection, family: str) -> list[tuple[Any, ...]]:
    return con.execute(sql_text(f"signals_{family}.sql")).fetchall()


def _to_signal(family: str, row: tuple[Any, ...]) -> Signal:
    _, name, value, confidence, evidence, count, detail = row
    parsed_detail = _parse(detail)
    return Signal(
        name=name,
        family=family,
        value=_parse(value),
        confidence=cast(Confidence, confidence),
        evidence=tuple(evidence or ()),
        evidence_count=int(count or 0),
        detail=parsed_detail if isinstance(parsed_detail, dict) else {},
    )


def _session_infos(con: duckdb.DuckDBPyConnection) -> dict[str, SessionInfo]:
    rows = con.execute(
        """
        SELECT session_id, assessment_id, candidate_key, candidate_name, bundle_path,
               bundle_sha256, verified, problems, started_at, ended_at, event_count,
               source_service
        FROM sessions JOIN _scope USING (session_id)
        """
    ).fetchall()
    return {
        row[0]: SessionInfo(
            session_id=row[0],
            assessment_id=row[1],
            candidate_key=row[2],
            candidate_name=row[3],
            bundle_path=row[4],
            bundle_sha256=row[5],
            verified=bool(row[6]),
            problems=tuple(row[7] or ()),
            started_at=iso_ms(row[8]),
            ended_at=iso_ms(row[9]),
            event_count=int(row[10] or 0),
            source_service=tuple(row[11] or ()),
        )
        for row in rows
    }


class SignalJudge(Protocol):
    """What `compute_signals` asks of a judge (`analysis.judge.LlmJudge`): replacements for
    some of one session's signals. A protocol, so that signals never imports the judge."""

    def judge_session(
        self, con: duckdb.DuckDBPyConnection, session_id: str, signals: dict[str, Signal]
    ) -> dict[str, Signal]: ...


def compute_signals(
    con: duckdb.DuckDBPyConnection,
    session_ids: Sequence[str] | None = None,
    *,
    judge: SignalJudge | None = None,
    prices: Prices | None = None,
) -> dict[str, SessionSignals]:
    """Signals of the loaded sessions (all of them unless `session_ids` is given); costs at
    `prices` (default the built-in price table)."""
    set_scope(con, session_ids)
    install_prices(con, prices)
    infos = _session_infos(con)
    collected = _run_sql(con, infos)
    if judge is not None:
        for sid, signals in collected.items():
            signals.update(judge.judge_session(con, sid, signals))
    return {
        sid: SessionSignals(
            session=infos[sid],
            signals={name: collected[sid][name] for name in SIGNAL_NAMES if name in collected[sid]},
        )
        for sid in infos
    }


def sql_signals(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Signal]]:
    """Every signal the SQL families compute for every loaded session, whether the catalog
    knows it or not (`compute_signals` lists only the catalog's): for the catalog's test."""
    set_scope(con, None)
    install_prices(con)
    return _run_sql(con, _session_infos(con))


def _run_sql(
    con: duckdb.DuckDBPyConnection, infos: dict[str, SessionInfo]
) -> dict[str, dict[str, Signal]]:
    collected: dict[str, dict[str, Signal]] = {sid: {} for sid in infos}
    attempt = 0
    while True:
        try:
            families = run_families(con, FAMILIES)
            break
        except duckdb.OutOfMemoryException:
            # A query that cannot spill met database.DUCKDB_MEMORY (a session of a million
            # events): an answer over the memory budget beats none, so run again with more.
            if not more_memory(con, attempt):
                raise
            attempt += 1
    for family, rows in families.items():
        for row in rows:
            collected[row[0]][row[1]] = _to_signal(family, row)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _signal_values "
        "(session_id VARCHAR, signal VARCHAR, num DOUBLE)"
    )
    numbers = [
        (sid, name, signal.number)
        for sid, signals in collected.items()
        for name, signal in signals.items()
        if signal.number is not None
    ]
    if numbers:  # one statement: executemany pays a round trip per row
        sids, names, values = (list(column) for column in zip(*numbers, strict=True))
        con.execute(
            "INSERT INTO _signal_values "
            "SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::DOUBLE[])",
            [sids, names, values],
        )
    for family in DERIVED_FAMILIES:
        for row in run_family(con, family):
            collected[row[0]][row[1]] = _to_signal(family, row)
    return collected


def bundle_signals(
    path: Path,
    *,
    allow_invalid: bool = False,
    judge: SignalJudge | None = None,
    checks: Sequence[ExtraCheck] = (),
    prices: Prices | None = None,
) -> SessionSignals:
    """Verify one bundle (with the extra `checks`), load it into a fresh
    in-memory database and compute its signals."""
    con = connect()
    try:
        loaded = load_bundle(con, Path(path), allow_invalid=allow_invalid, checks=checks)
        return compute_signals(con, [loaded.session_id], judge=judge, prices=prices)[
            loaded.session_id
        ]
    finally:
        con.close()
