"""Token usage of a Gemini CLI turn, from the session file its hooks name (`transcript_path`).

Gemini CLI 0.61 writes `~/.gemini/tmp/<project>/chats/session-*.jsonl`: a header line, then one
line per message (`type` `user` or `gemini`; a `gemini` message is written again when its tool
calls complete, with the same `id`) and `{"$set": …}` update lines. Earlier releases wrote one
JSON document `{"messages": [...]}`; both are read. A `gemini` message carries `tokens`
{`input`, `output`, `cached`, `thoughts`, `tool`, `total`} and `model`.

The turn is everything after the last user message that holds text (tool results come back as
user messages holding `functionResponse` parts). Lines that are not JSON (a write in progress)
and unknown record types are skipped.
"""

from __future__ import annotations

import json
import os
from typing import Any

MAX_BYTES = 64 * 1024 * 1024  # a session file larger than this is read from its last 64 MiB
Json = dict[str, Any]


def _messages(path: str) -> list[Json]:
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            if size > MAX_BYTES:
                handle.seek(size - MAX_BYTES)
                handle.readline()  # a partial line
            data = handle.read()
    except OSError:
        return []
    try:
        whole = json.loads(data)
    except ValueError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("messages"), list):
        return [m for m in whole["messages"] if isinstance(m, dict)]
    messages: list[Json] = []
    for line in data.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # half-written
        if isinstance(record, dict) and record.get("type") in ("user", "gemini"):
            messages.append(record)
        elif isinstance(record, dict) and isinstance(record.get("$set"), dict):
            listed = record["$set"].get("messages")
            if isinstance(listed, list):
                messages.extend(m for m in listed if isinstance(m, dict))
    return messages


def _is_prompt(message: Json) -> bool:
    if message.get("type") != "user":
        return False
    content = message.get("content")
    if isinstance(content, str):
        return bool(content.strip())
    if isinstance(content, list):
        return any(isinstance(p, dict) and isinstance(p.get("text"), str) for p in content)
    return False


_ALWAYS = ("input_tokens", "output_tokens")


def turn_usage(path: str) -> tuple[str | None, Json] | None:
    """(model, {"input_tokens", "output_tokens"}) summed over the last turn; None when the file
    is missing or holds no reply yet."""
    if not path:
        return None
    messages = _messages(os.path.expanduser(path))
    start = max((i for i, m in enumerate(messages) if _is_prompt(m)), default=-1)
    replies: dict[str, Json] = {}
    for message in messages[start + 1 :]:
        if message.get("type") == "gemini":
            replies[str(message.get("id") or len(replies))] = message
    if not replies:
        return None
    # Gemini's `input` (promptTokenCount) already includes the `cached` tokens.
    total = {"input_tokens": 0, "output_tokens": 0, "cached_input_tokens": 0}
    model = None
    for message in replies.values():
        tokens = message.get("tokens")
        if isinstance(tokens, dict):
            for ours, theirs in (
                ("input_tokens", "input"),
                ("output_tokens", "output"),
                ("cached_input_tokens", "cached"),
            ):
                value = tokens.get(theirs)
                if isinstance(value, int) and not isinstance(value, bool):
                    total[ours] += value
        if isinstance(message.get("model"), str):
            model = message["model"]
    return model, {name: n for name, n in total.items() if n or name in _ALWAYS}
