"""Helpers for the model-API recorder's tests: the proxy application in a thread of the test,
and an upstream whose faults each test scripts (a stream that stops half way, an error, a
server that never answers)."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiohttp import web

from promptster.record.proxy.budget import Budget
from promptster.record.proxy.server import ProxyApp, ProxySettings

# An Anthropic stream in pieces: the upstream writes (and flushes) them one by one.
PIECES = [
    b'event: message_start\ndata: {"type": "message_start", "message": {"model": '
    b'"claude-sonnet-4-5", "usage": {"input_tokens": 1000, "cache_read_input_tokens": 500, '
    b'"cache_creation_input_tokens": 100, "output_tokens": 1}}}\n\n',
    b'event: content_block_start\ndata: {"type": "content_block_start", "index": 0, '
    b'"content_block": {"type": "text", "text": ""}}\n\n',
    b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, '
    b'"delta": {"type": "text_delta", "text": "Hello "}}\n\n',
    b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, '
    b'"delta": {"type": "text_delta", "text": "world"}}\n\n',
    b'event: message_delta\ndata: {"type": "message_delta", "delta": {"stop_reason": '
    b'"end_turn"}, "usage": {"output_tokens": 200}}\n\n',
    b'event: message_stop\ndata: {"type": "message_stop"}\n\n',
]
STREAM = b"".join(PIECES)


class Upstream:
    """A scripted provider. `mode`: "stream" (PIECES, chunked), "half" (the first three
    pieces, then waits until the client is gone), "error" (529 with a JSON body), "silent"
    (reads the request and never answers until released)."""

    def __init__(self, mode: str = "stream") -> None:
        self.mode = mode
        self.bodies: list[tuple[int, str]] = []  # (size, sha256) of each request body
        self.headers: list[dict[str, str]] = []
        self.gone = threading.Event()  # "half"/"silent": the proxy closed the connection
        self.release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        up = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    parts: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(parts)
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("content-length") or 0))

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def do_POST(self) -> None:
                body = self._body()
                up.bodies.append((len(body), hashlib.sha256(body).hexdigest()))
                up.headers.append(dict(self.headers.items()))
                if up.mode == "error":
                    data = b'{"type":"error","error":{"type":"overloaded_error","message":"busy"}}'
                    self.send_response(529)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if up.mode == "silent":
                    self._wait_until_gone()
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                pieces = PIECES[:3] if up.mode == "half" else PIECES
                for piece in pieces:
                    self._chunk(piece)
                if up.mode == "half":
                    self._wait_until_gone()
                    return
                self.wfile.write(b"0\r\n\r\n")

            def _wait_until_gone(self) -> None:
                """Keep the request open until the proxy closes it (or the test ends)."""
                while not up.release.wait(0.05):
                    try:
                        if up.mode == "half":
                            self._chunk(b": keep-alive\n\n")
                        elif self.connection.recv(1, 0x40) == b"":  # MSG_DONTWAIT
                            up.gone.set()
                            return
                    except BlockingIOError:
                        continue
                    except OSError:
                        up.gone.set()
                        return

        return Handler


class RunningProxy:
    """The proxy application on 127.0.0.1 in a thread; `events` collects what it emits."""

    def __init__(self, upstreams: dict[str, str], budget_usd: float | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        settings = ProxySettings(upstreams, Budget(budget_usd), session_id="test")
        self.app = ProxyApp(settings, self._emit)
        self.runner = web.AppRunner(
            self.app.application(), handler_cancellation=True, access_log=None
        )
        self._call(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self._call(site.start())
        server = site._server
        assert server is not None
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    def _emit(self, *events: dict[str, Any] | None) -> None:
        self.events.extend(e for e in events if e is not None)

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]


def post(
    port: int, path: str, body: bytes, headers: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST", path, body=body, headers={"content-type": "application/json", **(headers or {})}
        )
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def messages_body(text: str = "hello", model: str = "claude-sonnet-4-5") -> bytes:
    return json.dumps(
        {
            "model": model,
            "stream": True,
            "max_tokens": 100,
            "messages": [{"role": "user", "content": text}],
        }
    ).encode()


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)
