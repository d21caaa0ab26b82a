"""Signals of hand-written sessions, computed by hand (see analysis_scenarios.py)."""

from __future__ import annotations

import json
import math

import pytest

from promptster.analysis.catalog import SIGNAL_NAMES
from promptster.analysis.signals import SessionSignals

ADA_PROMPTS = (
    "Explain how src/app/service.py handles quantities before we change anything?",
    "The test fails with a KeyError in src/app/service.py; must keep the public API.",
)
DEE_PROMPTS = (
    "Add the requests dependency to pyproject.toml and use it in src/app/api.py; "
    "do not change the tests.",
    "Why does npm test fail after the change?",
)

# name -> signal -> (value, confidence); floats compared to 1e-9.
EXPECTED: dict[str, dict[str, tuple[object, str]]] = {
    "ada": {
        "promptCount": (2, "high"),
        # 3 test runs + 1 lint run over 2 file changes
        "verifyIntensity": (2.0, "moderate"),
        "commandFailRate": (0.25, "moderate"),
        "manualEditRatio": (0.5, "moderate"),
        "firstChangeLatencyMs": (60_000, "high"),
        "aiAttributionPct": (40.0, "moderate"),  # 4 AI lines of 10
        "sessionDurationMs": (115_000, "high"),
        "commandCount": (4, "high"),
        "fileDiffCount": (2, "high"),
        "uniqueFilesTouched": (2, "high"),
        "testRunCount": (3, "high"),
        "testResults": (
            {"passed": 5, "failed": 0, "skipped": 0, "errors": 0, "total": 5, "outcome": "passed"},
            "high",
        ),
        "errorEpisodeCount": (1, "high"),
        "recoveryCount": (1, "high"),
        "avgPromptLength": (sum(map(len, ADA_PROMPTS)) / 2, "moderate"),
        "maxPromptLength": (max(map(len, ADA_PROMPTS)), "high"),
        "humanTerminalCommands": (4, "high"),
        "toolUsage": ({"Read": 1}, "high"),
        "distinctToolsUsed": (["Read"], "high"),
        "readBeforeWriteRatio": (0.5, "moderate"),  # service.py read first, the test not
        "explorationBeforeActionRatio": (0.5, "moderate"),  # question + Read of 4 actions
        "processDescriptors": (["test-driven"], "moderate"),
        "promptDepth": (1.25, "low"),  # (0.5+0.5) and (0.5+0.5+0.5)
        "decisionVisibility": (1.0, "low"),
        "errorRecoveryPattern": (1.0, "low"),  # the failure is followed by a prompt about it
        "planningBeforeActing": (0.5, "low"),  # strategic, then reactive
        "commandsPerChange": (2.0, "moderate"),
        "codeCraft": (1.25, "low"),  # tests 0.5 + simplify 0.5×½ + clean 0.5
    },
    "ben": {
        "promptCount": (4, "high"),
        "verifyIntensity": (0.0, "moderate"),
        "commandFailRate": (2 / 3, "moderate"),
        "manualEditRatio": (0.0, "moderate"),
        "firstChangeLatencyMs": (15_000, "high"),
        "aiAttributionPct": (100.0, "moderate"),
        "sessionDurationMs": (100_000, "high"),
        "testRunCount": (0, "high"),
        "testResults": (None, "insufficient_data"),
        "errorEpisodeCount": (1, "high"),
        "recoveryCount": (1, "high"),
        "avgPromptLength": (7.75, "moderate"),
        "maxPromptLength": (13, "high"),
        "humanTerminalCommands": (0, "high"),
        "toolUsage": ({}, "high"),
        "distinctToolsUsed": ([], "high"),
        "readBeforeWriteRatio": (0.0, "moderate"),
        "explorationBeforeActionRatio": (0.0, "moderate"),
        "processDescriptors": (["AI-delegating"], "moderate"),
        "promptDepth": (0.0, "low"),
        "decisionVisibility": (None, "insufficient_data"),
        # retry then pivot: 1/2, minus 0.1 for the "fix it" loop
        "errorRecoveryPattern": (0.4, "low"),
        "planningBeforeActing": (0.0, "low"),
        "commandsPerChange": (1.0, "moderate"),
        "codeCraft": (0.5 * 2 / 3 + 0.5, "low"),
    },
    "cy": {
        "promptCount": (0, "high"),
        "verifyIntensity": (0.75, "moderate"),
        "commandFailRate": (0.125, "high"),
        "manualEditRatio": (1.0, "moderate"),
        "firstChangeLatencyMs": (300_000, "high"),
        "aiAttributionPct": (0.0, "moderate"),
        "sessionDurationMs": (400_000, "high"),
        "commandCount": (8, "high"),
        "uniqueFilesTouched": (3, "high"),
        "testResults": (
            {"passed": 6, "failed": 0, "skipped": 0, "errors": 0, "total": 6, "outcome": "passed"},
            "high",
        ),
        "avgPromptLength": (None, "insufficient_data"),
        "maxPromptLength": (None, "insufficient_data"),
        "humanTerminalCommands": (8, "high"),
        "readBeforeWriteRatio": (0.5, "moderate"),
        "explorationBeforeActionRatio": (1.0, "high"),
        "processDescriptors": (["manual-coder", "planner"], "moderate"),
        "promptDepth": (None, "insufficient_data"),
        "decisionVisibility": (None, "insufficient_data"),
        "errorRecoveryPattern": (1.0, "low"),
        "planningBeforeActing": (None, "insufficient_data"),
        "commandsPerChange": (2.0, "moderate"),
        "codeCraft": (0.5 * 3 / 4 + 0.5, "low"),
    },
    "dee": {
        "promptCount": (2, "high"),
        "verifyIntensity": (2 / 3, "moderate"),
        "commandFailRate": (0.5, "moderate"),
        # only the ai_revised_by_human change, counted half (split with aiAttributionPct)
        "manualEditRatio": (1 / 6, "moderate"),
        "firstChangeLatencyMs": (30_000, "high"),
        # 1 (aiLines) + 8/2 (mixed) + 2/2 (ai_revised_by_human, no aiLines) of 11 added lines
        "aiAttributionPct": (600 / 11, "moderate"),
        "sessionDurationMs": (95_000, "high"),
        "avgPromptLength": (sum(map(len, DEE_PROMPTS)) / 2, "moderate"),
        "processDescriptors": (["planner"], "moderate"),
        "promptDepth": (1.0, "low"),  # 1.5 and 0.5
        "decisionVisibility": (0.0, "low"),  # pyproject.toml changed, no decision of impact ≥ 3
        "errorRecoveryPattern": (1.0, "low"),
        "planningBeforeActing": (1.0, "low"),  # tactical prompt + planning event
        "commandsPerChange": (2 / 3, "moderate"),
        "codeCraft": (0.5 * 2 / 3 + 0.5, "low"),
    },
    "empty": {
        "promptCount": (0, "high"),
        "verifyIntensity": (None, "insufficient_data"),
        "commandFailRate": (None, "insufficient_data"),
        "manualEditRatio": (None, "insufficient_data"),
        "firstChangeLatencyMs": (None, "insufficient_data"),
        "aiAttributionPct": (None, "insufficient_data"),
        "sessionDurationMs": (5_000, "high"),
        "commandCount": (0, "high"),
        "fileDiffCount": (0, "high"),
        "testResults": (None, "insufficient_data"),
        "errorEpisodeCount": (0, "insufficient_data"),
        "recoveryCount": (0, "insufficient_data"),
        "avgPromptLength": (None, "insufficient_data"),
        "toolUsage": ({}, "high"),
        "eventCounts": ({"session_start": 1, "session_end": 1}, "high"),
        "readBeforeWriteRatio": (None, "insufficient_data"),
        "explorationBeforeActionRatio": (None, "insufficient_data"),
        "processDescriptors": ([], "insufficient_data"),
        "promptDepth": (None, "insufficient_data"),
        "decisionVisibility": (None, "insufficient_data"),
        "errorRecoveryPattern": (None, "insufficient_data"),
        "planningBeforeActing": (None, "insufficient_data"),
        "commandsPerChange": (None, "insufficient_data"),
        "codeCraft": (None, "insufficient_data"),
    },
    "prompts-only": {
        "promptCount": (2, "high"),
        "verifyIntensity": (None, "insufficient_data"),
        "commandFailRate": (None, "insufficient_data"),
        "firstChangeLatencyMs": (None, "insufficient_data"),
        "explorationBeforeActionRatio": (1.0, "moderate"),  # both prompts are questions
        "planningBeforeActing": (1.0, "low"),  # no change: the window is the whole session
        "promptDepth": (0.75, "low"),  # 0, and 0.5 (49 chars) + 0.5 (path) + 0.5 ("Keep")
        "processDescriptors": ([], "moderate"),
    },
    "no-changes": {
        "verifyIntensity": (None, "insufficient_data"),
        "commandsPerChange": (None, "insufficient_data"),
        "commandFailRate": (0.5, "moderate"),
        "errorEpisodeCount": (1, "high"),
        "recoveryCount": (0, "high"),
        "errorRecoveryPattern": (0.0, "low"),  # nothing followed the failure
        "testResults": (
            {"passed": 1, "failed": 1, "skipped": 0, "errors": 0, "total": 2, "outcome": "failed"},
            "high",
        ),
    },
}


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, abs_tol=1e-9)
    return actual == expected


