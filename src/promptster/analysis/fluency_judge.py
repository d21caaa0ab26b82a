"""The rubric and the narrative rated by a model (`--judge MODEL`), beside the heuristics.

Each collectible dimension is put to the model PASSES times, independently; the passes are
aggregated by lower median on the tier ranks (strong 4, adequate 3, developing 1, not enough
signal 0), as the hosted product does: a split jury never rounds up, and any dissent caps the
confidence at medium (low when no two passes agree). A pass that fails, times out or answers
with no tier is a failed pass; with no usable pass the dimension carries the failure, and the
heuristic placement stands. `not_collectible` dimensions are never put to the model.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Protocol

from promptster.analysis.fluency import BY_KEY, TIER_RANK, Level, Placement, Tier
from promptster.analysis.moments import Moment
from promptster.analysis.narrative import Narrative
from promptster.analysis.session_events import Ev, SessionEvents
from promptster.formats.jsonio import JsonValue

PASSES = 3
TIMEOUT_S = 90.0  # per call; a slower model is a failed pass
MAX_PROMPTS, PROMPT_CHARS = 12, 600
_JUDGED_TIERS: tuple[Tier, ...] = ("strong", "adequate", "developing", "insufficient_evidence")
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
SYSTEM = (
    "You are a senior engineer rating how a job candidate worked with AI coding assistants "
    "in a take-home assessment, on one dimension of the ai_fluency_v1 rubric. Tiers: strong "
    "(clear, consistent evidence), adequate (present and sufficient), developing (thin or "
    "inconsistent), insufficient_evidence (too little signal; not a weakness). Judge only "
    "the evidence given. Never penalize AI use itself."
)


class TextModel(Protocol):
    model_id: str

    def ask(self, prompt: str, system: str) -> str: ...


@dataclass(frozen=True)
class JudgedDimension:
    dimension: str
    model: str
    tier: Tier | None  # None when no pass gave a tier
    confidence: Level | None
    rationale: str
    passes: tuple[str, ...]  # each pass's tier, or "failed: <why>"
    error: str | None = None

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "dimension": self.dimension,
            "model": self.model,
            "tier": self.tier,
            "confidence": self.confidence,
            "rationale": self.rationale,
            "passes": list(self.passes),
            "error": self.error,
        }


def call(model: TextModel, prompt: str, system: str, timeout: float) -> str:
    """One model call, abandoned after `timeout` seconds (its thread is left to finish)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="judge")
    try:
        return pool.submit(model.ask, prompt, system).result(timeout=timeout)
    except FutureTimeout:
        raise TimeoutError(f"no answer within {timeout:g} s") from None
    finally:
        pool.shutdown(wait=False)


def parse_tier(text: str) -> tuple[Tier, str] | None:
    match = _OBJECT.search(text)
    if match:
        try:
            body = json.loads(match.group(0))
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("tier") in _JUDGED_TIERS:
            tier: Tier = body["tier"]
            return tier, str(body.get("rationale", ""))[:600]
    return None


def lower_median(tiers: list[Tier]) -> Tier:
    ordered = sorted(tiers, key=lambda t: TIER_RANK[t])
    return ordered[(len(ordered) - 1) // 2]


def aggregate_confidence(tiers: list[Tier]) -> Level:
    most = max(tiers.count(t) for t in set(tiers))
    if most == len(tiers) and len(tiers) == PASSES:
        return "high"
    return "medium" if most >= 2 else "low"


def evidence_text(s: SessionEvents, moments: list[Moment], placement: Placement) -> str:
    """What the model sees: the heuristic's evidence, the key moments and the prompts."""
    said, shown = 0, list[Ev]()  # counted, not held: 100,000 prompts in a million events
    for e in s.of("prompt"):
        if e.text("text").strip():
            said += 1
            if len(shown) < MAX_PROMPTS:
                shown.append(e)
    lines = [f"Heuristic evidence for {placement.dimension}:"]
    lines += [f"- {item}" for item in placement.evidence]
    lines.append("Key moments:")
    lines += [f"- [{m.kind}] {m.title}: {m.summary}" for m in moments[:30]] or ["- none"]
    lines.append(f"Prompts ({said}, first {MAX_PROMPTS} shown):")
    lines += [f"- {e.text('text')[:PROMPT_CHARS]}" for e in shown] or ["- none"]
    return "\n".join(lines)


def judge_dimension(
    model: TextModel,
    s: SessionEvents,
    moments: list[Moment],
    placement: Placement,
    timeout: float = TIMEOUT_S,
) -> JudgedDimension:
    dim = BY_KEY[placement.dimension]
    prompt = (
        f"Dimension {dim.key} ({dim.phase}): {dim.question}\n\n"
        f"{evidence_text(s, moments, placement)}\n\n"
        'Answer with one JSON object only: {"tier": "strong|adequate|developing|'
        'insufficient_evidence", "rationale": "<two sentences citing the evidence>"}'
    )
    tiers: list[Tier] = []
    rationales: dict[Tier, str] = {}
    passes: list[str] = []
    for _ in range(PASSES):
        try:
            parsed = parse_tier(call(model, prompt, SYSTEM, timeout))
        except Exception as exc:  # a plugin may raise anything; the heuristic stands
            passes.append(f"failed: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if parsed is None:
            passes.append("failed: the answer named no tier")
            continue
        tiers.append(parsed[0])
        rationales.setdefault(parsed[0], parsed[1])
        passes.append(parsed[0])
    if not tiers:
        return JudgedDimension(dim.key, model.model_id, None, None, "", tuple(passes),
                               error=passes[-1] if passes else "no pass ran")  # fmt: skip
    tier = lower_median(tiers)
    return JudgedDimension(
        dim.key, model.model_id, tier, aggregate_confidence(tiers), rationales[tier], tuple(passes)
    )


def judge_rubric(
    model: TextModel,
    s: SessionEvents,
    moments: list[Moment],
    rubric: list[Placement],
    timeout: float = TIMEOUT_S,
) -> dict[str, JudgedDimension]:
    return {
        p.dimension: judge_dimension(model, s, moments, p, timeout)
        for p in rubric
        if p.tier != "not_collectible"
    }


def judged_narrative(
    model: TextModel, s: SessionEvents, moments: list[Moment], template: Narrative,
    timeout: float = TIMEOUT_S,
) -> Narrative:  # fmt: skip
    """A model-written summary; on failure the error, for the report to show beside the
    template's summary."""
    prompt = (
        "Write a neutral summary of this assessment session for a hiring reviewer.\n"
        f"Facts: {template.headline} {template.body}\nKey moments:\n"
        + "\n".join(f"- {m.title}: {m.summary}" for m in moments[:30])
        + '\n\nAnswer with one JSON object only: {"headline": "<one sentence>", '
        '"body": "<at most five sentences>"}'
    )
    try:
        text = call(model, prompt, SYSTEM, timeout)
    except Exception as exc:  # the template's narrative stands
        return Narrative("", "", "llm", model.model_id, f"{type(exc).__name__}: {str(exc)[:200]}")
    match = _OBJECT.search(text)
    try:
        body = json.loads(match.group(0)) if match else None
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("headline"), str):
        return Narrative("", "", "llm", model.model_id, "the answer was not the JSON asked for")
    return Narrative(
        str(body["headline"])[:300], str(body.get("body", ""))[:2000], "llm", model.model_id
    )
