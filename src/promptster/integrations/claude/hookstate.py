"""What the Claude Code hook keeps between calls, per lane: the transcript to read and how far
it was read, and how often each prompt text was seen (for prompts without an id).

Split from `transcript.py` so that `UserPromptSubmit` and `SessionStart`, which only note the
transcript or count a prompt, do not import the transcript reader (dataclasses, pathlib,
typing: several milliseconds on every prompt, against the hook budget).
"""

from __future__ import annotations

import json
import os
import re

from promptster.integrations.claude import events as ce

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Json = dict[str, Any]
    PathLike = str | os.PathLike[str]

STATE_DIR = ("integrations", "claude-code")


def state_path(session_dir: PathLike, lane: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", lane)[:100] or "lane"
    return os.path.join(session_dir, *STATE_DIR, f"{safe}.json")


def load_state(path: PathLike) -> Json:
    try:
        with open(path, "rb") as file:
            state = json.loads(file.read())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def save_state(path: PathLike, state: Json) -> None:
    """Write atomically; the folder and file are private (they name the candidate's home)."""
    folder, name = os.path.split(os.fspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(state))
    os.replace(tmp, path)


def counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and type(v) is int and v > 0}


def remember(session_dir: PathLike, lane: str, transcript: str) -> None:
    """Note the lane's transcript so `submit` can find it (cheap when already noted)."""
    path = state_path(session_dir, lane)
    if not os.path.exists(path):
        save_state(path, {"lane": lane, "transcriptPath": transcript, "offset": 0})
        return
    state = load_state(path)
    if "transcriptPath" not in state:  # only prompt counts so far (count_prompt)
        state.update(lane=lane, transcriptPath=transcript, offset=0)
        save_state(path, state)


def count_prompt(session_dir: PathLike, lane: str, text: str) -> int:
    """The hook's count of `text` as a prompt in the lane, this one included (1 when the
    state cannot be kept: then repeats share an id, as before counting)."""
    path = state_path(session_dir, lane)
    state = load_state(path)
    seen = counts(state.get("hookPromptCounts"))
    key = ce.text_key(text)
    seen[key] = seen.get(key, 0) + 1
    state["hookPromptCounts"] = seen
    try:
        save_state(path, state)
    except OSError:
        return 1
    return seen[key]
