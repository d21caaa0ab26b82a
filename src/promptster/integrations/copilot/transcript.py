"""The last reply of a Copilot CLI turn, with its model and token usage, from the session event
log its `agentStop` hook names (`~/.copilot/session-state/<session>/events.jsonl`).

Each line is `{"type", "data", "id", "timestamp", "parentId"}`. Used: `user.message` (a turn
starts), `assistant.message` (`data.content`, `data.model`) and `session.usage_record`
(`data.usage` {`model`, `inputTokens`, `outputTokens`, …}). Other types are skipped; so are
lines that are not JSON (a write in progress). Files over 64 MiB are read from their end.
"""

from __future__ import annotations

import json
import os
from typing import Any

MAX_BYTES = 64 * 1024 * 1024
Json = dict[str, Any]
# Copilot CLI counts like OpenAI: its inputTokens already include the cache reads and writes.
PAIRS = (
    ("input_tokens", "inputTokens"),
    ("output_tokens", "outputTokens"),
    ("cached_input_tokens", "cacheReadTokens"),
    ("cache_write_tokens", "cacheWriteTokens"),
)


def _records(path: str) -> list[Json]:
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            if size > MAX_BYTES:
                handle.seek(size - MAX_BYTES)
                handle.readline()
            data = handle.read()
    except OSError:
        return []
    records = []
    for line in data.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("data"), dict):
            records.append(record)
    return records


def last_turn(path: str) -> tuple[str, str | None, Json] | None:
    """(reply text, model, {"input_tokens", "output_tokens"}) of the last turn; None when the
    log is missing or the turn has no reply."""
    if not path:
        return None
    records = _records(os.path.expanduser(path))
    start = max((i for i, r in enumerate(records) if r.get("type") == "user.message"), default=-1)
    text, model = "", None
    usage = dict.fromkeys((ours for ours, _ in PAIRS), 0)
    for record in records[start + 1 :]:
        data = record["data"]
        if record.get("type") == "assistant.message":
            content = data.get("content")
            if isinstance(content, str) and content.strip():
                text = content
            model = data.get("model") if isinstance(data.get("model"), str) else model
        elif record.get("type") == "session.usage_record" and isinstance(data.get("usage"), dict):
            for ours, theirs in PAIRS:
                value = data["usage"].get(theirs)
                if isinstance(value, int) and not isinstance(value, bool):
                    usage[ours] += value
    if not text:
        return None
    return (
        text,
        model,
        {name: n for name, n in usage.items() if n or name in ("input_tokens", "output_tokens")},
    )
