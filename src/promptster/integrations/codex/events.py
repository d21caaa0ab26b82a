"""Codex CLI rollout records as timeline events, through the Claude Code normaliser.

Codex appends one JSON record per line to its rollout file: `{"timestamp", "type", "payload"}`.
`RolloutParser.record` turns the records it knows into the same event kinds Claude Code feeds
(so the attribution engine and the signals treat both alike):

- `event_msg` / `item_completed` with a `UserMessage` → `prompt`; `AgentMessage` →
  `ai_response` (with the model and the tokens of the responses since the previous reply:
  `token_usage_record` follows the reply, so the reply is held until then — `flush()` gives
  it up at the end of a file);
- `response_item` / `function_call` → `tool_use`: `exec_command` as `Bash` (as Codex's own
  hooks name it, so its run is an AI shell window), an `apply_patch` heredoc or
  `custom_tool_call` as `apply_patch`, an MCP tool (`namespace` `mcp__server`) as
  `mcp__server__tool`;
- `CommandExecution` → `tool_result` + AI `command` (+ `test_run` / `build_run`);
  `FileChange` → `tool_result` whose `edit` / `edits` are the AI edit claims; `McpToolCall`
  → `tool_result` + `mcp_call`; a call Codex answered without an item (an unknown tool) →
  `tool_result` from its `function_call_output`.

Event ids come from Codex's own ids (thread, turn, call, item), so a record read twice — by the
live watcher, then by the end-of-session backfill — is journaled once. Record types known to
carry nothing we record are ignored; any other type is counted in `skipped`.

Standard library only (plus the Claude Code normaliser): it runs inside the recorder.
"""

from __future__ import annotations

import json
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from promptster.integrations.claude import events as ce
from promptster.integrations.claude import tool_events as cte
from promptster.integrations.claude import values as cv
from promptster.integrations.codex import patch

