"""A stand-in for the OpenAI Responses API on 127.0.0.1, for driving the real Codex CLI.

It speaks what `codex exec` uses with `wire_api = "responses"`: `POST /v1/responses` answered
with server-sent events (`response.created`, `response.output_item.added` / `.done`,
`response.output_text.delta`, `response.completed` with `usage`). A script is chosen by a
phrase in the conversation's user messages; the step within it is the number of tool outputs
the request already carries, so a retried request gets the same reply. A step that calls an MCP
tool (an item with a `namespace`) Codex does not offer yet is preceded by `sleep` calls until it
does (Codex lists a server's tools only once the server has started). Requests that match no
script (e.g. a title) get a short text reply.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Item = dict[str, Any]
MODEL = "standin-model"
USAGE = {"input_tokens": 1200, "cached_tokens": 200, "output_tokens": 40, "reasoning_tokens": 0}
WAIT_S = 0.5
_ids = itertools.count(1)
_OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output", "mcp_tool_call_output"})


def message(body: str) -> Item:
    return {
        "type": "message",
        "role": "assistant",
        "id": f"msg_standin_{next(_ids):04d}",
        "status": "completed",
        "content": [{"type": "output_text", "text": body, "annotations": []}],
    }


def call(name: str, namespace: str | None = None, **arguments: Any) -> Item:
    """A `function_call` item (Codex's `exec_command`, or an MCP tool inside its namespace)."""
    item: Item = {
        "type": "function_call",
        "id": f"fc_standin_{next(_ids):04d}",
        "call_id": f"call_standin_{next(_ids):04d}",
        "name": name,
        "arguments": json.dumps(arguments),
        "status": "completed",
    }
    if namespace is not None:
        item["namespace"] = namespace
    return item


def exec_command(cmd: str) -> Item:
    return call("exec_command", cmd=cmd)


WAIT_PREFIX = "call_standin_wait_"


def wait() -> Item:
    """A pause the script does not count as a step (`sleep` through exec_command)."""
    item = exec_command(f"sleep {WAIT_S}")
    item["call_id"] = f"{WAIT_PREFIX}{next(_ids):04d}"
    return item


class StandinResponses:
    """`with StandinResponses({"phrase": [[items of step 1], [items of step 2], ...]}) as api:`"""

    def __init__(self, scripts: dict[str, list[list[Item]]]) -> None:
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
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> StandinResponses:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply_for(self, body: dict[str, Any]) -> list[Item]:
        items = [i for i in body.get("input") or [] if isinstance(i, dict)]
        users = json.dumps([i for i in items if i.get("role") == "user"])
        outputs = [i for i in items if i.get("type") in _OUTPUTS]
        step = sum(1 for i in outputs if not str(i.get("call_id")).startswith(WAIT_PREFIX))
        offered = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
        for phrase, steps in self.scripts.items():
            if phrase in users:
                reply = steps[step] if step < len(steps) else [message("Done.")]
                if any(i.get("namespace", "") not in ("", *offered) for i in reply):
                    # Codex offers an MCP server's tools once the server has started: wait
                    return [wait()]
                return reply
        return [message("OK.")]

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

            def do_GET(self) -> None:
                if self.path.startswith("/v1/models"):
                    self._json(200, {"object": "list", "data": []})
                    return
                self._json(404, {"error": {"message": "not found", "type": "not_found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._json(400, {"error": {"message": "bad json", "type": "invalid"}})
                    return
                with api._lock:
                    api.requests.append({"path": self.path, "body": body})
                if not self.path.startswith("/v1/responses"):
                    self._json(404, {"error": {"message": "not found", "type": "not_found"}})
                    return
                items = api.reply_for(body)
                payload = b"".join(_sse(items, str(body.get("model") or MODEL)))
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
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()


def _sse(items: list[Item], model: str) -> Iterator[bytes]:
    response_id = f"resp_standin_{next(_ids):04d}"
    response: Item = {"id": response_id, "object": "response", "model": model, "output": []}
    yield _event("response.created", {"response": {**response, "status": "in_progress"}})
    for index, item in enumerate(items):
        yield _event("response.output_item.added", {"output_index": index, "item": item})
        if item["type"] == "message":
            text = item["content"][0]["text"]
            yield _event(
                "response.output_text.delta",
                {"output_index": index, "content_index": 0, "item_id": item["id"], "delta": text},
            )
        yield _event("response.output_item.done", {"output_index": index, "item": item})
    usage = {
        "input_tokens": USAGE["input_tokens"],
        "input_tokens_details": {"cached_tokens": USAGE["cached_tokens"]},
        "output_tokens": USAGE["output_tokens"],
        "output_tokens_details": {"reasoning_tokens": USAGE["reasoning_tokens"]},
        "total_tokens": USAGE["input_tokens"] + USAGE["output_tokens"],
    }
    done = {**response, "status": "completed", "output": items, "usage": usage}
    yield _event("response.completed", {"response": done})