@pytest.mark.parametrize(
    ("session", "signal"), [(s, n) for s, signals in EXPECTED.items() for n in signals]
)
def test_expected_value_and_confidence(
    signals_of: dict[str, SessionSignals], session: str, signal: str
) -> None:
    value, confidence = EXPECTED[session][signal]
    got = signals_of[session][signal]
    assert _same(got.value, value), f"{session} {signal}: {got.value!r} != {value!r}"
    assert got.confidence == confidence, f"{session} {signal}: {got.confidence}"


def test_every_signal_present_and_never_nan(signals_of: dict[str, SessionSignals]) -> None:
    for name, result in signals_of.items():
        assert list(result.signals) == list(SIGNAL_NAMES), name
        text = json.dumps(result.to_json_obj(), allow_nan=False)  # raises on NaN or inf
        assert "NaN" not in text


def test_undefined_values_are_insufficient_data_not_zero(
    signals_of: dict[str, SessionSignals],
) -> None:
    for result in signals_of.values():
        for signal in result.signals.values():
            if signal.value is None:
                assert signal.confidence == "insufficient_data", signal.name


def test_evidence_points_at_real_events(signals_of: dict[str, SessionSignals]) -> None:
    ada = signals_of["ada"]
    failed = ada["commandFailRate"]
    assert failed.evidence_count == 1 and len(failed.evidence) == 1
    assert ada["errorEpisodeCount"].evidence == failed.evidence
    assert ada["firstChangeLatencyMs"].evidence_count == 2
    assert ada["promptCount"].evidence_count == 2
    assert ada["eventCounts"].evidence_count == ada.session.event_count == 16


