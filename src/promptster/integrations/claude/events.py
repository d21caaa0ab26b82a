"""Claude Code activity as timeline events: one normaliser for hooks and transcripts.

The hook (live) and the transcript reader (backfill) see the same things in two shapes; both
end up here so a tool call, a prompt or a reply becomes the same event either way. Event ids are
derived from Claude Code's own ids (session, prompt, tool use, message), so the recorder — which
records an id once — drops whatever the second source repeats.

Standard library only: the hook imports this on every call.
"""

from __future__ import annotations

import functools
import os
import re
import sys

from promptster.protocol import new_event, uuid_text

# CPython's own SHA code gives the same digests as hashlib, which loads OpenSSL (~2 ms at import,
# on every hook call); `uuid` would add `platform`.
try:
    _sha1: Callable[[bytes], Any] = __import__("_sha1").sha1
    _sha256: Callable[[bytes], Any] = __import__(
        "_sha256" if sys.version_info < (3, 12) else "_sha2"
    ).sha256
except (ImportError, AttributeError):  # another Python: hashlib then
    from hashlib import sha1 as _sha1
    from hashlib import sha256 as _sha256

TYPE_CHECKING = False  # typing costs ~2 ms at import; mypy still reads the block below
if TYPE_CHECKING:  # the hook imports this module: the payload types cost nothing here
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from typing import Any

    from promptster.formats.payloads import (
        AiResponseData,
        CommandData,
        EditClaim,
        EditPart,
        McpCallData,
        PlanItem,
        PlanningData,
        PromptData,
        ToolResultData,
        ToolUseData,
    )

INTEGRATION = "claude-code"
TEXT_LIMIT = 64 * 1024  # bytes of one text field in an event (docs/event-kinds.md)
OUTPUT_LIMIT = 8 * 1024  # bytes of a command's output head and of its tail
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
SHELL_TOOLS = frozenset({"Bash", "PowerShell"})
PLANNING_TOOLS = frozenset(
    {"TodoWrite", "Task", "Agent", "TaskCreate", "TaskUpdate", "ExitPlanMode", "EnterPlanMode"}
)
FILE_CHANGING_TOOLS = EDIT_TOOLS | SHELL_TOOLS
_NAMESPACE = bytes.fromhex("6f1d7c2e4b1a4e0f9a573c2f7d8e9b10")  # of the event ids (UUID 5)
_EXIT_CODE = re.compile(r"\AExit code (-?\d+)")
_SLASH = re.compile(r"\A(/[\w:.-]+)(?:\s|\Z)")

if TYPE_CHECKING:
    Json = dict[str, Any]


def event_id(lane: str, *parts: str, integration: str = INTEGRATION) -> str:
    """A stable event id: the same fact of an AI tool always gets the same id."""
    name = "\x1f".join((integration, lane, *parts))
    return uuid_text(_sha1(_NAMESPACE + name.encode("utf-8")).digest(), 5)  # as uuid.uuid5


def text_key(text: str) -> str:
    digest: str = _sha256(text.encode("utf-8", "replace")).hexdigest()
    return digest[:32]


def bound(text: str, limit: int = TEXT_LIMIT) -> tuple[str, bool]:
    """`text` cut to at most `limit` UTF-8 bytes (on a character boundary); True if cut."""
    if len(text) * 4 <= limit:
        return text, False
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text, False
    return data[:limit].decode("utf-8", "ignore"), True


def put_output(command: CommandData, text: str, limit: int = OUTPUT_LIMIT) -> None:
    """Set `outputHead`/`outputTail`/`outputTruncated` as the recorded shell writes them: the
    whole output as the head when it fits, else the first and last `limit` bytes."""
    data = text.encode("utf-8", "replace")
    if len(data) <= 2 * limit:
        if text:
            command["outputHead"] = text
        return
    command["outputHead"] = data[:limit].decode("utf-8", "ignore")
    command["outputTail"] = data[-limit:].decode("utf-8", "ignore")
    command["outputTruncated"] = True


