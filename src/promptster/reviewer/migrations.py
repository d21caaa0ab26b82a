"""Schema migrations of the reviewer workspace (DuckDB).

Each migration has a version and a name and runs in its own transaction together with the row
that records it in `schema_migrations`, so a workspace is always exactly at one version: a
migration that fails leaves it at the version before. Migrations are append-only: never edit one
that has shipped; add the next. A migration is SQL statements, optionally followed by a Python
step (`run`) for schemas that another module owns, such as the analysis tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from promptster.errors import EnvironmentProblem, NewerFormatError

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    run: Callable[[duckdb.DuckDBPyConnection], None] | None = None


def _analysis_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the DuckDB schema `analysis` with the tables imported sessions are loaded into
    (promptster/analysis/sql/schema.sql), through the analysis loader itself."""
    from promptster.analysis.load import prepare

    try:
        prepare(conn, schema="analysis")
    finally:
        conn.execute("RESET search_path")  # prepare points it at `analysis`; the store uses main


MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
)
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "assessments and candidate keys",
        (
            """
            CREATE TABLE assessments (
                id VARCHAR PRIMARY KEY,
                title VARCHAR NOT NULL,
                role VARCHAR NOT NULL,
                brief VARCHAR NOT NULL,
                repo_url VARCHAR,
                repo_rev VARCHAR,
                time_limit_minutes INTEGER,
                expires_in_days INTEGER NOT NULL,
                org VARCHAR NOT NULL,
                reviewer_public_key VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                updated_at TIMESTAMP NOT NULL,
                deleted_at TIMESTAMP,
                pack BLOB,
                pack_revision INTEGER NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE candidate_keys (
                id VARCHAR PRIMARY KEY,
                assessment_id VARCHAR NOT NULL REFERENCES assessments (id),
                key_text VARCHAR NOT NULL UNIQUE,
                salt BLOB NOT NULL,
                scrypt_hash BLOB NOT NULL,
                candidate_email VARCHAR,
                candidate_name VARCHAR,
                created_at TIMESTAMP NOT NULL,
                expires_at TIMESTAMP NOT NULL,
                revoked_at TIMESTAMP,
                redeemed_at TIMESTAMP,
                completed_at TIMESTAMP,
                session_id VARCHAR
            )
            """,
            "CREATE INDEX candidate_keys_assessment ON candidate_keys (assessment_id)",
        ),
    ),
    Migration(
        2,
        "invite delivery status",
        (
            "ALTER TABLE candidate_keys ADD COLUMN invite_status VARCHAR",
            "ALTER TABLE candidate_keys ADD COLUMN invite_detail VARCHAR",
            "ALTER TABLE candidate_keys ADD COLUMN invited_at TIMESTAMP",
        ),
    ),
    Migration(
        3,
        "imported sessions and events",
        (
            """
            CREATE TABLE sessions (
                session_id VARCHAR PRIMARY KEY,
                assessment_id VARCHAR,
                key_id VARCHAR,
                bundle_path VARCHAR,
                bundle_sha256 VARCHAR NOT NULL,
                started_at TIMESTAMP,
                ended_at TIMESTAMP,
                imported_at TIMESTAMP NOT NULL,
                verified BOOLEAN NOT NULL,
                manifest JSON
            )
            """,
            """
            CREATE TABLE events (
                session_id VARCHAR NOT NULL,
                seq INTEGER NOT NULL,
                id VARCHAR NOT NULL,
                ts TIMESTAMP NOT NULL,
                kind VARCHAR NOT NULL,
                actor VARCHAR,
                attribution VARCHAR,
                data JSON,
                PRIMARY KEY (session_id, seq)
            )
            """,
        ),
    ),
    Migration(4, "analysis schema for imported sessions", (), run=_analysis_schema),
)

LATEST_VERSION = MIGRATIONS[-1].version


def applied_migrations(conn: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    return [(int(version), str(name)) for version, name in rows]


def migrate(
    conn: duckdb.DuckDBPyConnection, migrations: Sequence[Migration] = MIGRATIONS
) -> list[Migration]:
    """Bring the workspace to the latest version; return the migrations that ran."""
    conn.execute(MIGRATIONS_TABLE)
    applied = applied_migrations(conn)
    known = {m.version: m for m in migrations}
    current = applied[-1][0] if applied else 0
    if current > migrations[-1].version:
        raise NewerFormatError(
            f"the reviewer workspace is at schema version {current}; this promptster knows up "
            f"to {migrations[-1].version}",
            "upgrade promptster (pip install -U promptster) to use this workspace",
        )
    for version, name in applied:
        if version not in known or known[version].name != name:
            raise EnvironmentProblem(
                f"the reviewer workspace records migration {version} {name!r}, which this "
                "promptster does not know",
                "the workspace was changed by a different build; restore it from a backup",
            )
    ran: list[Migration] = []
    for migration in migrations:
        if migration.version <= current:
            continue
        _apply(conn, migration)
        ran.append(migration)
    return ran


def _apply(conn: duckdb.DuckDBPyConnection, migration: Migration) -> None:
    import duckdb

    conn.begin()
    try:
        for statement in migration.statements:
            conn.execute(statement)
        if migration.run is not None:
            migration.run(conn)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            [migration.version, migration.name, datetime.now(UTC).replace(tzinfo=None)],
        )
        conn.commit()
    except duckdb.Error as exc:
        conn.rollback()
        raise EnvironmentProblem(
            f"migration {migration.version} ({migration.name}) of the reviewer workspace "
            f"failed: {exc}",
            "the workspace was left unchanged at the previous version; report this as a bug",
        ) from exc
    except BaseException:
        conn.rollback()
        raise
