"""Frozen migrations: from every earlier version a workspace migrates to exactly the schema a new
workspace gets, and a migration that has shipped never changes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pytest

from promptster.reviewer.migrations import LATEST_VERSION, MIGRATIONS, create_current, migrate

# sha256 of each shipped migration's name and statements. A migration is frozen once it ships:
# change the schema with a new migration (and the current schema files), never by editing these.
SHIPPED = {
    1: "28be3590bc4c50051c52243ffb21de491d2dd772a057b4c7eca347d6f938a8ac",
    2: "66754b0a59c7652b17283940b7428962cb27858c5a9ddc29ed2913d00fefdd84",
    3: "eb6a7c1560290969f7df97d52d28ae266788d167d85698832bee0d80b4383c2c",
    4: "d669a66b6c67f7e139921514e1c2f50017cacb049c4a073b04b8c3bd09977d18",
    5: "85915f203f1f1d9373486e27b6d1e80567f69978e98d4398814bd35bf7c54444",
    6: "b728171b2782927ab3ba6442a1027b96699b25003acfbb5b71e1c0e31c67a25b",
    7: "d4142c28f5cf138fc3aa480cdc00aa60bce125d27a4309323bd48a31bcd22557",
}


def _digest(version: int) -> str:
    migration = MIGRATIONS[version - 1]
    text = "\0".join((migration.name, *migration.statements))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# What makes up a schema, read from DuckDB's catalog (the user's database only: temporary
# objects such as the analysis macros are per connection and never stored).
_CATALOG = {
    "schemas": "SELECT schema_name FROM duckdb_schemas() "
    "WHERE database_name = current_database() AND NOT internal",
    "tables": "SELECT schema_name, table_name, has_primary_key, column_count, "
    "check_constraint_count, sql FROM duckdb_tables() "
    "WHERE database_name = current_database() AND NOT temporary",
    "columns": "SELECT schema_name, table_name, column_index, column_name, data_type, "
    "is_nullable, column_default FROM duckdb_columns() "
    "WHERE database_name = current_database() AND NOT internal",
    "constraints": "SELECT schema_name, table_name, constraint_type, constraint_text, "
    "constraint_column_names, referenced_table, referenced_column_names "
    "FROM duckdb_constraints() WHERE database_name = current_database()",
    "indexes": "SELECT schema_name, table_name, index_name, is_unique, is_primary, expressions, "
    "sql FROM duckdb_indexes() WHERE database_name = current_database()",
    "views": "SELECT schema_name, view_name, sql FROM duckdb_views() "
    "WHERE database_name = current_database() AND NOT internal",
    "sequences": "SELECT schema_name, sequence_name, start_value, increment_by "
    "FROM duckdb_sequences() WHERE database_name = current_database()",
    "macros": "SELECT schema_name, function_name, macro_definition FROM duckdb_functions() "
    "WHERE database_name = current_database() AND NOT internal",
}


def _schema(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        part: sorted(conn.execute(query).fetchall(), key=repr) for part, query in _CATALOG.items()
    }


def _new_workspace(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = duckdb.connect(str(path))
    try:
        migrate(conn)
        return _schema(conn)
    finally:
        conn.close()


def _versions(conn: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
    return [(int(v), str(n)) for v, n in rows]


def test_every_shipped_migration_is_frozen() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    assert {v: _digest(v) for v in SHIPPED} == SHIPPED, (
        "a shipped migration changed: add a new migration instead of editing one"
    )


def test_no_migration_reads_a_schema_file() -> None:
    # each migration is plain SQL text; no step that runs code (and could read today's files)
    for migration in MIGRATIONS:
        assert migration.statements and all(isinstance(s, str) for s in migration.statements)
        assert not any(".sql" in s for s in migration.statements)


@pytest.mark.parametrize("version", range(LATEST_VERSION + 1))
def test_migrating_from_each_earlier_version_gives_the_new_workspace_schema(
    tmp_path: Path, version: int
) -> None:
    expected = _new_workspace(tmp_path / "new.duckdb")
    conn = duckdb.connect(str(tmp_path / f"v{version}.duckdb"))
    try:
        if version:  # a workspace as the release at `version` left it
            migrate(conn, MIGRATIONS[:version], create=None)
            assert _versions(conn) == [(m.version, m.name) for m in MIGRATIONS[:version]]
            ran = migrate(conn)  # the upgrade this promptster does when it opens it
            assert [m.version for m in ran] == list(range(version + 1, LATEST_VERSION + 1))
        else:  # every migration from nothing, without the one-step creation
            migrate(conn, create=None)
        assert _versions(conn) == [(m.version, m.name) for m in MIGRATIONS]
        migrated = _schema(conn)
    finally:
        conn.close()
    for part, rows in expected.items():
        assert migrated[part] == rows, (
            f"{part} differ between a workspace migrated from version {version} and a new one: "
            "a change to reviewer/schema.sql or analysis/sql/schema.sql needs a migration that "
            "makes the same change"
        )


def test_the_comparison_sees_a_schema_change_without_a_migration(tmp_path: Path) -> None:
    # the check above is only worth something if the catalog it reads shows a missed change
    expected = _new_workspace(tmp_path / "new.duckdb")

    def with_new_column(conn: duckdb.DuckDBPyConnection) -> None:
        create_current(conn)
        conn.execute("ALTER TABLE analysis.prompts ADD COLUMN words BIGINT")

    conn = duckdb.connect(str(tmp_path / "changed.duckdb"))
    try:
        migrate(conn, create=with_new_column)
        changed = _schema(conn)
    finally:
        conn.close()
    assert changed["columns"] != expected["columns"]
    assert changed["tables"] != expected["tables"]


def test_a_new_workspace_is_made_in_one_step_at_the_latest_version(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        ran = migrate(conn)
        assert ran == list(MIGRATIONS)
        assert _versions(conn) == [(m.version, m.name) for m in MIGRATIONS]
        assert migrate(conn) == []  # nothing left to do
        tables = conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2"
        ).fetchall()
    finally:
        conn.close()
    assert ("main", "assessments") in tables and ("analysis", "prompts") in tables


def test_analysis_never_imports_the_reviewer_side() -> None:
    # reviewer → analysis only: the workspace makes the analysis tables through analysis.load;
    # analysis (and the layers under it) must not reach back up into the workspace
    import ast

    import promptster

    root = Path(promptster.__file__).parent
    upward = []
    for package in ("analysis", "bundle", "formats"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                upward += [
                    f"{path.relative_to(root)}: {n}"
                    for n in names
                    if n == "promptster.reviewer" or n.startswith("promptster.reviewer.")
                ]
    assert upward == []
