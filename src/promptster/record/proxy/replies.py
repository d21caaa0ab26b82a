"""Reading a reply as it passes through: its text, model, tool calls and token usage.

The bytes sent to the client are never changed; this reader sees a copy, after the chunk has
been written. Server-sent events are parsed as they arrive; a plain JSON reply is read at the
end (up to `JSON_CAP`). A gzip or deflate body is inflated for reading only; any other encoding
leaves the reply unread (usage unknown, the bytes still pass).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from promptster.record.proxy.apis import CHAT, MESSAGES, RESPONSES, content_text

TEXT_CAP = 64 * 1024  # characters of reply text kept in the event
JSON_CAP = 16 * 1024 * 1024  # bytes of a non-streamed reply read for its usage
SSE_LINE_CAP = 4 * 1024 * 1024  # a longer event is skipped, not buffered without end


@dataclass
class Reply:
    text: str = ""
    truncated: bool = False
    model: str | None = None
    tool_calls: list[str] = field(default_factory=list)
    stop_reason: str | None = None
    error: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    complete: bool = False  # the reply's own end marker was seen (or the JSON was whole)

    def add_text(self, piece: str) -> None:
        room = TEXT_CAP - len(self.text)
        if len(piece) > room:
            self.truncated = True
            piece = piece[: max(room, 0)]
        self.text += piece


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class ReplyReader:
    def __init__(self, api: str, content_type: str, content_encoding: str) -> None:
        self.api = api
        self.reply = Reply()
        self.sse = "text/event-stream" in content_type.lower()
        encoding = content_encoding.strip().lower()
        self.inflate = zlib.decompressobj(47) if encoding in ("gzip", "deflate") else None
        self.readable = encoding in ("", "identity", "gzip", "deflate")
        self.buffer = bytearray()
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        if not self.readable:
            return
        if self.inflate is not None:
            try:
                chunk = self.inflate.decompress(chunk)
            except zlib.error:
                self.readable = False
                return
        self.size += len(chunk)
        if not self.sse:
            if self.size <= JSON_CAP:
                self.buffer += chunk
            return
        self.buffer += chunk
        while True:
            end, width = _event_end(self.buffer)
            if end < 0:
                if len(self.buffer) > SSE_LINE_CAP:
                    self.buffer.clear()
                return
            block = bytes(self.buffer[:end])
            del self.buffer[: end + width]
            self._sse_event(block)

    def finish(self) -> Reply:
        if self.readable and not self.sse and self.size <= JSON_CAP and self.buffer:
            try:
                body = json.loads(bytes(self.buffer))
            except (ValueError, UnicodeDecodeError):
                body = None
            if isinstance(body, dict):
                self._json_reply(body)
        return self.reply

    # -- server-sent events -----------------------------------------------------------------

    def _sse_event(self, block: bytes) -> None:
        lines = block.decode("utf-8", "replace").splitlines()
        data = "\n".join(line[5:].lstrip() for line in lines if line.startswith("data:"))
        if not data:
            return
        if data.strip() == "[DONE]":
            self.reply.complete = True
            return
        try:
            event = json.loads(data)
        except ValueError:
            return
        if isinstance(event, dict):
            if self.api == MESSAGES:
                self._anthropic_event(event)
            elif self.api == CHAT:
                self._chat_chunk(event)
            elif self.api == RESPONSES:
                self._responses_event(event)

    def _anthropic_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        reply = self.reply
        if kind == "message_start" and isinstance(event.get("message"), dict):
            message = event["message"]
            reply.model = message.get("model") or reply.model
            self._anthropic_usage(message.get("usage"))
        elif kind == "content_block_start":
            block = event.get("content_block") or {}
            if isinstance(block, dict) and block.get("type") == "tool_use":
                reply.tool_calls.append(str(block.get("name")))
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            if isinstance(delta, dict) and isinstance(delta.get("text"), str):
                reply.add_text(delta["text"])
        elif kind == "message_delta":
            delta = event.get("delta") or {}
            if isinstance(delta, dict) and delta.get("stop_reason"):
                reply.stop_reason = str(delta["stop_reason"])
            self._anthropic_usage(event.get("usage"))
        elif kind == "message_stop":
            reply.complete = True
        elif kind == "error":
            reply.error = json.dumps(event.get("error"))[:2000]

    def _anthropic_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        reply = self.reply
        # message_delta repeats the counts so far: the latest value wins.
        reply.input_tokens = _int(usage.get("input_tokens")) or reply.input_tokens
        reply.output_tokens = _int(usage.get("output_tokens")) or reply.output_tokens
        cached = _int(usage.get("cache_read_input_tokens"))
        reply.cached_input_tokens = cached if cached is not None else reply.cached_input_tokens
        written = _int(usage.get("cache_creation_input_tokens"))
        reply.cache_write_tokens = written if written is not None else reply.cache_write_tokens

    def _chat_chunk(self, chunk: dict[str, Any]) -> None:
        reply = self.reply
        reply.model = chunk.get("model") or reply.model
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta, dict):
                if isinstance(delta.get("content"), str):
                    reply.add_text(delta["content"])
                for call in delta.get("tool_calls") or []:
                    function = call.get("function") if isinstance(call, dict) else None
                    if isinstance(function, dict) and function.get("name"):
                        reply.tool_calls.append(str(function["name"]))
            if choice.get("finish_reason"):
                reply.stop_reason = str(choice["finish_reason"])
        self._openai_usage(chunk.get("usage"))
        if isinstance(chunk.get("error"), dict):
            reply.error = json.dumps(chunk["error"])[:2000]

    def _responses_event(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type") or "")
        reply = self.reply
        if kind == "response.output_text.delta" and isinstance(event.get("delta"), str):
            reply.add_text(event["delta"])
        elif kind == "response.output_item.done":
            item = event.get("item") or {}
            if (
                isinstance(item, dict)
                and item.get("type", "").endswith("call")
                and item.get("name")
            ):
                reply.tool_calls.append(str(item["name"]))
        elif kind in ("response.created", "response.completed", "response.incomplete"):
            response = event.get("response") or {}
            if isinstance(response, dict):
                reply.model = response.get("model") or reply.model
                self._openai_usage(response.get("usage"))
                if kind != "response.created":
                    reply.stop_reason = str(response.get("status") or kind.split(".")[-1])
                    reply.complete = True
        elif kind in ("response.failed", "error"):
            reply.error = json.dumps(event.get("response") or event)[:2000]
            reply.complete = True

    def _openai_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        reply = self.reply
        reply.input_tokens = _int(usage.get("prompt_tokens", usage.get("input_tokens")))
        reply.output_tokens = _int(usage.get("completion_tokens", usage.get("output_tokens")))
        details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
        cached = details.get("cached_tokens") if isinstance(details, dict) else None
        reply.cached_input_tokens = _int(
            cached if cached is not None else usage.get("cached_tokens")
        )
        out = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
        reasoning = out.get("reasoning_tokens") if isinstance(out, dict) else None
        reply.reasoning_tokens = _int(
            reasoning if reasoning is not None else usage.get("reasoning_tokens")
        )

    # -- whole JSON replies -----------------------------------------------------------------

    def _json_reply(self, body: dict[str, Any]) -> None:
        reply = self.reply
        reply.complete = True
        if isinstance(body.get("error"), dict):
            reply.error = json.dumps(body["error"])[:2000]
        if self.api == MESSAGES:
            reply.model = body.get("model") or reply.model
            for block in body.get("content") or []:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    reply.tool_calls.append(str(block.get("name")))
            reply.add_text(content_text(body.get("content")) or "")
            reply.stop_reason = body.get("stop_reason") or reply.stop_reason
            self._anthropic_usage(body.get("usage"))
        elif self.api == CHAT:
            self._chat_chunk(body)
        elif self.api == RESPONSES:
            reply.model = body.get("model") or reply.model
            for item in body.get("output") or []:
                if not isinstance(item, dict):
                    continue
                if item.get("type") == "message":
                    reply.add_text(content_text(item.get("content")) or "")
                elif str(item.get("type", "")).endswith("call") and item.get("name"):
                    reply.tool_calls.append(str(item["name"]))
            reply.stop_reason = body.get("status") or reply.stop_reason
            self._openai_usage(body.get("usage"))


def _event_end(buffer: bytearray) -> tuple[int, int]:
    """Where the first complete server-sent event ends, and the separator's width."""
    found = [(buffer.find(sep), len(sep)) for sep in (b"\n\n", b"\r\n\r\n")]
    hits = [(at, width) for at, width in found if at >= 0]
    return min(hits) if hits else (-1, 0)
