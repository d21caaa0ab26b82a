"""Key moments of a session: deterministic detectors over its events (docs/key-moments.md).

Each detector reads `SessionEvents` and returns `Moment`s that name the events they rest on
(seq and id), so the report can link every moment to the timeline and the follow-up
questions can cite them. The thresholds are constants here and restated in the docs; the
same timeline always gives the same moments, in time order.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from promptster.analysis.session_events import Ev, SessionEvents
from promptster.formats.events import FILE_KINDS
from promptster.formats.jsonio import JsonValue

MomentKind = Literal[
    "first_prompt",
    "first_failure",
    "fix",
    "stuck_loop",
    "untested_ai_edit",
    "rewrote_ai",
    "decision",
    "idle_gap",
    "last_minute_rush",
]
FORMAT_VERSION = 1  # of a moment's JSON (`promptster followups --json` carries it)

STUCK_REPEATS = 3  # the same command failing this many times with no success between
LARGE_AI_EDIT_LINES = 40  # lines added + removed by one AI change to count as large
REWRITE_MIN_LINES = 3  # lines a hand change must remove from AI-written code
RUSH_WINDOW_SHARE = 0.10  # the last tenth of the time limit (or of the session)
RUSH_MIN_SPAN_MS = 10 * 60_000  # a shorter session has no "last minute" to rush in
RUSH_MIN_SHARE = 0.30  # of all changed lines landing in that window
RUSH_MIN_CHANGES = 3
MAX_CITED = 12  # events listed per moment (the rest are counted)
SUMMARY_CHARS = 160

_PLAN_LINE = re.compile(r"^\s*(?:\d+[.)]|[-*•]|step\s+\d+)\s+\S", re.I | re.M)
_PLAN_WORDS = re.compile(r"\b(?:plan|first\b.*\bthen|steps|approach)\b", re.I)


@dataclass(frozen=True)
class Moment:
    kind: MomentKind
    title: str
    summary: str
    t: int  # ms since the session start, of the first cited event
    end: int  # of the last cited event (a span: a loop, a gap, a rush)
    seqs: tuple[int, ...]
    ids: tuple[str, ...]
    detail: dict[str, JsonValue]

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "kind": self.kind,
            "title": self.title,
            "summary": self.summary,
            "offsetMs": self.t,
            "endOffsetMs": self.end,
            "seqs": list(self.seqs),
            "relatedEvents": list(self.ids),
            "detail": self.detail,
        }


def short(text: str, limit: int = SUMMARY_CHARS) -> str:
    """One line of at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def minutes(ms: int) -> str:
    return f"{ms / 60_000:.0f} min" if ms >= 60_000 else f"{ms / 1000:.0f} s"


def _moment(
    kind: MomentKind,
    title: str,
    summary: str,
    cited: list[Ev],
    **detail: JsonValue,
) -> Moment:
    ordered = sorted({e.seq: e for e in cited}.values(), key=lambda e: e.seq)
    end = max((e.t for e in ordered), default=0)
    if len(ordered) > MAX_CITED:
        detail["citedLeftOut"] = len(ordered) - MAX_CITED
        ordered = ordered[:MAX_CITED]
    return Moment(
        kind,
        title,
        summary,
        ordered[0].t if ordered else 0,
        end,
        tuple(e.seq for e in ordered),
        tuple(e.id for e in ordered),
        detail,
    )


def has_plan(text: str) -> bool:
    """A prompt carries a plan: two or more numbered or bulleted lines, or plan words."""
    return len(_PLAN_LINE.findall(text)) >= 2 or bool(_PLAN_WORDS.search(text))


def first_prompt(s: SessionEvents) -> list[Moment]:
    prompts = s.of("prompt")
    if not prompts:
        return []
    first = prompts[0]
    text = first.text("text")
    files = s.files
    first_change = files[0].t if files else None
    plan = next((e for e in s.of("planning") if first_change is None or e.t <= first_change), None)
    plans = [] if plan is None else [plan]
    planned = has_plan(text) or bool(plans)
    where = "with a plan" if has_plan(text) else ("then a plan" if plans else "no plan")
    return [
        _moment(
            "first_prompt",
            f"First prompt ({where})",
            short(text) or "(empty prompt)",
            [first, *plans],
            plan=planned,
            planInPrompt=has_plan(text),
            promptChars=len(text),
        )
    ]


def _failed(e: Ev) -> bool:
    if e.kind != "test_run":
        return False
    outcome = e.text("outcome")
    return (e.number("failed") or 0) + (e.number("errors") or 0) > 0 or outcome in (
        "failed",
        "error",
    )


def _passed(e: Ev) -> bool:
    return e.kind == "test_run" and not _failed(e) and (e.number("passed") or 0) > 0


