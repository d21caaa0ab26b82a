"""Who made a git_action: an AI tool's shell command running at the reflog's time, or the
candidate (their own git in the recorded shell, another terminal or an editor)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from promptster.record.attribution.engine import Attributor, CommandWindow
from promptster.record.attribution.live import Attribution
from promptster.record.files.gitwatch import parse_reflog_line, reflog_time

LINE = (
    "1111111111111111111111111111111111111111 2222222222222222222222222222222222222222 "
    "Ada <ada@example.org> 1764590400 +0100\tcommit: Fix add"
)


def test_the_reflog_line_gives_its_time() -> None:
    assert reflog_time(LINE) == datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
    assert parse_reflog_line(LINE) == {"action": "commit", "commit": "2" * 40, "message": "Fix add"}
    assert reflog_time("garbage") is None


def test_an_ai_command_window_makes_it_the_ais() -> None:
    at = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
    attributor = Attributor()
    attributor.add_window(CommandWindow(at - timedelta(seconds=3), at + timedelta(seconds=1)))
    assert attributor.ai_command_at(at)
    assert attributor.ai_command_at(at + timedelta(seconds=2))  # the reflog's whole seconds
    assert not attributor.ai_command_at(at + timedelta(seconds=5))


def test_without_an_ai_command_it_is_the_candidates() -> None:
    attribution = Attribution("/work")
    at = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
    assert attribution.git_actor(at) == "human"
    running = {
        "kind": "tool_use",
        "ts": (at - timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
        "data": {"toolName": "Bash", "toolUseId": "tu-1", "input": {"command": "git commit"}},
    }
    attribution._engine.observe(running)
    assert attribution.git_actor(at) == "ai"
