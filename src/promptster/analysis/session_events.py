"""A session's timeline, read once into the light records the key-moment detectors, the
follow-up questions and the fluency rubric work on (`moments`, `followups`, `fluency`).

Only the kinds those read are decoded in full; every other line gives its seq, id, time and
kind from a cheap scan, so a 100,000-event timeline with long AI replies is not decoded
twice over. Values stay untrusted: a field of the wrong type reads as absent.

Memory stays small for a million events (the reviewer's budget, docs/performance.md): only
the events of the decoded kinds are kept, each with just the fields the detectors read
(`KEPT_FIELDS`), in compact columns (`event_columns`: ~100 bytes an event, an `Ev` is made
when one is read); every other event counts for its kind and for the idle gaps, which are
found as the events go by.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from promptster.analysis.event_columns import Ev, EvColumns, EvView, view_of
from promptster.bundle.spool import SpooledTimeline
from promptster.formats.events import FILE_KINDS

__all__ = ["Collector", "Ev", "SessionEvents", "read_events"]
from promptster.formats.timeline import split_lines

# Kinds whose payload the detectors read; the rest only count for time (idle gaps).
DECODED_KINDS = frozenset(
    {
        "session_start",
        "session_end",
        "prompt",
        "command",
        "test_run",
        "build_run",
        "decision_event",
        "planning",
        "git_action",
        *FILE_KINDS,
    }
)
# Canonical lines sort their keys, so each top-level field is followed by the next one, and
# `data` (the only field holding free-form objects) comes before `id`, `kind`, `seq` and `ts`:
# the last match of each anchored pattern is the top-level field, never one nested in `data`.
# The `data` fields the detectors (moments, follow-ups, fluency, the judge's prompts) read;
# the others are dropped on the way in. tests/analysis/test_moments.py checks the list
# against the detectors' source.
KEPT_FIELDS = (
    "action", "aiAttributionPct", "chosenOption", "command", "diff", "errors", "exitCode",
    "failed", "impactScore", "linesAdded", "linesRemoved", "missedDecision", "outcome",
    "passed", "path", "ref", "text", "timeLimitMinutes", "title", "tool", "tradeoffs",
)  # fmt: skip
IDLE_GAP_MS = 10 * 60_000  # no event at all for this long: an idle gap (moments.idle_gaps)
_KIND = re.compile(rb'"kind":"([a-z_]{1,40})","prev":')
_TS = re.compile(rb'"ts":"([0-9T:.+Z-]{10,40})","v":')
_SEQ = re.compile(rb'"seq":(\d{1,12}),"source":')
_ID = re.compile(rb'"id":"([0-9a-fA-F-]{8,64})","kind":')


@dataclass(frozen=True)
class SessionEvents:
    events: Sequence[Ev]  # the events of the DECODED_KINDS, in timeline order (EvColumns)
    time_limit_minutes: int | None
    end_t: int
    # events of every kind (decoded or not) by kind, in the order each kind first occurs
    kind_counts: dict[str, int] = field(default_factory=dict)
    # (before, after) of each stretch of IDLE_GAP_MS or more without any event (of any kind)
    gaps: tuple[tuple[Ev, Ev], ...] = ()
    _columns: EvColumns = field(init=False, repr=False, compare=False)
    _files: EvView = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        columns = self.events
        if not isinstance(columns, EvColumns):  # events made elsewhere: stored the same way
            columns = EvColumns()
            for e in self.events:
                columns.add(e.seq, e.id, e.t, e.kind, e.actor, e.attribution, e.data)
        object.__setattr__(self, "_columns", columns)
        object.__setattr__(self, "_files", view_of(columns, sorted(FILE_KINDS)))

    def of(self, *kinds: str) -> EvView:
        """The events of these kinds, in seq order (one kind: in timeline order); each
        access makes a fresh `Ev`, so keep only what is needed."""
        return view_of(self._columns, kinds)

    @property
    def files(self) -> EvView:
        """The file events in seq order: sorted once (a detector asks for them once per
        moment, and there are 150,000 of them in a million events)."""
        return self._files


def _last(pattern: re.Pattern[bytes], line: bytes) -> bytes | None:
    last = None
    for match in pattern.finditer(line):
        last = match
    return last.group(1) if last else None


def _parse_ts(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any, default: str = "unknown") -> str:
    return value if isinstance(value, str) and value else default


class Collector:
    """Builds `SessionEvents` from events a caller decodes anyway (the report's digest), so a
    timeline is not decoded twice: `add` each event with its ms offset, then `result()`."""

    def __init__(self) -> None:
        self.events = EvColumns()
        self.limit: int | None = None
        self.end_t = 0
        self.kind_counts: dict[str, int] = {}
        self.gaps: list[tuple[Ev, Ev]] = []
        self._last: Ev | None = None
        # one string object per distinct kind, actor and attribution, not one per event
        self._names: dict[str, str] = {}

    def add(self, event: dict[str, Any], seq: int, t: int) -> None:
        # Called once per event of a 1,000,000-event timeline: plain lookups, no helpers.
        kind = event.get("kind")
        kind = kind if isinstance(kind, str) and kind else "unknown"
        actor, provenance = event.get("actor"), event.get("provenance")
        who = actor.get("type") if isinstance(actor, dict) else None
        attribution = provenance.get("attribution") if isinstance(provenance, dict) else None
        ident = event.get("id")
        self.add_ev(
            Ev(
                seq,
                ident if isinstance(ident, str) else "",
                t,
                kind,
                who if isinstance(who, str) and who else "unknown",
                attribution if isinstance(attribution, str) and attribution else "unknown",
                _dict(event.get("data")) if kind in DECODED_KINDS else {},
            )
        )

    def add_ev(self, e: Ev) -> None:
        """Count `e` and keep it when its kind is decoded (with only the KEPT_FIELDS)."""
        names = self._names
        e.kind = names.setdefault(e.kind, e.kind)
        self.kind_counts[e.kind] = self.kind_counts.get(e.kind, 0) + 1
        last, self._last = self._last, e
        if last is not None and e.t - last.t >= IDLE_GAP_MS and e.kind != "session_end":
            self.gaps.append((last, e))
        if e.t > self.end_t:
            self.end_t = e.t
        if e.kind not in DECODED_KINDS:
            return
        e.actor = names.setdefault(e.actor, e.actor)
        e.attribution = names.setdefault(e.attribution, e.attribution)
        data = e.data
        if data:
            e.data = {key: data[key] for key in KEPT_FIELDS if key in data}
        if e.kind == "session_start" and self.limit is None:
            value = data.get("timeLimitMinutes")
            if isinstance(value, int) and not isinstance(value, bool):
                self.limit = value
        self.events.add(e.seq, e.id, e.t, e.kind, e.actor, e.attribution, e.data)

    def result(self) -> SessionEvents:
        return SessionEvents(
            self.events, self.limit, self.end_t, dict(self.kind_counts), tuple(self.gaps)
        )


def read_events(timeline: bytes | SpooledTimeline) -> SessionEvents:
    """The session's events in timeline order (an unreadable line is skipped); a spooled
    timeline is read line by line, never whole."""
    collector = Collector()
    t0: datetime | None = None
    decoder = json.JSONDecoder()
    lines = split_lines(timeline).lines if isinstance(timeline, bytes) else timeline.lines()
    for position, line in enumerate(lines):
        kind_match = _last(_KIND, line)
        kind = kind_match.decode() if kind_match else ""
        if not kind or kind in DECODED_KINDS:
            try:
                event = decoder.decode(line.decode("utf-8", "replace"))
            except (ValueError, RecursionError):
                continue
            if not isinstance(event, dict):
                continue
            ts_text, seq_value, ident = event.get("ts"), event.get("seq"), event.get("id")
            kind = _str(event.get("kind"))
            data = _dict(event.get("data"))
            actor = _str(_dict(event.get("actor")).get("type"))
            attribution = _str(_dict(event.get("provenance")).get("attribution"))
        else:
            ts_m, seq_m, id_m = _last(_TS, line), _last(_SEQ, line), _last(_ID, line)
            ts_text = ts_m.decode() if ts_m else None
            seq_value = int(seq_m) if seq_m else None
            ident = id_m.decode() if id_m else ""
            data, actor, attribution = {}, "unknown", "unknown"
        moment = _parse_ts(ts_text) if isinstance(ts_text, str) else None
        if moment is not None and t0 is None:
            t0 = moment
        t = int((moment - t0).total_seconds() * 1000) if moment and t0 else 0
        seq = (
            seq_value
            if isinstance(seq_value, int) and not isinstance(seq_value, bool)
            else position
        )
        collector.add_ev(
            Ev(seq, ident if isinstance(ident, str) else "", t, kind, actor, attribution, data)
        )
    return collector.result()