INTEGRATION = "codex"
MAX_SKIP_KEYS = 50
SHELL_NAMES = frozenset({"exec_command", "shell", "shell_command", "local_shell", "container.exec"})
_APPLY_PATCH = re.compile(r"\A\s*(?:apply_patch|applypatch)\b")
_TS = re.compile(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
IGNORED_TYPES = frozenset(
    {"session_meta", "world_state", "token_usage_record", "compacted", "turn_context"}
)
IGNORED_EVENTS = frozenset(
    {
        "task_started",
        "task_complete",
        "thread_settings_applied",
        "token_count",
        "user_message",
        "agent_message",
        "agent_reasoning",
        "exec_command_end",
        "patch_apply_end",
        "mcp_tool_call_end",
        "turn_aborted",
        "context_compacted",
        "item_started",
    }
)
IGNORED_ITEMS = frozenset({"Reasoning", "WebSearch", "ImageView", "Plan", "ContextCompaction"})
IGNORED_RESPONSES = frozenset({"message", "reasoning", "web_search_call", "compaction"})
OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output"})

Json = dict[str, Any]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass
class _Call:
    name: str  # as recorded: Bash, apply_patch, mcp__server__tool, or Codex's own name
    tool_input: Json


@dataclass
class RolloutParser:
    """The events of one rollout file, fed record by record in file order."""

    workspace: str
    since: str | None = None  # records older than this (RFC 3339) belong to an earlier session
    lane: str = "unknown"  # the Codex thread id
    cwd: str | None = None
    model: str | None = None
    turn: str | None = None
    skipped: Counter[str] = field(default_factory=Counter)
    before_session: int = 0
    calls: dict[str, _Call] = field(default_factory=dict)  # open calls only (bounded)
    tokens: Counter[str] = field(default_factory=Counter)  # since the previous reply
    # Calls whose item came before their function_call_output (Codex's order), remembered
    # briefly so that the output does not make a second result.
    answered: deque[str] = field(default_factory=lambda: deque(maxlen=256))
    reply: Json | None = None  # an ai_response waiting for its token usage

    def skip(self, key: str) -> None:
        """Count a record not understood, by type (a bounded number of distinct types)."""
        key = key[:80]
        if key in self.skipped or len(self.skipped) < MAX_SKIP_KEYS:
            self.skipped[key] += 1
        else:
            self.skipped["(other types)"] += 1

    def context(self, ts: Any) -> ce.Context:
        return ce.Context(
            lane=self.lane,
            workspace=self.workspace,
            cwd=self.cwd,
            prompt_id=self.turn,
            ts=ts if isinstance(ts, str) and _TS.match(ts) else None,
            channel="import",
            emitter="promptster-codex-rollout",
            integration=INTEGRATION,
        )

    def record(self, record: Json) -> list[Json]:
        kind, payload, ts = record.get("type"), record.get("payload"), record.get("timestamp")
        if not isinstance(payload, dict):
            self.skip(f"{kind} (no payload)")
            return []
        if kind == "session_meta":
            self.lane = _text(payload.get("id")) or self.lane
            self.cwd = _text(payload.get("cwd")) or self.cwd
            return []
        if kind == "turn_context":
            self.turn = _text(payload.get("turn_id")) or self.turn
            self.model = _text(payload.get("model")) or self.model
            self.cwd = _text(payload.get("cwd")) or self.cwd
            return []
        if kind == "token_usage_record":
            self._count_tokens(payload.get("usage"))
            return self.flush()
        if kind in IGNORED_TYPES:
            return []
        if self.since and isinstance(ts, str) and ts < self.since:
            self.before_session += 1
            return []
        if kind == "event_msg":
            return self._event_msg(payload, ts)
        if kind == "response_item":
            return self._response_item(payload, ts)
        self.skip(str(kind) if kind is not None else "(no type)")
        return []

    def _count_tokens(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        self.tokens["inputTokens"] += _int(usage.get("input_tokens"))
        self.tokens["outputTokens"] += _int(usage.get("output_tokens"))
        self.tokens["cachedInputTokens"] += _int(usage.get("cached_input_tokens"))
        self.tokens["reasoningTokens"] += _int(usage.get("reasoning_output_tokens"))

    # -- event_msg ------------------------------------------------------------------------

    def _event_msg(self, payload: Json, ts: Any) -> list[Json]:
        kind = _text(payload.get("type"))
        if kind == "task_started":
            self.turn = _text(payload.get("turn_id")) or self.turn
        if kind == "task_complete":
            return self.flush()
        if kind in IGNORED_EVENTS:
            return []
        if kind != "item_completed" or not isinstance(payload.get("item"), dict):
            self.skip(f"event_msg {kind or '(no type)'}")
            return []
        self.turn = _text(payload.get("turn_id")) or self.turn
        item: Json = payload["item"]
        item_type = _text(item.get("type"))
        ctx = self.context(ts)
        if item_type == "AgentMessage":
            return self._reply(ctx, item)
        handler = {
            "UserMessage": self._prompt,
            "CommandExecution": self._command,
            "FileChange": self._file_change,
            "McpToolCall": self._mcp,
        }.get(item_type)
        if handler is not None:
            return self.flush() + handler(ctx, item)
        if item_type not in IGNORED_ITEMS:
            self.skip(f"item {item_type or '(no type)'}")
        return []

    def _prompt(self, ctx: ce.Context, item: Json) -> list[Json]:
        text = _joined(item.get("content"))
        if not text.strip():
            return []
        event = ce.prompt_event(ctx, text)
        event["id"] = ctx.event_id("prompt", _text(item.get("id")) or ce.text_key(text))
        return [event]

    def _reply(self, ctx: ce.Context, item: Json) -> list[Json]:
        """Held until the usage record of its response follows (Codex writes it after)."""
        text = _joined(item.get("content"))
        if not text.strip():
            return []
        flushed = self.flush()
        event = ce.ai_response_event(ctx, text, model=self.model)
        event["id"] = ctx.event_id("ai_response", _text(item.get("id")) or ce.text_key(text))
        self.reply = event
        return flushed

    def flush(self) -> list[Json]:
        """The held reply, with the tokens of the responses since the previous one."""
        event, self.reply = self.reply, None
        if event is None:
            return []
        for name, count in self.tokens.items():
            if count:
                event["data"][name] = count
        self.tokens.clear()
        return [event]

    def _finish(self, call_id: str, default: _Call) -> _Call:
        call = self.calls.pop(call_id, None) or default
        self.answered.append(call_id)
        return call

    def _command(self, ctx: ce.Context, item: Json) -> list[Json]:
        call_id = _text(item.get("id"))
        argv = item.get("command")
        fallback = argv[-1] if isinstance(argv, list) and argv else _text(argv)
        call = self._finish(call_id, _Call("Bash", {"command": _text(fallback)}))
        if call.name != "Bash":
            return []  # an apply_patch heredoc: its FileChange item carries the edit
        output = _text(item.get("aggregated_output"))
        exit_code = item.get("exit_code")
        error = None
        if isinstance(exit_code, int) and exit_code != 0:
            error = f"Exit code {exit_code}\n{output}"
        elif item.get("status") not in (None, "completed"):
            error = f"Exit code 1\n{output or item.get('status')}"
        cwd = _file_path(item.get("cwd"))
        if cwd:
            ctx = ce.Context(**{**ctx.__dict__, "cwd": cwd})
        return cte.tool_result_events(
            ctx,
            "Bash",
            call_id,
            call.tool_input,
            {"stdout": output},
            error=error,
            duration_ms=_duration(item.get("duration")),
        )

    def _file_change(self, ctx: ce.Context, item: Json) -> list[Json]:
        call_id = _text(item.get("id"))
        call = self._finish(call_id, _Call("apply_patch", {}))
        changes = item.get("changes")
        edits = [
            edit
            for path, change in (changes.items() if isinstance(changes, dict) else ())
            if (edit := patch.change_claim(ctx.workspace, str(path), change)) is not None
        ][:200]
        ok = item.get("status") in (None, "completed")
        output = "\n".join(s for s in (_text(item.get("stdout")), _text(item.get("stderr"))) if s)
        data: Json = {"toolName": call.name, "toolUseId": call_id, "ok": ok, "lane": ctx.lane}
        if output:
            data["output"] = cv.bound(output, 2 * cv.OUTPUT_LIMIT)[0]
        if ok and len(edits) == 1:
            data["edit"] = edits[0]
        elif ok and edits:
            data["edits"] = edits
        return [ctx.event("tool_result", data, ("tool_result", call_id))]

    def _mcp(self, ctx: ce.Context, item: Json) -> list[Json]:
        call_id = _text(item.get("id"))
        server, tool = _text(item.get("server")), _text(item.get("tool"))
        name = f"mcp__{server}__{tool}"
        arguments = item.get("arguments")
        call = self._finish(call_id, _Call(name, arguments if isinstance(arguments, dict) else {}))
        result = item.get("result")
        failed = item.get("status") not in (None, "completed") or (
            isinstance(result, dict) and result.get("isError") is True
        )
        text = _joined(result.get("content")) if isinstance(result, dict) else ""
        return cte.tool_result_events(
            ctx,
            name,
            call_id,
            call.tool_input,
            text,
            error=(text or "the MCP tool failed") if failed else None,
            duration_ms=_duration(item.get("duration")),
        )

    # -- response_item --------------------------------------------------------------------

    def _response_item(self, payload: Json, ts: Any) -> list[Json]:
        kind = _text(payload.get("type"))
        ctx = self.context(ts)
        call_id = _text(payload.get("call_id"))
        if kind in ("function_call", "custom_tool_call") and call_id:
            name, tool_input = _tool(payload)
            if len(self.calls) > 1024:  # calls never answered (a crash): forget the oldest
                del self.calls[next(iter(self.calls))]
            self.calls[call_id] = _Call(name, tool_input)
            events = cte.tool_use_events(ctx, name, call_id, tool_input)
            if name == "apply_patch":  # the claims before the files change (see patch.py)
                base = _text(tool_input.get("workdir")) or self.cwd
                claims = patch.patch_claims(_text(tool_input.get("command")), self.workspace, base)
                if claims:
                    events[0]["data"]["edits"] = claims
            return self.flush() + events
        if kind in OUTPUT_TYPES:
            if not call_id or call_id in self.answered:
                return []
            call = self.calls.pop(call_id, None)
            if call is None:
                return []
            output = _joined(payload.get("output"))
            error = output if output.startswith("unsupported") else None
            return cte.tool_result_events(
                ctx, call.name, call_id, call.tool_input, output, error=error
            )
        if kind not in IGNORED_RESPONSES:
            self.skip(f"response_item {kind or '(no type)'}")
        return []


def _tool(payload: Json) -> tuple[str, Json]:
    """The recorded tool name and input of a function or custom tool call."""
    name = _text(payload.get("name")) or "unknown"
    if payload.get("type") == "custom_tool_call":
        return name, {"command": _text(payload.get("input"))}
    try:
        arguments = json.loads(_text(payload.get("arguments")) or "{}")
    except ValueError:
        arguments = {"arguments": _text(payload.get("arguments"))}
    arguments = arguments if isinstance(arguments, dict) else {"arguments": arguments}
    namespace = _text(payload.get("namespace"))
    if namespace.startswith("mcp__"):
        return f"{namespace.rstrip('_')}__{name}", arguments
    if name in SHELL_NAMES:
        command = arguments.get("cmd", arguments.get("command"))
        if isinstance(command, list):
            command = " ".join(str(part) for part in command)
        tool_input: Json = {"command": _text(command)}
        if isinstance(arguments.get("workdir"), str):
            tool_input["workdir"] = arguments["workdir"]
        return ("apply_patch" if _APPLY_PATCH.match(tool_input["command"]) else "Bash"), tool_input
    return name, arguments


def _joined(content: Any) -> str:
    """The text of a content list (`{"type": "text"|"Text"|"input_text", "text": ...}`)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [_text(b.get("text")) for b in content if isinstance(b, dict)]
    return "\n".join(p for p in parts if p)


def _duration(value: Any) -> int | None:
    if not isinstance(value, dict):
        return None
    return _int(value.get("secs")) * 1000 + _int(value.get("nanos")) // 1_000_000


def _file_path(value: Any) -> str | None:
    text = _text(value)
    return text[len("file://") :] if text.startswith("file://") else text or None
