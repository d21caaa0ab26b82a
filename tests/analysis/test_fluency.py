"""The ai_fluency_v1 rubric: heuristic placement over real signals, and a model's placement
beside it through a model that a test plugin registers with `llm` (as test_analysis_judge)."""

from __future__ import annotations

import importlib.util
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptster.analysis.aids import session_aids
from promptster.analysis.fluency import DIMENSIONS, TIER_RANK
from promptster.analysis.fluency_judge import aggregate_confidence, lower_median, parse_tier
from promptster.analysis.signals import SessionSignals
from promptster.analysis.verified import verify_for_loading
from support import require

MODEL_ID = "promptster-test-fluency"
ANSWERS: list[str] = []  # what the next passes answer, in order ("raise", "hang" or a tier)
RELEASE = threading.Event()


@pytest.fixture
def fluency_model() -> Iterator[str]:
    require(importlib.util.find_spec("llm") is not None, "the llm library (promptster[judge])")
    import llm
    from llm.plugins import pm

    class FakeFluency(llm.Model):  # type: ignore[misc]
        model_id = MODEL_ID
        can_stream = False

        def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any) -> Any:
            answer = ANSWERS.pop(0) if ANSWERS else "adequate"
            if answer == "raise":
                raise RuntimeError("the model is down")
            if answer == "hang":
                RELEASE.wait(30)
                answer = "strong"
            if "neutral summary" in prompt.prompt:
                yield json.dumps({"headline": "Steady, test-first work.", "body": "It went well."})
                return
            yield json.dumps({"tier": answer, "rationale": f"saw {len(prompt.prompt)} chars"})

    class Plugin:
        @llm.hookimpl  # type: ignore[misc]
        def register_models(self, register: Any) -> None:
            register(FakeFluency())

    pm.register(Plugin(), name=MODEL_ID)
    ANSWERS.clear()
    RELEASE.clear()
    try:
        yield MODEL_ID
    finally:
        RELEASE.set()
        pm.unregister(name=MODEL_ID)


def _aids(scenario_dir: Path, signals_of: dict[str, SessionSignals], name: str, **kw: Any) -> Any:
    _, timeline = verify_for_loading(scenario_dir / f"{name}.pst", allow_invalid=False)
    return session_aids(timeline, signals_of[name], **kw)


def test_every_dimension_is_placed_with_evidence(
    scenario_dir: Path, signals_of: dict[str, SessionSignals]
) -> None:
    rubric = _aids(scenario_dir, signals_of, "ada").rubric
    assert [p.dimension for p in rubric] == [d.key for d in DIMENSIONS]
    tiers = {p.dimension: p.tier for p in rubric}
    assert tiers["verification_loop"] == "strong"  # red → green, verified every change
    assert tiers["context_management"] == "not_collectible"  # no reset seen by the capture
    assert all(p.evidence and p.confidence in ("high", "medium", "low") for p in rubric)
    verification = next(p for p in rubric if p.dimension == "verification_loop")
    assert verification.seqs  # cites the red→green arc


def test_a_session_without_tests_is_developing_on_verification(
    scenario_dir: Path, signals_of: dict[str, SessionSignals]
) -> None:
    tiers = {p.dimension: p.tier for p in _aids(scenario_dir, signals_of, "ben").rubric}
    assert tiers["verification_loop"] == "developing"
    assert tiers["direction_quality"] == "developing"  # "fix it", four times


def test_neutral_tiers_for_what_a_session_cannot_show(
    scenario_dir: Path, signals_of: dict[str, SessionSignals]
) -> None:
    tiers = {p.dimension: p.tier for p in _aids(scenario_dir, signals_of, "cy").rubric}
    # cy used no AI: nothing about directing or steering one is held against them
    assert tiers["direction_quality"] == "insufficient_evidence"
    assert tiers["steering_discernment"] == "insufficient_evidence"
    assert tiers["ecosystem_leverage"] == "insufficient_evidence"
    narrative = _aids(scenario_dir, signals_of, "cy").narrative
    assert narrative.headline.startswith("Candidate worked without an AI assistant")


