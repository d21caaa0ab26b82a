"""Timelines built in memory from a `Scenario` (analysis_scenarios.py), for the key-moment,
follow-up and rubric tests: the same events a bundle would carry, without a bundle."""

from __future__ import annotations

from typing import Any

from analysis_scenarios import Scenario, _event

from promptster.analysis.session_events import SessionEvents, read_events
from promptster.formats.jsonio import canonical_json


def timeline_bytes(scenario: Scenario, time_limit_minutes: int | None = None) -> bytes:
    lines = []
    start: dict[str, Any] = {"workspace": "/w", "tools": [], "timeLimitMinutes": time_limit_minutes}
    events = [(0.0, "session_start", start, {"actor": "system"}), *scenario.events]
    for seq, (at, kind, data, env) in enumerate(events):
        event = _event(scenario.name, seq, at, kind, data, **env)
        event.seq = seq
        event.prev = "sha256:" + "0" * 64
        lines.append(canonical_json(event.to_dict()))
    return b"\n".join(lines) + b"\n"


def events_of(scenario: Scenario, time_limit_minutes: int | None = None) -> SessionEvents:
    return read_events(timeline_bytes(scenario, time_limit_minutes))
