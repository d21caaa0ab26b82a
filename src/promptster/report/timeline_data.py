"""The timeline, digested for the page: one compact row per event, trimmed to what is shown.

A page row is `[seq, t, kind, actor, source, attribution, body]`: `t` is milliseconds since
the session start, the next four are indexes into lookup lists (so 100,000 rows do not repeat
the same strings), and `body` holds the kind's fields the page shows, every string made
visible and bounded (promptster.report.text). Prompts are kept in full up to the journal's own
bound; replies, outputs and tool payloads are cut to budgets that shrink as a session grows,
so a 100,000-event report stays within its size budget.

No list of all rows is ever held (a million events would take over a gigabyte as Python
lists): each row goes to a sink as it is made (report.events_block.RowsFile, which writes it
to a temporary file), and the digest keeps per event only what the charts need, in compact
columns (seq, time, kind, actor), plus counts.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from promptster.bundle.spool import SpooledTimeline
from promptster.formats.events import FILE_KINDS
from promptster.formats.timeline import split_lines
from promptster.report.text import as_text, bounded, clip, one_line

if TYPE_CHECKING:
    from promptster.formats.payloads import (
        AiResponseData,
        BuildRunData,
        CheckpointData,
        CommandData,
        DecisionData,
        FileChangeData,
        GitActionData,
        McpCallData,
        NoteData,
        PlanningData,
        PromptData,
        SessionEndData,
        SessionStartData,
        TestRunData,
        ToolResultData,
        ToolUseData,
        WarningData,
    )

PROMPT_CHARS = 64 * 1024
# Warnings that say the record may be incomplete or its time unreliable: the report lists
# them in a banner near the top (report.capture), at most CAPTURE_KEPT of them.
CAPTURE_CODES = frozenset({"capture_gap", "recorder_restart", "clock_jump", "deadline_mismatch"})
CAPTURE_KEPT = 50
# Characters kept per long field; divided among the events that have one, within these bounds.
TEXT_BUDGET = 12 * 1024 * 1024
FIELD_MAX, FIELD_MIN = 8 * 1024, 400
JSON_FIELD = 600


@dataclass(frozen=True, slots=True)
class FileEvent:
    seq: int
    t: int
    kind: str
    path: str
    commit: str
    added: int
    removed: int
    ai_lines: int
    human_lines: int
    attribution: str
    diff: str | None  # the event's own bounded diff, used when the snapshots have none


@dataclass(frozen=True, slots=True)
class TestPoint:
    seq: int
    t: int
    passed: int
    failed: int
    skipped: int
    errors: int
    exit: int | None = None
    outcome: str | None = None  # as recorded; None in events from before outcomes were kept


# Test-run outcomes the timeline names beside the counts (passed and failed read from them).
_SAID_OUTCOMES = ("error", "no_tests", "interrupted", "unknown")


DECISIONS_KEPT = 300  # decisions whose fields the digest keeps (the report lists as many)
_INT64 = (-(2**63), 2**63 - 1)


class RowSink(Protocol):
    """Where each page row goes (a list, or events_block.RowsFile)."""

    def append(self, row: list[Any]) -> None: ...


@dataclass
class Digest:
    t0: datetime | None = None
    event_count: int = 0
    kinds: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    attributions: list[str] = field(default_factory=list)
    # per event, in timeline order: its seq, ms offset, and kind and actor (indexes into
    # `kinds` and `actors`), for the charts; 24 bytes an event, not a Python row
    seqs: array[int] = field(default_factory=lambda: array("q"))
    times: array[int] = field(default_factory=lambda: array("q"))
    kind_codes: array[int] = field(default_factory=lambda: array("I"))
    actor_codes: array[int] = field(default_factory=lambda: array("I"))
    # events per index of kinds, actors, sources, attributions
    code_counts: tuple[Counter[int], ...] = field(
        default_factory=lambda: (Counter(), Counter(), Counter(), Counter())
    )
    id_to_seq: dict[str, int] = field(default_factory=dict)  # of the ids asked for only
    files: list[FileEvent] = field(default_factory=list)
    tests: list[TestPoint] = field(default_factory=list)
    decisions: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)  # the first
    decision_count: int = 0
    start: dict[str, Any] = field(default_factory=dict)
    integrations: set[str] = field(default_factory=set)
    end_t: int = 0
    field_cap: int = FIELD_MAX
    cut_fields: int = 0
    unreadable_lines: int = 0
    # (seq, t, code, data) of each CAPTURE_CODES warning, the first CAPTURE_KEPT; and how many
    capture: list[tuple[int, int, str, dict[str, Any]]] = field(default_factory=list)
    capture_total: int = 0

    def counts(self, column: int, names: list[str]) -> list[tuple[str, int]]:
        """(name, events) of a row column (2 kind, 3 actor, 4 source, 5 attribution), most
        first."""
        counter = self.code_counts[column - 2]
        return sorted(((names[i], n) for i, n in counter.items()), key=lambda kv: (-kv[1], kv[0]))

    def kind_count(self, kind: str) -> int:
        return self.code_counts[0][self.kinds.index(kind)] if kind in self.kinds else 0


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _json(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = str(value)
    return clip(text, JSON_FIELD)


class _Builder:
    def __init__(self, digest: Digest) -> None:
        self.d = digest
        self.index: dict[tuple[int, str], int] = {}
        self.tables = (digest.kinds, digest.actors, digest.sources, digest.attributions)
        self.names: dict[str, str] = {}  # one object per distinct path or commit, not per event

    def name(self, text: str) -> str:
        return self.names.setdefault(text, text)

    def code(self, table: int, name: str) -> int:
        key = (table, name)
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.tables[table])
            self.tables[table].append(name)
        return found

    def long(self, value: Any) -> str:
        text, cut = bounded(value if isinstance(value, str) else "", self.d.field_cap)
        if cut:
            self.d.cut_fields += 1
            return text + "…"
        return text

    def body(self, kind: str, data: dict[str, Any], seq: int, t: int, attribution: str) -> Any:
        """The page's fields of one event: its kind's function, or the raw JSON, cut short,
        for a kind this version does not know."""
        make = _BODIES.get(kind)
        if make is None:
            return {"json": _json(data)}
        return make(self, data, _At(kind, seq, t, attribution))


class _At(NamedTuple):
    """Where an event sits: what the digest's side lists (files, tests, decisions) need."""

    kind: str
    seq: int
    t: int
    attribution: str


