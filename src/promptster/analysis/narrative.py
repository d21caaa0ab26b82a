"""A narrative summary of a session: a headline and a few sentences, filled in from the
signals, the key moments and the rubric by a fixed template (a model writes one with
`--judge`, shown beside this one: `fluency_judge.judged_narrative`)."""

from __future__ import annotations

from dataclasses import dataclass

from promptster.analysis.fluency import Placement
from promptster.analysis.moments import Moment, minutes
from promptster.analysis.session_events import SessionEvents
from promptster.analysis.signals import SessionSignals
from promptster.formats.jsonio import JsonValue


@dataclass(frozen=True)
class Narrative:
    headline: str
    body: str
    method: str = "template"
    model: str | None = None
    error: str | None = None  # why a model's narrative is missing

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "headline": self.headline,
            "body": self.body,
            "method": self.method,
            "model": self.model,
            "error": self.error,
        }


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def template_narrative(
    s: SessionEvents, signals: SessionSignals, moments: list[Moment], rubric: list[Placement]
) -> Narrative:
    prompts = len(s.of("prompt"))
    changes = s.files
    runs = len(s.of("test_run"))
    ai_pct = signals.number("aiAttributionPct")
    if prompts == 0:
        style = "worked without an AI assistant"
    elif ai_pct is not None and ai_pct >= 70:
        style = "delegated most of the code to the AI"
    elif ai_pct is not None and ai_pct <= 30:
        style = "wrote most of the code by hand, using the AI on the side"
    else:
        style = "shared the work with the AI"
    headline = f"Candidate {style}, {_count(runs, 'test run')} over {minutes(s.end_t)}."
    kinds = {m.kind for m in moments}
    sentences = [
        f"The session has {_count(prompts, 'prompt')}, {_count(len(changes), 'file change')}"
        f" and {_count(runs, 'test run')}"
        + (
            f"; {ai_pct:.0f}% of added lines are attributed to the AI."
            if ai_pct is not None
            else "."
        )
    ]
    if "fix" in kinds:
        fix = next(m for m in moments if m.kind == "fix")
        sentences.append(f"A failing test run was driven to green ({fix.summary}).")
    elif "first_failure" in kinds:
        sentences.append("A test run failed and no later run passed.")
    if "stuck_loop" in kinds:
        sentences.append(
            f"{_count(sum(1 for m in moments if m.kind == 'stuck_loop'), 'stuck loop')} "
            "(the same command failing three times or more)."
        )
    if "untested_ai_edit" in kinds:
        sentences.append("At least one large AI edit was kept without a test run after it.")
    if "rewrote_ai" in kinds:
        sentences.append("The candidate rewrote or reverted AI output by hand.")
    decided = sum(1 for m in moments if m.kind == "decision")
    if decided:
        sentences.append(f"{_count(decided, 'decision')} written down with its reasons.")
    strong = [p.dimension.replace("_", " ") for p in rubric if p.tier == "strong"]
    developing = [p.dimension.replace("_", " ") for p in rubric if p.tier == "developing"]
    if strong:
        sentences.append(f"Strongest on the rubric: {', '.join(strong)}.")
    if developing:
        sentences.append(f"Room to grow: {', '.join(developing)}.")
    return Narrative(headline, " ".join(sentences))
