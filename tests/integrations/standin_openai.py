"""A stand-in for the OpenAI Chat Completions API on 127.0.0.1, for driving Aider and Copilot CLI.

`POST /v1/chat/completions`, streamed (server-sent `chat.completion.chunk`s ending in
`data: [DONE]`, usage in the last chunk) or not. A script is chosen by a phrase in the
conversation's user messages (the last match wins, so one Aider process can run several
prompts); the step within it is the number of tool results after that message, so a client
that calls tools advances through the script. Requests that match no script (Aider's commit
message requests) get `fallback`. A call to a name the request does not declare is matched by
suffix against the declared tools (MCP tools carry their server's name).
"""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Step = dict[str, Any]  # {"content": str} or {"tool_calls": [(name, arguments)]}
USAGE = {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366}
_ids = itertools.count(1)


def say(content: str) -> Step:
    return {"content": content}


def call(name: str, **arguments: Any) -> Step:
    return {"tool_calls": [(name, arguments)]}


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


class StandinOpenAI:
    def __init__(
        self, scripts: dict[str, list[Step]], fallback: str = "Done.", side_request: str = ""
    ) -> None:
        self.scripts = scripts
        self.fallback = fallback
        self.side_request = side_request  # a system prompt holding this gets `fallback`
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

    def __enter__(self) -> StandinOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply_for(self, body: dict[str, Any]) -> Step:
        messages = body.get("messages") or []
        if self.side_request and any(
            m.get("role") == "system" and self.side_request in _text(m) for m in messages
        ):
            return say(self.fallback)
        chosen: tuple[int, list[Step]] | None = None
        for index, message in enumerate(messages):
            if message.get("role") != "user":
                continue
            for phrase, steps in self.scripts.items():
                if phrase in _text(message):
                    chosen = (index, steps)
        if chosen is None:
            return say(self.fallback)
        index, steps = chosen
        done = sum(1 for m in messages[index + 1 :] if m.get("role") == "tool")
        if done >= len(steps):
            return say(self.fallback)
        step = steps[done]
        declared = [str(t.get("function", {}).get("name")) for t in body.get("tools") or []]
        calls = []
        for name, arguments in step.get("tool_calls", []):
            if name not in declared:  # MCP tools may be qualified with their server's name
                name = next((d for d in declared if d.endswith(name)), name)
            calls.append((name, arguments))
        return {"tool_calls": calls} if calls else step

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, data: bytes, kind: str) -> None:
                with api._lock:
                    api.sent.append(data)
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                models = {"object": "list", "data": [{"id": "standin", "object": "model"}]}
                self._send(200, json.dumps(models).encode(), "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._send(400, b'{"error": {"message": "bad json"}}', "application/json")
                    return
                with api._lock:
                    api.requests.append({"path": self.path, "body": body})
                step = api.reply_for(body)
                message = _message(step)
                model = str(body.get("model") or "standin")
                if body.get("stream"):
                    self._send(200, _chunks(message, model), "text/event-stream")
                    return
                finish = "tool_calls" if message.get("tool_calls") else "stop"
                reply = {
                    "id": f"chatcmpl-{next(_ids)}",
                    "object": "chat.completion",
                    "created": 1,
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": USAGE,
                }
                self._send(200, json.dumps(reply).encode(), "application/json")

        return Handler


def _message(step: Step) -> dict[str, Any]:
    if "tool_calls" not in step:
        return {"role": "assistant", "content": step["content"]}
    calls = [
        {
            "id": f"call_standin_{next(_ids)}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        for name, arguments in step["tool_calls"]
    ]
    return {"role": "assistant", "content": None, "tool_calls": calls}


def _chunks(message: dict[str, Any], model: str) -> bytes:
    delta = dict(message)
    if delta.get("tool_calls"):
        delta["tool_calls"] = [dict(c, index=i) for i, c in enumerate(delta["tool_calls"])]
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    base = {"id": f"chatcmpl-{next(_ids)}", "object": "chat.completion.chunk", "created": 1}
    chunks = [
        {**base, "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
        {
            **base,
            "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
            "usage": USAGE,
        },
    ]
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"
