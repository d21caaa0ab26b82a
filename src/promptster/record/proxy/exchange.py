"""One request and its reply, as timeline events: a `prompt` (when the request carries a new
user message) and an `ai_response` with the model, the token usage and its cost.

Every event has `source = {channel: "proxy", integration: "proxy", emitter: "promptster-proxy"}`
and `data.client` (the tool, from its User-Agent). Texts are bounded (64 KiB); the request's
size is kept as `requestBytes`. Credentials never reach an event: headers are not recorded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from promptster.formats.pricing import PriceTable, TokenUsage
from promptster.protocol import new_event
from promptster.record.proxy.apis import RequestFacts, Route
from promptster.record.proxy.replies import TEXT_CAP, Reply

CHANNEL = "proxy"
INTEGRATION = "proxy"
EMITTER = "promptster-proxy"


@dataclass
class Exchange:
    route: Route
    client: str
    path: str
    facts: RequestFacts = field(default_factory=RequestFacts)
    body: bytes | None = b""  # the request as read (None: past what the recorder reads)
    request_bytes: int = 0
    status: int | None = None
    reply: Reply = field(default_factory=Reply)
    first_byte_ms: int | None = None
    duration_ms: int | None = None
    end_reason: str = "complete"  # or client_disconnected, upstream_closed, upstream_error, …
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def lane(self) -> str:
        return f"proxy:{self.client}"

    @property
    def model(self) -> str | None:
        return self.reply.model or self.facts.model

    @property
    def input_tokens(self) -> int | None:
        """Every prompt token, cached or not, as every adapter writes `inputTokens`: Anthropic
        counts cache reads and writes apart from `input_tokens`, OpenAI inside it."""
        reply = self.reply
        if reply.input_tokens is None or self.route.provider != "anthropic":
            return reply.input_tokens
        return (
            reply.input_tokens + (reply.cached_input_tokens or 0) + (reply.cache_write_tokens or 0)
        )

    def cost_usd(self, prices: PriceTable) -> float | None:
        reply = self.reply
        if self.model is None or (reply.input_tokens is None and reply.output_tokens is None):
            return None
        cached, written = reply.cached_input_tokens or 0, reply.cache_write_tokens or 0
        usage = TokenUsage(
            input_tokens=max((self.input_tokens or 0) - cached - written, 0),
            output_tokens=reply.output_tokens or 0,
            cache_write_tokens=written,
            cache_read_tokens=cached,
        )
        cost = prices.cost_usd(self.model, usage)
        return round(cost, 8) if cost is not None else None


def _event(kind: str, data: dict[str, Any], actor: str, attribution: str) -> dict[str, Any]:
    return new_event(
        kind,
        data,
        channel=CHANNEL,
        integration=INTEGRATION,
        emitter=EMITTER,
        actor=actor,
        attribution=attribution,
        confidence=0.9,
        observability="high",
    )


def prompt_event(exchange: Exchange) -> dict[str, Any] | None:
    """The `prompt` of a request that carries new user text (None otherwise)."""
    text = exchange.facts.prompt
    if text is None:
        return None
    data: dict[str, Any] = {
        "text": text[:TEXT_CAP],
        "length": len(text),
        "lane": exchange.lane,
        "client": exchange.client,
        "exchangeId": exchange.id,
        "api": exchange.route.api,
    }
    if len(text) > TEXT_CAP:
        data["truncated"] = True
    if exchange.facts.model:
        data["model"] = exchange.facts.model
    return _event("prompt", data, "human", "likely_human")


def response_event(exchange: Exchange, prices: PriceTable) -> dict[str, Any]:
    """The `ai_response` of an exchange: complete, partial or failed."""
    reply = exchange.reply
    data: dict[str, Any] = {
        "text": reply.text,
        "lane": exchange.lane,
        "client": exchange.client,
        "exchangeId": exchange.id,
        "api": exchange.route.api,
        "path": exchange.path[:200],
        "stream": exchange.facts.stream,
        "requestBytes": exchange.request_bytes,
        "endReason": exchange.end_reason,
    }
    optional: dict[str, Any] = {
        "model": exchange.model,
        "httpStatus": exchange.status,
        "inputTokens": exchange.input_tokens,
        "outputTokens": reply.output_tokens,
        "cachedInputTokens": reply.cached_input_tokens,
        "cacheWriteTokens": reply.cache_write_tokens,
        "reasoningTokens": reply.reasoning_tokens,
        "stopReason": reply.stop_reason,
        "error": reply.error,
        "firstByteMs": exchange.first_byte_ms,
        "durationMs": exchange.duration_ms,
        "costUsd": exchange.cost_usd(prices),
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    if reply.tool_calls:
        data["toolCalls"] = reply.tool_calls[:100]
    if reply.truncated:
        data["truncated"] = True
    if exchange.end_reason != "complete" or (exchange.facts.stream and not reply.complete):
        data["partial"] = True
    if not exchange.facts.readable:
        data["requestUnread"] = True  # not JSON, or larger than the recorder reads
    return _event("ai_response", data, "ai", "likely_ai")


def warning_event(code: str, message: str, **extra: Any) -> dict[str, Any]:
    data = {"code": code, "message": message, "integration": INTEGRATION, **extra}
    return _event("warning", data, "system", "system_generated")
