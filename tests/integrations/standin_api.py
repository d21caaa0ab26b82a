"""A stand-in for the Anthropic Messages API on 127.0.0.1, for driving the real Claude Code CLI.

It speaks the streaming protocol Claude Code uses (`POST /v1/messages` answered with
server-sent events: message_start, content_block_start/delta/stop, message_delta,
message_stop) and plays scripted replies. A script is chosen by a phrase in the conversation's
first user message; the step within it is the number of assistant turns already in the
conversation, so retries and extra side requests never desynchronise it. Requests that match no
script (title generation, summaries) get a short text reply.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Block = dict[str, Any]
MODEL = "claude-standin-1"
_ids = itertools.count(1)


def text(body: str) -> Block:
    return {"type": "text", "text": body}


def tool(name: str, **tool_input: Any) -> Block:
    return {
        "type": "tool_use",
        "id": f"toolu_standin_{next(_ids):04d}",
        "name": name,
        "input": tool_input,
    }


def write(path: str, content: str) -> Block:
    return tool("Write", file_path=path, content=content)


def read(path: str) -> Block:
    return tool("Read", file_path=path)


def edit(path: str, old: str, new: str) -> Block:
    return tool("Edit", file_path=path, old_string=old, new_string=new, replace_all=False)


def bash(command: str, description: str = "run it") -> Block:
    return tool("Bash", command=command, description=description)


class StandinAPI:
    """`with StandinAPI({"phrase": [[blocks of turn 1], [blocks of turn 2], ...]}) as api:`"""

    def __init__(self, scripts: dict[str, list[list[Block]]]) -> None:
        self.scripts = scripts
        self.requests: list[dict[str, Any]] = []
        self.sent: list[bytes] = []  # each reply body, as written (the API recorder's tests)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> StandinAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply_for(self, body: dict[str, Any]) -> list[Block]:
        messages = body.get("messages") or []
        first = json.dumps(messages[0]) if messages else ""
        turns = sum(1 for m in messages if m.get("role") == "assistant")
        for phrase, steps in self.scripts.items():
            if phrase in first and body.get("tools"):
                if turns < len(steps):
                    return steps[turns]
                return [text("Done.")]
        return [text("OK.")]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._json(404, {"type": "error", "error": {"type": "not_found_error"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._json(400, {"type": "error", "error": {"type": "invalid_request_error"}})
                    return
                with api._lock:
                    api.requests.append({"path": self.path, "body": body})
                if "count_tokens" in self.path:
                    self._json(200, {"input_tokens": 100})
                    return
                if not self.path.startswith("/v1/messages"):
                    self._json(404, {"type": "error", "error": {"type": "not_found_error"}})
                    return
                blocks = api.reply_for(body)
                payload = b"".join(_sse(blocks, str(body.get("model") or MODEL)))
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                with api._lock:
                    api.sent.append(payload)
                self.wfile.write(payload)

        return Handler


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _sse(blocks: list[Block], model: str) -> Iterator[bytes]:
    message_id = f"msg_standin_{next(_ids):04d}"
    yield _event(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 120, "output_tokens": 1},
            },
        },
    )
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        yield _event(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
        yield _event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )
        yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
    stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    yield _event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": 30},
        },
    )
    yield _event("message_stop", {"type": "message_stop"})
