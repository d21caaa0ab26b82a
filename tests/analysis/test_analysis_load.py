"""Loading bundles into DuckDB: tables, idempotence, duplicates, bad bundles."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from analysis_tamper import newer_format, rewrite, tampered

from promptster.analysis.database import TABLES, connect
from promptster.analysis.load import LoadStatus, load_bundle
from promptster.analysis.signals import bundle_signals
from promptster.analysis.verified import find_bundles
from promptster.errors import CheckFailed, FormatError, InputError, NewerFormatError


def _counts(con: object) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}  # type: ignore[attr-defined]


def test_tables_are_filled(scenario_dir: Path) -> None:
    con = connect()
    loaded = load_bundle(con, scenario_dir / "ada.pst")
    assert loaded.status is LoadStatus.LOADED and loaded.verified
    assert _counts(con) == {
        "sessions": 1, "events": 16, "prompts": 2, "file_changes": 2, "commands": 4,
        "test_runs": 4, "decisions": 1, "authorship": 0,  # a synthetic bundle: no member
    }  # fmt: skip
    rows = con.execute(
        "SELECT command, exit_code, category, covered FROM commands ORDER BY seq"
    ).fetchall()
    assert rows == [
        ("pytest -q", 1, "test", True),
        ("pytest -q", 0, "test", True),
        ("ruff check .", 0, "lint", True),
        ("pytest -q", 0, "test", True),
    ]
    (source,) = con.execute("SELECT source_service FROM sessions").fetchall()[0]
    assert source == ["claude-code", "shell"]


def test_loading_twice_changes_nothing(scenario_dir: Path) -> None:
    con = connect()
    load_bundle(con, scenario_dir / "ada.pst")
    before = _counts(con)
    again = load_bundle(con, scenario_dir / "ada.pst")
    assert again.status is LoadStatus.UNCHANGED
    assert _counts(con) == before


def test_a_different_bundle_for_the_same_session_is_a_duplicate(
    scenario_dir: Path, tmp_path: Path
) -> None:
    con = connect()
    load_bundle(con, scenario_dir / "ada.pst")
    other = tampered(scenario_dir / "ada.pst", tmp_path / "ada-edited.pst")
    result = load_bundle(con, other, allow_invalid=True)
    assert result.status is LoadStatus.DUPLICATE
    assert _counts(con)["events"] == 16


def test_failed_verification_is_refused_unless_allowed(scenario_dir: Path, tmp_path: Path) -> None:
    bad = tampered(scenario_dir / "ada.pst", tmp_path / "bad.pst")
    with pytest.raises(CheckFailed) as caught:
        load_bundle(connect(), bad)
    assert "--allow-invalid" in caught.value.hint
    signals = bundle_signals(bad, allow_invalid=True)
    assert signals.session.verified is False
    assert signals.session.problems and "changed after signing" in signals.session.problems[0]
    assert signals.value("promptCount") == 2  # still computed, but flagged


def test_newer_format_says_upgrade(scenario_dir: Path, tmp_path: Path) -> None:
    future = newer_format(scenario_dir / "ada.pst", tmp_path / "future.pst")
    with pytest.raises(NewerFormatError) as caught:
        load_bundle(connect(), future, allow_invalid=True)
    assert "format version 99" in caught.value.message
    assert "upgrade promptster" in caught.value.hint


def test_not_a_bundle(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pst"
    junk.write_bytes(b"not a zip")
    with pytest.raises(FormatError):
        load_bundle(connect(), junk, allow_invalid=True)


def test_find_bundles(scenario_dir: Path, tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "x.pst").write_bytes((scenario_dir / "ada.pst").read_bytes())
    (nested / "notes.txt").write_text("ignored")
    assert find_bundles([tmp_path]) == [nested / "x.pst"]
    assert find_bundles([tmp_path, nested / "x.pst"]) == [nested / "x.pst"]
    with pytest.raises(InputError):
        find_bundles([tmp_path / "missing"])


def test_tables_in_their_own_schema_beside_other_tables(scenario_dir: Path, tmp_path: Path) -> None:
    import duckdb

    from promptster.analysis.database import prepare

    con = duckdb.connect(str(tmp_path / "workspace.duckdb"))
    con.execute("CREATE TABLE sessions (session_id VARCHAR, unrelated INTEGER)")
    prepare(con, schema="analysis")
    loaded = load_bundle(con, scenario_dir / "ada.pst")
    assert bundle_signals(scenario_dir / "ada.pst").value("promptCount") == 2
    from promptster.analysis.signals import compute_signals

    assert compute_signals(con, [loaded.session_id])[loaded.session_id].value("promptCount") == 2
    assert con.execute("SELECT count(*) FROM main.sessions").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM analysis.sessions").fetchall() == [(1,)]


def test_malformed_events_load_as_nulls_and_signals_still_compute(
    scenario_dir: Path, tmp_path: Path
) -> None:
    """--allow-invalid: an unreadable line and fields of the wrong type become NULLs."""

    def edit(name: str, data: bytes) -> bytes:
        if name != "timeline.jsonl":
            return data
        lines = data.split(b"\n")
        lines.insert(3, b'{"kind": "prompt", "data": {"text": ')  # cut off mid-line
        lines[5] = lines[5].replace(b'"seq":', b'"seq":"x","was":', 1)
        return b"\n".join(lines)

    bad = rewrite(scenario_dir / "ada.pst", tmp_path / "malformed.pst", edit)
    con = connect()
    loaded = load_bundle(con, bad, allow_invalid=True)
    assert loaded.status is LoadStatus.LOADED and not loaded.verified
    assert _counts(con)["events"] == 17
    assert con.execute("SELECT count(*) FROM events WHERE kind IS NULL").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM events WHERE seq IS NULL").fetchall() == [(2,)]
    signals = bundle_signals(bad, allow_invalid=True)
    # the unreadable line has no kind; the line with a bad seq keeps its kind
    assert signals.value("eventCounts") == {
        "build_run": 1, "command": 4, "decision_event": 1, "file_diff": 2, "prompt": 2,
        "session_end": 1, "session_start": 1, "test_run": 3, "tool_use": 1,
    }  # fmt: skip


def test_a_load_runs_on_one_thread_and_gives_the_threads_back(
    scenario_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One session's load runs with DuckDB's `threads` at 1 (database.one_thread), and the setting
    is the one it found afterwards, whether the load worked or failed inside its transaction."""
    from promptster.analysis import load, verified

    seen: list[int] = []
    real = load.read_events

    def spy(con: duckdb.DuckDBPyConnection, session_id: str, path: Path) -> None:
        seen.append(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
        real(con, session_id, path)

    monkeypatch.setattr(load, "read_events", spy)
    con = connect()
    con.execute("SET threads = 3")
    assert load_bundle(con, scenario_dir / "ada.pst").status is LoadStatus.LOADED
    assert seen == [1]
    assert con.execute("SELECT current_setting('threads')").fetchall() == [(3,)]

    report, timeline = verified.verify_for_loading(scenario_dir / "ben.pst", allow_invalid=False)
    timeline.path.unlink()  # DuckDB cannot read it: the load fails after BEGIN
    with pytest.raises(FormatError, match="could not be loaded"):
        load.load_verified(con, scenario_dir / "ben.pst", report, timeline)
    timeline.close()
    assert con.execute("SELECT current_setting('threads')").fetchall() == [(3,)]
    assert _counts(con)["sessions"] == 1  # nothing of ben's was kept


def test_a_hash_the_caller_has_is_used_not_computed_again(scenario_dir: Path) -> None:
    from promptster.analysis import load, verified

    bundle = scenario_dir / "ada.pst"
    report, timeline = verified.verify_for_loading(bundle, allow_invalid=False)
    con = connect()
    with timeline:
        loaded = load.load_verified(con, bundle, report, timeline, bundle_sha256="sha256:given")
    assert loaded.bundle_sha256 == "sha256:given"
    assert con.execute("SELECT bundle_sha256 FROM sessions").fetchall() == [("sha256:given",)]
    report, timeline = verified.verify_for_loading(bundle, allow_invalid=False)
    with timeline:  # the session is there: compared with the given hash, not the file's
        again = load.load_verified(con, bundle, report, timeline, bundle_sha256="sha256:given")
    assert again.status is LoadStatus.UNCHANGED
