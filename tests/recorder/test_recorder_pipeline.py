"""The recorder's write path, the countdown and the reflog parser, without processes."""

from __future__ import annotations

import errno
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from promptster.cli.candidate_cmds import parse_explanation
from promptster.formats.events import Kind, make_event
from promptster.protocol import append_to_spool, new_event
from promptster.record.files.gitwatch import parse_reflog_line
from promptster.record.journal import JournalWriter, read_journal
from promptster.record.pipeline import EventPipeline, ingest_spool, warning
from promptster.record.timer import Countdown, format_remaining

SESSION = "7b0f6f1e-3f2a-4c39-9d0e-000000000001"
KEY = "sk-ant-api03-" + "A1b2C3d4E5f6G7h8I9j0" * 3


def client_event(kind: str, data: dict[str, object]) -> dict[str, object]:
    return new_event(kind, data, channel="cli", integration="test", emitter="test")


@pytest.fixture
def pipeline(tmp_path: Path) -> EventPipeline:
    return EventPipeline(JournalWriter(tmp_path / "timeline.jsonl", SESSION), deadline=None)


def lines(pipeline: EventPipeline) -> list[dict[str, object]]:
    return [json.loads(line) for line in pipeline.journal.path.read_bytes().splitlines()]


def test_secrets_are_redacted_with_a_warning(pipeline: EventPipeline) -> None:
    from promptster.record.pipeline import event_from_client

    event = event_from_client(client_event("note", {"text": f"token {KEY}", "lane": KEY}))
    pipeline.append_client([event])
    written, notice = lines(pipeline)
    assert KEY not in json.dumps(written["data"]["text"])  # type: ignore[index]
    assert written["data"]["lane"] == KEY  # type: ignore[index]  # identifiers are kept
    assert notice["kind"] == "warning"
    assert notice["data"]["code"] == "redaction"  # type: ignore[index]
    assert notice["data"]["eventId"] == written["id"]  # type: ignore[index]
    assert pipeline.stats.redactions == 1


def test_file_events_keep_paths_and_commits(pipeline: EventPipeline) -> None:
    data = {
        "path": f"keys/{KEY}.txt",
        "commit": "a" * 40,
        "linesAdded": 1,
        "linesRemoved": 0,
        "diff": f"+API_KEY={KEY}\n",
    }
    pipeline.append_system([make_event(Kind.FILE_CREATE, dict(data), channel="watcher",
                                       integration="promptster", emitter="t")])  # fmt: skip
    written = lines(pipeline)[0]["data"]
    assert written["path"] == data["path"] and written["commit"] == data["commit"]  # type: ignore[index]
    assert KEY not in written["diff"]  # type: ignore[index]


def test_ids_are_idempotency_keys(pipeline: EventPipeline) -> None:
    from promptster.record.pipeline import event_from_client

    body = client_event("note", {"text": "once"})
    first = pipeline.append_client([event_from_client(body)])
    again = pipeline.append_client([event_from_client(dict(body))])
    assert first == again == [0]
    assert len(lines(pipeline)) == 1


def test_late_events_are_flagged_not_dropped(tmp_path: Path) -> None:
    from promptster.record.pipeline import event_from_client

    past = datetime.now(UTC) - timedelta(minutes=1)
    pipeline = EventPipeline(JournalWriter(tmp_path / "t.jsonl", SESSION), deadline=past)
    pipeline.append_client([event_from_client(client_event("note", {"text": "late"}))])
    pipeline.append_client([event_from_client(client_event("note", {"text": "later"}))])
    kinds = [(e["kind"], e["data"]) for e in lines(pipeline)]  # type: ignore[index]
    assert kinds[0] == ("note", {"text": "late", "afterDeadline": True})
    assert kinds[1][0] == "warning" and kinds[1][1]["code"] == "late_activity"
    assert kinds[2] == ("note", {"text": "later", "afterDeadline": True})
    assert len(kinds) == 3  # the late_activity warning is written once


