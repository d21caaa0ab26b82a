"""Reviewer queries: session list, one session, paginated timeline, decisions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from promptster.analysis.database import connect
from promptster.analysis.load import load_bundle
from promptster.analysis.queries import decisions, get_session, list_sessions, timeline_page
from promptster.errors import InputError


@pytest.fixture(scope="module")
def con(demo_dir: Path) -> duckdb.DuckDBPyConnection:
    connection = connect()
    for path in sorted(demo_dir.glob("*.pst")):
        load_bundle(connection, path)
    return connection


def test_list_sessions(con: duckdb.DuckDBPyConnection) -> None:
    rows = list_sessions(con)
    assert len(rows) == 4
    ada = next(r for r in rows if r.candidate_name == "Ada Lovelace")
    assert ada.event_count == 16 and ada.decision_flag_count == 1
    assert ada.ai_attribution_pct == 40.0
    assert ada.started_at == "2026-03-02T09:00:00.000Z"
    assert ada.ended_at == "2026-03-02T09:01:55.000Z"
    assert ada.source_service == ("claude-code", "shell")
    assert ada.to_json_obj()["decisionFlagCount"] == 1
    assert list_sessions(con, "asmt-demo") == rows
    assert list_sessions(con, "other") == []


def test_get_session_by_prefix(con: duckdb.DuckDBPyConnection) -> None:
    ada = next(r for r in list_sessions(con) if r.candidate_name == "Ada Lovelace")
    assert get_session(con, ada.session_id[:8]) == ada
    with pytest.raises(InputError):
        get_session(con, "zzzz")


def test_timeline_pagination(con: duckdb.DuckDBPyConnection) -> None:
    sid = next(r for r in list_sessions(con) if r.candidate_name == "Ada Lovelace").session_id
    seen: list[int] = []
    after = None
    while True:
        page = timeline_page(con, sid, after=after, limit=5)
        seen += [int(e["seq"]) for e in page.events]  # type: ignore[call-overload]
        if not page.has_more:
            break
        after = str(page.events[-1]["id"])
    assert seen == list(range(16))
    first = timeline_page(con, sid, limit=1)
    assert first.has_more and first.events[0]["kind"] == "session_start"
    assert first.to_json_obj()["hasMore"] is True
    prompts = timeline_page(con, sid, kind="prompt")
    assert [e["kind"] for e in prompts.events] == ["prompt", "prompt"] and not prompts.has_more
    assert isinstance(prompts.events[0]["data"], dict)
    with pytest.raises(InputError):
        timeline_page(con, sid, after="no-such-event")


def test_decisions(con: duckdb.DuckDBPyConnection) -> None:
    sid = next(r for r in list_sessions(con) if r.candidate_name == "Ada Lovelace").session_id
    (decision,) = decisions(con, sid)
    assert decision["data"]["impactScore"] == 4  # type: ignore[index,call-overload]
    ben = next(r for r in list_sessions(con) if r.candidate_name == "Ben Bitdiddle").session_id
    assert decisions(con, ben) == []
