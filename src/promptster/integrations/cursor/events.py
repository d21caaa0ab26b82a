"""Cursor agent hook payloads as timeline events, through Claude Code's normaliser.

Cursor cannot run on the machines Promptster is tested on; this follows the documented shape
(cursor.com/docs/agent/hooks, Cursor 1.7 to 3.x): every payload has `conversation_id`,
`generation_id`, `model`, `hook_event_name`, `cursor_version`, `workspace_roots[]` (and
`user_email`, which is never recorded). Events used: `beforeSubmitPrompt` (`prompt`),
`preToolUse` / `postToolUse` / `postToolUseFailure` (`tool_name`, `tool_input`,
`tool_output`, `tool_use_id`, `cwd`, `duration`), `afterAgentResponse` (`text`), and for builds
without the generic tool events `afterFileEdit` (`file_path`, `edits[]`),
`afterShellExecution` (`command`, `output`, `duration`) and `afterMCPExecution`. Once a
conversation has sent a generic tool event, its older-style events are skipped, so nothing is
counted twice. Both snake_case and the camelCase spellings of early builds are accepted.

Tools: `Write` (`file_path`/`path`, `contents`/`content`), `StrReplace` (`old_string`,
`new_string`), `Delete`, `ApplyPatch` (patch text), `Shell` (`command`); MCP tools `MCP:<tool>`
or `mcp__<server>__<tool>`.
"""

from __future__ import annotations

import json
import os

from promptster.integrations import hookkit as hk
from promptster.integrations.claude import events as ce

INTEGRATION = "cursor"
HOOK_EVENTS = frozenset(
    {
        "sessionStart",
        "sessionEnd",
        "beforeSubmitPrompt",
        "preToolUse",
        "postToolUse",
        "postToolUseFailure",
        "afterFileEdit",
        "afterShellExecution",
        "afterMCPExecution",
        "afterAgentResponse",
        "stop",
    }
)
LEGACY = frozenset({"afterFileEdit", "afterShellExecution", "afterMCPExecution"})
TYPE_CHECKING = False  # no typing or pathlib at run time: the hook budget
if TYPE_CHECKING:
    from typing import Any

    Json = dict[str, Any]


def _get(payload: Json, *keys: str) -> Any:
    for key in keys:
        if payload.get(key) is not None:
            return payload[key]
    return None


def _path(tool_input: Json) -> Any:
    return _get(tool_input, "file_path", "path", "filePath", "target_file")


def calls_of(payload: Json) -> list[hk.Call]:
    """The tool call, as Claude Code tools (an ApplyPatch becomes one call per file)."""
    native = hk.text(_get(payload, "tool_name", "toolName")) or "unknown"
    raw = _get(payload, "tool_input", "toolInput")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = {"input": raw}
    tool_input: Json = raw if isinstance(raw, dict) else {}
    tool_use_id = hk.text(_get(payload, "tool_use_id", "toolUseId")) or hk.synthetic_id(
        native, tool_input
    )
    if native in ("Write", "edit_file", "write"):
        content = _get(tool_input, "contents", "content", "file_text", "code_edit")
        mapped = {"file_path": _path(tool_input), "content": content}
        return [hk.Call(native, "Write", mapped, tool_use_id)]
    if native in ("StrReplace", "search_replace", "Edit"):
        mapped = {
            "file_path": _path(tool_input),
            "old_string": tool_input.get("old_string"),
            "new_string": tool_input.get("new_string"),
            "replace_all": tool_input.get("replace_all") is True,
        }
        return [hk.Call(native, "Edit", mapped, tool_use_id)]
    if native == "ApplyPatch":
        patch = hk.text(_get(tool_input, "patch", "input", "command"))
        calls = []
        for index, (path, (old, new)) in enumerate(sorted(hk.patch_edits(patch).items())):
            mapped = {"file_path": path, "old_string": old, "new_string": new}
            calls.append(hk.Call(native, "Edit", mapped, f"{tool_use_id}#{index}"))
        return calls or [hk.Call(native, native, tool_input, tool_use_id)]
    if native in ("Shell", "run_terminal_cmd", "Bash"):
        mapped = {"command": tool_input.get("command")}
        if tool_input.get("is_background") is True:
            mapped["run_in_background"] = True
        return [hk.Call(native, "Bash", mapped, tool_use_id)]
    if native.startswith("MCP:"):
        server = hk.text(payload.get("server_name")) or "unknown"
        return [hk.Call(native, f"mcp__{server}__{native[4:]}", tool_input, tool_use_id)]
    return [hk.Call(native, native, tool_input, tool_use_id)]


