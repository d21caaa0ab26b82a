"""Values as Claude Code events carry them: text cut to the event limits (on a character
boundary), a command's output head and tail, JSON values cut off, RFC 3339 times parsed,
paths made workspace-relative.

Standard library only: the hook imports this on every call.
"""

from __future__ import annotations

import functools
import os

TYPE_CHECKING = False  # typing costs ~2 ms at import; mypy still reads the block below
if TYPE_CHECKING:  # the hook imports this module: the payload types cost nothing here
    from datetime import datetime
    from typing import Any

    from promptster.formats.payloads import CommandData

    Json = dict[str, Any]

TEXT_LIMIT = 64 * 1024  # bytes of one text field in an event (docs/event-kinds.md)
OUTPUT_LIMIT = 8 * 1024  # bytes of a command's output head and of its tail


def bound(text: str, limit: int = TEXT_LIMIT) -> tuple[str, bool]:
    """`text` cut to at most `limit` UTF-8 bytes (on a character boundary); True if cut."""
    if len(text) * 4 <= limit:
        return text, False
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text, False
    return data[:limit].decode("utf-8", "ignore"), True


def put_output(command: CommandData, text: str, limit: int = OUTPUT_LIMIT) -> None:
    """Set `outputHead`/`outputTail`/`outputTruncated` as the recorded shell writes them: the
    whole output as the head when it fits, else the first and last `limit` bytes."""
    data = text.encode("utf-8", "replace")
    if len(data) <= 2 * limit:
        if text:
            command["outputHead"] = text
        return
    command["outputHead"] = data[:limit].decode("utf-8", "ignore")
    command["outputTail"] = data[-limit:].decode("utf-8", "ignore")
    command["outputTruncated"] = True


def bounded_value(value: Any, depth: int = 0) -> tuple[Any, bool]:
    """A JSON value with every string bounded and deep or huge structures cut off."""
    if isinstance(value, str):
        return bound(value)
    if depth > 8:
        return None, True
    if isinstance(value, dict):
        out: Json = {}
        cut = False
        for key, item in list(value.items())[:200]:
            out[str(key)], item_cut = bounded_value(item, depth + 1)
            cut = cut or item_cut
        return out, cut or len(value) > 200
    if isinstance(value, list):
        items = [bounded_value(item, depth + 1) for item in value[:200]]
        return [item for item, _ in items], any(c for _, c in items) or len(value) > 200
    if value is None or isinstance(value, bool | int | float):
        return value, False
    return str(value)[:200], True


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 time (as Claude Code and the journal write them); None if it is not one."""
    if not isinstance(text, str):
        return None
    return _parse_time(text)


@functools.lru_cache(maxsize=8192)  # a replay at submit parses each event's time many times
def _parse_time(text: str) -> datetime | None:
    from datetime import UTC, datetime  # not at import: the hook does not parse times

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def relative(path: Any, workspace: str) -> str | None:
    """`path` relative to the workspace, "/"-separated; None when it lies outside it."""
    if not isinstance(path, str) or not path:
        return None
    full = os.path.normpath(os.path.join(workspace, path))
    root = os.path.normpath(workspace)
    found = _under(full, root)
    if found is None:  # resolving links costs a system call per component: only when needed
        found = _under(os.path.realpath(full), os.path.realpath(root))
    return found


def _under(candidate: str, base: str) -> str | None:
    if candidate == base or candidate.startswith(base.rstrip(os.sep) + os.sep):
        return os.path.relpath(candidate, base).replace(os.sep, "/")
    return None
