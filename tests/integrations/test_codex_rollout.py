"""Codex rollout files → events, on rollouts written by the real Codex CLI 0.169.0.

The fixtures are the two rollouts of the end-to-end scenario (tests/fixtures/codex/README.md):
`codex exec` against the stand-in Responses API, paths rewritten to /home/candidate/work. Bad
input is made from them: other projects' and older sessions' files, half-written lines,
unknown record types, malformed and over-long lines.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from claude_support import make_session

from promptster.integrations.codex import rollout
from promptster.integrations.codex.events import RolloutParser
from promptster.integrations.codex.patch import patch_claims

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codex"
RECORDED_WORKSPACE = "/home/candidate/work"
RUNS = ("rollout-0.169.0-run1.jsonl", "rollout-0.169.0-run2.jsonl")


def fixture_text(name: str, workspace: Path) -> str:
    return (FIXTURES / name).read_text().replace(RECORDED_WORKSPACE, str(workspace))


def day_folder(home: Path) -> Path:
    today = datetime.now(UTC)
    folder = home / "sessions" / f"{today:%Y}" / f"{today:%m}" / f"{today:%d}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def install(home: Path, workspace: Path, name: str, text: str | None = None) -> Path:
    target = day_folder(home) / f"rollout-{name}"
    target.write_text(text if text is not None else fixture_text(name, workspace))
    return target


def parse(text: str, workspace: Path) -> tuple[list[dict[str, Any]], RolloutParser]:
    parser = RolloutParser(str(workspace))
    events: list[dict[str, Any]] = []
    for line in text.splitlines():
        events += parser.record(json.loads(line))
    return events + parser.flush(), parser


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in events]


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """(workspace, session dir with no recorder, CODEX_HOME)."""
    workspace = tmp_path / "work"
    workspace.mkdir()
    home = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(home))
    return workspace, make_session(workspace), home


def test_the_first_run_becomes_the_same_event_kinds_as_claude_code(tmp_path: Path) -> None:
    events, parser = parse(fixture_text(RUNS[0], tmp_path), tmp_path)
    assert not parser.skipped  # every record type of 0.169.0 is known
    assert kinds(events)[0] == "prompt"
    assert events[0]["data"]["text"] == "Please add a mul helper with tests and fix add."
    assert all(e["source"]["integration"] == "codex" for e in events)
    uses = [e["data"] for e in events if e["kind"] == "tool_use"]
    assert [u["toolName"] for u in uses] == ["apply_patch", "Bash", "Bash"]
    claims = uses[0]["edits"]  # parsed from the patch, before the files change
    assert [(c["path"], c.get("created")) for c in claims] == [
        ("mathx.py", True),
        ("test_mathx.py", True),
    ]
    results = [e["data"] for e in events if e["kind"] == "tool_result"]
    assert [r.get("edits", [{}])[0].get("path") for r in results[:1]] == ["mathx.py"]
    (run,) = [e for e in events if e["kind"] == "test_run"]
    assert (run["data"]["failed"], run["data"]["passed"], run["data"]["exitCode"]) == (1, 1, 1)
    assert run["actor"]["type"] == "ai" and run["provenance"]["attribution"] == "likely_ai"
    (reply,) = [e["data"] for e in events if e["kind"] == "ai_response"]
    assert reply["model"] == "standin-model"
    assert (reply["inputTokens"], reply["outputTokens"]) == (4 * 1200, 4 * 40)


def test_the_second_run_has_the_patch_update_and_the_mcp_call(tmp_path: Path) -> None:
    events, _ = parse(fixture_text(RUNS[1], tmp_path), tmp_path)
    patch_use = next(e for e in events if e["data"].get("toolName") == "apply_patch")
    (claim,) = patch_use["data"]["edits"]
    assert claim["path"] == "mathx.py"
    assert claim["edits"][0]["newString"].endswith("return a * b")
    (call,) = [e["data"] for e in events if e["kind"] == "mcp_call"]
    assert (call["server"], call["tool"], call["ok"]) == ("promptster", "capture_decision", True)


def test_ids_are_stable_so_the_watcher_and_the_backfill_agree(tmp_path: Path) -> None:
    first, _ = parse(fixture_text(RUNS[0], tmp_path), tmp_path)
    again, _ = parse(fixture_text(RUNS[0], tmp_path), tmp_path)
    assert [e["id"] for e in first] == [e["id"] for e in again]
    assert len({e["id"] for e in first}) == len(first)


def test_backfill_reads_this_workspace_and_ignores_other_projects(
    session: tuple[Path, Path, Path],
) -> None:
    workspace, session_dir, home = session
    for name in RUNS:
        install(home, workspace, name)
    elsewhere = fixture_text(RUNS[0], Path("/srv/another-project"))
    install(home, workspace, "other-project.jsonl", elsewhere)
    events = rollout.backfill(session_dir, workspace)
    prompts = [e["data"]["text"] for e in events if e["kind"] == "prompt"]
    assert prompts == [
        "Please add a mul helper with tests and fix add.",
        "Thanks, now fix mul.",
    ]
    assert not [e for e in events if e["kind"] == "warning"]
    ids = {e["id"] for e in events}
    assert rollout.backfill(session_dir, workspace, existing_ids=ids) == []


def test_older_sessions_are_ignored(session: tuple[Path, Path, Path]) -> None:
    workspace, session_dir, home = session
    old = install(home, workspace, RUNS[0])
    before = datetime(2026, 1, 1, tzinfo=UTC).timestamp()  # the session started 2026-01-05
    os.utime(old, (before, before))
    assert rollout.backfill(session_dir, workspace) == []
    # A file still written to, whose records predate the session (a resumed conversation).
    late_start = {"startedAt": "2099-01-01T00:00:00.000Z"}
    state = json.loads((session_dir / "session.json").read_text())
    (session_dir / "session.json").write_text(json.dumps({**state, **late_start}))
    install(home, workspace, RUNS[1])
    assert rollout.backfill(session_dir, workspace, homes=[home]) == []


def test_a_half_written_last_line_is_waited_for(session: tuple[Path, Path, Path]) -> None:
    workspace, session_dir, home = session
    text = fixture_text(RUNS[0], workspace)
    cut = len(text) - 40  # inside the last record
    target = install(home, workspace, RUNS[0], text[:cut])
    watcher = rollout.RolloutWatcher(session_dir, workspace)
    first = watcher.poll()
    (tail,) = watcher.tails.values()
    assert tail.partial_tail and first
    with target.open("a") as handle:
        handle.write(text[cut:])
    watcher.last_scan = 0.0
    rest = watcher.poll()
    whole, _ = parse(text, workspace)
    assert [e["id"] for e in first + rest] == [e["id"] for e in whole]
    assert "1 rollout file(s)" in watcher.status()["detail"]


def test_unknown_and_malformed_records_are_counted_and_skipped(
    session: tuple[Path, Path, Path],
) -> None:
    workspace, session_dir, home = session
    lines = fixture_text(RUNS[0], workspace).splitlines()
    later = '{"timestamp":"2026-12-07T13:39:50.000Z",'
    extra = [
        later + '"type":"brand_new_record","payload":{}}',
        later + '"type":"event_msg","payload":'
        '{"type":"item_completed","item":{"type":"Hologram"}}}',
        later + '"type":"response_item","payload":{"type":"teleport_call"}}',
        "this is not json",
        "[1, 2, 3]",
    ]
    install(home, workspace, RUNS[0], "\n".join(lines[:5] + extra + lines[5:]) + "\n")
    events = rollout.backfill(session_dir, workspace)
    (warning,) = [e for e in events if e["kind"] == "warning"]
    assert warning["data"]["code"] == "transcript_skipped"
    assert warning["data"]["recordTypes"] == {
        "brand_new_record": 1,
        "item Hologram": 1,
        "response_item teleport_call": 1,
    }
    assert warning["data"]["malformedLines"] == 2
    whole, _ = parse(fixture_text(RUNS[0], workspace), workspace)
    assert [e["id"] for e in events if e["kind"] != "warning"] == [e["id"] for e in whole]


def test_an_over_long_line_is_skipped_without_reading_it_whole(
    session: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace, session_dir, home = session
    lines = fixture_text(RUNS[0], workspace).splitlines()
    limit = max(len(line.encode()) for line in lines) + 100
    monkeypatch.setattr(rollout, "MAX_LINE", limit)
    huge = json.dumps({"type": "event_msg", "payload": {"type": "x", "blob": "y" * 5 * limit}})
    install(home, workspace, RUNS[0], "\n".join([*lines[:3], huge, *lines[3:]]) + "\n")
    events = rollout.backfill(session_dir, workspace)
    (warning,) = [e for e in events if e["kind"] == "warning"]
    assert warning["data"]["malformedLines"] == 1
    whole, _ = parse(fixture_text(RUNS[0], workspace), workspace)
    assert [e["id"] for e in events if e["kind"] != "warning"] == [e["id"] for e in whole]


def test_the_launcher_home_is_read_too(session: tuple[Path, Path, Path], tmp_path: Path) -> None:
    workspace, session_dir, _ = session
    other = tmp_path / "launcher-home"
    install(other, workspace, RUNS[0])
    assert rollout.backfill(session_dir, workspace) == []
    rollout.note_home(session_dir, other)
    rollout.note_home(session_dir, other)  # noted once
    assert rollout.codex_homes(session_dir)[1:] == [other]
    assert any(e["kind"] == "prompt" for e in rollout.backfill(session_dir, workspace))


def test_patch_claims_cover_moves_deletes_and_outside_paths() -> None:
    text = (
        "*** Begin Patch\n*** Update File: a.py\n*** Move to: b.py\n@@\n-x = 1\n+x = 2\n"
        "*** Delete File: c.py\n*** Add File: /etc/passwd\n+root\n*** End Patch\n"
    )
    claims = patch_claims(text, "/w", "/w")
    assert claims[0]["path"] == "b.py"
    assert claims[0]["edits"] == [{"oldString": "x = 1", "newString": "x = 2", "replaceAll": False}]
    assert (claims[1]["path"], claims[1]["deleted"]) == ("c.py", True)
    assert claims[2]["outsideWorkspace"] is True and "path" not in claims[2]
    assert patch_claims("echo no patch here", "/w") == []