def test_details(signals_of: dict[str, SessionSignals]) -> None:
    ada, ben, dee = signals_of["ada"], signals_of["ben"], signals_of["dee"]
    assert ada["verifyIntensity"].detail["breakdown"] == {
        "test": 3, "lint": 1, "typecheck": 0, "build": 0,
    }  # fmt: skip
    assert ada["commandsPerChange"].detail["breakdown"] == {
        "test": 3, "lint": 1, "build": 0, "other": 0,
    }  # fmt: skip
    assert ben["commandFailRate"].detail["ai"] == pytest.approx(2 / 3)
    assert ben["commandFailRate"].detail["human"] is None
    classes = [a["class"] for a in ben["errorRecoveryPattern"].detail["actions"]]
    assert classes == ["retry", "pivot"]
    assert ben["errorRecoveryPattern"].detail["stuckLoops"] == 1
    assert dee["decisionVisibility"].detail["missedPaths"] == ["pyproject.toml"]
    assert signals_of["cy"]["verifyIntensity"].detail["breakdown"]["typecheck"] == 2


def test_session_info(signals_of: dict[str, SessionSignals]) -> None:
    info = signals_of["ada"].session
    assert info.verified and info.problems == ()
    assert info.assessment_id == "asmt-demo"
    assert info.candidate_name == "Ada Lovelace"
    assert info.started_at == "2026-03-02T09:00:00.000Z"
    assert info.event_count == 16
