"""Claude Code activity as timeline events: one normaliser for hooks and transcripts.

The hook (live) and the transcript reader (backfill) see the same things in two shapes; both
end up here so a tool call, a prompt or a reply becomes the same event either way. Event ids are
derived from Claude Code's own ids (session, prompt, tool use, message), so the recorder — which
records an id once — drops whatever the second source repeats.

Here: where a fact happened (`Context`), the stable ids, and the conversation's events
(prompts, replies with their token counts, notes, warnings), and which of Claude Code's tools
edit files, run commands or plan. Tool calls are `tool_events`;
the bounds every text, time and path is put through are `values`.

Standard library only: the hook imports this on every call.
"""

from __future__ import annotations

import re
import sys

from promptster.integrations.claude.values import bound
from promptster.protocol import new_event, uuid_text

# CPython's own SHA code gives the same digests as hashlib, which loads OpenSSL (~2 ms at import,
# on every hook call); `uuid` would add `platform`.
try:
    _sha1: Callable[[bytes], Any] = __import__("_sha1").sha1
    _sha256: Callable[[bytes], Any] = __import__(
        "_sha256" if sys.version_info < (3, 12) else "_sha2"
    ).sha256
except (ImportError, AttributeError):  # another Python: hashlib then
    from hashlib import sha1 as _sha1
    from hashlib import sha256 as _sha256

TYPE_CHECKING = False  # typing costs ~2 ms at import; mypy still reads the block below
if TYPE_CHECKING:  # the hook imports this module: the payload types cost nothing here
    from collections.abc import Callable, Mapping
    from typing import Any

    from promptster.formats.payloads import AiResponseData, PromptData

INTEGRATION = "claude-code"
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
SHELL_TOOLS = frozenset({"Bash", "PowerShell"})
PLANNING_TOOLS = frozenset(
    {"TodoWrite", "Task", "Agent", "TaskCreate", "TaskUpdate", "ExitPlanMode", "EnterPlanMode"}
)
FILE_CHANGING_TOOLS = EDIT_TOOLS | SHELL_TOOLS
_NAMESPACE = bytes.fromhex("6f1d7c2e4b1a4e0f9a573c2f7d8e9b10")  # of the event ids (UUID 5)
_SLASH = re.compile(r"\A(/[\w:.-]+)(?:\s|\Z)")

if TYPE_CHECKING:
    Json = dict[str, Any]


def event_id(lane: str, *parts: str, integration: str = INTEGRATION) -> str:
    """A stable event id: the same fact of an AI tool always gets the same id."""
    name = "\x1f".join((integration, lane, *parts))
    return uuid_text(_sha1(_NAMESPACE + name.encode("utf-8")).digest(), 5)  # as uuid.uuid5


def text_key(text: str) -> str:
    digest: str = _sha256(text.encode("utf-8", "replace")).hexdigest()
    return digest[:32]


class Context:
    """Where a Claude Code fact happened: its session (the lane) and our workspace.

    Other AI tools whose activity maps onto Claude Code's tools reuse this normaliser with
    their own `integration` name (integrations/gemini, cursor, copilot, aider). A plain class,
    not a dataclass (`dataclasses` imports `inspect`: ~6 ms on every hook call); its fields are
    its `__dict__`, so `Context(**{**ctx.__dict__, "cwd": cwd})` copies one with a change."""

    def __init__(
        self,
        lane: str,
        workspace: str,
        cwd: str | None = None,
        prompt_id: str | None = None,
        ts: str | None = None,
        channel: str = "hook",  # "import" for transcript backfill
        emitter: str = "promptster-hook",
        integration: str = INTEGRATION,  # another AI tool reusing this normaliser ("codex")
    ) -> None:
        self.lane = lane
        self.workspace = workspace
        self.cwd = cwd
        self.prompt_id = prompt_id
        self.ts = ts
        self.channel = channel
        self.emitter = emitter
        self.integration = integration

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"Context({fields})"

    def event_id(self, *parts: str) -> str:
        return event_id(self.lane, *parts, integration=self.integration)

    def event(
        self,
        kind: str,
        data: Mapping[str, Any],
        key: tuple[str, ...] | None,
        *,
        actor: str = "ai",
        attribution: str = "likely_ai",
        confidence: float = 0.9,
    ) -> Json:
        return new_event(
            kind,
            data,
            channel=self.channel,
            integration=self.integration,
            emitter=self.emitter,
            actor=actor,
            attribution=attribution,
            confidence=confidence,
            observability="high",
            event_id=self.event_id(*key) if key is not None else None,
            ts=self.ts,
        )


