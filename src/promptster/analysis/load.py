"""Load bundles into DuckDB: verify first (verified.py), then let DuckDB read the timeline
JSONL itself into the analysis database (database.py).

Tables (sql/schema.sql): `sessions`, `events`, `prompts`, `file_changes`, `commands`,
`test_runs` (test and build runs), `decisions`. The same loader fills an in-memory database
for one-off commands and the reviewer's workspace for `promptster import`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import duckdb

from promptster.analysis.database import (
    ROW_GROUP_ROWS,
    TABLES,
    more_memory,
    one_thread,
    sql_text,
)
from promptster.analysis.verified import file_sha256, verify_for_loading
from promptster.bundle.spool import SpooledTimeline
from promptster.bundle.verify import ExtraCheck, VerifyReport
from promptster.errors import FormatError

# The explicit column spec DuckDB reads each timeline line with (docs/event-kinds.md).
TIMELINE_COLUMNS = (
    "{v: 'INTEGER', id: 'VARCHAR', seq: 'BIGINT', ts: 'VARCHAR', kind: 'VARCHAR', "
    "source: 'STRUCT(channel VARCHAR, integration VARCHAR, emitter VARCHAR)', "
    "actor: 'STRUCT(type VARCHAR)', "
    "provenance: 'STRUCT(attribution VARCHAR, confidence DOUBLE, observability VARCHAR)', "
    "data: 'JSON', prev: 'VARCHAR'}"
)
# From this many events (the manifest's count) a load that owns its transaction fills the typed
# tables on two connections at once; below, the second connection costs more than it saves.
SPLIT_EVENTS = 50_000
# From this many events, work runs on one connection again (the load's typed tables here,
# the signal families in parallel.py): two statements at once over so many events would not
# fit DUCKDB_MEMORY (their sorts and windows grow with the events; a million events need
# the limit twice over), and a statement that meets it runs again with more memory.
SERIAL_EVENTS = 300_000


class LoadStatus(StrEnum):
    LOADED = "loaded"
    UNCHANGED = "unchanged"  # the same bundle was already loaded: nothing changed
    DUPLICATE = "duplicate"  # a different bundle claims a session already loaded


@dataclass(frozen=True)
class LoadedSession:
    """What loading one bundle gave: its session, whether it verified, and what happened."""

    session_id: str
    path: Path
    bundle_sha256: str
    verified: bool
    problems: tuple[str, ...]
    status: LoadStatus
    assessment_id: str | None
    event_count: int


def load_bundle(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    allow_invalid: bool = False,
    checks: Sequence[ExtraCheck] = (),
) -> LoadedSession:
    """Verify one bundle (with the extra `checks`) and load it. Idempotent:
    the same bundle again changes nothing."""
    path = Path(path)
    report, timeline = verify_for_loading(path, allow_invalid=allow_invalid, checks=checks)
    with timeline:
        return load_verified(con, path, report, timeline)


def load_verified(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    report: VerifyReport,
    timeline: SpooledTimeline,
    *,
    transaction: bool = True,
    bundle_sha256: str | None = None,
) -> LoadedSession:
    """Load a bundle that `verify_for_loading` already checked (its report and timeline).

    With `transaction=False` the caller runs it inside its own transaction. `bundle_sha256`
    is the file's hash when the caller has it already (else it is computed here)."""
    manifest = report.context.manifest
    assert manifest is not None
    found = con.execute(
        "SELECT bundle_sha256 FROM sessions WHERE session_id = ?", [manifest.session_id]
    ).fetchall()
    result = LoadedSession(
        session_id=manifest.session_id,
        path=path,
        bundle_sha256="",
        verified=report.ok,
        problems=tuple(f.message for f in report.failures),
        status=LoadStatus.LOADED,
        assessment_id=manifest.assessment_id,
        event_count=manifest.event_count,
    )
    if found:
        sha = bundle_sha256 or file_sha256(path)
        status = LoadStatus.UNCHANGED if found[0][0] == sha else LoadStatus.DUPLICATE
        return replace(result, bundle_sha256=sha, status=status)
    # Hash the bundle file while DuckDB reads the timeline: both release the GIL.
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(lambda: bundle_sha256 or file_sha256(path))
        split = transaction and SPLIT_EVENTS <= manifest.event_count < SERIAL_EVENTS
        _insert_timeline(
            con,
            manifest.session_id,
            timeline,
            transaction=transaction,
            split=split,
            events=manifest.event_count,
        )
        if report.context.authorship is not None:
            _insert_authorship(con, manifest.session_id, report.context.authorship)
        result = replace(result, bundle_sha256=hashing.result())
    _insert_session(con, result, report)
    return result