def first_failure_and_fix(s: SessionEvents) -> list[Moment]:
    runs = s.of("test_run")
    failing = next((e for e in runs if _failed(e)), None)
    if failing is None:
        return []
    failed_n = (failing.number("failed") or 0) + (failing.number("errors") or 0)
    out = [
        _moment(
            "first_failure",
            "First failing test run",
            f"`{short(failing.text('command'), 80) or failing.text('tool')}`: "
            f"{failed_n} failing, {failing.number('passed') or 0} passing",
            [failing],
            failed=failed_n,
        )
    ]
    green = next((e for e in runs if e.seq > failing.seq and _passed(e)), None)
    if green is None:
        return out
    changes = []
    for e in s.files:  # in seq order: none after the green run can count
        if e.seq >= green.seq:
            break
        if e.seq > failing.seq:
            changes.append(e)
    paths = sorted({e.text("path") for e in changes if e.text("path")})
    ai = sum(1 for e in changes if e.by_ai)
    by = "the AI" if changes and ai == len(changes) else ("by hand" if ai == 0 else "AI and hand")
    fix = (
        f"{len(changes)} change{'s' if len(changes) != 1 else ''} ({by}) to "
        f"{', '.join(paths[:3])}{'…' if len(paths) > 3 else ''}"
        if changes
        else "no file changed in between (a flaky or environment failure?)"
    )
    out.append(
        _moment(
            "fix",
            "The fix that made it pass",
            f"green after {minutes(green.t - failing.t)}: {fix}",
            [failing, *changes, green],
            changes=len(changes),
            aiChanges=ai,
            paths=list(paths[:20]),
        )
    )
    return out


def _command_key(e: Ev) -> str:
    return " ".join(e.text("command").split())


def stuck_loops(s: SessionEvents) -> list[Moment]:
    """The same command failing STUCK_REPEATS times or more with no success of it between."""
    streaks: dict[str, list[Ev]] = {}
    found: list[list[Ev]] = []
    for e in s.of("command"):
        key = _command_key(e)
        if not key:
            continue
        code = e.number("exitCode")
        if code is not None and code != 0:
            streaks.setdefault(key, []).append(e)
        elif code == 0:
            run = streaks.pop(key, [])
            if len(run) >= STUCK_REPEATS:
                found.append(run)
    found.extend(run for run in streaks.values() if len(run) >= STUCK_REPEATS)
    found.sort(key=lambda run: run[0].seq)
    return [
        _moment(
            "stuck_loop",
            f"Stuck loop: {len(run)} failures in a row",
            f"`{short(_command_key(run[0]), 100)}` exited non-zero {len(run)} times "
            f"over {minutes(run[-1].t - run[0].t)}",
            run,
            command=short(_command_key(run[0]), 300),
            repeats=len(run),
            actor=run[0].actor,
        )
        for run in found
    ]


def untested_ai_edits(s: SessionEvents) -> list[Moment]:
    """A large AI change with no test or build run after it before the next prompt (or the
    end): the candidate moved on without checking it. One pass: the large AI changes since
    the last prompt or run wait for the next one."""
    out: list[Moment] = []
    waiting: list[Ev] = []
    for e in s.of("test_run", "build_run", "prompt", *sorted(FILE_KINDS)):
        if e.kind in ("test_run", "build_run"):
            waiting.clear()  # checked
        elif e.kind == "prompt":
            out.extend(_untested(w) for w in waiting)
            waiting.clear()
        elif e.is_file and e.by_ai and e.lines_changed >= LARGE_AI_EDIT_LINES:
            waiting.append(e)
    out.extend(_untested(w) for w in waiting)
    return out


def _untested(e: Ev) -> Moment:
    path = e.text("path")
    return _moment(
        "untested_ai_edit",
        "Large AI edit kept untested",
        f"{path}: +{e.number('linesAdded') or 0} −{e.number('linesRemoved') or 0} by "
        "the AI, no test or build run before the next prompt",
        [e],
        path=path,
        lines=e.lines_changed,
    )


