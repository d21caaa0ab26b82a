"""The DuckDB workspace: migrations, damage, and two processes at once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from reviewer_helpers import HOLDER

from promptster.errors import EnvironmentProblem, NewerFormatError
from promptster.reviewer.migrations import LATEST_VERSION, MIGRATIONS, Migration, migrate
from promptster.reviewer.store import Workspace

# Version N-1 of the schema, written out by hand (not by running the migrations), the way a
# workspace made by the previous release looks on disk.
PREVIOUS_SCHEMA = [
    """CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,
       applied_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE assessments (id VARCHAR PRIMARY KEY, title VARCHAR NOT NULL,
       role VARCHAR NOT NULL, brief VARCHAR NOT NULL, repo_url VARCHAR, repo_rev VARCHAR,
       time_limit_minutes INTEGER, expires_in_days INTEGER NOT NULL, org VARCHAR NOT NULL,
       reviewer_public_key VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
       updated_at TIMESTAMP NOT NULL, deleted_at TIMESTAMP, pack BLOB,
       pack_revision INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE candidate_keys (id VARCHAR PRIMARY KEY,
       assessment_id VARCHAR NOT NULL REFERENCES assessments (id),
       key_text VARCHAR NOT NULL UNIQUE, salt BLOB NOT NULL, scrypt_hash BLOB NOT NULL,
       candidate_email VARCHAR, candidate_name VARCHAR, created_at TIMESTAMP NOT NULL,
       expires_at TIMESTAMP NOT NULL, revoked_at TIMESTAMP, redeemed_at TIMESTAMP,
       completed_at TIMESTAMP, session_id VARCHAR, invite_status VARCHAR,
       invite_detail VARCHAR, invited_at TIMESTAMP)""",
    "CREATE INDEX candidate_keys_assessment ON candidate_keys (assessment_id)",
    """INSERT INTO schema_migrations VALUES
       (1, 'assessments and candidate keys', TIMESTAMP '2026-01-01 00:00:00'),
       (2, 'invite delivery status', TIMESTAMP '2026-02-01 00:00:00')""",
    """INSERT INTO assessments VALUES ('a-1', 'T', 'R', 'brief', NULL, NULL, 60, 7, 'Acme',
       'pk', TIMESTAMP '2026-01-02 00:00:00', TIMESTAMP '2026-01-02 00:00:00', NULL,
       NULL, 1)""",
    """INSERT INTO candidate_keys (id, assessment_id, key_text, salt, scrypt_hash, created_at,
       expires_at) VALUES ('ck_1', 'a-1', 'PST-AAAA-AAAA', 'x'::BLOB, 'y'::BLOB,
       TIMESTAMP '2026-01-02 00:00:00', TIMESTAMP '2026-01-09 00:00:00')""",
]


def test_a_new_workspace_records_every_named_migration(tmp_path: Path) -> None:
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        assert ws.schema_version() == LATEST_VERSION
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
    conn.close()
    assert rows == [(m.version, m.name) for m in MIGRATIONS]


def test_version_n_minus_1_migrates_forward_and_keeps_its_data(tmp_path: Path) -> None:
    # the hand-written schema is version 2; opening it runs every later migration
    assert [m.version for m in MIGRATIONS[2:]] == list(range(3, LATEST_VERSION + 1))
    path = tmp_path / "old.duckdb"
    conn = duckdb.connect(str(path))
    for statement in PREVIOUS_SCHEMA:
        conn.execute(statement)
    conn.close()

    with Workspace.open(path) as ws:
        assert ws.schema_version() == LATEST_VERSION
        assessment = ws.find_assessment("a-1")
        assert assessment is not None and assessment.time_limit_minutes == 60
        key = ws.find_key("ck_1")
        assert key is not None and key.key_text == "PST-AAAA-AAAA"
        assert key.status(datetime(2026, 1, 3, tzinfo=UTC)) == "pending"
        ws._run(  # the new tables exist and work
            "INSERT INTO sessions (session_id, bundle_sha256, imported_at, verified) "
            "VALUES ('s-1', 'sha256:0', now()::TIMESTAMP, true)"
        )
    with Workspace.open(path) as ws:  # opening again runs nothing
        assert ws.schema_version() == LATEST_VERSION


def test_a_failing_migration_leaves_the_workspace_at_the_previous_version(
    tmp_path: Path,
) -> None:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(conn)
    broken = Migration(
        LATEST_VERSION + 1,
        "half-done change",
        ("CREATE TABLE half (x INTEGER)", "ALTER TABLE no_such_table ADD COLUMN y INTEGER"),
    )
    with pytest.raises(EnvironmentProblem, match="half-done change") as caught:
        migrate(conn, (*MIGRATIONS, broken))
    assert "left unchanged" in caught.value.hint
    tables = {row[0] for row in conn.execute("SHOW TABLES").fetchall()}
    assert "half" not in tables
    versions = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    assert versions == (LATEST_VERSION,)
    conn.close()


def test_a_workspace_from_a_newer_promptster_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Workspace.open(path):
        pass
    conn = duckdb.connect(str(path))
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', now()::TIMESTAMP)")
    conn.close()
    with pytest.raises(NewerFormatError, match="schema version 99"):
        Workspace.open(path)


def test_a_damaged_database_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    path.write_bytes(b"this is not a database" * 500)
    before = path.read_bytes()
    with pytest.raises(EnvironmentProblem, match="damaged") as caught:
        Workspace.open(path)
    assert caught.value.exit_code == 3
    assert "restore it from a backup" in caught.value.hint
    assert path.read_bytes() == before


def test_the_cli_reports_a_damaged_workspace_with_exit_code_3(home: Path, tmp_path: Path) -> None:
    from reviewer_helpers import Cli

    home.mkdir(parents=True)
    (home / "workspace.duckdb").write_bytes(b"\0garbage" * 1000)
    result = Cli()("assessment", "list")
    assert result.exit_code == 3
    assert "reviewer workspace" in result.stderr and "damaged" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_truncated_workspace_is_reported_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "workspace.duckdb"
    with Workspace.open(path):
        pass
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 3])
    for read_only in (False, True):
        with pytest.raises(EnvironmentProblem, match="is damaged") as caught:
            Workspace.open(path, read_only=read_only)
        assert "move it aside" in caught.value.hint


def test_a_second_process_gets_a_clear_message_not_a_corrupted_file(tmp_path: Path) -> None:
    path = tmp_path / "workspace.duckdb"
    with Workspace.open(path):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(EnvironmentProblem, match="in use by another promptster process"):
            Workspace.open(path)
        with pytest.raises(EnvironmentProblem, match="in use by another promptster process"):
            Workspace.open(path, read_only=True)
        cli = subprocess.run(
            [sys.executable, "-c", "from promptster.cli import run; run()", "assessment", "list"],
            env={**os.environ, "PROMPTSTER_HOME": str(tmp_path)},
            capture_output=True,
            text=True,
        )
        assert cli.returncode == 3
        assert "in use by another promptster process" in cli.stderr
        assert "Traceback" not in cli.stderr
    finally:
        assert holder.stdin is not None
        holder.stdin.write("done\n")
        holder.stdin.close()
        holder.wait()
    assert holder.returncode == 0
    with Workspace.open(path) as ws:  # the file is intact once the other process is gone
        assert ws.schema_version() == LATEST_VERSION
