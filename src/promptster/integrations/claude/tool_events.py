"""Claude Code's tool calls as events: `tool_use` (and `planning` for plan and task tools)
when the AI asks, `tool_result` with the edit claim when it comes back, plus `command` and
`test_run`/`build_run` for shell tools and `mcp_call` for MCP tools.

Standard library only (the test-output parsers load for shell results): the hook imports this
on every tool call.
"""

from __future__ import annotations

import re

from promptster.integrations.claude.events import EDIT_TOOLS, PLANNING_TOOLS, SHELL_TOOLS
from promptster.integrations.claude.values import (
    OUTPUT_LIMIT,
    bound,
    bounded_value,
    put_output,
    relative,
)

TYPE_CHECKING = False  # typing costs ~2 ms at import; mypy still reads the block below
if TYPE_CHECKING:  # the hook imports this module: the payload types cost nothing here
    from typing import Any

    from promptster.formats.payloads import (
        CommandData,
        EditClaim,
        EditPart,
        McpCallData,
        PlanItem,
        PlanningData,
        ToolResultData,
        ToolUseData,
    )
    from promptster.integrations.claude.events import Context

    Json = dict[str, Any]

_EXIT_CODE = re.compile(r"\AExit code (-?\d+)")


def mcp_parts(tool_name: str) -> tuple[str, str] | None:
    """("server", "tool") for `mcp__server__tool`."""
    if not tool_name.startswith("mcp__"):
        return None
    server, _, tool = tool_name[5:].partition("__")
    return (server, tool) if server and tool else None


def tool_use_events(ctx: Context, tool_name: str, tool_use_id: str, tool_input: Any) -> list[Json]:
    """What the AI asked to do: `tool_use`, plus `planning` for plan and task tools."""
    bounded, cut = bounded_value(tool_input if isinstance(tool_input, dict) else {})
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
        arguments, _ = bounded_value(tool_input)
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
