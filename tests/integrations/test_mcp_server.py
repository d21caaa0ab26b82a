"""`promptster mcp` as Claude Code runs it: a real stdio server, talked to by the SDK's client."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest
from claude_support import make_session, promptster_command, spooled
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import Implementation

from promptster.integrations.mcp_server import INSTRUCTIONS


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PROMPTSTER_SESSION_DIR", raising=False)
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def talk(workspace: Path, calls: list[dict[str, Any]]) -> tuple[Any, list[Any], list[Any]]:
    """Initialize, list tools and make `calls`; return (initialize result, tools, results)."""

    async def session() -> tuple[Any, list[Any], list[Any]]:
        command = promptster_command()
        params = StdioServerParameters(
            command=command[0], args=[*command[1:], "mcp"], cwd=workspace
        )
        async with (
            stdio_client(params) as (read, write),
            ClientSession(
                read, write, client_info=Implementation(name="claude-code", version="2.1.328")
            ) as client,
        ):
            init = await client.initialize()
            tools = (await client.list_tools()).tools
            results = [await client.call_tool("capture_decision", args) for args in calls]
            return init, tools, results

    return anyio.run(session)


GOOD = {
    "title": "Store sessions in a dict",
    "chosenOption": "dict keyed by id",
    "rationale": "lookups dominate; O(1) instead of a list scan",
    "context": "the rate limiter looks a session up on every request",
    "tradeoffs": "more memory; insertion order is not kept",
    "impactScore": 4,
    "files": ["src/limiter.py", "../outside.py"],
}


def test_capture_decision_records_a_decision_event(workspace: Path) -> None:
    session_dir = make_session(workspace)
    init, tools, (result,) = talk(workspace, [GOOD])
    assert init.server_info.name == "promptster"
    assert init.instructions == INSTRUCTIONS
    (tool,) = tools
    assert tool.name == "capture_decision"
    assert sorted(tool.input_schema["required"]) == ["chosenOption", "rationale", "title"]
    assert tool.input_schema["properties"]["impactScore"]["anyOf"][0] == {
        "maximum": 5,
        "minimum": 1,
        "type": "integer",
    }
    assert result.is_error is False
    assert result.content[0].text.startswith(
        "Recorded decision: Store sessions in a dict (impact 4)"
    )
    (event,) = spooled(session_dir)
    assert event["kind"] == "decision_event"
    assert event["source"] == {
        "channel": "mcp",
        "integration": "claude-code",
        "emitter": "promptster-mcp",
    }
    assert event["actor"] == {"type": "ai"}
    assert event["data"] == {
        "title": "Store sessions in a dict",
        "chosenOption": "dict keyed by id",
        "rationale": "lookups dominate; O(1) instead of a list scan",
        "context": "the rate limiter looks a session up on every request",
        "tradeoffs": "more memory; insertion order is not kept",
        "impactScore": 4,
        "files": ["src/limiter.py"],
        "filesOutsideWorkspace": 1,
        "capturedVia": "mcp",
    }


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"impactScore": 9}, "less than or equal to 5"),
        ({"impactScore": "high"}, "impactScore"),
        ({"title": "   "}, "title must not be empty"),
        ({"rationale": None}, "rationale"),
        ({"files": "src/a.py"}, "files"),
    ],
)
def test_invalid_arguments_are_tool_errors_with_the_reason(
    workspace: Path, change: dict[str, Any], reason: str
) -> None:
    session_dir = make_session(workspace)
    args = {**GOOD, **change}
    _, _, (result,) = talk(workspace, [args])
    assert result.is_error is True
    assert reason in result.content[0].text
    assert spooled(session_dir) == []


def test_without_a_session_the_tool_says_so(workspace: Path) -> None:
    _, _, (result,) = talk(workspace, [GOOD])
    assert result.is_error is True
    assert "not recording a session here" in result.content[0].text


def test_garbage_from_the_client_is_skipped_and_recorded(workspace: Path) -> None:
    session_dir = make_session(workspace)
    server = subprocess.Popen(
        [*promptster_command(), "mcp"],
        cwd=workspace,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert server.stdin is not None and server.stdout is not None

    def send(line: bytes) -> None:
        assert server.stdin is not None
        server.stdin.write(line + b"\n")
        server.stdin.flush()

    def ask(message: dict[str, Any]) -> dict[str, Any]:
        send(json.dumps(message).encode())
        assert server.stdout is not None
        answer: dict[str, Any] = json.loads(server.stdout.readline())
        return answer

    send(b"not json at all")
    send(b"\xff\xfe\x00 binary")
    send(b'{"jsonrpc": "1.0", "truncated": ')
    init = ask(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "garbage-test", "version": "0"},
            },
        }
    )
    assert init["result"]["serverInfo"]["name"] == "promptster"
    send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode())
    assert ask({"jsonrpc": "2.0", "id": 2, "method": "no/such/method"})["error"]["code"] == -32601
    bad_params = ask({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": 5}})
    assert bad_params["error"]["code"] == -32602
    assert ask({"jsonrpc": "2.0", "id": 4, "method": "ping"})["result"] == {}
    server.stdin.close()
    assert server.wait() == 0
    assert server.stderr is not None
    assert server.stderr.read().count(b"skipped") == 3
    warnings = spooled(session_dir)
    assert [w["data"]["code"] for w in warnings] == ["mcp_input_skipped"] * 3
