"""Aider's files read while it writes them: half-written entries wait, history from before the
session is ignored, a truncated file is read again, an over-long line is skipped, and only
Aider's own edit commits are the AI's."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from claude_support import make_session

from promptster.integrations.aider import adapter, tail
from promptster.integrations.aider.commits import Commit
from promptster.integrations.aider.history import ChatState, parse_chat, parse_input
from promptster.integrations.copilot.transcript import last_turn
from promptster.integrations.gemini.transcript import turn_usage

Json = dict[str, Any]
CHAT = """
# aider chat started at 2026-12-07 13:39:50

> Model: openai/standin with diff edit format$

#### fix add$

I'll fix it.

calc.py
```python
<<<<<<< SEARCH
    return a - b
=======
    return a + b
>>>>>>> REPLACE
```

> Tokens: 2.5k sent, 64 received.$
> Applied edit to calc.py$
> Commit 5ff3d44 fix add$
""".replace("$\n", "  \n")  # Aider ends status lines with two spaces


def git(ws: Path, *args: str, env: dict[str, str] | None = None) -> None:
    import os

    subprocess.run(
        ["git", "-C", str(ws), *args],
        check=True,
        capture_output=True,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PROMPTSTER_SESSION_DIR", raising=False)
    folder = tmp_path / "work"
    folder.mkdir()
    git(folder, "init", "-q")
    git(folder, "config", "user.name", "Candidate")
    git(folder, "config", "user.email", "c@example.com")
    (folder / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "starter")
    make_session(folder)
    return folder


def poll(ws: Path) -> list[Json]:
    return adapter.poll(ws / ".promptster", ws)


def test_input_history_half_written_and_repeats() -> None:
    text = "\n# 2026-12-07 13:31:26.387731\n+create hello.py\n\n# 2026-12-07 13:31:26.3877"
    entries, consumed = parse_input(text)
    assert [e.text for e in entries] == ["create hello.py"]
    assert text[consumed:] == "\n# 2026-12-07 13:31:26.3877"
    multi = "\n# 2026-12-07 13:31:27\n+line one\n+line two\n"
    assert [e.text for e in parse_input(multi)[0]] == ["line one\nline two"]


def test_chat_reply_waits_for_its_status_line() -> None:
    cut = CHAT.index("> Tokens")
    partial = parse_chat(CHAT[:cut], ChatState())
    assert partial.replies == []
    whole = parse_chat(CHAT, ChatState())
    (reply,) = whole.replies
    assert reply.text.startswith("I'll fix it.") and reply.model == "openai/standin"
    assert (reply.input_tokens, reply.output_tokens, reply.approximate) == (2500, 64, True)
    (edit,) = whole.edits
    assert (edit.path, edit.old, edit.new) == ("calc.py", "    return a - b", "    return a + b")


def test_poll_reads_only_what_came_after_setup(ws: Path) -> None:
    (ws / ".aider.input.history").write_text("\n# 2026-01-01 10:00:00\n+old prompt\n")
    adapter.setup(ws)
    assert poll(ws) == []
    with (ws / ".aider.input.history").open("a") as handle:
        handle.write("\n# 2026-12-07 13:39:50.1\n+fix add\n")
        handle.write("\n# 2026-12-07 13:39:50.2\n+fix add\n")  # Aider logs --message twice
        handle.write("\n# 2026-12-07 13:39:51.0\n+and the")  # still being written
    (ws / ".aider.chat.history.md").write_text(CHAT)
    events = poll(ws)
    kinds = [e["kind"] for e in events]
    assert kinds == ["prompt", "ai_response", "tool_use", "tool_result"]
    assert events[0]["data"]["text"] == "fix add"
    assert events[1]["data"]["tokensApproximate"] is True
    assert events[3]["data"]["edit"]["path"] == "calc.py"
    with (ws / ".aider.input.history").open("a") as handle:
        handle.write(" tests\n")
    assert [e["data"]["text"] for e in poll(ws)] == ["and the tests"]


def test_truncated_history_and_overlong_lines(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    adapter.setup(ws)
    (ws / ".aider.input.history").write_text("\n# 2026-12-07 13:00:00\n+first\n")
    assert len(poll(ws)) == 1
    (ws / ".aider.input.history").write_text("\n# 2026-12-07 14:00:00\n+x\n")  # replaced
    assert [e["data"]["text"] for e in poll(ws)] == ["x"]
    monkeypatch.setattr(tail, "CHUNK", 64)
    with (ws / ".aider.input.history").open("a") as handle:
        handle.write("\n# 2026-12-07 14:01:00\n+" + "y" * 500)  # no newline, over a chunk
    for _ in range(20):
        poll(ws)
    with (ws / ".aider.input.history").open("a") as handle:
        handle.write("\n\n# 2026-12-07 14:02:00\n+after\n")
    assert [e["data"]["text"] for e in poll(ws)] == ["after"]


def test_only_aiders_own_edit_commits_are_claimed(ws: Path) -> None:
    adapter.setup(ws)
    (ws / "notes.txt").write_text("by hand\n")
    git(ws, "add", ".")
    git(ws, "commit", "-qm", "dirty changes", env={"GIT_COMMITTER_NAME": "Candidate (aider)"})
    (ws / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    git(ws, "commit", "-qam", "fix add\n\nCo-authored-by: aider (openai/x) <aider@aider.chat>")
    (ws / "mul.py").write_text("def mul(a, b):\n    return a * b\n")
    git(ws, "add", ".")
    git(ws, "commit", "-qm", "add mul", env={"GIT_AUTHOR_NAME": "Candidate (aider)"})
    events = poll(ws)
    claims = [e["data"]["edit"] for e in events if e["kind"] == "tool_result"]
    assert [(c["path"], c["newString"]) for c in claims] == [
        ("calc.py", "    return a + b"),
        ("mul.py", "def mul(a, b):\n    return a * b"),
    ]
    assert poll(ws) == []  # each commit once


def test_commit_marks() -> None:
    trailer = Commit("a", "Cand", "Cand", "x\n\nCo-authored-by: aider (gpt) <aider@aider.chat>")
    assert trailer.by_aider
    assert Commit("b", "Cand (aider)", "Cand (aider)", "x").by_aider
    dirty = Commit("c", "Cand", "Cand (aider)", "x")
    assert not dirty.by_aider and dirty.committed_by_aider


def test_transcripts_skip_half_written_and_unknown_records(tmp_path: Path) -> None:
    gemini = tmp_path / "session.jsonl"
    gemini.write_text(
        '{"sessionId": "s"}\n'
        '{"id": "u", "type": "user", "content": [{"text": "hi"}]}\n'
        '{"type": "future_kind", "x": 1}\n'
        '{"id": "m", "type": "gemini", "content": "yo", "model": "g", '
        '"tokens": {"input": 5, "output": 2}}\n'
        '{"id": "m2", "type": "gem'
    )
    assert turn_usage(str(gemini)) == ("g", {"input_tokens": 5, "output_tokens": 2})
    assert turn_usage(str(tmp_path / "missing.jsonl")) is None
    copilot = tmp_path / "events.jsonl"
    copilot.write_text(
        '{"type": "user.message", "data": {"content": "hi"}}\n'
        '{"type": "mystery", "data": {}}\n'
        '{"type": "session.usage_record", "data": {"usage": {"inputTokens": 7, '
        '"outputTokens": 3}}}\n'
        '{"type": "assistant.message", "data": {"content": "done", "model": "m"}}\n'
        '{"type": "assistant.mess'
    )
    assert last_turn(str(copilot)) == ("done", "m", {"input_tokens": 7, "output_tokens": 3})
