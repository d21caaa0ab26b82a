"""Schema migrations of the reviewer workspace (DuckDB).

Two ways lead to the current schema. A new workspace gets it in one step (`create_current`:
reviewer/schema.sql for the store's tables, analysis/sql/schema.sql in the DuckDB schema
`analysis`) and is recorded at the latest version. An existing workspace runs the migrations
after its version, each in its own transaction together with the row that records it in
`schema_migrations`, so a workspace is always exactly at one version: a migration that fails
leaves it at the version before.

Every migration carries its own DDL, frozen as it shipped: it never reads a file that can change
(migration 4 once ran analysis/sql/schema.sql, so a later edit of that file would have been
skipped by every existing workspace). Migrations are append-only: never edit one that has
shipped (tests/reviewer/test_reviewer_migrations.py holds their digests); to change the schema,
edit the current schema file and add the next migration making the same change. The same test
proves that a workspace migrated from every earlier version ends in exactly the schema a new
one gets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING

from promptster.errors import EnvironmentProblem, NewerFormatError

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


ANALYSIS_SCHEMA = "analysis"


def create_current(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the current schema in an empty workspace: the store's tables
    (reviewer/schema.sql) and the analysis tables in the DuckDB schema `analysis`, through the
    analysis loader itself (the same file an in-memory analysis database is made from)."""
    from promptster.analysis.database import prepare

    conn.execute(resources.files("promptster.reviewer").joinpath("schema.sql").read_text("utf-8"))
    try:
        prepare(conn, schema=ANALYSIS_SCHEMA)
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
    Migration(
        4,
        "analysis schema for imported sessions",
        # analysis/sql/schema.sql as it was when this migration shipped, in schema `analysis`
        (
            "CREATE SCHEMA analysis",
            """
            CREATE TABLE analysis.sessions (
                session_id      VARCHAR PRIMARY KEY,
                assessment_id   VARCHAR,
                candidate_key   VARCHAR,
                candidate_name  VARCHAR,
                bundle_path     VARCHAR,
                bundle_sha256   VARCHAR,
                verified        BOOLEAN NOT NULL,
                problems        VARCHAR[],
                format_version  INTEGER,
                tool_version    VARCHAR,
                started_at      TIMESTAMP,
                ended_at        TIMESTAMP,
                event_count     BIGINT,
                source_service  VARCHAR[],
                loaded_at       TIMESTAMP
            )
            """,
            """
            CREATE TABLE analysis.events (
                session_id      VARCHAR NOT NULL,
                seq             BIGINT,
                event_id        VARCHAR,
                ts              TIMESTAMP,
                kind            VARCHAR,
                channel         VARCHAR,
                integration     VARCHAR,
                actor           VARCHAR,
                attribution     VARCHAR,
                attr_confidence DOUBLE,
                data            JSON
            )
            """,
            """
            CREATE TABLE analysis.prompts (
                session_id   VARCHAR NOT NULL,
                event_id     VARCHAR,
                seq          BIGINT,
                ts           TIMESTAMP,
                text         VARCHAR,
                length       BIGINT,
                lane         VARCHAR,
                likely_paste BOOLEAN
            )
            """,
            """
            CREATE TABLE analysis.file_changes (
                session_id    VARCHAR NOT NULL,
                event_id      VARCHAR,
                seq           BIGINT,
                ts            TIMESTAMP,
                kind          VARCHAR,
                path          VARCHAR,
                lines_added   BIGINT,
                lines_removed BIGINT,
                ai_lines      BIGINT,
                human_lines   BIGINT,
                attribution   VARCHAR,
                actor         VARCHAR,
                diff          VARCHAR
            )
            """,
            """
            CREATE TABLE analysis.commands (
                session_id   VARCHAR NOT NULL,
                event_id     VARCHAR,
                seq          BIGINT,
                ts           TIMESTAMP,
                command      VARCHAR,
                exit_code    BIGINT,
                duration_ms  BIGINT,
                actor        VARCHAR,
                category     VARCHAR,
                covered      BOOLEAN
            )
            """,
            """
            CREATE TABLE analysis.test_runs (
                session_id       VARCHAR NOT NULL,
                event_id         VARCHAR,
                seq              BIGINT,
                ts               TIMESTAMP,
                kind             VARCHAR,
                category         VARCHAR,
                tool             VARCHAR,
                command          VARCHAR,
                passed           BIGINT,
                failed           BIGINT,
                skipped          BIGINT,
                errors           BIGINT,
                exit_code        BIGINT,
                actor            VARCHAR
            )
            """,
            """
            CREATE TABLE analysis.decisions (
                session_id    VARCHAR NOT NULL,
                event_id      VARCHAR,
                seq           BIGINT,
                ts            TIMESTAMP,
                title         VARCHAR,
                chosen_option VARCHAR,
                rationale     VARCHAR,
                context       VARCHAR,
                tradeoffs     VARCHAR,
                impact_score  DOUBLE,
                files         VARCHAR[],
                captured_via  VARCHAR,
                missed        BOOLEAN
            )
            """,
        ),
    ),
    Migration(
        5,
        "hidden tests and their results",
        (
            # The reviewer's hidden test folder of an assessment, as a deterministic tar; it
            # never goes into the pack the candidate receives.
            """
            CREATE TABLE hidden_test_suites (
                assessment_id VARCHAR PRIMARY KEY,
                archive BLOB NOT NULL,
                digest VARCHAR NOT NULL,
                file_count INTEGER NOT NULL,
                command VARCHAR NOT NULL,
                timeout_seconds INTEGER NOT NULL,
                updated_at TIMESTAMP NOT NULL
            )
            """,
            # One run of a suite against one bundle at one snapshot commit (the final one, or
            # a checkpoint with --hidden-tests-at checkpoints); `result` is the versioned JSON.
            """
            CREATE TABLE hidden_test_runs (
                bundle_sha256 VARCHAR NOT NULL,
                suite_digest VARCHAR NOT NULL,
                snapshot_commit VARCHAR NOT NULL,
                session_id VARCHAR,
                ran_at TIMESTAMP NOT NULL,
                outcome VARCHAR NOT NULL,
                passed INTEGER NOT NULL,
                total INTEGER NOT NULL,
                result JSON NOT NULL,
                PRIMARY KEY (bundle_sha256, suite_digest, snapshot_commit)
            )
            """,
        ),
    ),
    Migration(
        6,
        "assessment token budget and allowed tools",
        (
            "ALTER TABLE assessments ADD COLUMN token_budget_usd DOUBLE",
            "ALTER TABLE assessments ADD COLUMN allowed_tools VARCHAR[]",
        ),
    ),
    Migration(
        7,
        "human scorecards and ranking orientation",
        (
            # One reviewer's score of one session on one hosted rubric dimension (upserted).
            """
            CREATE TABLE rubric_scores (
                session_id VARCHAR NOT NULL,
                reviewer VARCHAR NOT NULL,
                dimension VARCHAR NOT NULL,
                score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
                created_at TIMESTAMP NOT NULL,
                updated_at TIMESTAMP NOT NULL,
                PRIMARY KEY (session_id, reviewer, dimension)
            )
            """,
            # One reviewer's decision and note on one session (upserted).
            """
            CREATE TABLE reviewer_decisions (
                session_id VARCHAR NOT NULL,
                reviewer VARCHAR NOT NULL,
                decision VARCHAR CHECK (decision IN ('advance', 'hold', 'reject')),
                note VARCHAR,
                created_at TIMESTAMP NOT NULL,
                updated_at TIMESTAMP NOT NULL,
                PRIMARY KEY (session_id, reviewer)
            )
            """,
            # The reviewer's ranking orientation of a metric for one assessment's cohort.
            """
            CREATE TABLE metric_orientation (
                assessment_id VARCHAR NOT NULL,
                metric VARCHAR NOT NULL,
                orientation VARCHAR NOT NULL
                    CHECK (orientation IN ('higher', 'lower', 'neutral')),
                updated_at TIMESTAMP NOT NULL,
                PRIMARY KEY (assessment_id, metric)
            )
            """,
        ),
    ),
    Migration(
        8,
        "line authorship of imported sessions",
        (
            """
            CREATE TABLE analysis.authorship (
                session_id  VARCHAR NOT NULL,
                path        VARCHAR,
                start_line  BIGINT,
                end_line    BIGINT,
                author      VARCHAR,
                tool        VARCHAR,
                event_id    VARCHAR,
                seq         BIGINT
            )
            """,
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def applied_migrations(conn: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    return [(int(version), str(name)) for version, name in rows]


def migrate(
    conn: duckdb.DuckDBPyConnection,
    migrations: Sequence[Migration] = MIGRATIONS,
    *,
    create: Callable[[duckdb.DuckDBPyConnection], None] | None = create_current,
) -> list[Migration]:
    """Bring the workspace to the latest of `migrations`; return the migrations recorded.

    A workspace with no recorded migration gets `create` (the current schema) and is recorded
    at every version at once; with `create=None` it runs every migration instead, which is how
    the tests build a workspace as an earlier version left it."""
    conn.execute(MIGRATIONS_TABLE)
    applied = applied_migrations(conn)
    if not applied and create is not None:
        _create(conn, create, migrations)
        return list(migrations)
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


def _record(conn: duckdb.DuckDBPyConnection, migration: Migration) -> None:
    conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        [migration.version, migration.name, datetime.now(UTC).replace(tzinfo=None)],
    )


def _create(
    conn: duckdb.DuckDBPyConnection,
    create: Callable[[duckdb.DuckDBPyConnection], None],
    migrations: Sequence[Migration],
) -> None:
    import duckdb

    conn.begin()
    try:
        create(conn)
        for migration in migrations:
            _record(conn, migration)
        conn.commit()
    except duckdb.Error as exc:
        conn.rollback()
        raise EnvironmentProblem(
            f"creating the reviewer workspace's schema failed: {exc}",
            "nothing was written; report this as a bug",
        ) from exc
    except BaseException:
        conn.rollback()
        raise


def _apply(conn: duckdb.DuckDBPyConnection, migration: Migration) -> None:
    import duckdb

    conn.begin()
    try:
        for statement in migration.statements:
            conn.execute(statement)
        _record(conn, migration)
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