def _response(call: hk.Call, output: Any) -> tuple[Any, str | None]:
    """(response for the normaliser, error)."""
    if isinstance(output, str):
        try:
            decoded = json.loads(output)
            output = decoded if isinstance(decoded, dict) else output
        except ValueError:
            pass
    if call.canonical != "Bash":
        return output, None
    if isinstance(output, dict):
        code = _get(output, "exitCode", "exit_code")
        text = hk.text(_get(output, "output", "stdout")) or ""
        stderr = hk.text(output.get("stderr"))
        if stderr:
            text = f"{text}\n{stderr}" if text else stderr
        if isinstance(code, int) and code != 0:
            return {}, f"Exit code {code}\n{text}"
        return {"stdout": text}, None
    return {"stdout": hk.text(output)}, None


def _uses_tool_events(session_dir: str, lane: str, mark: bool) -> bool:
    folder = os.path.join(session_dir, "integrations", INTEGRATION)
    marker = os.path.join(folder, f"tool-events-{ce.text_key(lane)}")
    if mark and not os.path.exists(marker):
        os.makedirs(folder, exist_ok=True)
        with open(marker, "ab"):
            pass
    return os.path.exists(marker)


def normalize(payload: Json, event: str, ctx: ce.Context, session_dir: str) -> hk.Outcome:
    if event in ("preToolUse", "postToolUse", "postToolUseFailure"):
        _uses_tool_events(session_dir, ctx.lane, mark=True)
        return _tool(payload, event, ctx)
    if event in LEGACY:
        if _uses_tool_events(session_dir, ctx.lane, mark=False):
            return hk.Outcome()
        return _legacy(payload, event, ctx)
    if event == "beforeSubmitPrompt":
        prompt = hk.text(payload.get("prompt"))
        return hk.Outcome([ce.prompt_event(ctx, prompt)], heartbeat=True)
    if event == "afterAgentResponse":
        reply = hk.text(payload.get("text"))
        if not reply.strip():
            return hk.Outcome()
        model = hk.text(payload.get("model")) or None
        return hk.Outcome([ce.ai_response_event(ctx, reply, model=model, usage=_usage(payload))])
    if event == "sessionStart":
        return hk.Outcome(heartbeat=True)
    return hk.Outcome()  # stop, sessionEnd


def _usage(payload: Json) -> Json | None:
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    return {
        "input_tokens": _get(usage, "input_tokens", "inputTokens"),
        "output_tokens": _get(usage, "output_tokens", "outputTokens"),
    }


def _tool(payload: Json, event: str, ctx: ce.Context) -> hk.Outcome:
    calls = calls_of(payload)
    files = any(hk.changes_files(call) for call in calls)
    shell = any(call.canonical in ce.SHELL_TOOLS for call in calls)
    if event == "preToolUse":
        events = [e for call in calls for e in hk.tool_use(ctx, call)]
        return hk.Outcome(events, snapshot_before=files)
    duration = payload.get("duration")
    duration_ms = int(duration) if isinstance(duration, int | float) else None
    events = []
    for call in calls:
        if event == "postToolUseFailure":
            failure = hk.text(_get(payload, "error", "error_message")) or "the tool failed"
            events += hk.tool_result(ctx, call, {}, error=failure, duration_ms=duration_ms)
        else:
            response, error = _response(call, _get(payload, "tool_output", "toolOutput"))
            events += hk.tool_result(ctx, call, response, error=error, duration_ms=duration_ms)
    return hk.Outcome(events, snapshot_before=shell, snapshot_after=files and not shell)


def _legacy(payload: Json, event: str, ctx: ce.Context) -> hk.Outcome:
    if event == "afterFileEdit":
        edits = payload.get("edits") if isinstance(payload.get("edits"), list) else []
        mapped = {
            "file_path": payload.get("file_path"),
            "edits": [
                {"old_string": e.get("old_string"), "new_string": e.get("new_string")}
                for e in edits or []
                if isinstance(e, dict)
            ],
        }
        tool_use_id = hk.synthetic_id(event, mapped)
        call = hk.Call(event, "MultiEdit", mapped, tool_use_id)
        events = hk.tool_use(ctx, call) + hk.tool_result(ctx, call, {})
        return hk.Outcome(events, snapshot_after=True)
    if event == "afterShellExecution":
        mapped = {"command": payload.get("command")}
        call = hk.Call("Shell", "Bash", mapped, hk.synthetic_id(event, payload))
        duration = payload.get("duration")
        response, error = _response(call, payload.get("output"))
        events = hk.tool_use(ctx, call) + hk.tool_result(
            ctx,
            call,
            response,
            error=error,
            duration_ms=int(duration) if isinstance(duration, int | float) else None,
        )
        return hk.Outcome(events, snapshot_before=True)
    command = hk.text(payload.get("command"))
    server = "promptster" if "promptster" in command else "unknown"
    name = f"mcp__{server}__{hk.text(payload.get('tool_name')) or 'unknown'}"
    raw = payload.get("tool_input")
    try:
        tool_input = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        tool_input = {"input": raw}
    arguments: Json = tool_input if isinstance(tool_input, dict) else {}
    call = hk.Call(name, name, arguments, hk.synthetic_id(name, arguments))
    result = payload.get("result_json")
    return hk.Outcome(hk.tool_use(ctx, call) + hk.tool_result(ctx, call, result or ""))
