"""Run the signal families of a big scope on two connections at once (and give the loader
its second connection for the typed tables of a big session, see load.py).

Most of a family's plan runs on one thread per session (one session is one window partition
and one group), so for one big session the second core idles. When a session in scope has
`PARALLEL_EVENTS` events or more, a second connection to the same database (`cursor()`) runs
about half of the families while this one runs the rest, each on one DuckDB thread. Scopes
of ordinary sessions (one bundle, a chunk of `score`) stay on one connection: there the second
connection's setup costs more than it saves, many sessions already spread over the threads,
and `score --jobs` keeps every core busy.

The second connection sees only committed rows, and has its own temporary objects (macros,
`_scope`) and settings; it gets them here, and it is used only when it sees exactly the rows
in scope that this one does (otherwise everything runs here, as before).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb

from promptster.analysis.database import one_thread, sql_text
from promptster.analysis.load import SERIAL_EVENTS

PARALLEL_EVENTS = 20_000
# From load.SERIAL_EVENTS events in scope, one connection runs every family, one after the
# other (two at once would not fit DuckDB's memory); a pair that meets the limit below it
# also runs again on one connection.
# What the second connection runs: about half of the time of a big session (CPU time of each
# family on one thread, measured on the 100,000-event benchmark bundle: errors 121 ms,
# exploration 27, prompts 14, craft 11, verification 8, authorship 6 here; cost 72, activity
# 66, headline 45, decisions 12 and the derived family on the caller's connection).
HELPER_FAMILIES = frozenset(
    {"errors", "exploration", "prompts", "craft", "verification", "authorship"}
)

_VISIBLE = (
    "SELECT count(*), (SELECT count(*) FROM events JOIN _scope USING (session_id)) "
    "FROM sessions JOIN _scope USING (session_id)"
)

Rows = list[tuple[Any, ...]]


def _run(con: duckdb.DuckDBPyConnection, families: Sequence[str]) -> dict[str, Rows]:
    return {f: con.execute(sql_text(f"signals_{f}.sql")).fetchall() for f in families}


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    found = con.execute("SELECT current_setting(?)", [name]).fetchall()
    return str(found[0][0]).replace("'", "''")


def second_connection(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another connection to `con`'s database, with its search path, time zone and macros.
    It has its own transactions: it sees only what is committed."""
    helper = con.cursor()
    try:
        for name in ("search_path", "TimeZone"):
            helper.execute(f"SET {name} = '{_setting(con, name)}'")
        helper.execute(sql_text("macros.sql"))
    except BaseException:
        helper.close()
        raise
    return helper


def _helper(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection | None:
    """A second connection with `con`'s scope, or None when it would not see the same rows
    (e.g. `con` holds an uncommitted load)."""
    try:
        helper = second_connection(con)
    except duckdb.Error:
        return None
    try:
        ids = [row[0] for row in con.execute("SELECT session_id FROM _scope").fetchall()]
        helper.execute("CREATE OR REPLACE TEMP TABLE _scope (session_id VARCHAR)")
        helper.execute("INSERT INTO _scope SELECT unnest(?::VARCHAR[])", [ids])
        if helper.execute(_VISIBLE).fetchall() == con.execute(_VISIBLE).fetchall():
            return helper
    except duckdb.Error:
        pass
    helper.close()
    return None


def run_families(con: duckdb.DuckDBPyConnection, families: Sequence[str]) -> dict[str, Rows]:
    """The rows of every family in `families` over the scope in `con`'s `_scope` table."""
    # the loader counted each session's events into `sessions`: no second scan of `events`
    ((biggest, total),) = con.execute(
        "SELECT coalesce(max(event_count), 0), coalesce(sum(event_count), 0) "
        "FROM sessions JOIN _scope USING (session_id)"
    ).fetchall()
    split = biggest >= PARALLEL_EVENTS and total < SERIAL_EVENTS
    helper = _helper(con) if split else None
    if helper is None:
        return _run(con, families)
    try:
        # Each connection on one thread of its own (the setting is the database's): a family's
        # plan over one session is one window partition and one group, so a second DuckDB
        # thread per connection has little to do but costs CPU, and two connections with two
        # threads each put three threads on a machine's two cores. On the 100,000-event
        # benchmark bundle, 11-17% less CPU for the families (docs/performance.md).
        with one_thread(con), ThreadPoolExecutor(max_workers=1) as pool:
            theirs = pool.submit(_run, helper, [f for f in families if f in HELPER_FAMILIES])
            mine = _run(con, [f for f in families if f not in HELPER_FAMILIES])
            mine.update(theirs.result())
    except duckdb.OutOfMemoryException:
        mine = {}  # the two at once did not fit DuckDB's memory: one after the other, below
    finally:
        helper.close()
    return {f: mine[f] for f in families} if mine else _run(con, families)
