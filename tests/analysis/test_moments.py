"""Key-moment detectors, one by one, on timelines built from hand-written scenarios."""

from __future__ import annotations

import re
from pathlib import Path

from analysis_scenarios import Scenario, ada, ben, dee
from moments_kit import events_of, timeline_bytes

from promptster.analysis import moments as km
from promptster.analysis.session_events import read_events


def kinds(s: Scenario, limit: int | None = None) -> list[str]:
    return [m.kind for m in km.key_moments(events_of(s, limit))]


def test_first_prompt_with_a_plan_in_it() -> None:
    s = Scenario("plan", "P").prompt(5, "Plan:\n1. read service.py\n2. reproduce\n3. fix it")
    (moment,) = km.first_prompt(events_of(s))
    assert moment.title == "First prompt (with a plan)"
    assert moment.detail["plan"] is True and moment.seqs == (1,)
    bare = Scenario("bare", "B").prompt(5, "fix it")
    (moment,) = km.first_prompt(events_of(bare))
    assert moment.detail["plan"] is False and moment.title == "First prompt (no plan)"
    assert km.first_prompt(events_of(Scenario("none", "N").command(5, "ls"))) == []


def test_a_planning_event_before_the_first_change_counts_as_the_plan() -> None:
    (moment,) = km.first_prompt(events_of(dee()))
    assert moment.title == "First prompt (then a plan)"
    assert moment.seqs == (1, 2)  # the prompt and the TodoWrite plan


def test_first_failing_run_and_the_fix_that_made_it_pass() -> None:
    first, fix = km.first_failure_and_fix(events_of(ada()))
    assert first.kind == "first_failure" and first.seqs == (4,)
    assert "1 failing, 3 passing" in first.summary
    assert fix.kind == "fix" and fix.seqs == (4, 6, 8)  # red run, the AI's change, green run
    assert fix.detail["changes"] == 1 and fix.detail["aiChanges"] == 1
    assert fix.detail["paths"] == ["src/app/service.py"]


def test_a_failure_never_fixed_has_no_fix() -> None:
    s = Scenario("red", "R").test_run(10, "pytest -q", passed=1, failed=2)
    assert [m.kind for m in km.first_failure_and_fix(events_of(s))] == ["first_failure"]
    assert km.first_failure_and_fix(events_of(Scenario("g", "G").test_run(5, "pytest", 3, 0))) == []


def test_stuck_loop_needs_three_failures_of_the_same_command() -> None:
    s = Scenario("loop", "L")
    for at in (10, 20, 30):
        s.command(at, "python  -m app", 1)  # whitespace does not make it another command
    s.command(25, "ls")  # another command in between does not break the streak
    (loop,) = km.stuck_loops(events_of(s))
    assert loop.detail["repeats"] == 3 and loop.detail["command"] == "python -m app"
    assert len(loop.seqs) == 3
    assert km.stuck_loops(events_of(ben())) == []  # ben's command failed only twice


def test_a_success_between_failures_breaks_the_loop() -> None:
    s = Scenario("broken", "B")
    s.command(10, "make", 2).command(20, "make", 2).command(30, "make", 0).command(40, "make", 2)
    assert km.stuck_loops(events_of(s)) == []


def test_a_large_ai_edit_kept_without_a_test_run() -> None:
    s = Scenario("untested", "U").prompt(5, "write the parser")
    s.change(10, "file_create", "src/parse.py", 60, 0, "likely_ai")
    s.prompt(20, "now the CLI")
    s.change(30, "file_create", "src/cli.py", 45, 0, "likely_ai")
    s.test_run(40, "pytest -q", passed=3, failed=0)  # checks the second edit, not the first
    s.change(50, "file_diff", "src/small.py", 5, 1, "likely_ai")  # small: never flagged
    (moment,) = km.untested_ai_edits(events_of(s))
    assert moment.detail == {"path": "src/parse.py", "lines": 60}
    assert moment.seqs == (2,)


def test_rewriting_and_reverting_ai_output_by_hand() -> None:
    s = Scenario("rewrite", "W")
    s.change(10, "file_diff", "a.py", 10, 0, "likely_ai")
    s.change(20, "file_diff", "a.py", 2, 4, "likely_human")  # rewrote part of it
    s.change(30, "file_diff", "b.py", 6, 0, "likely_ai")
    s.change(40, "file_diff", "b.py", 0, 6, "likely_human")  # took it all out
    s.change(50, "file_diff", "c.py", 1, 2, "likely_human")  # no AI change before: not one
    found = km.rewrites_of_ai(events_of(s))
    assert [(m.detail["path"], m.detail["reverted"]) for m in found] == [
        ("a.py", False),
        ("b.py", True),
    ]
    assert found[0].seqs == (1, 2) and found[0].title == "Rewrote AI output by hand"
    assert found[1].title == "Reverted AI output by hand"


