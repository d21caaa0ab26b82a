"""The hook command shared by the AI tools whose hooks send one JSON payload on stdin (Gemini
CLI, Cursor, Copilot CLI): read it, find the session, turn it into events, send them.

The same rules as Claude Code's hook (`claude/hook.py`): always exit 0, print nothing the tool
would take as an answer (Gemini CLI and Cursor read a JSON object from stdout: `{}` is printed
where the tool wants one), import only the standard library, the recorder client and the
normaliser; a payload that cannot be used becomes a `warning` event, and when the recorder is
down the events go to the spool.

Each tool supplies a `HookSpec`: its integration name, and `normalize(payload, event, ctx)`,
which returns the events and whether file snapshots should bracket the call.
"""

from __future__ import annotations

import json
import os
import sys

from promptster import protocol as client
from promptster.integrations.claude import events as ce
from promptster.integrations.claude import tool_events as cte

# Plain classes, no dataclasses, typing, pathlib or contextlib at run time: the hook budget.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, BinaryIO

    Json = dict[str, Any]

MAX_PAYLOAD = 32 * 1024 * 1024
SNAPSHOT_TIMEOUT_S = 2.0


class Outcome:
    """What one hook call yields: events, and snapshots to take before and after sending them
    (so that the AI's edits and the candidate's rarely share one)."""

    def __init__(
        self,
        events: list[Json] | None = None,
        snapshot_before: bool = False,
        snapshot_after: bool = False,
        heartbeat: bool = False,
    ) -> None:
        self.events: list[Json] = events if events is not None else []
        self.snapshot_before = snapshot_before
        self.snapshot_after = snapshot_after
        self.heartbeat = heartbeat

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Outcome) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Outcome({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


class HookSpec:
    """One AI tool's hook: its names, its normaliser and what it expects on stdout."""

    def __init__(
        self,
        integration: str,  # e.g. "gemini-cli"
        label: str,  # e.g. "Gemini CLI"
        # (payload, event name, context, session folder) -> outcome; the event name is the
        # payload's, or the one the hook command line names (Copilot CLI payloads lack it).
        normalize: Callable[[Json, str, ce.Context, str], Outcome],
        event_names: frozenset[str],
        reply: bytes = b"",  # what to print on stdout (Gemini CLI and Cursor parse it as JSON)
        cwd_keys: tuple[str, ...] = ("cwd",),
        env_dirs: tuple[str, ...] = (),
    ) -> None:
        self.integration = integration
        self.label = label
        self.normalize = normalize
        self.event_names = event_names
        self.reply = reply
        self.cwd_keys = cwd_keys
        self.env_dirs = env_dirs


def main(spec: HookSpec, argv: list[str], stdin: BinaryIO | None = None) -> int:
    """Handle one hook call (`argv` after `hook <integration>`). Returns 0 whatever happens."""
    try:  # noqa: SIM105 (contextlib: ~1 ms more per hook call)
        handle_call(spec, argv, stdin if stdin is not None else sys.stdin.buffer)
    except BaseException:  # fail open: never break or block the tool
        pass
    try:
        if spec.reply:
            sys.stdout.buffer.write(spec.reply)
            sys.stdout.buffer.flush()
    except BaseException:
        pass
    return 0


def read_payload(stream: BinaryIO) -> tuple[bytes, int]:
    """The payload, or b"" with its size when it is over the limit (the rest is drained)."""
    data = stream.read(MAX_PAYLOAD + 1)
    if len(data) <= MAX_PAYLOAD:
        return data, len(data)
    size = len(data)
    while chunk := stream.read(1024 * 1024):
        size += len(chunk)
    return b"", size


def parse(spec: HookSpec, data: bytes, size: int, argv: list[str]) -> tuple[Json | None, str]:
    """(payload, event name) or (None, why it was skipped)."""
    if size > MAX_PAYLOAD:
        return None, f"is {size:,} bytes, over the {MAX_PAYLOAD:,}-byte limit"
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        return None, f"is not valid JSON ({size:,} bytes: {reason})"
    if not isinstance(payload, dict):
        return None, f"is a JSON {type(payload).__name__}, not an object"
    event = payload.get("hook_event_name") or payload.get("hookEventName")
    if not isinstance(event, str) and argv:
        event = argv[0]
    if event not in spec.event_names:
        return None, f"has an unknown hook event {str(event)[:80]!r}"
    return payload, str(event)


def start_dir(spec: HookSpec, payload: Json | None) -> str | None:
    candidates: list[Any] = [(payload or {}).get(key) for key in spec.cwd_keys]
    roots = (payload or {}).get("workspace_roots") or (payload or {}).get("workspaceRoots")
    if isinstance(roots, list):
        candidates.extend(roots)
    candidates.extend(os.environ.get(name) for name in spec.env_dirs)
    candidates.append(os.getcwd())
    for candidate in candidates:
        if isinstance(candidate, str) and os.path.isabs(candidate):
            return candidate
    return None


def handle_call(spec: HookSpec, argv: list[str], stream: BinaryIO) -> None:
    data, size = read_payload(stream)
    payload, event = parse(spec, data, size, argv)
    handle = client.find_session(start_dir(spec, payload))
    if handle is None or not handle.active:
        return  # not recording here
    workspace = handle.workspace_dir
    if payload is None:
        ctx = ce.Context(lane="unknown", workspace=workspace, integration=spec.integration)
        message = f"a {spec.label} hook payload {event}; it was skipped"
        _send(spec, handle, [ce.warning_event(ctx, "hook_payload_skipped", message)])
        return
    ctx = context(spec, payload, workspace)
    outcome = spec.normalize(payload, event, ctx, handle.dir)
    kinds = {e["kind"] for e in outcome.events}
    reason = f"{spec.integration}-{'post' if 'tool_result' in kinds else 'pre'}-tool"
    if outcome.snapshot_before:
        _ask(handle, {"op": "snapshot", "reason": reason})
    if outcome.heartbeat:
        detail = f"{event} in session {ctx.lane[:40]}"
        _ask(handle, {"op": "heartbeat", "source": spec.integration, "detail": detail}, 1.0)
    if outcome.events:
        _send(spec, handle, outcome.events)
    if outcome.snapshot_after:
        _ask(handle, {"op": "snapshot", "reason": reason})


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def context(spec: HookSpec, payload: Json, workspace: str) -> ce.Context:
    lane = (
        text(payload.get("session_id"))
        or text(payload.get("sessionId"))
        or text(payload.get("conversation_id"))
        or text(payload.get("conversationId"))
        or "unknown"
    )
    cwd = text(payload.get("cwd")) or None
    turn = text(payload.get("generation_id")) or text(payload.get("turn_id")) or None
    return ce.Context(
        lane=lane, workspace=workspace, cwd=cwd, prompt_id=turn, integration=spec.integration
    )


def _send(spec: HookSpec, handle: client.SessionHandle, events: list[Json]) -> None:
    """Send, and say on stderr (one line, exit code unchanged) when they were not recorded."""
    client.say_dropped(f"{spec.label} hook", len(events), client.send_events(handle, events))


def _ask(handle: client.SessionHandle, message: Json, timeout: float = SNAPSHOT_TIMEOUT_S) -> None:
    """A request whose answer does not matter: the session goes on without it."""
    try:  # noqa: SIM105 (contextlib: ~1 ms more per hook call)
        client.request(handle, message, timeout)
    except (client.RecorderUnavailable, ValueError):
        pass


# --- mapping a tool's own tool calls onto Claude Code's ---------------------------------------


class Call:
    """A native tool call expressed as the Claude Code tool with the same effect (`Write`,
    `Edit`, `Bash`, `mcp__server__tool`, or the native name when there is none), so the
    normaliser, attribution and the run parsers treat it alike."""

    __slots__ = ("canonical", "native", "tool_input", "tool_use_id")

    def __init__(self, native: str, canonical: str, tool_input: Json, tool_use_id: str) -> None:
        self.native = native
        self.canonical = canonical
        self.tool_input = tool_input
        self.tool_use_id = tool_use_id

    def _key(self) -> tuple[str, str, Json, str]:
        return (self.native, self.canonical, self.tool_input, self.tool_use_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Call) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # tool_input is a dict

    def __repr__(self) -> str:
        return (
            f"Call(native={self.native!r}, canonical={self.canonical!r}, "
            f"tool_input={self.tool_input!r}, tool_use_id={self.tool_use_id!r})"
        )


def synthetic_id(native: str, tool_input: Any) -> str:
    """Pre and post calls without an id are paired by what they share."""
    return "synthetic-" + ce.text_key(native + json.dumps(tool_input, sort_keys=True, default=str))


def _mark_native(events: list[Json], native: str, canonical: str) -> list[Json]:
    if native != canonical:
        for event in events:
            if event["kind"] in ("tool_use", "tool_result"):
                event["data"]["nativeToolName"] = native
    return events


def tool_use(ctx: ce.Context, call: Call) -> list[Json]:
    events = cte.tool_use_events(ctx, call.canonical, call.tool_use_id, call.tool_input)
    return _mark_native(events, call.native, call.canonical)


def tool_result(
    ctx: ce.Context,
    call: Call,
    response: Any,
    *,
    error: str | None = None,
    duration_ms: int | None = None,
) -> list[Json]:
    events = cte.tool_result_events(
        ctx,
        call.canonical,
        call.tool_use_id,
        call.tool_input,
        response,
        error=error,
        duration_ms=duration_ms,
    )
    return _mark_native(events, call.native, call.canonical)


def changes_files(call: Call) -> bool:
    return call.canonical in ce.FILE_CHANGING_TOOLS


def patch_edits(patch: str) -> dict[str, tuple[str, str]]:
    """{path: (removed text, added text)} of an apply_patch-style patch (`*** Add File:`,
    `*** Update File:`, `*** Delete File:`) or a unified diff (`+++ b/path`)."""
    files: dict[str, tuple[list[str], list[str]]] = {}
    current: tuple[list[str], list[str]] | None = None
    for line in patch.splitlines():
        for marker in ("*** Add File: ", "*** Update File: ", "*** Delete File: ", "+++ "):
            if line.startswith(marker):
                path = line[len(marker) :].strip()
                if marker == "+++ ":
                    path = path[2:] if path.startswith("b/") else path
                current = None if path == "/dev/null" else files.setdefault(path, ([], []))
                break
        else:
            if current is None or line.startswith(("---", "***", "@@")):
                continue
            if line.startswith("+"):
                current[1].append(line[1:])
            elif line.startswith("-"):
                current[0].append(line[1:])
    return {path: ("\n".join(old), "\n".join(new)) for path, (old, new) in files.items()}
