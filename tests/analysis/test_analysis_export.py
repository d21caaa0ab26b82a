"""`score --tables`: the analysis tables as Parquet partitioned by assessment, and the signal SQL
run unchanged over the export by a fresh DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from promptster.analysis.database import connect
from promptster.analysis.export import attach_exported
from promptster.analysis.load import load_bundle
from promptster.analysis.signals import compute_signals
from promptster.cli import main


def test_the_signal_sql_runs_unchanged_over_the_export(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = tmp_path / "tables"
    code = main(
        ["score", str(demo_dir), "--format", "jsonl", "--jobs", "2", "--tables", str(tables)]
    )
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(rows) == 4
    # hive partitions by assessment, one folder per table
    assessments = {r["assessmentId"] for r in rows}
    found = {p.name for p in (tables / "events").iterdir()}
    assert found == {
        f"assessment={a}" if a is not None else "assessment=__HIVE_DEFAULT_PARTITION__"
        for a in assessments
    }

    reference = connect()
    exported = duckdb.connect()  # fresh: nothing but the files
    try:
        for path in sorted(demo_dir.glob("*.pst")):
            load_bundle(reference, path)
        attach_exported(exported, tables)
        for table in ("sessions", "events", "commands", "prompts"):
            query = (
                f"SELECT * EXCLUDE (loaded_at) FROM {table} ORDER BY ALL"
                if table == "sessions"
                else f"SELECT * FROM {table} ORDER BY ALL"
            )
            assert exported.execute(query).fetchall() == reference.execute(query).fetchall()
        over_export = compute_signals(exported)
        over_tables = compute_signals(reference)
    finally:
        reference.close()
        exported.close()
    assert set(over_export) == {r["sessionId"] for r in rows}
    for sid, signals in over_tables.items():
        mine = over_export[sid].to_json_obj()
        theirs = signals.to_json_obj()
        # the bundle path is the one each load was given; everything else is the same
        mine["session"].pop("bundle"), theirs["session"].pop("bundle")
        assert mine == theirs


def test_tables_are_appended_batch_by_batch(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = tmp_path / "tables"
    for one in sorted(demo_dir.glob("*.pst"))[:2]:
        assert main(["score", str(one), "--format", "csv", "--tables", str(tables)]) == 0
    capsys.readouterr()
    con = duckdb.connect()
    try:
        attach_exported(con, tables)
        assert con.execute("SELECT count(*) FROM sessions").fetchall() == [(2,)]
    finally:
        con.close()


def test_an_unwritable_tables_folder_is_an_environment_error(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    one = sorted(demo_dir.glob("*.pst"))[0]
    code = main(["score", str(one), "--tables", str(blocker / "tables")])
    err = capsys.readouterr().err
    assert code == 3
    assert "could not be written" in err and "Traceback" not in err
