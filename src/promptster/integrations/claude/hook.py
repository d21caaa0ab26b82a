"""`promptster hook claude-code`: one Claude Code hook call becomes events for the recorder.

Claude Code runs this for every prompt, tool call, turn end and session boundary, and waits for
it, so it is part of the candidate's experience. The rules:

- it always exits 0 (exit 2 would block a tool or erase a prompt) and prints nothing on stdout
  (on `UserPromptSubmit` and `SessionStart` stdout becomes part of Claude's context);
- it imports the standard library, the recorder client and the Claude Code normaliser only;
- a payload it cannot use (not JSON, too large, an unknown shape) becomes a `warning` event
  saying what was skipped; when the recorder is down, events go to the spool.
"""

from __future__ import annotations

import json
import os
import sys
import time

from promptster import protocol as client
from promptster.integrations.claude import events as ce
from promptster.integrations.claude import values as cv

TYPE_CHECKING = False  # no typing, pathlib, contextlib at run time: the hook budget
if TYPE_CHECKING:  # on every hook call: the payload types cost nothing at run time
    from pathlib import Path
    from typing import Any, BinaryIO

    from promptster.formats.payloads import NoteData

    Json = dict[str, Any]

MAX_PAYLOAD = 32 * 1024 * 1024
SNAPSHOT_TIMEOUT_S = 2.0
HOOK_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "Stop",
    "SessionEnd",
    "Notification",
)


def main(argv: list[str] | None = None, stdin: BinaryIO | None = None) -> int:
    """Handle one hook call. Returns 0 whatever happens."""
    try:  # noqa: SIM105 (contextlib: ~1 ms more per hook call)
        handle_call(stdin if stdin is not None else sys.stdin.buffer)
    except BaseException:  # fail open: never break or block Claude Code
        pass
    return 0


def _read(stream: BinaryIO) -> tuple[bytes, int]:
    """The payload, or b"" with its size when it is over the limit (the rest is drained)."""
    data = stream.read(MAX_PAYLOAD + 1)
    if len(data) <= MAX_PAYLOAD:
        return data, len(data)
    size = len(data)
    while chunk := stream.read(1024 * 1024):
        size += len(chunk)
    return b"", size


def _parse(data: bytes, size: int) -> tuple[Json | None, str | None]:
    """(payload, None) or (None, why it was skipped)."""
    if size > MAX_PAYLOAD:
        return None, f"is {size:,} bytes, over the {MAX_PAYLOAD:,}-byte limit"
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        return None, f"is not valid JSON ({size:,} bytes: {reason})"
    if not isinstance(payload, dict):
        return None, f"is a JSON {type(payload).__name__}, not an object"
    event = payload.get("hook_event_name")
    if event not in HOOK_EVENTS:
        return None, f"has an unknown hook_event_name {str(event)[:80]!r}"
    return payload, None


def _start_dir(payload: Json | None) -> str | None:
    for candidate in ((payload or {}).get("cwd"), os.environ.get("CLAUDE_PROJECT_DIR")):
        if isinstance(candidate, str) and os.path.isabs(candidate):
            return candidate
    return None


def handle_call(stream: BinaryIO) -> None:
    data, size = _read(stream)
    payload, problem = _parse(data, size)
    handle = client.find_session(_start_dir(payload))
    if handle is None or not handle.active:
        return  # not recording here
    if payload is None:
        ctx = ce.Context(lane="unknown", workspace=handle.workspace_dir)
        message = f"a Claude Code hook payload {problem}; it was skipped"
        _send(handle, [ce.warning_event(ctx, "hook_payload_skipped", message)])
        return
    name = payload["hook_event_name"]
    tool = payload.get("tool_name")
    changes_files = name in ("PreToolUse", "PostToolUse", "PostToolUseFailure") and (
        tool in ce.FILE_CHANGING_TOOLS
    )
    # Snapshots bracket what the AI does, so its edits and the candidate's rarely share one:
    # before a tool runs, earlier changes are not its doing; after a shell command, its writes
    # are committed before its result is recorded; after an edit, the claim goes first.
    if changes_files and (name == "PreToolUse" or tool in ce.SHELL_TOOLS):
        _snapshot(handle, f"claude-code-{'pre' if name == 'PreToolUse' else 'post'}-tool")
    if name in ("SessionStart", "UserPromptSubmit"):
        _heartbeat(handle, payload)
    events = events_for(payload, handle.dir, handle.workspace_dir)
    if events:
        _send(handle, events)
    if name == "PreToolUse" and tool in ce.SHELL_TOOLS:
        _command_start(handle, events)
    if changes_files and name != "PreToolUse" and tool in ce.EDIT_TOOLS:
        _snapshot(handle, "claude-code-post-tool")


def _send(handle: client.SessionHandle, events: list[Json]) -> None:
    """Send, and say on stderr when the events could not be recorded (issue 16: every loss
    leaves a trace); Claude Code shows hook stderr in its transcript view and goes on."""
    client.say_dropped("Claude Code hook", len(events), client.send_events(handle, events))


def _ask(handle: client.SessionHandle, message: Json, timeout: float) -> None:
    """A request whose answer does not matter: the session goes on without it."""
    try:  # noqa: SIM105 (contextlib: ~1 ms more per hook call)
        client.request(handle, message, timeout)
    except (client.RecorderUnavailable, ValueError):
        pass


def _snapshot(handle: client.SessionHandle, reason: str) -> None:
    # When this fails the watcher still snapshots; attribution then has coarser batches.
    _ask(handle, {"op": "snapshot", "reason": reason}, SNAPSHOT_TIMEOUT_S)


