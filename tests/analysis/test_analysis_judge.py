"""The optional LLM judge, driven by a model that a test plugin registers with `llm`."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptster.analysis.database import connect
from promptster.analysis.judge import Rating, apply_judge, parse_rating
from promptster.analysis.load import load_bundle
from promptster.analysis.signals import compute_signals
from support import require

MODEL_ID = "promptster-test-judge"


def test_parse_rating() -> None:
    assert parse_rating('{"score": 1.5, "reason": "grounded"}') == Rating(1.5, "grounded")
    assert parse_rating('Sure! {"score": 2, "reason": "x"}') == Rating(2.0, "x")
    assert parse_rating("I'd say 0.5") == Rating(0.5, "")
    assert parse_rating('{"score": 7}') is None
    assert parse_rating("no idea") is None


@pytest.fixture
def judge_model() -> Iterator[str]:
    require(importlib.util.find_spec("llm") is not None, "the llm library (promptster[judge])")
    import llm
    from llm.plugins import pm

    class FakeJudge(llm.Model):  # type: ignore[misc]
        model_id = MODEL_ID
        can_stream = False

        def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any) -> Any:
            text = prompt.prompt
            score = 2.0 if "must" in text else (0.0 if "{" in text[:10] else 0.5)
            yield json.dumps({"score": score, "reason": f"saw {len(text)} characters"})

    class Plugin:
        @llm.hookimpl  # type: ignore[misc]
        def register_models(self, register: Any) -> None:
            register(FakeJudge())

    pm.register(Plugin(), name="promptster-test-judge")
    try:
        yield MODEL_ID
    finally:
        pm.unregister(name="promptster-test-judge")


def test_judge_replaces_the_heuristic(scenario_dir: Path, judge_model: str) -> None:
    from promptster.analysis.judge import LlmJudge

    con = connect()
    loaded = load_bundle(con, scenario_dir / "ada.pst")
    result = compute_signals(con, [loaded.session_id], judge=LlmJudge(judge_model))
    depth = result[loaded.session_id]["promptDepth"]
    # ada's prompts: the second says "must" (2.0), the first does not (0.5)
    assert depth.value == pytest.approx(1.25)
    assert depth.confidence == "moderate"  # fewer than 3 judged prompts
    assert depth.detail["method"] == "llm" and depth.detail["judge"] == MODEL_ID
    assert depth.detail["heuristicValue"] == pytest.approx(1.25)
    assert len(depth.evidence) == 2
    # no change carries diff text, so codeCraft keeps its heuristic
    assert result[loaded.session_id]["codeCraft"].confidence == "low"
    assert apply_judge(con, "no-such-session", {}, LlmJudge(judge_model)) == {}


def test_score_with_judge(
    scenario_dir: Path, judge_model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from promptster.analysis.score import score_bundle

    row = score_bundle(scenario_dir / "dee.pst", judge_model=judge_model)
    assert row["promptDepth"] == 0.5  # neither prompt says "must"
    assert row["confidence"]["promptDepth"] == "moderate"


def test_unknown_model_is_a_usage_error(
    scenario_dir: Path, judge_model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from promptster.cli import main

    assert main(["score", str(scenario_dir / "ada.pst"), "--judge", "no-such-model"]) == 2
    assert "unknown judge model" in capsys.readouterr().err