def test_spool_is_ingested_in_order_and_emptied(pipeline: EventPipeline, tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    events = [client_event("note", {"text": f"n{i}"}) for i in range(5)]
    append_to_spool(spool, events[:2])
    with spool.open("ab") as handle:
        handle.write(b'{"kind": "note", "data": {"te')  # a client died mid-line
    append_to_spool(spool, events[2:])
    append_to_spool(spool, events[:1])  # a duplicate (a client retried)
    count, bad = ingest_spool(pipeline, spool, tmp_path / "rejected.jsonl")
    assert (count, bad) == (5, 1)
    assert [e["data"]["text"] for e in lines(pipeline)] == [f"n{i}" for i in range(5)]  # type: ignore[index]
    assert spool.read_bytes() == b""
    assert (tmp_path / "rejected.jsonl").read_bytes().startswith(b'{"kind": "note"')


def test_write_failures_keep_the_journal_valid_and_retry(
    pipeline: EventPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptster.errors import EnvironmentProblem
    from promptster.record import journal as journal_module
    from promptster.record.pipeline import event_from_client

    pipeline.append_system([warning("test", "before")])
    real_write = journal_module._write_all

    def half_then_enospc(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_module, "_write_all", half_then_enospc)
    pipeline.append_system([warning("test", "waits")])
    assert pipeline.pending and pipeline.problem and "space" in pipeline.problem
    with pytest.raises(EnvironmentProblem):
        pipeline.append_client([event_from_client(client_event("note", {"text": "refused"}))])
    contents = read_journal(pipeline.journal.path, SESSION)
    assert contents.intact and len(contents.events) == 1
    monkeypatch.setattr(journal_module, "_write_all", real_write)
    assert pipeline.retry_pending()
    messages = [e["data"]["message"] for e in lines(pipeline)]  # type: ignore[index]
    assert messages == ["before", "waits"]
    assert pipeline.problem is None


def test_countdown_warnings() -> None:
    start = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    countdown = Countdown(start, start + timedelta(minutes=20))
    assert countdown.thresholds == [15, 10, 5, 2, 1]
    assert countdown.due(start) is None
    notice = countdown.due(start + timedelta(minutes=5))
    assert notice is not None and notice.minutes_left == 15
    assert countdown.due(start + timedelta(minutes=5, seconds=1)) is None
    # After a pause only the most urgent passed threshold is reported.
    notice = countdown.due(start + timedelta(minutes=18, seconds=30))
    assert notice is not None and notice.minutes_left == 2
    assert countdown.next_wakeup(start + timedelta(minutes=18, seconds=30)) == start + timedelta(
        minutes=19
    )
    notice = countdown.due(start + timedelta(minutes=21))
    assert notice is not None and notice.code == "time_expired"
    assert countdown.due(start + timedelta(minutes=22)) is None
    assert format_remaining(timedelta(minutes=90)) == "1h 30m"
    assert format_remaining(timedelta(seconds=-5)) == "time is up"


def test_reflog_lines_become_git_actions() -> None:
    old, new = "0" * 40, "1" * 40
    stamp = "Candidate <c@example.com> 1760000000 +0000"
    assert parse_reflog_line(f"{old} {new} {stamp}\tcommit (initial): first") == {
        "action": "commit",
        "commit": new,
        "message": "first",
    }
    checkout = parse_reflog_line(f"{new} {new} {stamp}\tcheckout: moving from main to feature")
    assert checkout == {"action": "checkout", "commit": new, "ref": "feature"}
    reset = parse_reflog_line(f"{new} {new} {stamp}\treset: moving to HEAD~1")
    assert reset == {"action": "reset", "commit": new, "ref": "HEAD~1"}
    assert parse_reflog_line("garbage") is None


def test_explain_editor_template_parsing() -> None:
    text = "Title: Cache\nChosen option: LRU\nTradeoffs: memory\nImpact (1-5): 4\n\nWhy: fast\n#x"
    assert parse_explanation(text) == {
        "title": "Cache",
        "chosen": "LRU",
        "tradeoffs": "memory",
        "impact": "4",
        "text": "Why: fast",
    }


def test_explain_with_a_missing_editor_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import types

    from promptster.cli import candidate_cmds, main

    tty = types.SimpleNamespace(isatty=lambda: True)
    monkeypatch.setattr(candidate_cmds, "sys", types.SimpleNamespace(stdin=tty))
    monkeypatch.setattr(candidate_cmds, "current_session", lambda: (None, None))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "no-such-editor-here")
    assert main(["explain"]) == 2
    err = capsys.readouterr().err
    assert "could not start the editor 'no-such-editor-here'" in err
    assert "set EDITOR to an installed editor" in err and "Editing failed" not in err


def test_status_shows_a_missing_candidate_repository_neutrally(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from promptster.cli.candidate_cmds import _print_status
    from promptster.record.session import SessionState

    state = SessionState(SESSION, "/tmp/ws", "", "2025-01-01T00:00:00.000Z")
    git = {"alive": False, "neutral": True, "detail": "no repository in the workspace"}
    broken = {"alive": False, "detail": "watcher stopped"}
    _print_status(state, {"sources": {"git": git, "watcher": broken}}, datetime.now(UTC))
    lines = capsys.readouterr().out.splitlines()  # the status is the result: stdout
    assert any("– git" in line and "no repository" in line for line in lines)
    assert any("✗ watcher" in line for line in lines)
