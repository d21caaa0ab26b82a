"""Gemini CLI hook payloads as timeline events, through Claude Code's normaliser.

Gemini CLI (checked with 0.61.0) sends one JSON object per hook call with `session_id`,
`transcript_path`, `cwd`, `hook_event_name` and `timestamp`, plus per event: `BeforeAgent`
`prompt`; `AfterAgent` `prompt`, `prompt_response`; `BeforeTool`/`AfterTool` `tool_name`,
`tool_input`, `tool_response` {`llmContent`, `returnDisplay`, `error`}, and `mcp_context`
{`server_name`, `tool_name`} for MCP tools. Its tools map onto Claude Code's: `write_file` is a
`Write`, `replace` an `Edit`, `run_shell_command` a `Bash`. Tool calls carry no id, so the pre
and post calls are paired by name and input.

Standard library only: the hook imports this on every call.
"""

from __future__ import annotations

import re

from promptster.integrations import hookkit as hk
from promptster.integrations.claude import events as ce

INTEGRATION = "gemini-cli"
HOOK_EVENTS = frozenset(
    {"SessionStart", "SessionEnd", "BeforeAgent", "AfterAgent", "BeforeTool", "AfterTool"}
)
_EXIT = re.compile(r"^Exit Code: (-?\d+)\s*$", re.MULTILINE)
_SECTION = re.compile(r"^(Output|Error|Exit Code|Signal|Background PIDs|Process Group PGID): ")

TYPE_CHECKING = False  # no typing or pathlib at run time: the hook budget
if TYPE_CHECKING:
    from typing import Any

    Json = dict[str, Any]


def call_of(payload: Json) -> hk.Call:
    native = hk.text(payload.get("tool_name")) or "unknown"
    raw = payload.get("tool_input")
    tool_input: Json = raw if isinstance(raw, dict) else {}
    tool_use_id = hk.synthetic_id(native, tool_input)
    mcp = payload.get("mcp_context")
    if isinstance(mcp, dict) and mcp.get("server_name") and mcp.get("tool_name"):
        canonical = f"mcp__{mcp['server_name']}__{mcp['tool_name']}"
        return hk.Call(native, canonical, tool_input, tool_use_id)
    if native == "write_file":
        mapped = {"file_path": tool_input.get("file_path"), "content": tool_input.get("content")}
        return hk.Call(native, "Write", mapped, tool_use_id)
    if native == "replace":
        many = tool_input.get("allow_multiple") is True or (
            isinstance(tool_input.get("expected_replacements"), int)
            and tool_input["expected_replacements"] > 1
        )
        mapped = {
            "file_path": tool_input.get("file_path"),
            "old_string": tool_input.get("old_string"),
            "new_string": tool_input.get("new_string"),
            "replace_all": many,
        }
        return hk.Call(native, "Edit", mapped, tool_use_id)
    if native == "run_shell_command":
        mapped = {
            "command": tool_input.get("command"),
            "description": tool_input.get("description"),
        }
        if tool_input.get("is_background") is True:
            mapped["run_in_background"] = True
        return hk.Call(native, "Bash", mapped, tool_use_id)
    return hk.Call(native, native, tool_input, tool_use_id)


def shell_output(llm_content: str) -> tuple[str, int]:
    """(output, exit code) from run_shell_command's `llmContent`."""
    body = llm_content.replace("<untrusted_context>", "").replace("</untrusted_context>", "")
    found = _EXIT.search(body)
    exit_code = int(found.group(1)) if found else 0
    lines: list[str] = []
    keep = False
    for line in body.strip("\n").splitlines():
        section = _SECTION.match(line)
        if section:
            keep = section.group(1) in ("Output", "Error")
            rest = line[section.end() :]
            if keep and rest and rest != "(empty)":
                lines.append(rest)
        elif keep:
            lines.append(line)
    return "\n".join(lines), exit_code


def _result(ctx: ce.Context, call: hk.Call, payload: Json) -> list[Json]:
    raw = payload.get("tool_response")
    response: Json = raw if isinstance(raw, dict) else {}
    content = response.get("llmContent")
    llm = content if isinstance(content, str) else ""
    error = response.get("error")
    error_text = None
    if error:
        error_text = error if isinstance(error, str) else str(error.get("message", error))
    if call.canonical == "Bash":
        output, exit_code = shell_output(llm)
        if exit_code:
            return hk.tool_result(ctx, call, {}, error=f"Exit code {exit_code}\n{output}")
        if error_text:
            return hk.tool_result(ctx, call, {}, error=error_text)
        return hk.tool_result(ctx, call, {"stdout": output})
    if call.canonical == "Write":
        kind = "create" if "created" in llm.lower() else "update"
        return hk.tool_result(ctx, call, {"type": kind}, error=error_text)
    if call.canonical == "Edit":
        return hk.tool_result(ctx, call, {}, error=error_text)
    text = llm or hk.text(response.get("returnDisplay"))
    return hk.tool_result(ctx, call, text, error=error_text)


def normalize(payload: Json, event: str, ctx: ce.Context, session_dir: str) -> hk.Outcome:
    ctx = ce.Context(
        lane=ctx.lane,
        workspace=ctx.workspace,
        cwd=ctx.cwd,
        ts=None,
        integration=INTEGRATION,
    )
    if event == "BeforeAgent":
        return hk.Outcome([ce.prompt_event(ctx, hk.text(payload.get("prompt")))], heartbeat=True)
    if event == "SessionStart":
        return hk.Outcome(heartbeat=True)
    if event in ("BeforeTool", "AfterTool"):
        call = call_of(payload)
        files = hk.changes_files(call)
        if event == "BeforeTool":
            return hk.Outcome(hk.tool_use(ctx, call), snapshot_before=files)
        shell = call.canonical in ce.SHELL_TOOLS
        return hk.Outcome(
            _result(ctx, call, payload), snapshot_before=shell, snapshot_after=files and not shell
        )
    if event == "AfterAgent":
        from promptster.integrations.gemini import transcript  # only at turn ends

        reply = hk.text(payload.get("prompt_response"))
        usage = transcript.turn_usage(hk.text(payload.get("transcript_path")))
        if not reply.strip() and usage is None:
            return hk.Outcome()
        model, tokens = usage if usage is not None else (None, None)
        return hk.Outcome([ce.ai_response_event(ctx, reply, model=model, usage=tokens)])
    return hk.Outcome()  # SessionEnd
