"""Copilot CLI hook payloads as timeline events, through Claude Code's normaliser.

Copilot CLI (checked with 1.0.102) runs the hooks of `.github/hooks/*.json`; the payload does
not name its event, so the hook command does (`promptster hook copilot-cli <event>`). Payloads
are camelCase: `sessionId`, `timestamp` (epoch ms), `cwd`, and per event `prompt`
(`userPromptSubmitted`), `toolName` / `toolArgs` / `toolResult` {`resultType`,
`textResultForLlm`} (`preToolUse`, `postToolUse`), `transcriptPath` (`agentStop`). Its tools
map onto Claude Code's: `create` is a `Write`, `edit` (`str_replace`) an `Edit`, `bash` a
`Bash`; builds from 1.0.62 on may already use Claude Code's names. Tool calls carry no id, so
pre and post calls are paired by name and input.

Standard library only: the hook imports this on every call.
"""

from __future__ import annotations

import re
import time

from promptster.integrations import hookkit as hk
from promptster.integrations.claude import events as ce

AGENT_STOP_TRIES = 10  # × 0.1 s: at a turn's end only, so the AI tool never waits longer
INTEGRATION = "copilot-cli"
HOOK_EVENTS = frozenset(
    {"sessionStart", "sessionEnd", "userPromptSubmitted", "preToolUse", "postToolUse", "agentStop"}
)
_EXIT = re.compile(r"<shellId: \S+ completed with exit code (-?\d+)>\s*\Z")
TYPE_CHECKING = False  # no typing or pathlib at run time: the hook budget
if TYPE_CHECKING:
    from typing import Any

    Json = dict[str, Any]


def _args(payload: Json) -> tuple[str, Json]:
    name = hk.text(payload.get("toolName")) or hk.text(payload.get("tool_name"))
    args = payload.get("toolArgs", payload.get("tool_input"))
    calls = payload.get("toolCalls")
    if not name and isinstance(calls, list) and calls and isinstance(calls[0], dict):
        name, args = hk.text(calls[0].get("name")), calls[0].get("args")
    return name or "unknown", args if isinstance(args, dict) else {}


def call_of(payload: Json) -> hk.Call:
    native, args = _args(payload)
    tool_use_id = hk.synthetic_id(native, args)
    path = args.get("path") or args.get("file_path")
    if native in ("create", "Write"):
        content = args.get("file_text", args.get("content"))
        return hk.Call(native, "Write", {"file_path": path, "content": content}, tool_use_id)
    if native in ("edit", "str_replace", "Edit"):
        mapped = {
            "file_path": path,
            "old_string": args.get("old_str", args.get("old_string")),
            "new_string": args.get("new_str", args.get("new_string")),
        }
        return hk.Call(native, "Edit", mapped, tool_use_id)
    if native in ("bash", "Bash", "shell"):
        mapped = {"command": args.get("command"), "description": args.get("description")}
        if args.get("mode") == "async":
            mapped["run_in_background"] = True
        return hk.Call(native, "Bash", mapped, tool_use_id)
    if native.startswith("mcp__"):
        return hk.Call(native, native, args, tool_use_id)
    server, dash, tool = native.partition("-")
    if dash and server == "promptster":  # Copilot CLI names MCP tools "<server>-<tool>"
        return hk.Call(native, f"mcp__{server}__{tool}", args, tool_use_id)
    return hk.Call(native, native, args, tool_use_id)


def _result(ctx: ce.Context, call: hk.Call, payload: Json) -> list[Json]:
    raw = payload.get("toolResult", payload.get("tool_response"))
    result: Json = raw if isinstance(raw, dict) else {"textResultForLlm": raw}
    text = hk.text(result.get("textResultForLlm"))
    failed = result.get("resultType") not in (None, "success")
    if call.canonical == "Bash":
        found = _EXIT.search(text)
        output = text[: found.start()].rstrip("\n") if found else text
        code = int(found.group(1)) if found else (1 if failed else 0)
        if code:
            return hk.tool_result(ctx, call, {}, error=f"Exit code {code}\n{output}")
        return hk.tool_result(ctx, call, {"stdout": output})
    error = (text or "the tool failed") if failed else None
    if call.canonical == "Write":
        return hk.tool_result(ctx, call, {"type": "create"}, error=error)
    if call.canonical == "Edit":
        return hk.tool_result(ctx, call, {}, error=error)
    return hk.tool_result(ctx, call, text, error=error)


def normalize(payload: Json, event: str, ctx: ce.Context, session_dir: str) -> hk.Outcome:
    if event == "userPromptSubmitted":
        return hk.Outcome([ce.prompt_event(ctx, hk.text(payload.get("prompt")))], heartbeat=True)
    if event == "sessionStart":
        return hk.Outcome(heartbeat=True)
    if event in ("preToolUse", "postToolUse"):
        call = call_of(payload)
        files = hk.changes_files(call)
        if event == "preToolUse":
            return hk.Outcome(hk.tool_use(ctx, call), snapshot_before=files)
        shell = call.canonical in ce.SHELL_TOOLS
        return hk.Outcome(
            _result(ctx, call, payload), snapshot_before=shell, snapshot_after=files and not shell
        )
    if event == "agentStop":
        from promptster.integrations.copilot import transcript  # only at turn ends

        path = hk.text(payload.get("transcriptPath")) or hk.text(payload.get("transcript_path"))
        reply = transcript.last_turn(path)
        for _ in range(AGENT_STOP_TRIES):  # Copilot may still be writing the turn's last lines
            if reply is not None:
                break
            time.sleep(0.1)
            reply = transcript.last_turn(path)
        if reply is None:
            return hk.Outcome()
        text, model, usage = reply
        return hk.Outcome([ce.ai_response_event(ctx, text, model=model, usage=usage)])
    return hk.Outcome()  # sessionEnd
