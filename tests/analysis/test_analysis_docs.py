"""docs/signals.md is generated from the signal catalog and the SQL header comments, and must
match them."""

from __future__ import annotations

from pathlib import Path

from promptster.analysis.catalog import DERIVED_FAMILIES, FAMILIES, SIGNAL_NAMES, problems
from promptster.analysis.docs import render
from promptster.analysis.signals import SessionSignals

DOC = Path(__file__).resolve().parents[2] / "docs" / "signals.md"


def test_doc_is_up_to_date() -> None:
    assert DOC.read_text("utf-8") == render(), (
        "docs/signals.md is stale: run `python -m promptster.analysis.docs > docs/signals.md`"
    )


def test_every_signal_is_documented_exactly_once() -> None:
    assert problems() == []


def test_the_sql_produces_exactly_the_documented_signals(
    signals_of: dict[str, SessionSignals],
) -> None:
    for result in signals_of.values():
        assert set(result.signals) == set(SIGNAL_NAMES)
        families = {s.family for s in result.signals.values()}
        assert len(families) == len(FAMILIES + DERIVED_FAMILIES)