def test_lower_median_never_rounds_up_and_dissent_caps_confidence() -> None:
    assert lower_median(["strong", "developing", "adequate"]) == "adequate"
    assert lower_median(["strong", "adequate"]) == "adequate"
    assert lower_median(["strong", "strong", "developing"]) == "strong"
    assert aggregate_confidence(["strong"] * 3) == "high"
    assert aggregate_confidence(["strong", "strong", "adequate"]) == "medium"
    assert aggregate_confidence(["strong", "adequate", "developing"]) == "low"
    assert aggregate_confidence(["strong", "strong"]) == "medium"  # a failed pass
    assert TIER_RANK["not_collectible"] == TIER_RANK["insufficient_evidence"] == 0
    assert parse_tier('ok {"tier": "strong", "rationale": "r"}') == ("strong", "r")
    assert parse_tier('{"tier": "not_collectible"}') is None  # the model may not pick it
    assert parse_tier("strong") is None


def test_the_judge_rates_each_dimension_beside_the_heuristic(
    scenario_dir: Path, signals_of: dict[str, SessionSignals], fluency_model: str
) -> None:
    from promptster.analysis.judge import LlmJudge

    ANSWERS.extend(["strong", "developing", "adequate"])  # the first dimension's passes
    aids = _aids(scenario_dir, signals_of, "ada", judge=LlmJudge(fluency_model))
    collectible = [p.dimension for p in aids.rubric if p.tier != "not_collectible"]
    assert list(aids.judged) == collectible  # not_collectible is never put to the model
    first = aids.judged["task_framing"]
    assert first.tier == "adequate" and first.confidence == "low"
    assert first.passes == ("strong", "developing", "adequate")
    heuristic = {p.dimension: p.tier for p in aids.rubric}
    assert heuristic == {p.dimension: p.tier for p in _aids(scenario_dir, signals_of, "ada").rubric}
    assert aids.model_narrative.headline == "Steady, test-first work."
    assert aids.rubric_json()["judge"] == MODEL_ID


def test_a_failing_or_hanging_judge_leaves_the_heuristics_standing(
    scenario_dir: Path, signals_of: dict[str, SessionSignals], fluency_model: str
) -> None:
    from promptster.analysis.judge import LlmJudge

    ANSWERS.extend(["raise", "raise", "raise", "hang", "strong", "strong"])
    aids = _aids(scenario_dir, signals_of, "ada", judge=LlmJudge(fluency_model), timeout=0.5)
    RELEASE.set()
    failed = aids.judged["task_framing"]
    assert failed.tier is None and "RuntimeError: the model is down" in (failed.error or "")
    second = aids.judged["comprehension_grounding"]
    assert second.passes[0] == "failed: TimeoutError: no answer within 0.5 s"
    assert second.tier == "strong" and second.confidence == "medium"  # two passes, agreeing
    assert aids.rubric[0].tier != "not_collectible"  # the heuristic is still there
    ANSWERS.extend(itertools.repeat("raise", 40))
    broken = _aids(scenario_dir, signals_of, "ada", judge=LlmJudge(fluency_model))
    assert broken.model_narrative.error and broken.narrative.headline


def test_review_shows_the_judge_beside_the_heuristic(
    scenario_dir: Path, fluency_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from promptster.cli import main

    out = tmp_path / "ada.html"
    ANSWERS.extend(["raise"] * 3)  # the first dimension's passes all fail; the rest answer
    assert main(["review", str(scenario_dir / "ada.pst"), "-o", str(out), "--judge", MODEL_ID]) == 0
    html = out.read_text("utf-8")
    framing = html.split('id="rubric-task_framing"')[1].split("</tr>")[0]
    assert "judge failed" in framing and "the heuristic stands" in framing
    assert 'class="tag tier tier-' in framing.split('class="judged"')[0]  # heuristic tier kept
    grounding = html.split('id="rubric-comprehension_grounding"')[1].split("</tr>")[0]
    assert "passes: adequate, adequate, adequate" in grounding
    assert 'id="narrative-judge"' in html and "Steady, test-first work." in html
    assert main(["review", str(scenario_dir / "ada.pst"), "--judge", "no-such-model"]) == 2
    assert "unknown judge model" in capsys.readouterr().err
