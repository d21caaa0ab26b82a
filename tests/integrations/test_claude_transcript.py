"""Transcript backfill: a real 2.1.328 transcript, plus the odd records a newer one may hold."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from claude_support import make_session, spooled, transcript_copy

from promptster.integrations.claude import transcript as ct

LANE = "98ca6252-193c-4ace-8490-8fba3fcc24ba"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_real_transcript(workspace: Path, tmp_path: Path) -> None:
    path = transcript_copy(workspace, tmp_path / "t.jsonl")
    read = ct.read_transcript(path, lane=LANE, workspace=str(workspace))
    counts = Counter(event["kind"] for event in read.events)
    assert counts == {
        "prompt": 1,
        "ai_response": 2,
        "tool_use": 5,
        "tool_result": 5,
        "command": 1,
        "test_run": 1,
        "mcp_call": 1,
    }
    assert read.skipped == {} and read.malformed == 0 and not read.partial_tail
    assert read.end_offset == path.stat().st_size
    prompt = next(e for e in read.events if e["kind"] == "prompt")
    assert prompt["data"]["text"] == "please fix the adder"
    assert prompt["ts"] == "2026-11-28T13:10:24.544Z"  # the time Claude Code recorded
    reply = next(e for e in read.events if e["kind"] == "ai_response")
    assert reply["data"] == {
        "text": "Let me write a helper.",
        "lane": LANE,
        "model": "claude-opus-5-5",
        "inputTokens": 120,
        "outputTokens": 30,
    }
    command = next(e for e in read.events if e["kind"] == "command")
    assert command["data"]["exitCode"] == 3
    assert command["data"]["durationMs"] > 0  # from the tool_use and tool_result times


def _line(record: dict[str, object]) -> str:
    return json.dumps(record) + "\n"


def test_unknown_records_malformed_lines_and_a_partial_tail(
    workspace: Path, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    user = {"type": "user", "promptId": "p1", "timestamp": "2026-01-05T09:00:00.000Z"}
    lines = [
        _line({**user, "message": {"role": "user", "content": "first prompt"}}),
        _line({"type": "brand-new-record", "payload": [1, 2]}),
        _line({"type": "brand-new-record"}),
        "not json at all\n",
        "[1, 2, 3]\n",
        _line({"no": "type"}),
        _line({**user, "message": {"role": "user", "content": "[Request interrupted by user]"}}),
        _line(
            {
                **user,
                "message": {
                    "role": "user",
                    "content": "<command-message>explain</command-message>\n"
                    "<command-name>/explain</command-name>\n"
                    "<command-args>chose sqlite over postgres</command-args>",
                },
            }
        ),
        _line({**user, "isMeta": True, "message": {"role": "user", "content": "injected"}}),
        _line({**user, "message": {"role": "user", "content": "<local-command-stdout>$0.01"}}),
        _line({"type": "assistant", "message": "not an object"}),
        _line({"type": "assistant", "message": {"id": "m1", "content": [{"type": "text"}]}}),
        '{"type": "user", "message": {"role": "user", "content": "half a li',
    ]
    path.write_text("".join(lines))
    read = ct.read_transcript(path, lane="L", workspace=str(workspace))
    assert read.skipped == {"brand-new-record": 2, "(no type)": 1, "assistant (no message)": 1}
    assert read.malformed == 2
    assert read.partial_tail is True
    assert read.end_offset == path.stat().st_size - len(lines[-1])
    texts = [(e["kind"], e["data"]["text"]) for e in read.events]
    assert texts == [
        ("prompt", "first prompt"),
        ("note", "Claude Code turn interrupted by the user"),
        ("prompt", "/explain chose sqlite over postgres"),
    ]
    assert read.events[2]["data"]["slashCommand"] == "/explain"
    # the line finished later is read from where the last read stopped
    with path.open("a") as handle:
        handle.write('ne"}}\n')
    more = ct.read_transcript(path, lane="L", workspace=str(workspace), start=read.end_offset)
    assert [e["data"]["text"] for e in more.events] == ["half a line"]


def test_unreadable_transcript_gives_nothing(tmp_path: Path) -> None:
    read = ct.read_transcript(tmp_path / "missing.jsonl", lane="L", workspace=str(tmp_path))
    assert read.events == [] and read.end_offset == 0
    (tmp_path / "dir.jsonl").mkdir()
    assert ct.read_transcript(tmp_path / "dir.jsonl", lane="L", workspace="/").events == []


def test_backfill_at_submit_fills_only_what_is_missing(workspace: Path, tmp_path: Path) -> None:
    session_dir = make_session(workspace)
    path = transcript_copy(workspace, tmp_path / "t.jsonl")
    ct.remember(session_dir, LANE, str(path))
    everything = ct.backfill_transcripts(session_dir, project_dirs=[])
    assert len(everything) == 16
    journal = session_dir / "timeline.jsonl"
    journal.write_text("".join(json.dumps(e) + "\n" for e in everything[:10]))
    rest = ct.backfill_transcripts(session_dir, project_dirs=[])
    assert [e["id"] for e in rest] == [e["id"] for e in everything[10:]]
    have = {e["id"] for e in everything}
    assert ct.backfill_transcripts(session_dir, existing_ids=have, project_dirs=[]) == []


def test_backfill_skips_records_before_the_session(workspace: Path, tmp_path: Path) -> None:
    session_dir = make_session(workspace)
    path = transcript_copy(workspace, tmp_path / "t.jsonl")
    events = ct.backfill_transcripts(
        session_dir,
        existing_ids=(),
        extra={LANE: path},
        since="2100-01-01T00:00:00.000Z",
        project_dirs=[],
    )
    assert events == []


def test_backfill_reports_what_it_skipped_and_missing_transcripts(
    workspace: Path, tmp_path: Path
) -> None:
    session_dir = make_session(workspace)
    odd = tmp_path / "odd.jsonl"
    odd.write_text(_line({"type": "future-thing"}) + "garbage\n")
    events = ct.backfill_transcripts(
        session_dir,
        existing_ids=(),
        extra={"odd": odd, "gone": tmp_path / "gone.jsonl"},
        project_dirs=[],
    )
    codes = {e["data"]["lane"]: e["data"]["code"] for e in events}
    assert codes == {"odd": "transcript_skipped", "gone": "transcript_missing"}
    odd_warning = next(e for e in events if e["data"]["lane"] == "odd")
    assert odd_warning["data"]["recordTypes"] == {"future-thing": 1}
    assert odd_warning["data"]["malformedLines"] == 1
    assert "1 'future-thing', 1 malformed" in odd_warning["data"]["message"]


def test_advance_keeps_its_place_per_lane(workspace: Path, tmp_path: Path) -> None:
    session_dir = make_session(workspace)
    path = transcript_copy(workspace, tmp_path / "t.jsonl")
    first = ct.advance(session_dir, LANE, str(path), str(workspace))
    assert len(first) == 16
    assert ct.advance(session_dir, LANE, str(path), str(workspace)) == []
    with path.open("a") as handle:
        handle.write(
            _line(
                {
                    "type": "assistant",
                    "timestamp": "2026-11-28T13:20:00.000Z",
                    "message": {"id": "msg_new", "model": "m", "content": "plain string reply"},
                }
            )
        )
    (reply,) = ct.advance(session_dir, LANE, str(path), str(workspace))
    assert reply["data"]["text"] == "plain string reply"
    resumed = tmp_path / "resumed.jsonl"  # `claude --resume` copies history from before
    resumed.write_text(
        _line(
            {
                "type": "user",
                "timestamp": "2025-12-31T23:00:00.000Z",
                "message": {"role": "user", "content": "a prompt from before the session"},
            }
        )
    )
    assert ct.advance(session_dir, "resumed-lane", str(resumed), str(workspace)) == []
    assert spooled(session_dir) == []  # advance only reads; the hook sends


def test_backfill_finds_sessions_the_hooks_never_saw(workspace: Path, tmp_path: Path) -> None:
    session_dir = make_session(workspace)
    projects = tmp_path / "claude-home" / "projects"
    folder = projects / str(workspace).replace("/", "-").replace("_", "-").replace(".", "-")
    folder.mkdir(parents=True)
    transcript_copy(workspace, folder / f"{LANE}.jsonl")
    events = ct.backfill_transcripts(session_dir, existing_ids=(), project_dirs=[projects])
    assert len(events) == 16
    assert {e["data"]["lane"] for e in events if "lane" in e["data"]} == {LANE}
    later = ct.backfill_transcripts(
        session_dir, existing_ids=(), project_dirs=[projects], since="2100-01-01T00:00:00.000Z"
    )
    assert later == []  # a transcript last written before the session is not this session's
