"""The engine's use of the `commandWrites` evidence (hand saves during an AI command), and
claims read by their time, not their place in the journal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from promptster.formats.events import make_event
from promptster.integrations.claude import events as ce
from promptster.integrations.claude import tool_events as cte
from promptster.record.attribution.engine import (
    DIRTY_WINDOW,
    Attributor,
    CommandCounts,
    CommandWindow,
    FileChange,
    WriteEvidence,
)
from promptster.record.attribution.events import (
    attribute_timeline,
    in_time_order,
    write_evidence,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WS = "/home/candidate/work"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def change(
    t: float,
    path: str,
    added: list[str],
    writes: WriteEvidence | None = None,
    commit: str | None = None,
) -> FileChange:
    return FileChange(path, commit or f"c{t}", tuple(added), (), at(t), writes=writes)


def writes(
    needed: int, written: int, dirtied: int | None = None, idle: bool | None = None
) -> WriteEvidence:
    return WriteEvidence(needed, (CommandCounts("b1", written, dirtied, idle),))


def attributor(start: float = 10, end: float | None = None) -> Attributor:
    engine = Attributor()
    engine.add_window(CommandWindow(at(start), at(end) if end is not None else None, "b1"))
    return engine


def test_a_save_the_command_did_not_write_enough_for_is_the_candidates() -> None:
    engine = attributor()
    verdict = engine.attribute(change(12, "todo.md", ["- check the report"], writes(19, 600, 0)))
    assert verdict.attribution == "likely_human" and verdict.line_labels == ("human",)
    # the command's own file: its pages were counted
    verdict = engine.attribute(change(15, "report.txt", ["rows: 3"], writes(8, 800, 4096)))
    assert verdict.attribution == "likely_ai" and verdict.tool_use_ids == ("b1",)


def test_without_evidence_or_for_another_command_the_window_decides_as_before() -> None:
    engine = attributor()
    assert engine.attribute(change(12, "a.md", ["one line here"])).attribution == "likely_ai"
    other = WriteEvidence(19, (CommandCounts("b0", 0, 0),))
    assert engine.attribute(change(13, "b.md", ["two lines here"], other)).line_labels == ("shell",)


def test_a_file_modified_while_the_command_wrote_nothing_is_not_the_commands() -> None:
    engine = attributor()
    # 5 kB written (its shell's start-up, a log) and pages dirtied, but none of it around the
    # moment the file was saved
    verdict = engine.attribute(change(12, "todo.md", ["- ask"], writes(6, 5000, 8192, idle=True)))
    assert verdict.attribution == "likely_human"
    busy = engine.attribute(change(13, "out.md", ["- gen"], writes(6, 5000, 8192, idle=False)))
    assert busy.attribution == "likely_ai"


def test_a_command_writing_a_big_file_in_its_window_stays_the_ais() -> None:
    engine = attributor()
    big = [f"row {i:04d}: qty={i}" for i in range(300)]
    verdict = engine.attribute(change(12, "rows.txt", big, writes(12_330, 25_324, 16_384)))
    assert verdict.attribution == "likely_ai" and verdict.ai_lines == 300


def test_dirtied_pages_count_only_for_a_file_that_was_not_changed_just_before() -> None:
    engine = Attributor()
    engine.attribute(change(0, "notes.md", ["first words here"]))  # pages may still be dirty
    start = 30.0
    engine.add_window(CommandWindow(at(start), None, "b1"))
    # no page counted, but 5 kB written: an append into a dirty page is possible
    verdict = engine.attribute(change(32, "notes.md", ["more words here"], writes(16, 5000, 0)))
    assert verdict.attribution == "likely_ai"
    quiet = Attributor()
    quiet.attribute(change(0, "notes.md", ["first words here"]))
    late = DIRTY_WINDOW.total_seconds() + 10
    quiet.add_window(CommandWindow(at(late), None, "b1"))
    verdict = quiet.attribute(change(late + 2, "notes.md", ["more words"], writes(16, 5000, 0)))
    assert verdict.attribution == "likely_human"


def test_bytes_that_explain_earlier_snapshots_are_spent() -> None:
    engine = attributor()
    first = engine.attribute(change(12, "gen.py", ["GENERATED = 1"], writes(900, 1000)))
    assert first.attribution == "likely_ai"
    # 1000 written in all, 900 of them for gen.py: a 200-byte save is not the command's
    later = engine.attribute(change(14, "mine.md", ["typed by me"], writes(200, 1000)))
    assert later.attribution == "likely_human"
    # changes of one snapshot are not charged against each other
    same = attributor()
    same.attribute(change(12, "gen.py", ["GENERATED = 1"], writes(900, 1000), commit="c"))
    verdict = same.attribute(change(12, "mine.md", ["typed by me"], writes(200, 1000), commit="c"))
    assert verdict.attribution == "likely_ai"


def test_the_evidence_is_read_from_the_event_and_bad_shapes_are_ignored() -> None:
    data: dict[str, Any] = {
        "commandWrites": {
            "bytesNeeded": 40,
            "modifiedAt": "2026-03-01T09:00:12.000Z",
            "commands": {
                "b1": {"written": 664, "dirtied": 0, "idleWhenModified": True},
                "b0": {"written": 9, "idleWhenModified": "yes"},
            },
        }
    }
    assert write_evidence(data) == WriteEvidence(
        40, (CommandCounts("b1", 664, 0, True), CommandCounts("b0", 9))
    )
    assert write_evidence({}) is None
    assert write_evidence({"commandWrites": {"bytesNeeded": -1, "commands": {}}}) is None
    assert write_evidence({"commandWrites": {"bytesNeeded": 4, "commands": []}}) is None
    odd = {"commandWrites": {"bytesNeeded": 4, "commands": {"b1": "x", "b2": {"written": 1.5}}}}
    assert write_evidence(odd) == WriteEvidence(4, ())


def _ts(seconds: float) -> str:
    return at(seconds).isoformat().replace("+00:00", "Z")


def _ctx(seconds: float) -> ce.Context:
    return ce.Context(lane="lane", workspace=WS, cwd=WS, ts=_ts(seconds))


def _file_event(seconds: float, path: str) -> dict[str, Any]:
    return make_event(
        "file_create",
        {"path": path, "commit": f"c{seconds}"},
        channel="watcher",
        integration="promptster",
        emitter="promptster-recorder",
        ts=_ts(seconds),
    ).to_dict()


def test_a_claim_journaled_after_its_snapshot_still_explains_it() -> None:
    content = "def mean(values):\n    return sum(values) / len(values)\n"
    tool_input = {"file_path": f"{WS}/stats.py", "content": content}
    use = cte.tool_use_events(_ctx(10), "Write", "t1", tool_input)
    result = cte.tool_result_events(_ctx(10.4), "Write", "t1", tool_input, {})
    snapshot = _file_event(10.2, "stats.py")
    # the hook's delivery went through the spool: both reached the journal after the snapshot
    events = [snapshot, *use, *result]
    lines: dict[str, tuple[list[str], list[str]]] = {snapshot["id"]: (content.splitlines(), [])}
    verdicts = attribute_timeline(events, WS, lambda e: lines[e["id"]])
    assert verdicts[snapshot["id"]].attribution == "likely_ai"
    assert [e["kind"] for e in in_time_order(events)] == ["tool_use", "tool_result", "file_create"]


def _prompt(seconds: float) -> dict[str, Any]:
    return ce.prompt_event(_ctx(seconds), f"prompt at {seconds}")


def test_events_are_read_by_time_but_never_long_before_their_snapshot() -> None:
    early = _file_event(5, "a.py")
    late_prompt, near = _prompt(60), _prompt(8)
    untimed = dict(near, ts="not a time", id="untimed")
    second = _file_event(30, "b.py")
    order = [e["id"] for e in in_time_order([late_prompt, early, untimed, near, second])]
    # within CLAIM_SKEW after a change an event comes before it; an untimed one comes first
    assert order == [untimed["id"], near["id"], early["id"], second["id"], late_prompt["id"]]


def test_an_ai_event_read_early_does_not_explain_a_paste_before_it() -> None:
    """At submit, events up to CLAIM_SKEW after a change are read before it: an AI event that
    came after a paste must not make it look like AI activity before the paste."""
    block = [f"value_{i} = compute({i})" for i in range(30)]
    snapshot = _file_event(100, "pasted.py")
    events = [snapshot, _prompt(102)]
    lines: dict[str, tuple[list[str], list[str]]] = {snapshot["id"]: (block, [])}
    verdict = attribute_timeline(events, WS, lambda e: lines[e["id"]])[snapshot["id"]]
    assert verdict.likely_paste and verdict.attribution == "unknown"
    earlier = [_prompt(90), snapshot]  # an AI event 10 s before: not a paste
    verdict = attribute_timeline(earlier, WS, lambda e: lines[e["id"]])[snapshot["id"]]
    assert not verdict.likely_paste
