"""DuckDB's memory for an analysis is bounded (database.DUCKDB_MEMORY, so that a large session
spills to the run's temporary folder instead of taking the reviewer's budget); a query that
cannot spill within the bound runs again with more (database.MORE_MEMORY, the last step without
a bound), so the bound never costs an answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptster.analysis import database
from promptster.analysis.signals import bundle_signals
from promptster.errors import InputError
from promptster.record.synth import generate_bundle


def test_the_analysis_database_is_bounded_and_spills_to_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    con = database.connect()
    try:
        limit, folder = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone() or (None, None)
    finally:
        con.close()
    assert limit == "122.0 MiB" and folder == str(tmp_path)


def test_a_limit_too_small_for_a_query_still_gives_the_same_signals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "s.pst"
    generate_bundle(bundle, events=400, seed=3)
    expected = _values(bundle)
    monkeypatch.setenv("PROMPTSTER_DUCKDB_MEMORY", "4MB")  # less than read_json's buffer
    assert _values(bundle) == expected
    # each step of the ladder too small: the last one has no bound
    monkeypatch.setattr(database, "MORE_MEMORY", ("5MB", "6MB", None))
    assert _values(bundle) == expected


def _values(bundle: Path) -> dict[str, tuple[object, frozenset[str]]]:
    """Each signal's value and evidence (whose order follows DuckDB's plan)."""
    found = bundle_signals(bundle).signals
    return {name: (s.value, frozenset(s.evidence)) for name, s in found.items()}


def test_a_bad_memory_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTSTER_DUCKDB_MEMORY", "lots")
    with pytest.raises(InputError, match="PROMPTSTER_DUCKDB_MEMORY='lots'"):
        database.connect()
