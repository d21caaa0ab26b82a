"""The analysis tables as Parquet, partitioned by assessment, and read back by a fresh DuckDB.

`score --tables DIR` writes them: each batch of each worker appends its rows as new files,
`DIR/<table>/assessment=<id>/b<uuid>.parquet` (hive-style; a session without an assessment
goes under `assessment=__HIVE_DEFAULT_PARTITION__`). The partition key `assessment` is an
extra column of the export only: the tables keep their own columns, in their own order.

`attach_exported` makes the same table names in a fresh connection, views over those files,
so that the signal SQL (sql/signals_*.sql) runs over them unchanged; any engine that reads
hive-partitioned Parquet (DuckDB over object storage, Spark SQL, Trino) can do the same
(docs/performance.md, "Beyond one machine").
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from promptster.analysis.database import TABLES, sql_text
from promptster.errors import EnvironmentProblem

PARTITION = "assessment"
FORMAT_VERSION = 1  # of the export's layout (one folder per table, hive partitions)


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_tables(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Append every analysis table of `con` to `folder`, partitioned by assessment."""
    try:
        for table in TABLES:
            _export_table(con, folder, table)
    except (OSError, duckdb.IOException) as exc:
        raise EnvironmentProblem(
            f"the analysis tables could not be written to {folder}: {exc}",
            "check that the folder is writable and the disk has room",
        ) from exc


def _export_table(con: duckdb.DuckDBPyConnection, folder: Path, table: str) -> None:
    target = folder / table
    target.mkdir(parents=True, exist_ok=True)
    if table == "sessions":
        source = f"SELECT *, assessment_id AS {PARTITION} FROM sessions"
    else:
        source = (
            f"SELECT t.*, s.assessment_id AS {PARTITION} "
            f"FROM {table} t JOIN sessions s USING (session_id)"
        )
    con.execute(
        f"COPY ({source}) TO {_literal(target)} (FORMAT parquet, "
        f"PARTITION_BY ({PARTITION}), APPEND true, FILENAME_PATTERN 'b{{uuid}}')"
    )


def attach_exported(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Make the analysis tables of `con` (a fresh connection) views over the export in
    `folder`, with the macros the signal SQL uses. A table with no rows stays an empty table."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute(sql_text("schema.sql"))
    con.execute(sql_text("macros.sql"))
    for table in TABLES:
        if not any((folder / table).glob("*/*.parquet")):
            continue
        files = _literal(folder / table / "*" / "*.parquet")
        con.execute(f"DROP TABLE {table}")
        con.execute(
            f"CREATE VIEW {table} AS SELECT * EXCLUDE ({PARTITION}) "
            f"FROM read_parquet({files}, hive_partitioning = true)"
        )