def _insert_timeline(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    timeline: SpooledTimeline,
    *,
    transaction: bool = True,
    split: bool = False,
    events: int = 0,
) -> None:
    """`_load_timeline`; when it meets DUCKDB_MEMORY in a load that owns its transaction
    (rolled back, so nothing is half-loaded), again with more memory (MORE_MEMORY): an answer
    over the memory budget beats none. `events` is the session's count (its manifest's): when
    they and the rows already in `events` fit in one row group, a load that owns its
    transaction runs on one thread (`one_thread`)."""
    attempt = 0
    while True:
        try:
            with one_thread(con, when=transaction and _one_row_group(con, events)):
                _load_timeline(con, session_id, timeline, transaction=transaction, split=split)
            return
        except FormatError as exc:
            out_of_memory = isinstance(exc.__cause__, duckdb.OutOfMemoryException)
            if not (transaction and out_of_memory and more_memory(con, attempt)):
                raise
            attempt += 1


def _one_row_group(con: duckdb.DuckDBPyConnection, events: int) -> bool:
    """Whether `events` more rows leave the `events` table within one row group."""
    found = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    return bool(found + events < ROW_GROUP_ROWS)


def _load_timeline(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    timeline: SpooledTimeline,
    *,
    transaction: bool = True,
    split: bool = False,
) -> None:
    """Read the timeline into `events`, then fill the typed tables from it; with `split` (only
    for a load that owns its transaction) on two connections once the events are committed.
    DuckDB reads the spool file itself: the timeline never passes through Python."""
    try:
        if transaction:
            con.execute("BEGIN TRANSACTION")
        try:
            con.execute("SET VARIABLE ps_session = ?", [session_id])
            read_events(con, session_id, timeline.path)
            if not split:
                con.execute(sql_text("load_kinds_texts.sql"))
                con.execute(sql_text("load_kinds_runs.sql"))
            if transaction:
                con.execute("COMMIT")
        except BaseException:
            if transaction:
                con.execute("ROLLBACK")
            raise
        if split:
            _fill_kinds_split(con, session_id)
    except duckdb.Error as exc:
        raise FormatError(f"the timeline could not be loaded: {exc}") from exc


def read_events(con: duckdb.DuckDBPyConnection, session_id: str, path: Path) -> None:
    """The timeline file at `path` into `events`, as `session_id`, in file order."""
    literal = str(path).replace("'", "''")
    con.execute(
        "INSERT INTO events SELECT ?::VARCHAR, seq, id, "
        "try_cast(replace(ts, 'Z', '') AS TIMESTAMP), kind, source.channel, "
        "source.integration, coalesce(actor.type, 'unknown'), "
        "coalesce(provenance.attribution, 'unknown'), provenance.confidence, data "
        f"FROM read_json('{literal}', format = 'newline_delimited', "
        f"columns = {TIMELINE_COLUMNS}, ignore_errors = true, "
        "maximum_object_size = 16777216)",
        [session_id],
    )


AUTHORSHIP_COLUMNS = (
    '{files: \'STRUCT(path VARCHAR, ranges STRUCT(start BIGINT, "end" BIGINT, author VARCHAR, '
    "tool VARCHAR, eventId VARCHAR, seq BIGINT)[])[]'}"
)


