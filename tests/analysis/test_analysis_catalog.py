"""The signal catalog (analysis/catalog.py) is the one list of signals: every signal the SQL
computes has an entry and every entry is computed, by the family it names; what the outputs
derive from it keeps the order they had before the catalog existed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from analysis_scenarios import DEMO, EDGE

from promptster.analysis import catalog, score
from promptster.analysis.cohort import ALIASES, AVERAGES, PERCENTILE_METRICS
from promptster.analysis.database import connect
from promptster.analysis.definitions import parse_family
from promptster.analysis.load import load_bundle
from promptster.analysis.signals import sql_signals

SCENARIOS = [make().name for make in DEMO + EDGE]


@pytest.fixture(scope="module")
def computed(scenario_dir: Path) -> dict[str, set[str]]:
    """signal name -> the families that computed it, over every scenario bundle."""
    found: dict[str, set[str]] = {}
    for name in SCENARIOS:
        con = connect()
        try:
            load_bundle(con, scenario_dir / f"{name}.pst")
            for signals in sql_signals(con).values():
                for signal in signals.values():
                    found.setdefault(signal.name, set()).add(signal.family)
        finally:
            con.close()
    return found


def test_every_computed_signal_has_a_catalog_entry(computed: dict[str, set[str]]) -> None:
    missing = sorted(set(computed) - set(catalog.SIGNAL_NAMES))
    assert not missing, f"computed by SQL but not in analysis/catalog.py: {missing}"


def test_every_catalog_entry_is_computed_by_its_family(computed: dict[str, set[str]]) -> None:
    absent = [n for n in catalog.SIGNAL_NAMES if n not in computed]
    assert not absent, f"in analysis/catalog.py but computed by no SQL family: {absent}"
    for spec in catalog.CATALOG:
        assert computed[spec.name] == {spec.family}, spec.name


def test_the_catalog_agrees_with_the_sql_headers() -> None:
    assert catalog.problems() == []
    for spec in catalog.CATALOG:
        assert spec.definition, spec.name
        assert spec.label and spec.meaning, spec.name


def test_problems_names_a_signal_the_sql_does_not_document_and_one_it_alone_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = replace(catalog.BY_NAME["promptCount"], name="newThing")
    kept = (*(s for s in catalog.CATALOG if s.name != "codeCraft"), extra)
    monkeypatch.setattr(catalog, "CATALOG", kept)
    monkeypatch.setattr(catalog, "BY_NAME", {s.name: s for s in kept})
    assert catalog.problems() == [
        "newThing has no @signal section in signals_headline.sql",
        "codeCraft is documented in SQL but not in the catalog",
    ]


def test_a_header_is_parsed_into_intro_and_sections() -> None:
    header = parse_family("craft", "-- Family: craft. Intro.\n--\n-- @signal newThing\n-- Text.\n")
    assert header.intro == "Intro."
    assert header.signals == (("newThing", "Text."),)


def test_unknown_names_get_a_plain_stand_in() -> None:
    spec = catalog.spec_for("noSuchSignal")
    assert (spec.label, spec.meaning, spec.unit, spec.headline, spec.orientation) == (
        "noSuchSignal",
        "",
        "object",
        False,
        "neutral",  # never ranked
    )


def _in_order(known: list[str], now: list[str]) -> bool:
    """`known` appears in `now` in the same relative order (new names may join)."""
    remaining = iter(now)
    return all(name in remaining for name in known)


def test_outputs_keep_their_order() -> None:
    """Reordering the catalog must not silently reorder CSV columns, the cohort's metrics or
    its default weights; adding a signal may add to them."""
    assert _in_order(
        [
            "path", "sessionId", "assessmentId", "candidateName", "verified", "error",
            "eventCount", "promptCount", "verifyIntensity", "commandFailRate",
            "manualEditRatio", "firstChangeLatencyMs", "aiAttributionPct", "sessionDurationMs",
            "commandCount", "fileDiffCount", "uniqueFilesTouched", "testRunCount",
            "errorEpisodeCount", "recoveryCount", "avgPromptLength", "maxPromptLength",
            "humanTerminalCommands", "readBeforeWriteRatio", "explorationBeforeActionRatio",
            "promptDepth", "decisionVisibility", "errorRecoveryPattern",
            "planningBeforeActing", "commandsPerChange", "codeCraft", "testsPassed",
            "testsFailed", "testsSkipped", "testsErrors", "testsTotal", "distinctToolsUsed",
            "processDescriptors",
        ],
        list(score.COLUMNS),
    )  # fmt: skip
    cohort = [
        "sessionDurationMs",
        "promptCount",
        "commandFailRate",
        "verifyIntensity",
        "manualEditRatio",
        "firstChangeLatencyMs",
    ]
    assert _in_order(cohort, list(PERCENTILE_METRICS))
    assert _in_order([f"avg{m[0].upper()}{m[1:]}" for m in cohort[1:]], list(AVERAGES))
    assert AVERAGES["avgDurationMs"] == "sessionDurationMs"
    assert ALIASES == {"durationMs": "sessionDurationMs"}
    weights = list(catalog.DEFAULT_WEIGHTS.values())
    assert weights == sorted(weights, reverse=True) and all(weights)
    assert catalog.DEFAULT_WEIGHTS["commandFailRate"] == 0.30
    assert "manualEditRatio" not in catalog.DEFAULT_WEIGHTS  # ranked, not weighted


def test_every_machine_field_name_is_camel_case() -> None:
    """One rule for names in output (the hosted product's): signals, score columns, the
    cohort's averages and weights keys are camelCase, so no two spellings sit side by side."""
    import re

    from promptster.analysis.score import COLUMNS

    camel = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*")
    names = [spec.name for spec in catalog.CATALOG]
    names += [spec.cohort.average for spec in catalog.CATALOG if spec.cohort is not None]
    names += [
        alias
        for spec in catalog.CATALOG
        if spec.cohort is not None
        for alias in spec.cohort.aliases
    ]
    names += list(COLUMNS)
    assert [name for name in names if not camel.fullmatch(name)] == []


def test_the_two_verification_ratios_have_names_that_say_what_they_count() -> None:
    by_name = {spec.name: spec for spec in catalog.CATALOG}
    assert "verification_intensity" not in by_name
    assert "Check runs" in by_name["verifyIntensity"].meaning
    assert "All commands" in by_name["commandsPerChange"].meaning


def test_every_signal_has_one_orientation_and_prompt_count_ranks_fewer_higher() -> None:
    # one table: each signal's orientation, the ranked ones from their cohort entry
    assert set(catalog.ALL_ORIENTATIONS) == set(catalog.SIGNAL_NAMES)
    assert set(catalog.ALL_ORIENTATIONS.values()) <= set(catalog.DIRECTIONS)
    ranked = {n for n, o in catalog.ALL_ORIENTATIONS.items() if o != "neutral"}
    assert ranked == set(catalog.COHORT)
    # the hosted cohort guide: "higher = fewer prompts (more efficient)"
    assert catalog.ALL_ORIENTATIONS["promptCount"] == "lower"
    assert catalog.ALL_ORIENTATIONS["commandFailRate"] == "lower"
    assert catalog.ALL_ORIENTATIONS["aiAttributionPct"] == "neutral"  # no signal penalises AI
