"""Imported sessions in the reviewer's workspace (`promptster import`, `promptster sessions`).

The analysis tables (sql/schema.sql) live in the DuckDB schema `analysis` of the workspace
file, beside the store's own tables, so they never collide; the store's `sessions` table gets
one row per imported session and the candidate key, when the workspace issued it, records the
session. Importing is idempotent: the same bundle again changes nothing. A different bundle for
a session or a candidate key already imported is a duplicate and is not imported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import duckdb

from promptster.analysis.database import sql_text
from promptster.analysis.load import LoadStatus, load_verified
from promptster.analysis.verified import file_sha256, verify_for_loading, without_path
from promptster.bundle.spool import SpooledTimeline
from promptster.bundle.verify import VerifyReport
from promptster.errors import EnvironmentProblem, InputError, PromptsterError
from promptster.reviewer.store import Workspace

SCHEMA = "analysis"


def attach(workspace: Workspace, *, writable: bool) -> duckdb.DuckDBPyConnection:
    """The workspace connection, with the analysis tables on its search path.

    The tables themselves are made with the workspace (reviewer/migrations.py: a new workspace
    gets analysis/sql/schema.sql, an older one the migrations that lead to the same tables); here
    the connection only gets its search path and macros.
    """
    con = workspace.connection
    found = con.execute(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?", [SCHEMA]
    ).fetchall()
    if not found[0][0]:
        if writable:  # cannot happen after the migration; kept as a plain error, not a crash
            raise EnvironmentProblem(
                f"the reviewer workspace {workspace.path} has no `{SCHEMA}` schema",
                "run a reviewer command such as `promptster assessment list` to migrate it",
            )
        raise InputError(
            "no session has been imported into the reviewer workspace yet",
            "import bundles with: promptster import BUNDLE...",
        )
    con.execute(f"SET search_path = '{SCHEMA}'")
    con.execute(sql_text("macros.sql"))
    return con


class ImportStatus(StrEnum):
    IMPORTED = "imported"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass(frozen=True)
class ImportResult:
    path: Path
    status: ImportStatus
    session_id: str | None
    verified: bool
    message: str

    def to_json_obj(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "status": self.status.value,
            "sessionId": self.session_id,
            "verified": self.verified,
            "message": self.message,
        }


def _duplicate_of_key(
    con: duckdb.DuckDBPyConnection, candidate_key: str | None, session_id: str, sha: str
) -> str | None:
    if not candidate_key:
        return None
    rows = con.execute(
        "SELECT session_id FROM sessions WHERE candidate_key = ? "
        "AND (session_id <> ? OR bundle_sha256 <> ?) LIMIT 1",
        [candidate_key, session_id, sha],
    ).fetchall()
    return str(rows[0][0]) if rows else None


def _record_in_store(
    workspace: Workspace, con: duckdb.DuckDBPyConnection, path: Path, session: str
) -> None:
    """The store's own `sessions` row and the key's progress, for the session just loaded."""
    rows = con.execute(
        "SELECT session_id, assessment_id, candidate_key, bundle_sha256, started_at, ended_at, "
        "verified FROM sessions WHERE session_id = ?",
        [session],
    ).fetchall()
    if not rows:
        return
    session_id, assessment_id, key_text, sha, started, ended, verified = rows[0]
    key = workspace.find_key_by_text(key_text) if key_text else None
    con.execute(
        "INSERT INTO main.sessions (session_id, assessment_id, key_id, bundle_path, "
        "bundle_sha256, started_at, ended_at, imported_at, verified, manifest) "
        "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS "
        "(SELECT 1 FROM main.sessions WHERE session_id = ?)",
        [
            session_id,
            assessment_id,
            key.id if key else None,
            str(path),
            sha,
            started,
            ended,
            datetime.now(UTC).replace(tzinfo=None),
            verified,
            json.dumps({"sessionId": session_id, "candidateKey": key_text}),
            session_id,
        ],
    )
    if key is not None:
        workspace.record_key_progress(
            key.id,
            session_id=session_id,
            redeemed_at=started.replace(tzinfo=UTC) if started else None,
            completed_at=ended.replace(tzinfo=UTC) if ended else None,
        )


def import_bundle(workspace: Workspace, path: Path, *, allow_invalid: bool) -> ImportResult:
    """Verify and import one bundle; never raises for a bad bundle (the result says why).

    The bundle gets the same checks as `promptster verify`, against this open workspace."""
    from promptster.reviewer.checks import default_checks

    con = attach(workspace, writable=True)
    path = Path(path).resolve()
    try:
        report, timeline = verify_for_loading(
            Path(path), allow_invalid=allow_invalid, checks=default_checks(opened=workspace)
        )
    except PromptsterError as exc:
        return ImportResult(Path(path), ImportStatus.FAILED, None, False, without_path(path, exc))
    with timeline:
        return _import_verified(workspace, con, Path(path), report, timeline)


def _import_verified(
    workspace: Workspace,
    con: duckdb.DuckDBPyConnection,
    path: Path,
    report: VerifyReport,
    timeline: SpooledTimeline,
) -> ImportResult:
    manifest = report.context.manifest
    assert manifest is not None
    other = _duplicate_of_key(
        con, manifest.candidate_key, manifest.session_id, file_sha256(Path(path))
    )
    if other is not None:
        return ImportResult(
            Path(path),
            ImportStatus.DUPLICATE,
            manifest.session_id,
            report.ok,
            f"candidate key {manifest.candidate_key} was already used by session {other}",
        )
    with workspace.transaction():
        loaded = load_verified(con, Path(path), report, timeline, transaction=False)
        if loaded.status is LoadStatus.LOADED:
            _record_in_store(workspace, con, Path(path), loaded.session_id)
    status = {
        LoadStatus.LOADED: ImportStatus.IMPORTED,
        LoadStatus.UNCHANGED: ImportStatus.UNCHANGED,
        LoadStatus.DUPLICATE: ImportStatus.DUPLICATE,
    }[loaded.status]
    message = {
        ImportStatus.IMPORTED: f"{loaded.event_count} events",
        ImportStatus.UNCHANGED: "already imported, unchanged",
        ImportStatus.DUPLICATE: "a different bundle of this session was already imported",
    }[status]
    if not loaded.verified and status is ImportStatus.IMPORTED:
        message += "; FAILED VERIFICATION: " + (loaded.problems[0] if loaded.problems else "")
    return ImportResult(Path(path), status, loaded.session_id, loaded.verified, message)


def import_bundles(
    workspace: Workspace, paths: Sequence[Path], *, allow_invalid: bool = False
) -> list[ImportResult]:
    return [import_bundle(workspace, p, allow_invalid=allow_invalid) for p in paths]
