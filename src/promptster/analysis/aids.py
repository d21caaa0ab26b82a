"""The reviewer's decision aids for one session, in one call: key moments, follow-up
questions, the `ai_fluency_v1` rubric (heuristic, and a model's beside it with a judge) and a
narrative summary. Used by the report (`promptster review`) and `promptster followups`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from promptster.analysis.fluency import RUBRIC, Placement, place_rubric
from promptster.analysis.fluency_judge import (
    TIMEOUT_S,
    JudgedDimension,
    TextModel,
    judge_rubric,
    judged_narrative,
)
from promptster.analysis.followups import FORMAT_VERSION, FollowUp, follow_ups
from promptster.analysis.moments import Moment, key_moments
from promptster.analysis.narrative import Narrative, template_narrative
from promptster.analysis.session_events import SessionEvents, read_events
from promptster.analysis.signals import SessionSignals
from promptster.analysis.verified import verify_for_loading
from promptster.bundle.spool import SpooledTimeline
from promptster.bundle.verify import ExtraCheck
from promptster.formats.jsonio import JsonValue


@dataclass(frozen=True)
class SessionAids:
    events: SessionEvents
    moments: list[Moment]
    followups: list[FollowUp]
    rubric: list[Placement] = field(default_factory=list)  # empty without signals
    judged: dict[str, JudgedDimension] = field(default_factory=dict)
    narrative: Narrative | None = None
    model_narrative: Narrative | None = None
    judge_model: str | None = None

    def rubric_json(self) -> dict[str, JsonValue]:
        return {
            "rubric": RUBRIC,
            "judge": self.judge_model,
            "dimensions": [
                {
                    **p.to_json_obj(),
                    "judged": (
                        self.judged[p.dimension].to_json_obj()
                        if p.dimension in self.judged
                        else None
                    ),
                }
                for p in self.rubric
            ],
        }


def session_aids(
    timeline: bytes | SpooledTimeline,
    signals: SessionSignals | None = None,
    judge: TextModel | None = None,
    timeout: float = TIMEOUT_S,
) -> SessionAids:
    """Everything for one verified timeline; the rubric and narrative need its signals."""
    return aids_for(read_events(timeline), signals, judge, timeout)


def aids_for(
    events: SessionEvents,
    signals: SessionSignals | None = None,
    judge: TextModel | None = None,
    timeout: float = TIMEOUT_S,
) -> SessionAids:
    """`session_aids` over events read already (the report reads them with its digest)."""
    moments = key_moments(events)
    questions = follow_ups(events, moments)
    if signals is None:
        return SessionAids(events, moments, questions)
    rubric = place_rubric(events, signals, moments)
    narrative = template_narrative(events, signals, moments, rubric)
    if judge is None:
        return SessionAids(events, moments, questions, rubric, {}, narrative)
    judged = judge_rubric(judge, events, moments, rubric, timeout)
    written = judged_narrative(judge, events, moments, narrative, timeout)
    return SessionAids(
        events, moments, questions, rubric, judged, narrative, written, judge.model_id
    )


def bundle_followups(path: Path, checks: Sequence[ExtraCheck] = ()) -> dict[str, JsonValue]:
    """Verify the bundle (a failed one raises CheckFailed, exit 1) and return its key moments
    and follow-up questions as the JSON `promptster followups --json` prints."""
    report, timeline = verify_for_loading(Path(path), allow_invalid=False, checks=checks)
    manifest = report.context.manifest
    with timeline:
        aids = session_aids(timeline)
    return {
        "format": "promptster-followups",
        "version": FORMAT_VERSION,
        "bundle": str(path),
        "sessionId": manifest.session_id if manifest else None,
        "questions": [q.to_json_obj() for q in aids.followups],
        "keyMoments": [m.to_json_obj() for m in aids.moments],
    }
