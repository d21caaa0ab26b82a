"""The recorder's HTTP side: forward each request upstream, stream the reply back unchanged.

One aiohttp application and one pooled client session. The reply's bytes are written to the
client as they arrive (never decompressed, never re-encoded: what the tool reads is what the
provider sent); a copy is read for the events after each write. Handlers are cancelled when the
client goes away, which closes the upstream request: a tool that gives up (its own timeout, ^C)
never leaves the recorder waiting. The upstream read timeout is long (the tools' own are
shorter, so it never cuts a reply a tool would still wait for); it only bounds a request no
client waits for any more.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from promptster.formats.pricing import PriceTable, default_price_table
from promptster.record.proxy.apis import (
    ANTHROPIC,
    client_name,
    read_request,
    route,
    upstream_url,
)
from promptster.record.proxy.budget import REFUSED_STATUS, Budget
from promptster.record.proxy.exchange import (
    Exchange,
    prompt_event,
    response_event,
    warning_event,
)
from promptster.record.proxy.replies import ReplyReader

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
READ_WHOLE = 8 * 1024 * 1024  # a body up to this size (by its Content-Length) is read at once
PARSE_CAP = 16 * 1024 * 1024  # a streamed body is kept for reading up to this size
CONNECT_TIMEOUT_S = 30.0
READ_TIMEOUT_S = 900.0  # between two bytes of a reply; the tools' own limits are shorter
HEALTH_PATH = "/_promptster/health"

Emit = Callable[..., None]


@dataclass
class ProxySettings:
    upstreams: dict[str, str]
    budget: Budget = field(default_factory=lambda: Budget(None))
    prices: PriceTable = field(default_factory=default_price_table)
    read_timeout_s: float = READ_TIMEOUT_S
    session_id: str = ""


def _error_body(provider: str, kind: str, message: str) -> bytes:
    if provider == ANTHROPIC:
        body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        body = {"error": {"message": message, "type": kind, "code": kind, "param": None}}
    return json.dumps(body).encode()


class ProxyApp:
    """The application: `emit(*events)` receives the event dicts (the sink's `put`)."""

    def __init__(self, settings: ProxySettings, emit: Emit) -> None:
        self.settings = settings
        self.emit = emit
        self.client: aiohttp.ClientSession | None = None
        self.exchanges = 0

    def application(self) -> web.Application:
        app = web.Application(client_max_size=READ_WHOLE + 1)
        app.router.add_get(HEALTH_PATH, self.health)
        app.router.add_route("*", "/{tail:.*}", self.forward)
        app.on_startup.append(self._open)
        app.on_cleanup.append(self._close)
        return app

    async def _open(self, _app: web.Application) -> None:
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_TIMEOUT_S, sock_read=self.settings.read_timeout_s
        )
        self.client = aiohttp.ClientSession(
            timeout=timeout,
            auto_decompress=False,  # the client gets the provider's bytes as they are
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def _close(self, _app: web.Application) -> None:
        if self.client is not None:
            await self.client.close()

    async def health(self, _request: web.Request) -> web.Response:
        budget = self.settings.budget
        return web.json_response(
            {
                "ok": True,
                "sessionId": self.settings.session_id,
                "exchanges": self.exchanges,
                "spentUsd": round(budget.spent_usd, 6),
                "budgetUsd": budget.limit_usd,
            }
        )

    async def forward(self, request: web.Request) -> web.StreamResponse:
        where = route(request.method, request.path, request.headers)
        exchange = Exchange(where, client_name(request.headers.get("User-Agent", "")), request.path)
        if self.settings.budget.exhausted:
            return self._refuse(exchange)
        self.exchanges += 1
        started = time.monotonic()
        try:
            return await self._relay(request, exchange, started)
        except asyncio.CancelledError:
            exchange.end_reason = "client_disconnected"
            raise
        finally:
            exchange.duration_ms = int((time.monotonic() - started) * 1000)
            self._record(exchange)

    def _refuse(self, exchange: Exchange) -> web.Response:
        budget = self.settings.budget
        self.emit(
            warning_event(
                "token_budget_exceeded",
                budget.message(),
                client=exchange.client,
                budgetUsd=budget.limit_usd,
                spentUsd=round(budget.spent_usd, 6),
            )
        )
        return web.Response(
            status=REFUSED_STATUS,
            body=json.dumps(budget.refusal(exchange.route.provider)).encode(),
            content_type="application/json",
        )

    async def _relay(
        self, request: web.Request, exchange: Exchange, started: float
    ) -> web.StreamResponse:
        assert self.client is not None
        provider = exchange.route.provider
        target = upstream_url(self.settings.upstreams[provider], request.raw_path)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body: bytes | AsyncIterator[bytes] | None = None
        length = request.content_length
        if not request.body_exists:
            pass  # a GET, a HEAD: no body, and none may be invented (no chunked framing)
        elif length is not None and length <= READ_WHOLE:
            body = await request.read()
            exchange.request_bytes = len(body)
            exchange.body = body  # read for the events after the reply: never on its path
        else:
            body = self._streamed_body(request, exchange)
        try:
            upstream = await self.client.request(
                request.method,
                URL(target, encoded=True),  # the client's path as it sent it, not re-quoted
                headers=headers,
                data=body,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            exchange.end_reason = "upstream_unreachable"
            exchange.status = 502
            exchange.reply.error = f"{type(exc).__name__}: {exc}"[:2000]
            message = f"Promptster's API recorder could not reach {target}: {exc}"
            return web.Response(
                status=502,
                body=_error_body(provider, "api_error", message),
                content_type="application/json",
            )
        async with upstream:
            return await self._stream_back(request, upstream, exchange, started)

    async def _streamed_body(
        self, request: web.Request, exchange: Exchange
    ) -> AsyncIterator[bytes]:
        kept = bytearray()
        async for chunk in request.content.iter_chunked(256 * 1024):
            exchange.request_bytes += len(chunk)
            if len(kept) <= PARSE_CAP:
                kept += chunk
            yield chunk
        exchange.body = bytes(kept) if exchange.request_bytes <= PARSE_CAP else None

    async def _stream_back(
        self,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        exchange: Exchange,
        started: float,
    ) -> web.StreamResponse:
        exchange.status = upstream.status
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        response.headers.update(headers)
        reader = ReplyReader(
            exchange.route.api,
            upstream.headers.get("Content-Type", ""),
            upstream.headers.get("Content-Encoding", ""),
        )
        await response.prepare(request)
        try:
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
                if exchange.first_byte_ms is None:
                    exchange.first_byte_ms = int((time.monotonic() - started) * 1000)
                reader.feed(chunk)
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError) as exc:
            # The upstream broke off (or the client went away while we wrote): the client
            # sees the stream end early, as it would have on a direct connection.
            exchange.end_reason = _broken(exc)
            raise
        finally:
            exchange.reply = reader.finish()
        if upstream.status >= 400 and exchange.end_reason == "complete":
            exchange.end_reason = "upstream_error"
        await response.write_eof()
        return response

    def _record(self, exchange: Exchange) -> None:
        if exchange.route.api == "other":
            return  # model lists, token counts, websocket probes: no model exchange
        exchange.facts = read_request(exchange.route.api, exchange.body)
        exchange.body = None
        cost = exchange.cost_usd(self.settings.prices)
        self.settings.budget.add(cost)
        self.emit(prompt_event(exchange), response_event(exchange, self.settings.prices))


def _broken(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "upstream_timeout"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "upstream_closed"
    if isinstance(exc, ConnectionResetError | aiohttp.ClientConnectionResetError):
        return "client_disconnected"
    return "upstream_closed"
