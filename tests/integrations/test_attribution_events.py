"""Attribution fed by the events the Claude Code hook writes, as the recorder will feed it."""

from __future__ import annotations

from typing import Any

from promptster.formats.events import make_event
from promptster.integrations.claude import events as ce
from promptster.integrations.claude import tool_events as cte
from promptster.record.attribution.events import (
    EventAttributor,
    attribute_timeline,
    lines_from_diff,
)

WS = "/home/candidate/work"


def at(second: int) -> ce.Context:
    return ce.Context(lane="lane", workspace=WS, cwd=WS, ts=f"2026-01-05T09:00:{second:02d}.000Z")


def file_event(second: int, path: str, diff: str) -> dict[str, Any]:
    event = make_event(
        "file_diff",
        {"path": path, "commit": f"c{second}", "linesAdded": 0, "linesRemoved": 0, "diff": diff},
        channel="watcher",
        integration="promptster",
        emitter="promptster-recorder",
        ts=f"2026-01-05T09:00:{second:02d}.500Z",
    )
    return event.to_dict()


def test_lines_from_diff() -> None:
    diff = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n keep\n-old\n+new\n+--- not a header\n"
    assert lines_from_diff(diff) == (["new", "--- not a header"], ["old"])


def test_a_session_of_hook_events() -> None:
    edit_input = {"file_path": f"{WS}/calc.py", "old_string": "a - b", "new_string": "a + b"}
    events: list[dict[str, Any]] = [
        *cte.tool_use_events(
            at(1), "Write", "t1", {"file_path": f"{WS}/util.py", "content": "x = 1\n"}
        ),
        file_event(1, "util.py", "+x = 1"),
        *cte.tool_result_events(at(2), "Write", "t1", {"file_path": f"{WS}/util.py"}, {}),
        file_event(20, "notes.md", "+my own note"),
        *cte.tool_use_events(at(30), "Edit", "t2", edit_input),
        *cte.tool_result_events(at(30), "Edit", "t2", edit_input, {"userModified": False}),
        file_event(30, "calc.py", "-    return a - b\n+    return a + b"),
        *cte.tool_use_events(at(40), "Bash", "t3", {"command": "python gen.py"}),
        file_event(41, "generated.py", "+GENERATED = True"),
        *cte.tool_result_events(
            at(42), "Bash", "t3", {"command": "python gen.py"}, {"stdout": "", "stderr": ""}
        ),
        file_event(55, "calc.py", "-    return a + b\n+    return b + a  # I prefer this"),
    ]

    def lines(event: Any) -> tuple[list[str], list[str]]:
        return lines_from_diff(event["data"]["diff"])

    verdicts = attribute_timeline(events, WS, lines)
    got = [(v.path, v.attribution, v.ai_lines, v.human_lines) for v in verdicts.values()]
    assert got == [
        ("util.py", "likely_ai", 1, 0),
        ("notes.md", "likely_human", 0, 1),
        ("calc.py", "likely_ai", 1, 0),
        ("generated.py", "likely_ai", 1, 0),
        ("calc.py", "ai_revised_by_human", 0, 1),
    ]


def test_annotate_sets_the_file_event_fields() -> None:
    attributor = EventAttributor(WS)
    for event in cte.tool_use_events(
        at(1), "Write", "t1", {"file_path": f"{WS}/a.py", "content": "y = 2\n"}
    ):
        attributor.observe(event)
    event = make_event(
        "file_create",
        {"path": "a.py", "commit": "c1", "linesAdded": 1, "linesRemoved": 0},
        channel="watcher",
        integration="promptster",
        emitter="promptster-recorder",
        ts="2026-01-05T09:00:01.400Z",
    )
    attributor.annotate(event, ["y = 2"], [])
    assert event.provenance["attribution"] == "likely_ai"
    assert event.provenance["confidence"] == 0.95
    assert event.actor == {"type": "ai"}
    assert (event.data["aiLines"], event.data["humanLines"]) == (1, 0)


def test_user_modified_and_changed_files() -> None:
    attributor = EventAttributor(WS)
    edit_input = {"file_path": f"{WS}/a.py", "old_string": "n = 1", "new_string": "n = 10"}
    for event in [
        *cte.tool_use_events(at(1), "Edit", "t1", edit_input),
        *cte.tool_result_events(at(1), "Edit", "t1", edit_input, {"userModified": True}),
        *cte.tool_use_events(at(5), "Bash", "t2", {"command": "make"}),
        *cte.tool_result_events(
            at(6),
            "Bash",
            "t2",
            {"command": "make"},
            {"stdout": "", "bashEditDiff": {"changedFiles": [f"{WS}/build/out.txt"]}},
        ),
    ]:
        attributor.observe(event)
    from datetime import UTC, datetime

    def t(second: float) -> datetime:
        return datetime(2026, 1, 5, 9, 0, tzinfo=UTC).replace(second=int(second))

    modified = attributor.verdict("a.py", "c1", ["n = 20"], ["n = 1"], t(2))
    assert modified.attribution == "ai_revised_by_human"
    built = attributor.verdict("build/out.txt", "c2", ["artifact"], [], t(6))
    other = attributor.verdict("src/mine.py", "c2", ["typed meanwhile"], [], t(6))
    assert (built.attribution, other.attribution) == ("likely_ai", "likely_human")


def test_a_proposal_that_never_ran_is_withdrawn_at_the_turn_end() -> None:
    from datetime import UTC, datetime

    attributor = EventAttributor(WS)
    proposal = {"file_path": f"{WS}/app.py", "content": "import logging\n"}
    for event in cte.tool_use_events(at(1), "Write", "t1", proposal):
        attributor.observe(event)
    turn_end = make_event(
        "ai_response",
        {"text": "ok, I will not", "lane": "lane"},
        channel="hook",
        integration="claude-code",
        emitter="promptster-hook",
        actor="ai",
        ts="2026-01-05T09:00:03.000Z",
    )
    attributor.observe(turn_end)
    when = datetime(2026, 1, 5, 9, 0, 4, tzinfo=UTC)
    verdict = attributor.verdict("app.py", "c1", ["import logging"], [], when)
    assert verdict.attribution == "likely_human"


def test_a_large_unexplained_block_is_flagged_as_a_likely_paste() -> None:
    attributor = EventAttributor(WS)
    event = make_event(
        "file_create",
        {"path": "pasted.py", "commit": "c1", "linesAdded": 30, "linesRemoved": 0},
        channel="watcher",
        integration="promptster",
        emitter="promptster-recorder",
        ts="2026-01-05T09:10:00.000Z",
    )
    attributor.annotate(event, [f"value_{i} = compute({i})" for i in range(30)], [])
    assert event.provenance["attribution"] == "unknown"
    assert event.provenance.get("likelyPaste") is True
    small = make_event(
        "file_create",
        {"path": "typed.py", "commit": "c2", "linesAdded": 3, "linesRemoved": 0},
        channel="watcher",
        integration="promptster",
        emitter="promptster-recorder",
        ts="2026-01-05T09:11:00.000Z",
    )
    attributor.annotate(small, ["a = 1", "b = 2", "c = 3"], [])
    assert small.provenance["attribution"] == "likely_human"
    assert "likelyPaste" not in small.provenance
