"""Follow-up interview questions from a session's own evidence (docs/key-moments.md).

Each question comes from one key moment or one piece of evidence (a decision's trade-offs,
an AI edit kept untested, a command that failed again and again, a file rewritten by hand)
and cites the events it rests on. Rules run in a fixed order of how much a question tells an
interviewer; at most MAX_QUESTIONS are kept, and evidence-based fallbacks (the file changed
most, the last test run, the longest prompt) fill up to MIN_QUESTIONS when the session has
that much to ask about. Deterministic: the same timeline gives the same questions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from promptster.analysis.moments import MAX_CITED, Moment, key_moments, minutes, short
from promptster.analysis.session_events import Ev, SessionEvents
from promptster.formats.jsonio import JsonValue

FocusArea = Literal[
    "technical_decisions", "testing_strategy", "architecture", "debugging", "communication"
]
Difficulty = Literal["easy", "medium", "hard"]
MIN_QUESTIONS, MAX_QUESTIONS = 5, 8
FORMAT_VERSION = 1


@dataclass(frozen=True)
class FollowUp:
    question: str
    context: str
    focus_area: FocusArea
    difficulty: Difficulty
    source: str  # the moment kind or fallback that produced it
    seqs: tuple[int, ...]
    ids: tuple[str, ...]

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "question": self.question,
            "context": self.context,
            "focusArea": self.focus_area,
            "difficulty": self.difficulty,
            "source": self.source,
            "seqs": list(self.seqs),
            "relatedEvents": list(self.ids),
        }


def _from(m: Moment, question: str, focus: FocusArea, level: Difficulty) -> FollowUp:
    return FollowUp(question, m.summary, focus, level, m.kind, m.seqs, m.ids)


def _from_events(
    source: str, cited: list[Ev], question: str, context: str, focus: FocusArea, level: Difficulty
) -> FollowUp:
    return FollowUp(
        question,
        context,
        focus,
        level,
        source,
        tuple(e.seq for e in cited),
        tuple(e.id for e in cited),
    )


def _decision_question(m: Moment, s: SessionEvents) -> FollowUp:
    event = next((e for e in s.of("decision_event") if e.seq == m.seqs[0]), None)
    title = str(m.detail.get("decisionTitle") or "this decision")
    chosen = event.text("chosenOption") if event else ""
    tradeoffs = event.text("tradeoffs") if event else ""
    if tradeoffs:
        question = (
            f"For “{short(title, 90)}” you chose {short(chosen, 60) or 'one option'} and noted "
            f"the trade-offs “{short(tradeoffs, 120)}”. What made you reject the alternative, "
            "and when would you pick it instead?"
        )
    else:
        question = (
            f"For “{short(title, 90)}” you chose {short(chosen, 60) or 'one option'}. Which "
            "alternatives did you weigh, and what would make you change your mind?"
        )
    return _from(m, question, "technical_decisions", "medium")


def _moment_question(m: Moment, s: SessionEvents) -> FollowUp:
    d = m.detail
    if m.kind == "decision":
        return _decision_question(m, s)
    if m.kind == "untested_ai_edit":
        return _from(
            m,
            f"The AI's change to {d.get('path')} ({d.get('lines')} lines) was kept without a "
            "test or build run before your next prompt. How did you convince yourself it was "
            "right, and what would you have tested?",
            "testing_strategy",
            "medium",
        )
    if m.kind == "stuck_loop":
        return _from(
            m,
            f"`{short(str(d.get('command')), 80)}` failed {d.get('repeats')} times in a row. "
            "What did each failure tell you, and at what point would you change approach?",
            "debugging",
            "medium",
        )
    if m.kind == "rewrote_ai":
        verb = "reverted" if d.get("reverted") else "rewrote"
        where = f" in {d.get('path')}" if d.get("path") else ""
        return _from(
            m,
            f"You {verb} the AI's output by hand{where}. What was wrong with it, and how did "
            "you decide to fix it yourself rather than re-prompt?",
            "architecture",
            "medium",
        )
    if m.kind == "fix":
        return _from(
            m,
            "Walk me through the first failing test run: how did you find the cause, and why "
            "is the change that made it pass the right fix rather than a patch over it?",
            "debugging",
            "hard",
        )
    if m.kind == "first_failure":
        return _from(
            m,
            "Your first test run failed and the session has no passing run after it. What "
            "was failing, and what would you have done next?",
            "debugging",
            "medium",
        )
    if m.kind == "last_minute_rush":
        return _from(
            m,
            f"{d.get('changes')} changes landed in the last minutes of the session. Which of "
            "them are you least sure of, and what would you check with ten more minutes?",
            "testing_strategy",
            "easy",
        )
    if m.kind == "idle_gap":
        return _from(
            m,
            f"Nothing was recorded for {minutes(int(str(d.get('gapMs') or 0)))}. What were "
            "you working through then (reading, thinking, something outside the recording)?",
            "communication",
            "easy",
        )
    if m.kind == "first_prompt":
        if d.get("plan"):
            question = (
                "Your first prompt set out a plan. How did you arrive at it, and which part of "
                "it changed once you saw the code?"
            )
        else:
            question = (
                "Your first prompt went straight to the task. What did you already know about "
                "the code at that point, and how did you decide what to ask first?"
            )
        return _from(m, question, "communication", "easy")


# Which moments make the better questions first.
_ORDER = (
    "decision",
    "untested_ai_edit",
    "stuck_loop",
    "rewrote_ai",
    "fix",
    "first_failure",
    "last_minute_rush",
    "first_prompt",
    "idle_gap",
)


def _fallbacks(s: SessionEvents) -> list[FollowUp]:
    """The evidence-based questions; each read in one pass over the events, keeping per path
    or command only the counts and the events a question cites (a million-event session has
    150,000 file changes)."""
    out: list[FollowUp] = []
    by_path: dict[str, _Tally] = {}
    for e in s.files:
        if e.text("path"):
            by_path.setdefault(e.text("path"), _Tally()).add(e, e.lines_changed)
    if by_path:
        path, changes = max(by_path.items(), key=lambda kv: (kv[1].total, kv[0]))
        lines, count = changes.total, changes.count
        out.append(
            _from_events(
                "most_changed_file",
                changes.first,
                f"{path} is the file you changed most ({lines} lines over {count} "
                f"change{'s' if count != 1 else ''}). Explain its design, and what you "
                "would refactor next.",
                f"{count} change{'s' if count != 1 else ''}, {lines} lines",
                "architecture",
                "medium",
            )
        )
    runs = s.of("test_run")
    if runs:
        last = runs[-1]
        out.append(
            _from_events(
                "last_test_run",
                [last],
                "Your last test run had "
                f"{last.number('passed') or 0} passing and {last.number('failed') or 0} failing. "
                "Which cases do those tests not cover, and which would you add first?",
                f"`{short(last.text('command'), 80)}`",
                "testing_strategy",
                "medium",
            )
        )
    else:
        files = s.files
        if files:
            out.append(
                _from_events(
                    "no_test_run",
                    [files[-1]],
                    "No test run was recorded. How do you know your change works, and how "
                    "would you test it given an hour more?",
                    f"{len(files)} file changes, no test run",
                    "testing_strategy",
                    "medium",
                )
            )
    failures: dict[str, _Tally] = {}
    for e in s.of("command"):
        if (e.number("exitCode") or 0) != 0 and e.text("command").strip():
            failures.setdefault(" ".join(e.text("command").split()), _Tally()).add(e, 0)
    if failures:
        command, failed = max(failures.items(), key=lambda kv: (kv[1].count, kv[0]))
        n = failed.count
        out.append(
            _from_events(
                "failed_command",
                failed.first,
                f"`{short(command, 80)}` failed {n} time{'s' if n != 1 else ''}"
                ". What was the error, and how did you get past it?",
                f"exit {failed.last.number('exitCode') if failed.last else None}",
                "debugging",
                "easy",
            )
        )
    largest = max(
        (e for e in s.files if e.by_ai), key=lambda e: (e.lines_changed, -e.seq), default=None
    )
    if largest is not None:
        out.append(
            _from_events(
                "largest_ai_change",
                [largest],
                f"The AI's largest change was to {largest.text('path')} ({largest.lines_changed} "
                "lines). Which parts of it did you read closely, and what did you accept on "
                "trust?",
                f"+{largest.number('linesAdded') or 0} −{largest.number('linesRemoved') or 0}",
                "architecture",
                "medium",
            )
        )
    prompts = (e for e in s.of("prompt") if e.text("text").strip())
    said, longest = 0, None
    for e in prompts:  # the first of the longest, as max() picks it
        said += 1
        if longest is None or (len(e.text("text")), -e.seq) > (
            len(longest.text("text")),
            -longest.seq,
        ):
            longest = e
    if said >= 2 and longest is not None:
        out.append(
            _from_events(
                "longest_prompt",
                [longest],
                "Your longest prompt was this one. What context did you decide the AI needed, "
                "and what did you leave out on purpose?",
                short(longest.text("text")),
                "communication",
                "easy",
            )
        )
    return out


class _Tally:
    """Events of one path or command: how many, their lines, the first MAX_CITED, the last."""

    __slots__ = ("count", "first", "last", "total")

    def __init__(self) -> None:
        self.count, self.total = 0, 0
        self.first: list[Ev] = []
        self.last: Ev | None = None

    def add(self, e: Ev, lines: int) -> None:
        self.count += 1
        self.total += lines
        if len(self.first) < MAX_CITED:
            self.first.append(e)
        self.last = e


def follow_ups(s: SessionEvents, moments: list[Moment] | None = None) -> list[FollowUp]:
    """Between MIN_QUESTIONS and MAX_QUESTIONS questions when the evidence allows, fewer
    for a session with little in it (never an invented one)."""
    found = key_moments(s) if moments is None else moments
    rank = {kind: i for i, kind in enumerate(_ORDER)}
    ordered = sorted(found, key=lambda m: (rank.get(m.kind, len(_ORDER)), m.t))
    questions: list[FollowUp] = []
    per_kind: dict[str, int] = defaultdict(int)
    for m in ordered:
        if per_kind[m.kind] >= 2:  # two of a kind at most, so the list stays varied
            continue
        if m.kind == "first_failure" and any(x.kind == "fix" for x in found):
            continue
        questions.append(_moment_question(m, s))
        per_kind[m.kind] += 1
    if len(questions) < MIN_QUESTIONS:
        cited = {seq for q in questions for seq in q.seqs}
        for extra in _fallbacks(s):
            if len(questions) >= MIN_QUESTIONS:
                break
            if not set(extra.seqs) <= cited:
                questions.append(extra)
    return questions[:MAX_QUESTIONS]
