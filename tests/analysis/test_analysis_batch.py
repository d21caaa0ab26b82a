"""`score` loads a batch set-based (analysis/batch.py): the rows are the ones bundle by bundle."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from promptster.analysis import batch, score
from promptster.analysis.database import connect
from promptster.analysis.load import load_bundle
from promptster.record.synth import generate_bundle

BUNDLES = 300


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 small synthetic bundles of varied size and content (fixed seeds)."""
    folder = tmp_path_factory.mktemp("synth")
    for seed in range(BUNDLES):
        generate_bundle(folder / f"s{seed:03d}.pst", events=12 + seed % 37, seed=seed)
    return folder


def test_300_bundles_score_the_same_set_based_and_one_by_one(synth_dir: Path) -> None:
    paths = sorted(synth_dir.glob("*.pst"))
    assert len(paths) == BUNDLES
    assert [len(c) for c in score.chunks(paths)][:1] == [score.CHUNK_BUNDLES]
    together = list(score.iter_scores(paths, jobs=1))
    alone = [score.score_bundle(p) for p in paths]
    assert [r["path"] for r in together] == [str(p) for p in paths]
    for mine, reference in zip(together, alone, strict=True):
        assert mine == reference
    assert all(r["verified"] for r in together)
    assert len({r["sessionId"] for r in together}) == BUNDLES


def test_the_tables_hold_the_same_rows_as_loading_one_by_one(
    synth_dir: Path, tmp_path: Path
) -> None:
    from promptster.analysis.database import TABLES
    from promptster.analysis.verified import verify_for_loading

    paths = sorted(synth_dir.glob("*.pst"))[:20]
    one_by_one, together = connect(), connect()
    try:
        for path in paths:
            load_bundle(one_by_one, path)
        staged = []
        for index, path in enumerate(paths):
            report, timeline = verify_for_loading(path, allow_invalid=False)
            staged.append(batch.stage(tmp_path, index, path, report, timeline))
        batch.load_batch(together, staged)
        # events in the same order (file, then line); the typed tables are filled by joins,
        # whose output order is DuckDB's either way, so those are compared as sets
        query = "SELECT * FROM events"
        assert together.execute(query).fetchall() == one_by_one.execute(query).fetchall()
        for table in TABLES:
            # loaded_at is the clock at loading
            columns = "* EXCLUDE (loaded_at)" if table == "sessions" else "*"
            query = f"SELECT {columns} FROM {table} ORDER BY ALL"
            assert together.execute(query).fetchall() == one_by_one.execute(query).fetchall()
    finally:
        one_by_one.close()
        together.close()


def test_a_batch_duckdb_cannot_load_is_scored_bundle_by_bundle(
    synth_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = sorted(synth_dir.glob("*.pst"))[:5]
    expected = [score.score_bundle(p) for p in paths]

    def failing(con: duckdb.DuckDBPyConnection, staged: object) -> None:
        con.execute("SELECT error('this timeline cannot be read')")

    monkeypatch.setattr(batch, "load_batch", failing)
    assert score.score_chunk([str(p) for p in paths]) == expected


def test_duplicate_sessions_in_a_batch(synth_dir: Path, tmp_path: Path) -> None:
    original = synth_dir / "s007.pst"
    copy = tmp_path / "copy.pst"
    copy.write_bytes(original.read_bytes())  # the same session, the same bytes
    other = generate_bundle(tmp_path / "other.pst", events=40, seed=7).path  # other bytes
    paths = [original, copy, other, synth_dir / "s008.pst"]
    assert score.score_chunk([str(p) for p in paths]) == [score.score_bundle(p) for p in paths]