def test_a_git_revert_after_an_ai_change() -> None:
    s = Scenario("revert", "V").change(10, "file_diff", "a.py", 10, 0, "likely_ai")
    s.add(20, "git_action", {"action": "restore", "ref": "a.py"})
    (moment,) = km.rewrites_of_ai(events_of(s))
    assert moment.title == "git restore after an AI change" and moment.seqs == (1, 2)


def test_every_decision_is_a_moment() -> None:
    (moment,) = km.decisions(events_of(ada()))
    assert moment.detail["decisionTitle"] == "Validate quantities in the service layer"
    assert moment.detail["impact"] == 4 and moment.summary.endswith("chose service")


def test_idle_gaps_of_ten_minutes_or_more() -> None:
    s = Scenario("idle", "I").command(10, "ls").command(10 + 9 * 60, "ls")  # 9 min: no gap
    s.command(10 + 9 * 60 + 600, "pwd")  # exactly 10 min: a gap
    (gap,) = km.idle_gaps(events_of(s))
    assert gap.detail["gapMs"] == 600_000 and gap.seqs == (2, 3)
    assert gap.title == "Idle for 10 min"


def test_last_minute_rush_in_the_last_tenth_of_the_time_limit() -> None:
    s = Scenario("rush", "R").change(60, "file_diff", "a.py", 10, 0, "likely_human")
    for at in (55 * 60, 56 * 60, 57 * 60):  # the last 6 minutes of a 60-minute limit
        s.change(at, "file_diff", "b.py", 10, 0, "likely_human")
    (rush,) = km.last_minute_rush(events_of(s, time_limit_minutes=60))
    assert rush.detail == {"changes": 3, "share": 0.75, "windowMs": 360_000}
    # the same changes with a 120-minute limit are not in its last tenth
    assert km.last_minute_rush(events_of(s, time_limit_minutes=120)) == []
    # a session shorter than 10 minutes has no last minute to rush in
    assert km.last_minute_rush(events_of(dee())) == []


def test_moments_are_in_time_order_and_deterministic() -> None:
    assert kinds(ada()) == ["first_prompt", "first_failure", "fix", "decision"]
    first = [m.to_json_obj() for m in km.key_moments(events_of(dee()))]
    assert first == [m.to_json_obj() for m in km.key_moments(events_of(dee()))]
    offsets = [int(str(m["offsetMs"])) for m in first]
    assert offsets == sorted(offsets)


def test_moments_cite_event_ids_of_the_timeline() -> None:
    events = events_of(ada())
    ids = {e.seq: e.id for e in events.events}
    ids.update((e.seq, e.id) for gap in events.gaps for e in gap)  # any kind borders a gap
    for moment in km.key_moments(events):
        assert moment.ids == tuple(ids[seq] for seq in moment.seqs)


def test_a_nested_kind_or_id_in_data_does_not_mislead_the_scan() -> None:
    s = Scenario("nested", "N")
    s.add(5, "tool_use", {"toolName": "Bash", "input": {"id": "ffffffff", "kind": "prompt"}})
    s.prompt(10, "hello")
    s.add(700, "note", {"text": "back", "id": "eeeeeeee"})  # an idle gap before it
    read = read_events(timeline_bytes(s))
    assert [e.kind for e in read.events] == ["session_start", "prompt"]  # the decoded kinds
    assert read.kind_counts == {"session_start": 1, "tool_use": 1, "prompt": 1, "note": 1}
    ((_, after),) = read.gaps
    assert after.kind == "note" and after.id != "eeeeeeee" and after.data == {}  # not decoded


def test_only_the_fields_the_detectors_read_are_kept() -> None:
    """Each event keeps just KEPT_FIELDS of its data (a million events must fit the
    reviewer's memory): every field a detector reads by name must be among them."""
    from promptster.analysis import session_events

    read = re.compile(r"""\.(?:text|number)\(['"](\w+)['"]\)|data\.get\(['"](\w+)['"]\)""")
    root = Path(session_events.__file__).parent
    names = ("moments", "followups", "fluency", "fluency_judge", "narrative", "aids")
    used = {
        a or b for name in names for a, b in read.findall((root / f"{name}.py").read_text("utf-8"))
    }
    assert used and used <= set(session_events.KEPT_FIELDS), used - set(session_events.KEPT_FIELDS)


def test_the_report_collector_reads_what_read_events_reads() -> None:
    """The report builds its events from its own digest of the timeline (one decode): the
    moments must be the same as from `read_events`."""
    from promptster.analysis.session_events import Collector
    from promptster.report.timeline_data import digest_timeline

    for make in (ada, ben, dee):
        timeline = timeline_bytes(make(), time_limit_minutes=30)
        collector = Collector()
        digest_timeline(timeline, None, collector.add)
        from_digest = [m.to_json_obj() for m in km.key_moments(collector.result())]
        assert from_digest == [m.to_json_obj() for m in km.key_moments(read_events(timeline))]
