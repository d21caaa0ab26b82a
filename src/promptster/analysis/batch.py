"""Load a batch of verified bundles into one fresh database, set-based (for `score`).

`load.load_verified` loads one bundle with a handful of statements (read the timeline, fill
the typed tables, write the sessions row); with ordinary bundles of a few thousand events
their fixed cost dominates. Here every statement runs once for the whole batch: one
`read_json` over all the timelines (the file a row came from gives its session), the typed
tables filled from every session at once (`ps_session` NULL, see macros.sql `ps_loading`), one
INSERT of all the sessions rows. The tables end up holding the same rows as loading the bundles
one by one, in the same order.

The database must be fresh (`database.connect()`): a session is looked up only within the batch.
Verification stays per bundle and happens before (`stage`), so that a worker keeps only the
timeline files on disk, never their bytes in memory, while it verifies the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from promptster.analysis.database import sql_text
from promptster.analysis.load import (
    TIMELINE_COLUMNS,
    LoadedSession,
    LoadStatus,
    insert_authorship_file,
)
from promptster.analysis.verified import file_sha256
from promptster.bundle.spool import SpooledTimeline
from promptster.bundle.verify import VerifyReport


@dataclass(frozen=True)
class Staged:
    """A verified bundle waiting in a batch: its timeline written to `timeline` (named by its
    index in the batch) and the session it will load as."""

    index: int
    loaded: LoadedSession
    timeline: Path
    format_version: int | None
    tool_version: str | None
    candidate_key: str | None
    started_at: str | None
    ended_at: str | None
    authorship: Path | None = None  # its authorship.json, written beside the timeline


def stage(
    folder: Path, index: int, path: Path, report: VerifyReport, timeline: SpooledTimeline
) -> Staged:
    """Move the spooled timeline of a bundle that `verified.verify_for_loading` checked into
    `folder`; `index` (its position in the batch, unique) names the file."""
    manifest = report.context.manifest
    assert manifest is not None
    target = folder / f"{index:06d}.jsonl"
    timeline.move_to(target)
    authorship = None
    if report.context.authorship is not None:
        authorship = folder / f"{index:06d}.authorship.json"
        authorship.write_bytes(report.context.authorship)
    loaded = LoadedSession(
        session_id=manifest.session_id,
        path=path,
        bundle_sha256=file_sha256(path),
        verified=report.ok,
        problems=tuple(f.message for f in report.failures),
        status=LoadStatus.LOADED,
        assessment_id=manifest.assessment_id,
        event_count=manifest.event_count,
    )
    return Staged(
        index,
        loaded,
        target,
        manifest.format_version,
        manifest.tool_version,
        manifest.candidate_key,
        manifest.started_at,
        manifest.ended_at,
        authorship,
    )


def statuses(batch: Sequence[Staged]) -> list[LoadStatus]:
    """What loading the batch in order one by one would report for each bundle: the first
    bundle of a session loads; a later one is UNCHANGED (the same file) or DUPLICATE."""
    first: dict[str, str] = {}
    found: list[LoadStatus] = []
    for item in batch:
        sid, sha = item.loaded.session_id, item.loaded.bundle_sha256
        if sid not in first:
            first[sid] = sha
            found.append(LoadStatus.LOADED)
        else:
            found.append(LoadStatus.UNCHANGED if first[sid] == sha else LoadStatus.DUPLICATE)
    return found


def load_batch(con: duckdb.DuckDBPyConnection, batch: Sequence[Staged]) -> None:
    """Load the bundles of `batch` whose status is LOADED into the fresh database `con`, in
    one transaction (nothing is loaded when it fails)."""
    items = [
        s for s, status in zip(batch, statuses(batch), strict=True) if status is LoadStatus.LOADED
    ]
    if not items:
        return
    # A row's session is looked up by the index in its file's name (`stage` names it): a join
    # with a table of files might reorder the rows, and the events must stay in file order.
    ids: list[str | None] = [None] * (max(s.index for s in items) + 1)
    for item in items:
        ids[item.index] = item.loaded.session_id
    files = [str(s.timeline) for s in items]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("SET VARIABLE ps_session = NULL")
        con.execute("SET VARIABLE ps_batch = ?::VARCHAR[]", [ids])
        con.execute(
            "INSERT INTO events SELECT getvariable('ps_batch')["
            "regexp_extract(filename, '(\\d+)\\.jsonl$', 1)::INTEGER + 1], seq, id, "
            "try_cast(replace(ts, 'Z', '') AS TIMESTAMP), kind, source.channel, "
            "source.integration, coalesce(actor.type, 'unknown'), "
            "coalesce(provenance.attribution, 'unknown'), provenance.confidence, data "
            "FROM read_json(?::VARCHAR[], format = 'newline_delimited', "
            f"columns = {TIMELINE_COLUMNS}, ignore_errors = true, "
            "maximum_object_size = 16777216, filename = true)",
            [files],
        )
        con.execute(sql_text("load_kinds_texts.sql"))
        con.execute(sql_text("load_kinds_runs.sql"))
        for item in items:
            if item.authorship is not None:
                insert_authorship_file(con, item.loaded.session_id, item.authorship)
        _insert_sessions(con, items)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _insert_sessions(con: duckdb.DuckDBPyConnection, items: Sequence[Staged]) -> None:
    """The sessions rows of the batch, as `load._insert_session` writes them one by one."""
    now = datetime.now(UTC).replace(tzinfo=None)
    columns = (
        [s.loaded.session_id for s in items],
        [s.loaded.assessment_id for s in items],
        [s.candidate_key for s in items],
        [str(s.loaded.path) for s in items],
        [s.loaded.bundle_sha256 for s in items],
        [s.loaded.verified for s in items],
        [list(s.loaded.problems) for s in items],
        [s.format_version for s in items],
        [s.tool_version for s in items],
        [s.started_at for s in items],
        [s.ended_at for s in items],
    )
    con.execute(
        """
        INSERT INTO sessions
        SELECT b.sid, b.assessment_id, b.candidate_key, st.candidate_name, b.bundle_path,
               b.sha, b.verified, b.problems, b.format_version, b.tool_version,
               try_cast(replace(b.started_at, 'Z', '') AS TIMESTAMP),
               try_cast(replace(b.ended_at, 'Z', '') AS TIMESTAMP),
               coalesce(ev.n, 0), coalesce(st.tools, ev.integrations, []), ?
        FROM (SELECT unnest(?::VARCHAR[]) AS sid, unnest(?::VARCHAR[]) AS assessment_id,
                     unnest(?::VARCHAR[]) AS candidate_key, unnest(?::VARCHAR[]) AS bundle_path,
                     unnest(?::VARCHAR[]) AS sha, unnest(?::BOOLEAN[]) AS verified,
                     unnest(?::VARCHAR[][]) AS problems,
                     unnest(?::INTEGER[]) AS format_version,
                     unnest(?::VARCHAR[]) AS tool_version, unnest(?::VARCHAR[]) AS started_at,
                     unnest(?::VARCHAR[]) AS ended_at,
                     unnest(range(len(?::VARCHAR[]))) AS ordinal) b
        LEFT JOIN (SELECT session_id, count(*) AS n,
                          coalesce(list(DISTINCT integration ORDER BY integration)
                                       FILTER (WHERE integration IS NOT NULL
                                               AND integration <> 'promptster'),
                                   []) AS integrations
                   FROM events GROUP BY session_id) ev ON ev.session_id = b.sid
        LEFT JOIN (SELECT session_id, data->>'candidateName' AS candidate_name,
                          list_sort(try_cast(data->'tools' AS VARCHAR[])) AS tools
                   FROM events WHERE kind = 'session_start'
                   QUALIFY row_number() OVER (PARTITION BY session_id ORDER BY seq) = 1) st
               ON st.session_id = b.sid
        ORDER BY b.ordinal
        """,
        [now, *columns, columns[0]],
    )
