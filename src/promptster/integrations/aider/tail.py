"""Aider's activity as events, read from its files while it works (the catalog's `poll`).

The read positions live in `.promptster/integrations/aider/tail.json`, written by `setup`
with the files' sizes and HEAD at that moment, so history from before the session is not
imported. Each poll reads at most `CHUNK` (256 KiB) of each history (huge files are streamed over
several polls), consumes only complete lines and closed replies, and starts over from the top
when a file was truncated or replaced.

Events (integration `aider`, one lane, `aider`): `prompt` per input entry (a repeat of the
same text within 2 s is Aider logging one `--message` twice); `ai_response` per reply, with
the model and the token counts of its `> Tokens:` line; for each edit a reply proposes, a
`tool_use`/`tool_result` pair carrying the edit claim (the reply reaches the chat history
before Aider writes the file, and the recorder polls before every snapshot, so the claim is
journaled before the change it explains); and for each of Aider's own commits, claims for the
files its proposed edits did not cover (other edit formats).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptster.fsutil import atomic_write_bytes
from promptster.integrations import hookkit as hk
from promptster.integrations.aider import commits as git
from promptster.integrations.aider.history import ChatState, parse_chat, parse_input
from promptster.integrations.claude import events as ce
from promptster.integrations.claude import values as cv
from promptster.paths import session_dir

INTEGRATION = "aider"
LANE = "aider"
INPUT = ".aider.input.history"
CHAT = ".aider.chat.history.md"
CHUNK = 256 * 1024
REPEAT_S = 2.0
Json = dict[str, Any]


def state_path(workspace: Path) -> Path:
    return session_dir(workspace) / "integrations" / INTEGRATION / "tail.json"


@dataclass
class TailState:
    input: int = 0
    chat: int = 0
    head: str | None = None
    seen: list[str] = field(default_factory=list)
    model: str | None = None
    prompt: str = ""  # the last prompt's time, the key of its replies
    last_text: str = ""
    claimed: list[str] = field(default_factory=list)  # paths claimed since the last commit
    turn_edits: list[str] = field(default_factory=list)  # edits claimed for this prompt
    skipped: int = 0  # lines longer than CHUNK, skipped

    @classmethod
    def load(cls, path: Path) -> TailState | None:
        try:
            data = json.loads(path.read_bytes())
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None

    def save(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(self.__dict__).encode() + b"\n", 0o600)


def start(workspace: Path) -> None:
    """Begin reading from now on (`setup aider`)."""
    state = TailState(
        input=_size(workspace / INPUT), chat=_size(workspace / CHAT), head=git.head(workspace)
    )
    state.save(state_path(workspace))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read(path: Path, offset: int) -> tuple[str, int]:
    """(text of whole lines from `offset`, the offset it starts at: 0 after a truncation)."""
    size = _size(path)
    if size < offset:
        offset = 0
    if size == offset:
        return "", offset
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(CHUNK)
    return data.decode("utf-8", "surrogateescape"), offset


def _bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def poll(session: Path, workspace: Path) -> list[Json]:
    """New events since the last poll (nothing unless `setup aider` is in place)."""
    path = state_path(workspace)
    state = TailState.load(path)
    if state is None:
        return []
    ctx = ce.Context(lane=LANE, workspace=str(workspace), channel="import", integration=INTEGRATION)
    events = _prompts(workspace, state, ctx) + _chat(workspace, state, ctx)
    events += _commits(workspace, state, ctx)
    state.save(path)
    return events


def _advance(text: str, consumed: int) -> int:
    if consumed == 0 and len(text.encode("utf-8", "surrogateescape")) >= CHUNK:
        return _bytes(text)  # one line longer than a chunk: skipped
    return _bytes(text[:consumed])


def _prompts(workspace: Path, state: TailState, ctx: ce.Context) -> list[Json]:
    text, state.input = _read(workspace / INPUT, state.input)
    entries, consumed = parse_input(text)
    state.input += _advance(text, consumed)
    events = []
    for entry in entries:
        if entry.text == state.last_text and _seconds(state.prompt, entry.time) < REPEAT_S:
            continue
        state.prompt, state.last_text, state.turn_edits = entry.time, entry.text, []
        turn = ce.Context(**{**ctx.__dict__, "prompt_id": f"aider-{entry.time}"})
        event = ce.prompt_event(turn, entry.text)
        event["data"]["enteredAt"] = entry.time
        events.append(event)
    return events


def _seconds(earlier: str, later: str) -> float:
    from datetime import datetime

    try:
        return abs(
            (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()
        )
    except ValueError:
        return float("inf")


def _chat(workspace: Path, state: TailState, ctx: ce.Context) -> list[Json]:
    text, state.chat = _read(workspace / CHAT, state.chat)
    chat = ChatState(state.model)
    read = parse_chat(text, chat)
    state.chat += _advance(text, read.consumed)
    state.model = chat.model
    turn = ce.Context(**{**ctx.__dict__, "prompt_id": f"aider-{state.prompt}"})
    events = []
    for reply in read.replies:
        usage = {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
        event = ce.ai_response_event(turn, reply.text, model=reply.model, usage=usage)
        if reply.approximate:
            event["data"]["tokensApproximate"] = True
        events.append(event)
    root = git.top_level(workspace) if read.edits else None
    for edit in read.edits:
        full = os.path.join(root or workspace, edit.path)
        if edit.old:
            tool_input = {"file_path": full, "old_string": edit.old, "new_string": edit.new}
            canonical = "Edit"
        else:
            tool_input, canonical = {"file_path": full, "content": edit.new}, "Write"
        key = ce.text_key(f"{state.prompt}:{edit.path}:{edit.old}:{edit.new}")
        if key in state.turn_edits:
            continue  # the same reply again (Aider re-asks once files are added to the chat)
        state.turn_edits.append(key)
        call = hk.Call("search_replace", canonical, tool_input, f"aider-edit-{key}")
        events += hk.tool_use(turn, call) + hk.tool_result(turn, call, {})
        relative = cv.relative(full, str(workspace))
        if relative and relative not in state.claimed:
            state.claimed.append(relative)
    return events


def _commits(workspace: Path, state: TailState, ctx: ce.Context) -> list[Json]:
    current = git.head(workspace)
    if current is None or current == state.head:
        return []
    found = git.new_commits(workspace, state.head, set(state.seen))
    state.head = current
    root = git.top_level(workspace) or workspace
    events: list[Json] = []
    for commit in found:
        state.seen = [*state.seen[-499:], commit.sha]
        if not commit.by_aider:
            continue
        for path, (old, new) in sorted(git.changes(workspace, commit.sha).items()):
            full = os.path.join(root, path)
            if cv.relative(full, str(workspace)) in state.claimed or not new:
                continue
            tool_input = {"file_path": full, "old_string": old, "new_string": new}
            call = hk.Call("commit", "Edit", tool_input, f"aider-commit-{commit.sha[:16]}-{path}")
            events += hk.tool_use(ctx, call) + hk.tool_result(ctx, call, {})
        state.claimed = []
    return events