def rewrites_of_ai(s: SessionEvents) -> list[Moment]:
    """A hand change removing lines from a file whose previous change was the AI's, or a git
    revert/restore after an AI change."""
    last_ai: dict[str, Ev] = {}
    any_ai: Ev | None = None
    out = []
    for e in s.of("git_action", *sorted(FILE_KINDS)):
        if e.is_file:
            path = e.text("path")
            previous = last_ai.get(path)
            removed = e.number("linesRemoved") or 0
            if e.by_ai:
                last_ai[path] = any_ai = e
            elif e.by_human and (
                (previous is not None and removed >= REWRITE_MIN_LINES)
                or (e.attribution == "ai_revised_by_human" and removed > 0)
            ):
                added_before = previous.number("linesAdded") or 0 if previous is not None else 0
                reverted = e.kind == "file_delete" or (
                    previous is not None and removed >= added_before
                )
                verb = "Reverted" if reverted else "Rewrote"
                since = (
                    f" after the AI's change {minutes(e.t - previous.t)} earlier"
                    if previous is not None
                    else " (the recorder saw AI lines revised)"
                )
                out.append(
                    _moment(
                        "rewrote_ai",
                        f"{verb} AI output by hand",
                        f"{path}: −{removed} +{e.number('linesAdded') or 0} by hand{since}",
                        [e] if previous is None else [previous, e],
                        path=path,
                        reverted=reverted,
                    )
                )
                last_ai.pop(path, None)
        elif e.kind == "git_action" and any_ai is not None:
            action = e.text("action").lower()
            if action in ("revert", "reset", "restore", "checkout", "stash"):
                out.append(
                    _moment(
                        "rewrote_ai",
                        f"git {action} after an AI change",
                        short(f"git {action} {e.text('ref')}".strip()),
                        [any_ai, e],
                        reverted=True,
                    )
                )
                any_ai = None
    return out


def decisions(s: SessionEvents) -> list[Moment]:
    return [
        _moment(
            "decision",
            "Decision" + (" (missed, detected)" if e.data.get("missedDecision") else ""),
            short(
                f"{e.text('title')}: chose {e.text('chosenOption') or '?'}"
                + (f"; trade-offs: {e.text('tradeoffs')}" if e.text("tradeoffs") else "")
            ),
            [e],
            decisionTitle=short(e.text("title"), 300),
            impact=e.number("impactScore"),
        )
        for e in s.of("decision_event")
    ]


def idle_gaps(s: SessionEvents) -> list[Moment]:
    """Stretches of IDLE_GAP_MS or more without any event (found as the events were read)."""
    return [
        _moment(
            "idle_gap",
            f"Idle for {minutes(after.t - before.t)}",
            f"nothing was recorded between event #{before.seq} and #{after.seq}",
            [before, after],
            gapMs=after.t - before.t,
        )
        for before, after in s.gaps
    ]


def last_minute_rush(s: SessionEvents) -> list[Moment]:
    span = s.time_limit_minutes * 60_000 if s.time_limit_minutes else s.end_t
    if span < RUSH_MIN_SPAN_MS:
        return []
    window = int(span * RUSH_WINDOW_SHARE)
    start = span - window
    total = late_count = late_lines = 0
    for e in s.files:  # counted as they go by: the late ones may be most of 150,000
        size = e.lines_changed
        total += size
        if e.t >= start:
            late_count += 1
            late_lines += size
    if total <= 0 or late_count < RUSH_MIN_CHANGES or late_lines / total < RUSH_MIN_SHARE:
        return []
    basis = "time limit" if s.time_limit_minutes else "session"
    return [
        _moment_in_order(
            "last_minute_rush",
            "Last-minute rush",
            f"{late_count} changes ({late_lines / total:.0%} of all changed lines) in the last "
            f"{minutes(window)} of the {basis}",
            (e for e in s.files if e.t >= start),
            changes=late_count,
            share=round(late_lines / total, 3),
            windowMs=window,
        )
    ]


def _moment_in_order(
    kind: MomentKind, title: str, summary: str, cited: Iterable[Ev], **detail: JsonValue
) -> Moment:
    """`_moment` of events given in seq order, holding only the first MAX_CITED of them: the
    same moment (of events with one seq, the last counts, as there)."""
    kept: list[Ev] = []
    count, end = 0, None
    last: Ev | None = None
    for e in itertools.chain(cited, [None]):
        if last is not None and (e is None or e.seq != last.seq):
            count += 1
            end = last.t if end is None else max(end, last.t)
            if len(kept) < MAX_CITED:
                kept.append(last)
        last = e
    if count > MAX_CITED:
        detail["citedLeftOut"] = count - MAX_CITED
    return Moment(
        kind,
        title,
        summary,
        kept[0].t if kept else 0,
        0 if end is None else end,
        tuple(e.seq for e in kept),
        tuple(e.id for e in kept),
        detail,
    )


DETECTORS: tuple[Callable[[SessionEvents], list[Moment]], ...] = (
    first_prompt,
    first_failure_and_fix,
    stuck_loops,
    untested_ai_edits,
    rewrites_of_ai,
    decisions,
    idle_gaps,
    last_minute_rush,
)


def key_moments(s: SessionEvents) -> list[Moment]:
    """Every detector's moments, in time order (ties: first cited seq, then kind)."""
    found = [m for detect in DETECTORS for m in detect(s)]
    return sorted(found, key=lambda m: (m.t, m.seqs[0] if m.seqs else -1, m.kind))