Body = dict[str, Any]
# Each function reads one kind's `data` through its payload type (formats/payloads.py) and
# returns the fields the page shows. Values stay untrusted: a bundle's field may be absent or
# of another type, so every one goes through _int/_str/as_text/one_line.


def _prompt(b: _Builder, data: PromptData, at: _At) -> Body:
    text, cut = bounded(_str(data.get("text")), PROMPT_CHARS)
    body: Body = {"text": text}
    if cut or data.get("truncated"):
        body["cut"] = True
    if data.get("likelyPaste"):
        body["paste"] = True
    return body


def _ai_response(b: _Builder, data: AiResponseData, at: _At) -> Body:
    return {"text": b.long(data.get("text")), "model": one_line(data.get("model"), 60)}


def _tool_use(b: _Builder, data: ToolUseData, at: _At) -> Body:
    return {"tool": one_line(data.get("toolName"), 80), "input": _json(data.get("input"))}


def _tool_result(b: _Builder, data: ToolResultData, at: _At) -> Body:
    return {
        "tool": one_line(data.get("toolName"), 80),
        "ok": data.get("ok") is not False,
        "out": b.long(data.get("output")),
    }


def _file_change(b: _Builder, data: FileChangeData, at: _At) -> Body:
    path = as_text(data.get("path"), 1000)
    added, removed = _int(data.get("linesAdded")) or 0, _int(data.get("linesRemoved")) or 0
    ai, human = _int(data.get("aiLines")), _int(data.get("humanLines"))
    if ai is None:
        ai = added if at.attribution in ("likely_ai", "ai_revised_by_human") else 0
        human = added - ai
    diff: object = data.get("diff")
    b.d.files.append(
        FileEvent(
            at.seq,
            at.t,
            b.name(at.kind),  # one string per distinct value: 150,000 changes in 1M events
            b.name(path),
            b.name(str(data.get("commit") or "")),
            added,
            removed,
            ai,
            human if human is not None else added - ai,
            b.name(at.attribution),
            diff if isinstance(diff, str) else None,
        )
    )
    body: Body = {"path": path, "add": added, "rem": removed, "ai": ai, "hu": human}
    if data.get("binary"):
        body["bin"] = True
    return body


def _command(b: _Builder, data: CommandData, at: _At) -> Body:
    body: Body = {
        "cmd": as_text(data.get("command"), 4000),
        "exit": _int(data.get("exitCode")),
        "dur": _int(data.get("durationMs")),
        "cwd": one_line(data.get("cwd"), 200),
    }
    head: object = data.get("outputHead")
    tail: object = data.get("outputTail")
    if isinstance(head, str) and head:
        body["head"] = b.long(head)
    if isinstance(tail, str) and tail:
        body["tail"] = b.long(tail)
    if data.get("outputTruncated"):
        body["outputTruncated"] = True
    if data.get("interrupted"):
        body["interrupted"] = True
    if data.get("outsideWorkspace"):
        body["outsideWorkspace"] = True
    return body