def _bounded_value(value: Any, depth: int = 0) -> tuple[Any, bool]:
    """A JSON value with every string bounded and deep or huge structures cut off."""
    if isinstance(value, str):
        return bound(value)
    if depth > 8:
        return None, True
    if isinstance(value, dict):
        out: Json = {}
        cut = False
        for key, item in list(value.items())[:200]:
            out[str(key)], item_cut = _bounded_value(item, depth + 1)
            cut = cut or item_cut
        return out, cut or len(value) > 200
    if isinstance(value, list):
        items = [_bounded_value(item, depth + 1) for item in value[:200]]
        return [item for item, _ in items], any(c for _, c in items) or len(value) > 200
    if value is None or isinstance(value, bool | int | float):
        return value, False
    return str(value)[:200], True


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 time (as Claude Code and the journal write them); None if it is not one."""
    if not isinstance(text, str):
        return None
    return _parse_time(text)


@functools.lru_cache(maxsize=8192)  # a replay at submit parses each event's time many times
def _parse_time(text: str) -> datetime | None:
    from datetime import UTC, datetime  # not at import: the hook does not parse times

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def relative(path: Any, workspace: str) -> str | None:
    """`path` relative to the workspace, "/"-separated; None when it lies outside it."""
    if not isinstance(path, str) or not path:
        return None
    full = os.path.normpath(os.path.join(workspace, path))
    root = os.path.normpath(workspace)
    found = _under(full, root)
    if found is None:  # resolving links costs a system call per component: only when needed
        found = _under(os.path.realpath(full), os.path.realpath(root))
    return found


def _under(candidate: str, base: str) -> str | None:
    if candidate == base or candidate.startswith(base.rstrip(os.sep) + os.sep):
        return os.path.relpath(candidate, base).replace(os.sep, "/")
    return None


class Context:
    """Where a Claude Code fact happened: its session (the lane) and our workspace.

    Other AI tools whose activity maps onto Claude Code's tools reuse this normaliser with
    their own `integration` name (integrations/gemini, cursor, copilot, aider). A plain class,
    not a dataclass (`dataclasses` imports `inspect`: ~6 ms on every hook call); its fields are
    its `__dict__`, so `Context(**{**ctx.__dict__, "cwd": cwd})` copies one with a change."""

    def __init__(
        self,
        lane: str,
        workspace: str,
        cwd: str | None = None,
        prompt_id: str | None = None,
        ts: str | None = None,
        channel: str = "hook",  # "import" for transcript backfill
        emitter: str = "promptster-hook",
        integration: str = INTEGRATION,  # another AI tool reusing this normaliser ("codex")
    ) -> None:
        self.lane = lane
        self.workspace = workspace
        self.cwd = cwd
        self.prompt_id = prompt_id
        self.ts = ts
        self.channel = channel
        self.emitter = emitter
        self.integration = integration

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"Context({fields})"

    def event_id(self, *parts: str) -> str:
        return event_id(self.lane, *parts, integration=self.integration)

    def event(
        self,
        kind: str,
        data: Mapping[str, Any],
        key: tuple[str, ...] | None,
        *,
        actor: str = "ai",
        attribution: str = "likely_ai",
        confidence: float = 0.9,
    ) -> Json:
        return new_event(
            kind,
            data,
            channel=self.channel,
            integration=self.integration,
            emitter=self.emitter,
            actor=actor,
            attribution=attribution,
            confidence=confidence,
            observability="high",
            event_id=self.event_id(*key) if key is not None else None,
            ts=self.ts,
        )


def prompt_key(ctx: Context, text: str, occurrence: int = 1) -> tuple[str, ...]:
    """The id parts of a prompt. Without a prompt id the text names it, so the n-th time the
    same text is sent in a lane (n > 1) is told apart by n: the hook and the transcript count
    the same way, so each still dedupes against the other."""
    if ctx.prompt_id:
        return ("prompt", ctx.prompt_id)
    key = text_key(text)
    return ("prompt", key) if occurrence <= 1 else ("prompt", key, str(occurrence))


def prompt_event(
    ctx: Context, text: str, *, slash_args: str | None = None, occurrence: int = 1
) -> Json:
    bounded, cut = bound(text)
    data: PromptData = {"text": bounded, "length": len(text), "lane": ctx.lane}
    if cut:
        data["truncated"] = True
    if "<pasted_content" in text:
        data["likelyPaste"] = True
    if ctx.prompt_id:
        data["promptId"] = ctx.prompt_id
    slash = _SLASH.match(text)
    if slash:
        data["slashCommand"] = slash.group(1)
    key = prompt_key(ctx, text, occurrence)
    return ctx.event("prompt", data, key, actor="human", attribution="likely_human", confidence=1.0)


def ai_response_event(
    ctx: Context, text: str, *, model: str | None = None, usage: Json | None = None
) -> Json:
    bounded, cut = bound(text)
    data: AiResponseData = {"text": bounded, "lane": ctx.lane}
    if cut:
        data["truncated"] = True
    if model:
        data["model"] = model
    data.update(usage_fields(usage))  # type: ignore[typeddict-item]
    key = ("ai_response", ctx.prompt_id or "", text_key(text))
    return ctx.event("ai_response", data, key)


def _count(usage: Mapping[str, Any], name: str) -> int | None:
    value = usage.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def usage_fields(usage: Json | None) -> dict[str, int]:
    """A reply's token counts under the names every adapter writes (docs/event-kinds.md).

    `inputTokens` is every prompt token, cached or not, as OpenAI-style APIs count them;
    `cachedInputTokens` (cache reads) and `cacheWriteTokens` are the parts of it billed at the
    cache prices. Anthropic's `input_tokens` leaves the cache reads (`cache_read_input_tokens`)
    and writes (`cache_creation_input_tokens`) out, so they are added in; a usage that names
    `cached_input_tokens` or `cache_write_tokens` is OpenAI-style, its input already counts
    them. The cache fields are written only when above zero.
    """
    usage = usage or {}
    fields: dict[str, int] = {}
    given = _count(usage, "input_tokens")
    read = _count(usage, "cache_read_input_tokens")
    written = _count(usage, "cache_creation_input_tokens")
    if given is not None:
        fields["inputTokens"] = given + (read or 0) + (written or 0)
    output = _count(usage, "output_tokens")
    if output is not None:
        fields["outputTokens"] = output
    read = read or _count(usage, "cached_input_tokens")
    written = written or _count(usage, "cache_write_tokens")
    if read:
        fields["cachedInputTokens"] = read
    if written:
        fields["cacheWriteTokens"] = written
    return fields


def note_event(ctx: Context, text: str, key: tuple[str, ...], **extra: Any) -> Json:
    data: Json = {"text": bound(text)[0], "lane": ctx.lane, **extra}
    return ctx.event("note", data, key, actor="human", attribution="likely_human", confidence=0.9)


def warning_event(ctx: Context, code: str, message: str, **extra: Any) -> Json:
    data: Json = {"code": code, "message": message, "integration": ctx.integration, **extra}
    return new_event(
        "warning",
        data,
        channel=ctx.channel,
        integration=ctx.integration,
        emitter=ctx.emitter,
        actor="system",
        attribution="system_generated",
        confidence=1.0,
        ts=ctx.ts,
    )


def mcp_parts(tool_name: str) -> tuple[str, str] | None:
    """("server", "tool") for `mcp__server__tool`."""
    if not tool_name.startswith("mcp__"):
        return None
    server, _, tool = tool_name[5:].partition("__")
    return (server, tool) if server and tool else None


def tool_use_events(ctx: Context, tool_name: str, tool_use_id: str, tool_input: Any) -> list[Json]:
    """What the AI asked to do: `tool_use`, plus `planning` for plan and task tools."""
    bounded, cut = _bounded_value(tool_input if isinstance(tool_input, dict) else {})
    data: ToolUseData = {
        "toolName": tool_name,
        "toolUseId": tool_use_id,
        "input": bounded,
        "lane": ctx.lane,
    }
    if cut:
        data["inputTruncated"] = True
    events = [ctx.event("tool_use", data, ("tool_use", tool_use_id))]
    if tool_name in PLANNING_TOOLS:
        plan: PlanningData = {"toolName": tool_name, "lane": ctx.lane}
        items = _plan_items(tool_input)
        if items:
            plan["items"] = items
        events.append(ctx.event("planning", plan, ("planning", tool_use_id)))
    return events


def _plan_items(tool_input: Any) -> list[PlanItem]:
    if not isinstance(tool_input, dict):
        return []
    todos = tool_input.get("todos")
    if isinstance(todos, list):
        return [
            {"text": bound(str(t.get("content", "")), 2048)[0], "status": str(t.get("status", ""))}
            for t in todos[:100]
            if isinstance(t, dict)
        ]
    for field in ("plan", "description", "subject", "prompt"):
        value = tool_input.get(field)
        if isinstance(value, str) and value:
            status = str(tool_input.get("status", "pending"))
            return [{"text": bound(value, 2048)[0], "status": status}]
    return []


def tool_result_events(
    ctx: Context,
    tool_name: str,
    tool_use_id: str,
    tool_input: Any,
    response: Any,
    *,
    error: str | None = None,
    duration_ms: int | None = None,
) -> list[Json]:
    """What came back: `tool_result` (with the edit claim for edit tools), and for shell tools
    `command` plus `test_run`/`build_run`, for MCP tools `mcp_call`."""
    tool_input = tool_input if isinstance(tool_input, dict) else {}
    ok = error is None
    output = error if error is not None else _response_text(tool_name, response)
    data: ToolResultData = {
        "toolName": tool_name,
        "toolUseId": tool_use_id,
        "ok": ok,
        "lane": ctx.lane,
    }
    if output:
        data["output"], cut = bound(output, 2 * OUTPUT_LIMIT)
        if cut:
            data["outputTruncated"] = True
    if tool_name in EDIT_TOOLS:
        claim = edit_claim(
            ctx, tool_name, tool_input, response if isinstance(response, dict) else {}
        )
        if claim is not None:
            data["edit"] = claim
    if tool_name in SHELL_TOOLS and isinstance(response, dict):
        changed = _changed_files(response.get("bashEditDiff"), ctx.workspace)
        if changed is not None:
            data["changedFiles"] = changed
    events = [ctx.event("tool_result", data, ("tool_result", tool_use_id))]
    if tool_name in SHELL_TOOLS:
        events.extend(_command_events(ctx, tool_use_id, tool_input, response, error, duration_ms))
    parts = mcp_parts(tool_name)
    if parts is not None:
        arguments, _ = _bounded_value(tool_input)
        call: McpCallData = {
            "server": parts[0],
            "tool": parts[1],
            "arguments": arguments,
            "ok": ok,
        }
        call["lane"] = ctx.lane
        events.append(ctx.event("mcp_call", call, ("mcp_call", tool_use_id)))
    return events


def _changed_files(diff: Any, workspace: str) -> list[str] | None:
    """The workspace files a shell command changed, when Claude Code reports them in full
    (`bashEditDiff`, v2.1.269+); None when it did not or could not tell."""
    if not isinstance(diff, dict) or diff.get("unavailable") or diff.get("moreFiles"):
        return None
    paths = diff.get("changedFiles")
    if not isinstance(paths, list):
        return None
    inside = (relative(path, workspace) for path in paths[:200])
    return sorted({path for path in inside if path is not None})


def _response_text(tool_name: str, response: Any) -> str:
    if isinstance(response, str):
        return response
    if not isinstance(response, dict) or tool_name in EDIT_TOOLS or tool_name == "Read":
        return ""  # edits are in the claim; file contents are in the snapshots
    if "stdout" in response or "stderr" in response:
        return "\n".join(str(response.get(k) or "") for k in ("stdout", "stderr")).strip("\n")
    content = response.get("content")
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict)).strip()
    return ""


def edit_claim(ctx: Context, tool_name: str, tool_input: Json, response: Json) -> EditClaim | None:
    """The AI edit claim: path, old/new text or content, and `userModified`."""
    raw_path = (
        tool_input.get("file_path") or tool_input.get("notebook_path") or response.get("filePath")
    )
    path = relative(raw_path, ctx.workspace)
    claim: EditClaim = {"tool": tool_name, "userModified": response.get("userModified") is True}
    if path is None:
        claim["outsideWorkspace"] = True  # nothing outside the workspace is captured
        return claim
    claim["path"] = path
    cut = False

    def text(value: Any) -> str:
        nonlocal cut
        bounded, was_cut = bound(value if isinstance(value, str) else "")
        cut = cut or was_cut
        return bounded

    if tool_name == "Write":
        claim["content"] = text(tool_input.get("content"))
        if response.get("type") in ("create", "update"):
            claim["created"] = response.get("type") == "create"
    elif tool_name == "Edit":
        claim["oldString"] = text(tool_input.get("old_string"))
        claim["newString"] = text(tool_input.get("new_string"))
        claim["replaceAll"] = tool_input.get("replace_all") is True
    elif tool_name == "MultiEdit":
        edits = tool_input.get("edits")
        parts: list[EditPart] = [
            {
                "oldString": text(e.get("old_string")),
                "newString": text(e.get("new_string")),
                "replaceAll": e.get("replace_all") is True,
            }
            for e in (edits if isinstance(edits, list) else [])[:500]
            if isinstance(e, dict)
        ]
        claim["edits"] = parts
    else:  # NotebookEdit
        claim["newString"] = text(tool_input.get("new_source"))
        if isinstance(tool_input.get("cell_id"), str):
            claim["cellId"] = tool_input["cell_id"]
        if isinstance(tool_input.get("edit_mode"), str):
            claim["editMode"] = tool_input["edit_mode"]
    if cut:
        claim["truncated"] = True
    return claim


def _command_events(
    ctx: Context,
    tool_use_id: str,
    tool_input: Json,
    response: Any,
    error: str | None,
    duration_ms: int | None,
) -> list[Json]:
    command = tool_input.get("command")
    if not isinstance(command, str):
        return []
    response = response if isinstance(response, dict) else {}
    if error is not None:
        found = _EXIT_CODE.match(error)
        exit_code = int(found.group(1)) if found else 1
        output = error[found.end() :].lstrip("\n") if found else error
    else:
        exit_code = 130 if response.get("interrupted") is True else 0
        output = _response_text("Bash", response)
    cwd = relative(ctx.cwd, ctx.workspace) if ctx.cwd else "."
    data: CommandData = {
        "command": bound(command, 16 * 1024)[0],
        "exitCode": exit_code,
        "durationMs": duration_ms if isinstance(duration_ms, int) else 0,
        "cwd": cwd if cwd is not None else "",
    }
    put_output(data, output)
    if cwd is None:
        data["outsideWorkspace"] = True
    if response.get("interrupted") is True:
        data["interrupted"] = True
    background = tool_input.get("run_in_background") is True
    if background:
        data["background"] = True
    command_id = ctx.event_id("command", tool_use_id)
    events = [ctx.event("command", data, ("command", tool_use_id))]
    if background:
        return events  # its output and status arrive later, outside this call
    from promptster.runs.events import run_event  # only shell calls pay for the parsers

    run = run_event(command, output, exit_code=exit_code, duration_ms=data["durationMs"])
    if run is not None:
        run_data: Json = {**run.data, "commandEventId": command_id}
        events.append(ctx.event(run.kind, run_data, (run.kind, tool_use_id)))
    return events
