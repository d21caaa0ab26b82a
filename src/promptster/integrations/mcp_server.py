"""`promptster mcp`: a stdio MCP server with one tool, `capture_decision`.

Built on the official `mcp` SDK (2.x, `MCPServer`). Claude Code starts it from the workspace's
`.mcp.json` (server name `promptster`, so the model sees `mcp__promptster__capture_decision`).
A call becomes a `decision_event` (`capturedVia: "mcp"`) sent to the session's recorder, and the
tool answers with a one-line confirmation. Arguments that do not fit come back as an MCP tool
error (`isError: true`) naming the problem; the server itself never stops on bad input.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from promptster import __version__
from promptster import protocol as client
from promptster.formats.payloads import DecisionData
from promptster.integrations.claude.values import bound, relative

SERVER_NAME = "promptster"
TOOL_NAME = "capture_decision"
FIELD_LIMIT = 8 * 1024
MAX_FILES = 100
MAX_LINE = 16 * 1024 * 1024

INSTRUCTIONS = """\
This session is recorded by Promptster for a coding assessment. The reviewer wants to see the \
decisions that shaped the work, in the words of whoever made them.

Call capture_decision once, right after a decision is made, when it is one a reviewer would \
want explained: choosing a library, data structure, algorithm or storage; an architecture, \
module or API shape; an error-handling, concurrency, security or testing strategy; or trading \
one quality for another (speed vs. simplicity, scope vs. time). Give the options that were \
weighed and why the chosen one won. Do not record routine steps (formatting, renames, obvious \
bug fixes, reading files), and do not record the same decision twice. When the candidate gave \
the reasons, use theirs; never invent reasons or alternatives that were not considered."""

TOOL_DESCRIPTION = """\
Record a decision that shapes the solution (see the server instructions for when). \
title: a few words naming the decision. chosenOption: what was chosen. rationale: why. \
context: the situation or constraint that forced the choice. tradeoffs: what the choice costs \
and the alternatives given up. impactScore: 1 (local detail) to 5 (shapes the whole solution). \
files: workspace paths the decision affects."""

Text = Annotated[str, Field(min_length=1, max_length=FIELD_LIMIT)]
OptionalText = Annotated[str, Field(max_length=FIELD_LIMIT)] | None
Sender = Callable[[dict[str, Any]], str]


def _optional(value: str | None) -> str | None:
    text = (value or "").strip()
    return bound(text, FIELD_LIMIT)[0] if text else None


def _required(name: str, value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise ToolError(f"{name} must not be empty")
    return bound(text, FIELD_LIMIT)[0]


def decision_data(
    title: str,
    chosen_option: str,
    rationale: str,
    context: str | None = None,
    tradeoffs: str | None = None,
    impact_score: int | None = None,
    files: list[str] | None = None,
    *,
    workspace: str,
) -> DecisionData:
    """The `data` of a `decision_event`; raises ToolError naming the first bad argument."""
    data: DecisionData = {
        "title": _required("title", title),
        "chosenOption": _required("chosenOption", chosen_option),
        "rationale": _required("rationale", rationale),
        "capturedVia": "mcp",
    }
    cleaned = _optional(context)
    if cleaned is not None:
        data["context"] = cleaned
    cleaned = _optional(tradeoffs)
    if cleaned is not None:
        data["tradeoffs"] = cleaned
    if impact_score is not None:
        if isinstance(impact_score, bool) or not 1 <= impact_score <= 5:
            raise ToolError("impactScore must be a whole number from 1 to 5")
        data["impactScore"] = impact_score
    if files:
        if len(files) > MAX_FILES:
            raise ToolError(f"files lists {len(files)} paths; at most {MAX_FILES} are accepted")
        inside = [relative(path, workspace) for path in files if path]
        data["files"] = list(dict.fromkeys(path for path in inside if path is not None))
        if len(data["files"]) < len(files):
            data["filesOutsideWorkspace"] = len(files) - len(inside) + inside.count(None)
    return data


def send_to_recorder(event: dict[str, Any], start: Path | None = None) -> str:
    """Deliver one event to the session found from `start` (or the current folder); returns
    how it went. Raises ToolError when there is no session to record it in."""
    handle = client.find_session(start)
    if handle is None or not handle.active:
        raise ToolError(
            "Promptster is not recording a session here, so the decision was not recorded"
        )
    result = client.send_events(handle, [event])
    if not result.acknowledged:
        raise ToolError(f"the decision could not be recorded: {result.error}")
    return result.via


def _workspace() -> str:
    handle = client.find_session()
    return str(handle.workspace) if handle is not None else os.getcwd()


def _integration(ctx: Context | None) -> str:
    """The AI tool on the other end, from its MCP client name ("claude-code", "codex", ...)."""
    try:
        params = ctx.request_context.session.client_params if ctx is not None else None
        name = params.client_info.name if params is not None else ""
    except (AttributeError, ValueError, RuntimeError):
        name = ""
    lowered = name.lower()
    if "claude" in lowered:
        return "claude-code"
    if "codex" in lowered:  # Codex CLI's client is "codex-mcp-client"
        return "codex"
    return lowered[:64] or "mcp"


def build_server(sender: Sender | None = None) -> MCPServer:
    """The server; `sender` delivers an event (default: the session's recorder)."""
    deliver = sender or send_to_recorder
    server = MCPServer(
        SERVER_NAME,
        title="Promptster decision capture",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )

    @server.tool(name=TOOL_NAME, title="Capture a decision", description=TOOL_DESCRIPTION)
    def capture_decision(
        title: Text,
        chosenOption: Text,  # the MCP argument names are camelCase
        rationale: Text,
        context: OptionalText = None,
        tradeoffs: OptionalText = None,
        impactScore: Annotated[int, Field(ge=1, le=5)] | None = None,
        files: Annotated[list[str], Field(max_length=MAX_FILES)] | None = None,
        ctx: Context | None = None,
    ) -> str:
        data = decision_data(
            title,
            chosenOption,
            rationale,
            context,
            tradeoffs,
            impactScore,
            files,
            workspace=_workspace(),
        )
        event = client.new_event(
            "decision_event",
            data,
            channel="mcp",
            integration=_integration(ctx),
            emitter="promptster-mcp",
            actor="ai",
            attribution="likely_ai",
            confidence=0.9,
            observability="high",
        )
        via = deliver(event)
        impact = f" (impact {data['impactScore']})" if "impactScore" in data else ""
        later = "; the recorder will pick it up shortly" if via == "spool" else ""
        return f"Recorded decision: {data['title']}{impact}{later}."

    return server


MAX_SKIP_WARNINGS = 10


def _is_jsonrpc(line: bytes) -> bool:
    try:
        message = json.loads(line)
    except ValueError:
        return False
    return (
        isinstance(message, dict)
        and message.get("jsonrpc") == "2.0"
        and ("method" in message or "id" in message)
    )


def _record_skip(line: bytes, count: int) -> None:
    """Say on stderr (Claude Code keeps it in its MCP log) and in the timeline what was skipped."""
    message = (
        f"promptster mcp: skipped {len(line):,} bytes from the MCP client that are not a "
        "JSON-RPC message"
    )
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    if count > MAX_SKIP_WARNINGS:
        return
    handle = client.find_session()
    if handle is None or not handle.active:
        return
    event = client.new_event(
        "warning",
        {"code": "mcp_input_skipped", "message": message, "bytes": len(line), "count": count},
        channel="mcp",
        integration="mcp",
        emitter="promptster-mcp",
        actor="system",
        attribution="system_generated",
        confidence=1.0,
    )
    client.send_events(handle, [event])


def _filter_stdin() -> None:
    """Put a pipe in front of stdin that passes only JSON-RPC lines to the SDK; anything else is
    recorded as skipped (the SDK alone would drop it silently)."""
    source = os.fdopen(os.dup(0), "rb", buffering=0)
    read_end, write_end = os.pipe()
    os.dup2(read_end, 0)
    os.close(read_end)

    def pump() -> None:
        skipped = 0
        with source, os.fdopen(write_end, "wb", buffering=0) as sink:
            for line in iter(lambda: source.readline(MAX_LINE), b""):
                if line.strip() and not _is_jsonrpc(line):
                    skipped += 1
                    with contextlib.suppress(Exception):
                        _record_skip(line, skipped)
                    continue
                try:
                    sink.write(line)
                except BrokenPipeError:
                    return

    threading.Thread(target=pump, name="mcp-stdin-filter", daemon=True).start()


def main() -> int:
    """Serve on stdin/stdout until the client closes stdin."""
    _filter_stdin()
    build_server().run()
    return 0
