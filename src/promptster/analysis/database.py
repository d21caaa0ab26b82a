"""The analysis database: a DuckDB connection with the tables and macros (sql/schema.sql,
sql/macros.sql), its memory bound, and the settings a load or a signal query runs under.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from promptster.errors import InputError

TABLES = (
    "sessions", "events", "prompts", "file_changes", "commands", "test_runs", "decisions",
    "authorship",
)  # fmt: skip
# DuckDB's own memory for an analysis database, beyond which it spills its tables to the run's
# temporary folder (TMPDIR, never the current folder): its default, 80% of the machine, would
# let one big session's events take most of the reviewer's budget of 300 MB (docs/security.md).
# PROMPTSTER_DUCKDB_MEMORY overrides it (a DuckDB size: "1GB").
DUCKDB_MEMORY = "128MB"
# Rows of one DuckDB row group, the unit of a parallel table scan.
ROW_GROUP_ROWS = 122_880
# When a query cannot spill within the limit, it runs again with more (then without one).
MORE_MEMORY = ("320MB", "640MB", None)


def more_memory(con: duckdb.DuckDBPyConnection, attempt: int) -> bool:
    """Raise the connection's memory limit for retry number `attempt` (0, 1, …) of a query
    that ran out; False when there is nothing left to raise."""
    if attempt >= len(MORE_MEMORY):
        return False
    limit = MORE_MEMORY[attempt]
    if limit is None:
        con.execute("RESET memory_limit")
    else:
        con.execute("SET memory_limit = ?", [limit])
    return True


def sql_text(name: str) -> str:
    """The text of a packaged SQL file (src/promptster/analysis/sql/NAME)."""
    return resources.files("promptster.analysis").joinpath("sql", name).read_text("utf-8")


def prepare(con: duckdb.DuckDBPyConnection, schema: str | None = None) -> None:
    """Create the tables (if absent) and this connection's macros.

    With `schema` (e.g. "analysis" inside the reviewer workspace) the tables live in that
    DuckDB schema, which becomes the connection's search path, so that they never collide
    with other tables of the same database.
    """
    if schema is not None:
        if not schema.isidentifier():
            raise ValueError(f"not a schema name: {schema!r}")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(f"SET search_path = '{schema}'")
    con.execute(sql_text("schema.sql"))
    con.execute(sql_text("macros.sql"))


def connect(database: str | Path = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection ready for loading and signals (in memory unless a path is given)."""
    con = duckdb.connect(str(database))
    con.execute("SET TimeZone = 'UTC'")
    if str(database) == ":memory:":
        limit = os.environ.get("PROMPTSTER_DUCKDB_MEMORY") or DUCKDB_MEMORY
        try:
            con.execute("SET memory_limit = ?", [limit])
        except duckdb.Error as exc:
            con.close()
            raise InputError(
                f"PROMPTSTER_DUCKDB_MEMORY={limit!r} is not a memory size",
                "use a DuckDB size such as 512MB or 2GB, or unset it",
            ) from exc
        con.execute("SET temp_directory = ?", [tempfile.gettempdir()])
    prepare(con)
    return con


@contextmanager
def one_thread(con: duckdb.DuckDBPyConnection, *, when: bool = True) -> Iterator[None]:
    """Run the block with DuckDB's `threads` at 1 (`when` it is true), then put it back.

    For the load of one session into a table of less than one row group (ROW_GROUP_ROWS, the
    unit of a parallel scan) a second thread adds no parallel work, only its own cost: DuckDB
    reads one JSON Lines file on one thread whatever `threads` says, and with two the ordered
    INSERTs are written in per-thread pieces and merged. On 100,000 events the load took
    14–19% less CPU on one thread (docs/performance.md), and its rows come out in one order
    every time (with two, `prompts` and `commands` of a big session did not).
    The setting is the database's, not the connection's: the second connection of
    `_fill_kinds_split` sees it too, and each of the two runs its statement on its own thread,
    at the same time. Used only around a whole transaction: SET fails in an aborted one."""
    before = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    if not when or before == 1:
        yield
        return
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {before}")