def _test_run(b: _Builder, data: TestRunData, at: _At) -> Body:
    passed, failed = _int(data.get("passed")) or 0, _int(data.get("failed")) or 0
    skipped, errors = _int(data.get("skipped")) or 0, _int(data.get("errors")) or 0
    recorded: object = data.get("outcome")
    outcome = b.name(recorded) if isinstance(recorded, str) else None
    exit_code = _int(data.get("exitCode"))
    b.d.tests.append(TestPoint(at.seq, at.t, passed, failed, skipped, errors, exit_code, outcome))
    body: Body = {
        "passed": passed,
        "failed": failed,
        "skipped": skipped,
        "errors": errors,
        "tool": one_line(data.get("tool"), 60),
        "suite": one_line(data.get("suite"), 120),
        "cmd": as_text(data.get("command"), 1000),
        "exit": exit_code,
        "dur": _int(data.get("durationMs")),
    }
    if outcome in _SAID_OUTCOMES:  # the counts alone would not say it
        body["outcome"] = outcome
    return body


def _build_run(b: _Builder, data: BuildRunData, at: _At) -> Body:
    return {
        "tool": one_line(data.get("tool"), 60),
        "cat": one_line(data.get("category"), 30),
        "cmd": as_text(data.get("command"), 1000),
        "exit": _int(data.get("exitCode")),
        "dur": _int(data.get("durationMs")),
        "errs": _int(data.get("errorCount")),
    }


def _decision(b: _Builder, data: DecisionData, at: _At) -> Body:
    body: Body = {
        "title": as_text(data.get("title"), 4000),
        "chosenOption": as_text(data.get("chosenOption"), 4000),
        "context": as_text(data.get("context"), 4000),
        "tradeoffs": as_text(data.get("tradeoffs"), 4000),
        "rationale": as_text(data.get("rationale"), 4000),
        "impact": _int(data.get("impactScore")),
        "via": one_line(data.get("capturedVia"), 40),
    }
    if data.get("missedDecision"):
        body["missed"] = True
    b.d.decision_count += 1
    if len(b.d.decisions) < DECISIONS_KEPT:
        b.d.decisions.append((at.seq, at.t, body))
    return body


def _planning(b: _Builder, data: PlanningData, at: _At) -> Body:
    items = _list(data.get("items"))
    return {
        "tool": one_line(data.get("toolName"), 60),
        "items": [
            [one_line(i.get("text"), 300), one_line(i.get("status"), 30)]
            for i in items[:40]
            if isinstance(i, dict)
        ],
    }


def _mcp_call(b: _Builder, data: McpCallData, at: _At) -> Body:
    return {
        "server": one_line(data.get("server"), 80),
        "tool": one_line(data.get("tool"), 80),
        "args": _json(data.get("arguments")),
        "ok": data.get("ok") is not False,
    }


def _git_action(b: _Builder, data: GitActionData, at: _At) -> Body:
    return {
        "action": one_line(data.get("action"), 40),
        "ref": one_line(data.get("ref"), 200),
        "msg": as_text(data.get("message"), 2000),
    }


def _checkpoint(b: _Builder, data: CheckpointData, at: _At) -> Body:
    return {"label": one_line(data.get("label"), 300), "trigger": one_line(data.get("trigger"), 30)}


def _note(b: _Builder, data: NoteData, at: _At) -> Body:
    return {"text": b.long(data.get("text"))}


def _warning(b: _Builder, data: WarningData, at: _At) -> Body:
    body: Body = {"code": one_line(data.get("code"), 60), "msg": as_text(data.get("message"), 2000)}
    minutes_left, gap_ms = _int(data.get("minutesLeft")), _int(data.get("gapMs"))
    if minutes_left is not None:
        body["minutesLeft"] = minutes_left
    if gap_ms is not None:
        body["gapMs"] = gap_ms
    return body


def _session_start(b: _Builder, data: SessionStartData, at: _At) -> Body:
    tools = _list(data.get("tools"))
    return {
        "workspace": one_line(data.get("workspace"), 200),
        "tools": [one_line(x, 60) for x in tools[:20]],
        "limit": _int(data.get("timeLimitMinutes")),
    }


def _session_end(b: _Builder, data: SessionEndData, at: _At) -> Body:
    return {"reason": one_line(data.get("reason"), 60)}