def _command_start(handle: client.SessionHandle, events: list[Json]) -> None:
    """Let the recorder measure what the AI client's processes have written so far, before
    the command runs (Linux only; attribution tells a hand save during the command from the
    command's own writes by it). This must be the hook's last write: the recorder takes the
    measure while the hook waits for its answer, so the command has not started yet."""
    from promptster.integrations import proctree

    use: Json = next((e["data"] for e in events if e["kind"] == "tool_use"), {})
    tool_use_id, tool_input = use.get("toolUseId"), use.get("input")
    command = tool_input.get("command") if isinstance(tool_input, dict) else None
    me = proctree.ident(os.getpid())
    owner = proctree.client_of(os.getpid()) if me is not None else None
    if isinstance(tool_use_id, str) and me is not None and owner is not None:
        first = command.strip().split("\n", 1)[0][:200] if isinstance(command, str) else ""
        message = {
            "op": "command_start",
            "toolUseId": tool_use_id,
            "client": owner,
            "hook": me,
            "command": first,  # its first line: the recorder finds the command's process by it
        }
        _ask(handle, message, SNAPSHOT_TIMEOUT_S)


def _heartbeat(handle: client.SessionHandle, payload: Json) -> None:
    detail = f"{payload['hook_event_name']} in session {str(payload.get('session_id'))[:40]}"
    _ask(handle, {"op": "heartbeat", "source": "claude-code", "detail": detail}, 1.0)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def events_for(payload: Json, session_dir: str | Path, workspace: str) -> list[Json]:
    """The events one hook payload yields (reading the transcript at Stop and SessionEnd;
    `pathlib` is imported there only, with the transcript reader)."""
    name = payload["hook_event_name"]
    lane = _text(payload.get("session_id")) or "unknown"
    prompt_id = _text(payload.get("prompt_id")) or None
    cwd = _text(payload.get("cwd")) or None
    ctx = ce.Context(lane=lane, workspace=workspace, cwd=cwd, prompt_id=prompt_id)
    transcript = os.path.expanduser(_text(payload.get("transcript_path")))
    if name in ("SessionStart", "UserPromptSubmit", "Stop", "SessionEnd") and transcript:
        from promptster.integrations.claude import hookstate

        hookstate.remember(session_dir, lane, transcript)
    if name == "UserPromptSubmit":
        prompt = _text(payload.get("prompt"))
        if prompt_id:
            return [ce.prompt_event(ctx, prompt)]
        from promptster.integrations.claude.hookstate import count_prompt

        occurrence = count_prompt(session_dir, lane, prompt)
        return [ce.prompt_event(ctx, prompt, occurrence=occurrence)]
    if name in ("PreToolUse", "PostToolUse", "PostToolUseFailure"):
        return _tool_events(ctx, name, payload)
    if name in ("Stop", "SessionEnd"):
        return _turn_end(ctx, payload, session_dir, transcript)
    if name == "Notification":
        message = _text(payload.get("message")) or "notification"
        data: NoteData = {"text": cv.bound(f"Claude Code: {message}")[0], "lane": lane}
        kind = _text(payload.get("notification_type"))
        if kind:
            data["notificationType"] = kind
        return [ctx.event("note", data, None, actor="system", attribution="system_generated")]
    return []  # SessionStart: the heartbeat and the transcript note are all it gives


def _tool_events(ctx: ce.Context, name: str, payload: Json) -> list[Json]:
    from promptster.integrations.claude import tool_events as cte  # tool calls only

    tool = _text(payload.get("tool_name")) or "unknown"
    tool_input = payload.get("tool_input")
    tool_use_id = _text(payload.get("tool_use_id"))
    if not tool_use_id:  # pair Pre and Post by what they share
        tool_use_id = "synthetic-" + ce.text_key(tool + json.dumps(tool_input, sort_keys=True))
    if name == "PreToolUse":
        return cte.tool_use_events(ctx, tool, tool_use_id, tool_input)
    duration = payload.get("duration_ms")
    error = None
    if name == "PostToolUseFailure":
        error = _text(payload.get("error")) or "the tool failed"
        if payload.get("is_interrupt") is True:
            error = "interrupted by the user\n" + error
    return cte.tool_result_events(
        ctx,
        tool,
        tool_use_id,
        tool_input,
        payload.get("tool_response"),
        error=error,
        duration_ms=duration if isinstance(duration, int) else None,
    )


TRANSCRIPT_WAIT_STEPS = 20
TRANSCRIPT_WAIT_STEP_S = 0.05


def _has_reply(events: list[Json], reply: Json) -> bool:
    return any(event["id"] == reply["id"] for event in events)


def _turn_end(
    ctx: ce.Context, payload: Json, session_dir: str | Path, transcript: str
) -> list[Json]:
    """New transcript lines (replies with model and tokens); `last_assistant_message` when the
    transcript has not caught up."""
    events: list[Json] = []
    last = _text(payload.get("last_assistant_message"))
    if transcript:
        from pathlib import Path

        from promptster.integrations.claude import transcript as claude_transcript

        folder = Path(session_dir)
        events = claude_transcript.advance(folder, ctx.lane, transcript, ctx.workspace)
        # Claude Code may fire Stop before its transcript write lands; wait a little for the
        # reply there, since only the transcript knows the model and the token usage.
        for _ in range(TRANSCRIPT_WAIT_STEPS):
            if not last.strip() or _has_reply(events, ce.ai_response_event(ctx, last)):
                break
            time.sleep(TRANSCRIPT_WAIT_STEP_S)
            events += claude_transcript.advance(folder, ctx.lane, transcript, ctx.workspace)
    if payload["hook_event_name"] == "Stop" and last.strip():
        fallback = ce.ai_response_event(ctx, last)
        if all(event["id"] != fallback["id"] for event in events):
            events.append(fallback)
    return events
