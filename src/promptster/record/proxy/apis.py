"""Which API a request speaks, and what the recorder keeps from its body.

Routing is by path, so one port serves every tool: `/v1/messages` (and its `count_tokens`)
is Anthropic's Messages API; `/v1/chat/completions`, `/v1/responses` and anything else go to
the OpenAI upstream. The prompt is the last user message when it carries text of its own (a
request that only returns tool results continues the previous turn: it is no new prompt). A
client that resends the conversation with the same last user message (a retry) is recorded
twice: each request is an exchange of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ANTHROPIC = "anthropic"
OPENAI = "openai"
MESSAGES = "anthropic-messages"
CHAT = "openai-chat"
RESPONSES = "openai-responses"
OTHER = "other"
# Well-known clients, from the User-Agent, by their catalog names (integrations.catalog: the
# analysis matches them with the hooks' and transcripts' `source.integration`); anything else is
# named by its first product token.
CLIENTS = (
    ("claude-cli", "claude-code"),
    ("claude-code", "claude-code"),
    ("codex", "codex"),
    ("aider", "aider"),
    ("litellm", "aider"),
    ("gemini", "gemini-cli"),
    ("copilot", "copilot-cli"),
    ("cursor", "cursor"),
)


@dataclass(frozen=True)
class Route:
    provider: str  # ANTHROPIC or OPENAI: which upstream
    api: str  # MESSAGES, CHAT, RESPONSES or OTHER: how to read the exchange


def route(method: str, path: str, headers: Any) -> Route:
    """Where a request goes, and whether it is a model exchange (a POST to a model API)."""
    post = method.upper() == "POST"
    if path.startswith("/v1/messages") or path.startswith("/messages"):
        exchange = post and path.rstrip("/").endswith("messages")
        return Route(ANTHROPIC, MESSAGES if exchange else OTHER)
    if "anthropic-version" in headers:
        return Route(ANTHROPIC, OTHER)
    if post and path.rstrip("/").endswith("/chat/completions"):
        return Route(OPENAI, CHAT)
    if post and path.rstrip("/").endswith("/responses"):
        return Route(OPENAI, RESPONSES)
    return Route(OPENAI, OTHER)


def upstream_url(base: str, path_qs: str) -> str:
    """`base` + the request's path; a base that ends in /v1 is not doubled (`…/v1/v1/…`)."""
    base = base.rstrip("/")
    if base.endswith("/v1") and (path_qs.startswith("/v1/") or path_qs == "/v1"):
        return base + path_qs[3:]
    return base + path_qs


def client_name(user_agent: str) -> str:
    lowered = user_agent.lower()
    for needle, name in CLIENTS:
        if needle in lowered:
            return name
    token = user_agent.split("/", 1)[0].split(" ", 1)[0].strip()
    return token[:40] or "unknown"


@dataclass(frozen=True)
class RequestFacts:
    model: str | None = None
    stream: bool = False
    prompt: str | None = None  # the new user text, if this request carries one
    readable: bool = True  # False: not JSON, or bigger than the recorder reads


def read_request(api: str, body: bytes | None) -> RequestFacts:
    """What the events need from a request body (None: too large to read)."""
    if body is None:
        return RequestFacts(readable=False)
    try:
        parsed = json.loads(body) if body else {}
    except (ValueError, UnicodeDecodeError):
        return RequestFacts(readable=False)
    if not isinstance(parsed, dict):
        return RequestFacts(readable=False)
    model = parsed.get("model")
    stream = parsed.get("stream") is True
    prompt = None
    if api in (MESSAGES, CHAT):
        prompt = _last_user_text(parsed.get("messages"))
    elif api == RESPONSES:
        given = parsed.get("input")
        prompt = given if isinstance(given, str) else _last_user_text(given)
    return RequestFacts(model if isinstance(model, str) else None, stream, prompt)


def _last_user_text(messages: Any) -> str | None:
    """The text of the conversation's last turn when it is the user's (system and developer
    messages after it, as Claude Code sends its environment, are skipped)."""
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if not isinstance(message, dict):
            return None
        role = message.get("role")
        if role in ("system", "developer"):
            continue
        return content_text(message.get("content")) if role == "user" else None
    return None


def content_text(content: Any) -> str | None:
    """The text parts of a message's content (a string, or a list of typed parts)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    parts = [
        str(part.get("text"))
        for part in content
        if isinstance(part, dict)
        and part.get("type") in ("text", "input_text", "output_text")
        and isinstance(part.get("text"), str)
    ]
    # Claude Code adds <system-reminder> blocks to the user's message: not the user's words.
    kept = [p for p in parts if not p.lstrip().startswith("<system-reminder>")]
    return "\n".join(kept or parts) if parts else None