def prompt_key(ctx: Context, text: str, occurrence: int = 1) -> tuple[str, ...]:
    """The id parts of a prompt. Without a prompt id the text names it, so the n-th time the
    same text is sent in a lane (n > 1) is told apart by n: the hook and the transcript count
    the same way, so each still dedupes against the other."""
    if ctx.prompt_id:
        return ("prompt", ctx.prompt_id)
    key = text_key(text)
    return ("prompt", key) if occurrence <= 1 else ("prompt", key, str(occurrence))


def prompt_event(
    ctx: Context, text: str, *, slash_args: str | None = None, occurrence: int = 1
) -> Json:
    bounded, cut = bound(text)
    data: PromptData = {"text": bounded, "length": len(text), "lane": ctx.lane}
    if cut:
        data["truncated"] = True
    if "<pasted_content" in text:
        data["likelyPaste"] = True
    if ctx.prompt_id:
        data["promptId"] = ctx.prompt_id
    slash = _SLASH.match(text)
    if slash:
        data["slashCommand"] = slash.group(1)
    key = prompt_key(ctx, text, occurrence)
    return ctx.event("prompt", data, key, actor="human", attribution="likely_human", confidence=1.0)


def ai_response_event(
    ctx: Context, text: str, *, model: str | None = None, usage: Json | None = None
) -> Json:
    bounded, cut = bound(text)
    data: AiResponseData = {"text": bounded, "lane": ctx.lane}
    if cut:
        data["truncated"] = True
    if model:
        data["model"] = model
    data.update(usage_fields(usage))  # type: ignore[typeddict-item]
    key = ("ai_response", ctx.prompt_id or "", text_key(text))
    return ctx.event("ai_response", data, key)


def _count(usage: Mapping[str, Any], name: str) -> int | None:
    value = usage.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def usage_fields(usage: Json | None) -> dict[str, int]:
    """A reply's token counts under the names every adapter writes (docs/event-kinds.md).

    `inputTokens` is every prompt token, cached or not, as OpenAI-style APIs count them;
    `cachedInputTokens` (cache reads) and `cacheWriteTokens` are the parts of it billed at the
    cache prices. Anthropic's `input_tokens` leaves the cache reads (`cache_read_input_tokens`)
    and writes (`cache_creation_input_tokens`) out, so they are added in; a usage that names
    `cached_input_tokens` or `cache_write_tokens` is OpenAI-style, its input already counts
    them. The cache fields are written only when above zero.
    """
    usage = usage or {}
    fields: dict[str, int] = {}
    given = _count(usage, "input_tokens")
    read = _count(usage, "cache_read_input_tokens")
    written = _count(usage, "cache_creation_input_tokens")
    if given is not None:
        fields["inputTokens"] = given + (read or 0) + (written or 0)
    output = _count(usage, "output_tokens")
    if output is not None:
        fields["outputTokens"] = output
    read = read or _count(usage, "cached_input_tokens")
    written = written or _count(usage, "cache_write_tokens")
    if read:
        fields["cachedInputTokens"] = read
    if written:
        fields["cacheWriteTokens"] = written
    return fields


def note_event(ctx: Context, text: str, key: tuple[str, ...], **extra: Any) -> Json:
    data: Json = {"text": bound(text)[0], "lane": ctx.lane, **extra}
    return ctx.event("note", data, key, actor="human", attribution="likely_human", confidence=0.9)


def warning_event(ctx: Context, code: str, message: str, **extra: Any) -> Json:
    data: Json = {"code": code, "message": message, "integration": ctx.integration, **extra}
    return new_event(
        "warning",
        data,
        channel=ctx.channel,
        integration=ctx.integration,
        emitter=ctx.emitter,
        actor="system",
        attribution="system_generated",
        confidence=1.0,
        ts=ctx.ts,
    )
