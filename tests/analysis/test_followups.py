"""Follow-up questions: from the session's own evidence, each citing its events."""

from __future__ import annotations

from analysis_scenarios import Scenario, ada, ben, dee, empty
from moments_kit import events_of

from promptster.analysis.followups import MAX_QUESTIONS, MIN_QUESTIONS, follow_ups


def _rich() -> Scenario:
    """A session with something to ask about on every rule."""
    s = Scenario("rich", "R").prompt(5, "Plan:\n1. read\n2. fix")
    s.add(8, "decision_event", {"title": "Cache in memory", "chosenOption": "dict",
                                "tradeoffs": "lost on restart vs no Redis to run",
                                "rationale": "simple", "capturedVia": "mcp"})  # fmt: skip
    s.change(10, "file_create", "src/cache.py", 80, 0, "likely_ai")
    s.prompt(20, "now wire it in")
    s.change(25, "file_diff", "src/cache.py", 3, 12, "likely_human")
    for at in (30, 40, 50):
        s.command(at, "python -m app", 1)
    s.test_run(60, "pytest -q", passed=1, failed=1)
    s.change(70, "file_diff", "src/app.py", 4, 1, "likely_human")
    s.test_run(80, "pytest -q", passed=2, failed=0)
    return s


def test_each_rule_gives_a_question_citing_its_events() -> None:
    events = events_of(_rich())
    questions = follow_ups(events)
    assert MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS
    sources = [q.source for q in questions]
    assert sources[:5] == ["decision", "untested_ai_edit", "stuck_loop", "rewrote_ai", "fix"]
    decision = questions[0]
    assert "lost on restart vs no Redis to run" in decision.question
    assert decision.focus_area == "technical_decisions"
    assert "`python -m app` failed 3 times" in questions[2].question
    by_seq = {e.seq: e.id for e in events.events}
    for q in questions:
        assert q.seqs and q.ids == tuple(by_seq[seq] for seq in q.seqs)


def test_fallbacks_fill_up_to_five_from_real_evidence() -> None:
    questions = follow_ups(events_of(ben()))
    assert len(questions) == MIN_QUESTIONS
    sources = {q.source for q in questions}
    assert {"no_test_run", "failed_command", "most_changed_file"} <= sources
    assert all(q.seqs for q in questions)


def test_never_more_than_eight_and_never_invented() -> None:
    s = _rich()
    for i in range(6):
        s.add(100 + i, "decision_event", {"title": f"d{i}", "chosenOption": "x",
                                          "rationale": "r", "capturedVia": "cli"})  # fmt: skip
    for at in (110, 111, 112):
        s.command(at, "make lint", 2)  # a second stuck loop: nine questions before the cap
    questions = follow_ups(events_of(s))
    assert len(questions) == MAX_QUESTIONS
    assert sum(q.source == "decision" for q in questions) == 2  # two of a kind at most
    assert follow_ups(events_of(empty())) == []


def test_the_same_timeline_gives_the_same_questions() -> None:
    for make in (ada, dee):
        first = [q.to_json_obj() for q in follow_ups(events_of(make()))]
        assert first == [q.to_json_obj() for q in follow_ups(events_of(make()))]
