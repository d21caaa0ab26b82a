"""A stand-in for the Gemini API (`generativelanguage`) on 127.0.0.1, for driving Gemini CLI.

`POST /v1beta/models/<model>:streamGenerateContent?alt=sse` (server-sent
`GenerateContentResponse`s) and `:generateContent` (one JSON response). A script is chosen by a
phrase in the user's text; the step within it is the number of `functionResponse` parts after
that message, so each tool result advances it. A step is text or a function call; a call to a
name that is not declared is matched by suffix against the request's function declarations
(Gemini CLI may qualify MCP tools with their server's name). Requests without tools, or that
match no script, get a short text reply.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Part = dict[str, Any]
USAGE = {"promptTokenCount": 210, "candidatesTokenCount": 30, "totalTokenCount": 240}


def text(body: str) -> Part:
    return {"text": body}


def call(name: str, **args: Any) -> Part:
    return {"functionCall": {"name": name, "args": args}}


def _declared(body: dict[str, Any]) -> list[str]:
    return [
        str(d.get("name"))
        for group in body.get("tools") or []
        for d in (group.get("functionDeclarations") or [])
    ]


class StandinGemini:
    def __init__(self, scripts: dict[str, list[Part]]) -> None:
        self.scripts = scripts
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> StandinGemini:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply_for(self, body: dict[str, Any]) -> Part:
        if not body.get("tools"):
            return text("OK.")
        contents = body.get("contents") or []
        chosen: tuple[int, list[Part]] | None = None
        for index, content in enumerate(contents):
            for part in content.get("parts") or []:
                for phrase, steps in self.scripts.items():
                    if phrase in str(part.get("text", "")):
                        chosen = (index, steps)
        if chosen is None:
            return text("OK.")
        index, steps = chosen
        done = sum(
            1
            for c in contents[index + 1 :]
            for p in c.get("parts") or []
            if "functionResponse" in p
        )
        if done >= len(steps):
            return text("Done.")
        step = steps[done]
        if "functionCall" in step:
            name = step["functionCall"]["name"]
            declared = _declared(body)
            if name not in declared:
                match = [d for d in declared if d.endswith(name)]
                name = match[0] if match else name
            step = {"functionCall": {**step["functionCall"], "name": name}}
        return step

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, data: bytes, kind: str, status: int = 200) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(b'{"error": {"code": 404}}', "application/json", 404)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._send(b'{"error": {"code": 400}}', "application/json", 400)
                    return
                with api._lock:
                    api.requests.append({"path": self.path, "body": body})
                if ":countTokens" in self.path:
                    self._send(b'{"totalTokens": 100}', "application/json")
                    return
                model = self.path.split("/models/")[-1].split(":")[0]
                reply = {
                    "candidates": [
                        {
                            "content": {"role": "model", "parts": [api.reply_for(body)]},
                            "finishReason": "STOP",
                            "index": 0,
                        }
                    ],
                    "usageMetadata": USAGE,
                    "modelVersion": model,
                }
                if "alt=sse" in self.path:
                    self._send(f"data: {json.dumps(reply)}\n\n".encode(), "text/event-stream")
                else:
                    self._send(json.dumps(reply).encode(), "application/json")

        return Handler