_BODIES: dict[str, Callable[[_Builder, Any, _At], Body]] = {
    "prompt": _prompt,
    "ai_response": _ai_response,
    "tool_use": _tool_use,
    "tool_result": _tool_result,
    **dict.fromkeys(sorted(FILE_KINDS), _file_change),
    "command": _command,
    "test_run": _test_run,
    "build_run": _build_run,
    "decision_event": _decision,
    "planning": _planning,
    "mcp_call": _mcp_call,
    "git_action": _git_action,
    "checkpoint": _checkpoint,
    "note": _note,
    "warning": _warning,
    "session_start": _session_start,
    "session_end": _session_end,
}


def _ms(ts: Any, t0: datetime | None) -> tuple[int, datetime | None]:
    if not isinstance(ts, str):
        return 0, t0
    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return 0, t0
    if t0 is None:
        t0 = moment
    return int((moment - t0).total_seconds() * 1000), t0


def _field_cap(lines: Iterable[bytes]) -> int:
    """Characters per long field so that all of them together stay near TEXT_BUDGET."""
    heavy = sum(1 for line in lines if len(line) > 2000)
    if heavy == 0:
        return FIELD_MAX
    return max(FIELD_MIN, min(FIELD_MAX, TEXT_BUDGET // (heavy * 2)))


def digest_timeline(
    timeline: bytes | SpooledTimeline,
    started_at: str | None,
    visit: Callable[[dict[str, Any], int, int], None] | None = None,
    *,
    rows: RowSink | None = None,
    ids: Collection[str] = (),
) -> Digest:
    """Digest the timeline's lines (an unreadable line becomes an `unreadable` row); `visit`
    sees each decoded event with its seq and ms offset (the key moments read them there),
    `rows` each page row, and `Digest.id_to_seq` maps the event `ids` asked for (a signal's
    evidence). A spooled timeline is read twice, line by line (the field budget needs the
    count of long lines first), and never held whole."""
    if isinstance(timeline, SpooledTimeline):
        digest = Digest(field_cap=_field_cap(timeline.lines()))
        lines: Iterable[bytes] = timeline.lines()
    else:
        lines = split_lines(timeline).lines
        digest = Digest(field_cap=_field_cap(lines))
    _, digest.t0 = _ms(started_at, None)
    builder = _Builder(digest)
    decoder = json.JSONDecoder()
    wanted = set(ids)
    low, high = _INT64
    for position, line in enumerate(lines):
        try:
            event = decoder.decode(line.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            event = None
        if not isinstance(event, dict):
            digest.unreadable_lines += 1
            event = {"kind": "unreadable", "seq": position, "data": {}}
        seq = _int(event.get("seq"))
        seq = position if seq is None else seq
        kind = one_line(event.get("kind"), 60) or "unknown"
        t, digest.t0 = _ms(event.get("ts"), digest.t0)
        source, actor = _dict(event.get("source")), _dict(event.get("actor"))
        provenance, data = _dict(event.get("provenance")), _dict(event.get("data"))
        integration = one_line(source.get("integration") or source.get("channel"), 60) or "unknown"
        attribution = one_line(provenance.get("attribution"), 40) or "unknown"
        if provenance.get("likelyPaste") is True and kind in FILE_KINDS:
            attribution = "likely_paste"  # shown as its own chip: a block nothing explains
        ident = event.get("id")
        if isinstance(ident, str) and ident in wanted:
            digest.id_to_seq[ident] = seq
        if kind == "session_start" and not digest.start:
            digest.start = data
        if kind == "warning" and data.get("code") in CAPTURE_CODES:
            digest.capture_total += 1
            if len(digest.capture) < CAPTURE_KEPT:
                digest.capture.append((seq, t, str(data["code"]), data))
        if integration not in ("promptster", "unknown"):
            digest.integrations.add(integration)
        codes = (
            builder.code(0, kind),
            builder.code(1, one_line(actor.get("type"), 30) or "unknown"),
            builder.code(2, integration),
            builder.code(3, attribution),
        )
        body = builder.body(kind, data, seq, t, attribution)
        if rows is not None:
            rows.append([seq, t, *codes, body])
        digest.event_count += 1
        for counter, code in zip(digest.code_counts, codes, strict=True):
            counter[code] += 1
        digest.seqs.append(min(max(seq, low), high))
        digest.times.append(min(max(t, low), high))
        digest.kind_codes.append(codes[0])
        digest.actor_codes.append(codes[1])
        digest.end_t = max(digest.end_t, t)
        if visit is not None and kind != "unreadable":
            visit(event, seq, t)
    return digest