def _insert_authorship(con: duckdb.DuckDBPyConnection, session_id: str, member: bytes) -> None:
    """The verified authorship.json into `authorship`, one row per range (DuckDB reads it)."""
    fd, name = tempfile.mkstemp(prefix="promptster-authorship-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(member)
        insert_authorship_file(con, session_id, Path(name))
    finally:
        Path(name).unlink(missing_ok=True)


def insert_authorship_file(con: duckdb.DuckDBPyConnection, session_id: str, path: Path) -> None:
    """authorship.json, written to `path`, into `authorship` for `session_id`."""
    literal = str(path).replace("'", "''")
    try:
        con.execute(
            "INSERT INTO authorship "
            "WITH fs AS (SELECT unnest(files) AS f "
            f"           FROM read_json('{literal}', columns = {AUTHORSHIP_COLUMNS}, "
            f"                          maximum_object_size = {path.stat().st_size + 1})), "
            "rs AS (SELECT f.path AS path, unnest(f.ranges) AS r FROM fs) "
            'SELECT ?::VARCHAR, path, r.start, r."end", r.author, r.tool, r.eventId, r.seq '
            "FROM rs",
            [session_id],
        )
    except duckdb.Error as exc:
        raise FormatError(f"authorship.json could not be loaded: {exc}") from exc


def _fill_kinds_split(con: duckdb.DuckDBPyConnection, session_id: str) -> None:
    """Fill the typed tables of a big session on two connections at once (each statement
    mostly runs on one thread: DuckDB splits a table scan by row groups of 122,880 rows). The
    events are committed already, so on failure the session's rows are deleted again."""
    from promptster.analysis.parallel import second_connection  # it imports this module

    helper = second_connection(con)
    try:
        helper.execute("SET VARIABLE ps_session = ?", [session_id])
        with ThreadPoolExecutor(max_workers=1) as pool:
            texts = pool.submit(helper.execute, sql_text("load_kinds_texts.sql"))
            con.execute(sql_text("load_kinds_runs.sql"))
            texts.result()
    except BaseException:
        for table in TABLES[1:]:  # all but `sessions`, whose row comes after
            con.execute(f"DELETE FROM {table} WHERE session_id = ?", [session_id])
        raise
    finally:
        helper.close()


def _insert_session(
    con: duckdb.DuckDBPyConnection, loaded: LoadedSession, report: VerifyReport
) -> None:
    manifest = report.context.manifest
    assert manifest is not None
    # One pass over the session's events for the count and the integrations seen; the first
    # session_start for the candidate's name and the tools it names.
    con.execute(
        """
        INSERT INTO sessions
        SELECT ?, ?, ?, st.candidate_name, ?, ?, ?, ?, ?, ?,
               try_cast(replace(?, 'Z', '') AS TIMESTAMP),
               try_cast(replace(?, 'Z', '') AS TIMESTAMP),
               ev.n, coalesce(st.tools, ev.integrations), ?
        FROM (SELECT count(*) AS n,
                     coalesce(list(DISTINCT integration ORDER BY integration)
                                  FILTER (WHERE integration IS NOT NULL
                                          AND integration <> 'promptster'),
                              []) AS integrations
              FROM events WHERE session_id = ?) ev
        LEFT JOIN (SELECT data->>'candidateName' AS candidate_name,
                          list_sort(try_cast(data->'tools' AS VARCHAR[])) AS tools
                   FROM events WHERE session_id = ? AND kind = 'session_start'
                   ORDER BY seq LIMIT 1) st ON true
        """,
        [
            loaded.session_id,
            manifest.assessment_id,
            manifest.candidate_key,
            str(loaded.path),
            loaded.bundle_sha256,
            loaded.verified,
            list(loaded.problems),
            manifest.format_version,
            manifest.tool_version,
            manifest.started_at,
            manifest.ended_at,
            datetime.now(UTC).replace(tzinfo=None),
            loaded.session_id,
            loaded.session_id,
        ],
    )
