"""The page's fields of each event kind (the `body` of a page row), and the digest's side
lists (file changes, test runs, decisions) filled as the bodies are made.

Each function reads one kind's `data` through its payload type (formats/payloads.py) and
returns the fields the page shows, every string made visible and bounded
(promptster.report.text). Prompts are kept in full up to the journal's own bound; replies,
outputs and tool payloads are cut to the digest's field cap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from promptster.formats.events import FILE_KINDS
from promptster.report.digest_model import (
    _SAID_OUTCOMES,
    DECISIONS_KEPT,
    Digest,
    FileEvent,
    TestPoint,
)
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
JSON_FIELD = 600


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
            str(data.get("commit") or ""),  # packed by FileColumns
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
