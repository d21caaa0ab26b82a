"""Signal families split over two connections give exactly what one connection gives."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from promptster.analysis import database, load, parallel
from promptster.analysis.database import TABLES, connect
from promptster.analysis.load import LoadStatus, load_bundle, load_verified
from promptster.analysis.signals import compute_signals
from promptster.analysis.verified import verify_for_loading
from promptster.errors import FormatError
from promptster.formats.jsonio import JsonValue


def _all(demo_dir: Path, *, parallel_from: int, monkeypatch: pytest.MonkeyPatch) -> JsonValue:
    monkeypatch.setattr(parallel, "PARALLEL_EVENTS", parallel_from)
    con = connect()
    for path in sorted(demo_dir.glob("*.pst")):
        load_bundle(con, path)
    return {sid: s.to_json_obj() for sid, s in compute_signals(con).items()}


def test_two_connections_give_the_same_signals(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[bool] = []
    helper = parallel._helper

    def spy(con: object) -> object:
        made = helper(con)  # type: ignore[arg-type]
        used.append(made is not None)
        return made

    monkeypatch.setattr(parallel, "_helper", spy)
    split = _all(demo_dir, parallel_from=0, monkeypatch=monkeypatch)
    assert used == [True]
    assert split == _all(demo_dir, parallel_from=10**9, monkeypatch=monkeypatch)


def test_uncommitted_rows_keep_everything_on_one_connection(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second connection cannot see a load still in the caller's transaction."""
    monkeypatch.setattr(parallel, "PARALLEL_EVENTS", 0)
    con = connect()
    first, *rest = sorted(demo_dir.glob("*.pst"))
    load_bundle(con, first)
    con.execute("BEGIN TRANSACTION")
    for path in rest:
        report, timeline = verify_for_loading(path, allow_invalid=False)
        load_verified(con, path, report, timeline, transaction=False)
    con.execute("CREATE OR REPLACE TEMP TABLE _scope AS SELECT session_id FROM sessions")
    assert parallel._helper(con) is None
    signals = compute_signals(con)
    assert len(signals) == 1 + len(rest)
    con.execute("COMMIT")


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {
        t: sorted(con.execute(f"SELECT * EXCLUDE (loaded_at) FROM {t}").fetchall(), key=str)
        if t == "sessions"
        else sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=str)
        for t in TABLES
    }


def test_typed_tables_filled_on_two_connections_are_the_same(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = sorted(demo_dir.glob("*.pst"))
    one = connect()
    for path in paths:
        load_bundle(one, path)
    monkeypatch.setattr(load, "SPLIT_EVENTS", 0)
    two = connect()
    for path in paths:
        load_bundle(two, path)
    assert _tables(two) == _tables(one)
    assert _tables(one)["commands"]  # not trivially equal


def test_a_failed_split_load_leaves_no_rows(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "SPLIT_EVENTS", 0)
    real = database.sql_text
    monkeypatch.setattr(
        load,
        "sql_text",
        lambda name: "SELECT error('boom')" if name == "load_kinds_texts.sql" else real(name),
    )
    con = connect()
    path = sorted(demo_dir.glob("*.pst"))[0]
    with pytest.raises(FormatError, match="boom"):
        load_bundle(con, path)
    assert all(not rows for rows in _tables(con).values())
    monkeypatch.setattr(load, "sql_text", real)
    assert load_bundle(con, path).status is LoadStatus.LOADED
