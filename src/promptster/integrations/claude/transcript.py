"""Claude Code transcripts: what hooks cannot see, read back from the session's JSONL file.

Claude Code writes `~/.claude/projects/<encoded cwd>/<session id>.jsonl`; its format is
undocumented and changes between releases, so the reader keeps to a few well-known shapes and
counts everything else: unknown record types are skipped and counted, lines that are not JSON
objects are counted as malformed, a partial last line is left for the next read. Nothing here
raises on a strange transcript.

From it come the assistant's text (`ai_response` with model and token usage), prompts and slash
commands, interruptions, and every tool call — with the same event ids the hook uses, so the
recorder keeps one copy of each. The hook reads new lines at every `Stop` and at `SessionEnd`
(`advance`); `submit` reads every transcript of the session again (`backfill_transcripts`).

Standard library only: the hook imports this at the end of each turn.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptster.integrations.claude import events as ce
from promptster.integrations.claude import tool_events as cte
from promptster.integrations.claude import values as cv
from promptster.integrations.claude.hookstate import STATE_DIR as STATE_DIR  # the hook's state
from promptster.integrations.claude.hookstate import count_prompt as count_prompt
from promptster.integrations.claude.hookstate import counts as _counts
from promptster.integrations.claude.hookstate import load_state as _load_state
from promptster.integrations.claude.hookstate import remember as remember
from promptster.integrations.claude.hookstate import save_state as _save_state
from promptster.integrations.claude.hookstate import state_path as _state_path

MAX_LINE = 16 * 1024 * 1024  # longer lines are skipped (counted as malformed)
_TS = re.compile(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
_COMMAND_NAME = re.compile(r"<command-name>\s*(/?[^<\s]+)\s*</command-name>")
_COMMAND_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.DOTALL)
_INTERRUPTED = "[Request interrupted by user"
# Record types known to carry nothing we record (session bookkeeping, API request copies).
IGNORED_TYPES = frozenset(
    {
        "system",
        "attachment",
        "summary",
        "progress",
        "queue-operation",
        "file-history-snapshot",
        "api-request",
        "api-request-shape",
        "api-request-blob",
        "atis-latch",
        "tools-used",
        "last-prompt",
        "cost-state",
        "custom-title",
        "ai-title",
        "tag",
        "agent-name",
        "pr-link",
    }
)

Json = dict[str, Any]


@dataclass
class TranscriptRead:
    """Events found, and an account of what was not understood."""

    events: list[Json] = field(default_factory=list)
    end_offset: int = 0
    prompt_id: str | None = None
    lines: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # unknown record type -> count
    malformed: int = 0
    before_session: int = 0
    partial_tail: bool = False
    # How often each prompt text (by ce.text_key) has been sent in the lane so far.
    prompt_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Message:
    """One API response, whose content blocks Claude Code writes on separate lines."""

    ctx: ce.Context
    model: str | None
    usage: Json | None
    texts: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, lane: str, workspace: str, prompt_id: str | None, since: str | None):
        self.lane = lane
        self.workspace = workspace
        self.prompt_id = prompt_id
        self.since = since
        self.result = TranscriptRead(prompt_id=prompt_id)
        self.tools: dict[str, tuple[str, Any, str | None]] = {}  # id -> name, input, ts
        self.message_id: str | None = None
        self.message: _Message | None = None

    def context(self, record: Json) -> ce.Context:
        ts = record.get("timestamp")
        cwd = record.get("cwd")
        return ce.Context(
            lane=self.lane,
            workspace=self.workspace,
            cwd=cwd if isinstance(cwd, str) else None,
            prompt_id=self.prompt_id,
            ts=ts if isinstance(ts, str) and _TS.match(ts) else None,
            channel="import",
            emitter="promptster-transcript",
        )

    def record(self, record: Json) -> None:
        kind = record.get("type")
        ts = record.get("timestamp")
        if self.since and isinstance(ts, str) and ts < self.since:
            self.result.before_session += 1
            return
        if isinstance(record.get("promptId"), str):
            self.prompt_id = record["promptId"]
        if kind == "assistant":
            self.assistant(record)
        elif kind == "user":
            self.flush()
            self.user(record)
        elif kind not in IGNORED_TYPES:
            self.result.skipped[str(kind) if kind is not None else "(no type)"] += 1

    def assistant(self, record: Json) -> None:
        message = record.get("message")
        if not isinstance(message, dict):
            self.result.skipped["assistant (no message)"] += 1
            return
        message_id = message.get("id") if isinstance(message.get("id"), str) else None
        if message_id is None or message_id != self.message_id:
            self.flush()
            self.message_id = message_id
            model = message.get("model")
            self.message = _Message(
                self.context(record), model if isinstance(model, str) else None, None
            )
        assert self.message is not None
        if isinstance(message.get("usage"), dict):
            self.message.usage = message["usage"]
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        for block in blocks:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                if not record.get("isSidechain"):
                    self.message.texts.append(block["text"])
            elif block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                name = str(block.get("name") or "unknown")
                ctx = self.context(record)
                self.tools[block["id"]] = (name, block.get("input"), ctx.ts)
                self.result.events.extend(
                    cte.tool_use_events(ctx, name, block["id"], block.get("input"))
                )

    def flush(self) -> None:
        message, self.message, self.message_id = self.message, None, None
        if message is None:
            return
        text = "\n\n".join(t for t in message.texts if t.strip())
        if text:
            self.result.events.append(
                ce.ai_response_event(message.ctx, text, model=message.model, usage=message.usage)
            )

    def user(self, record: Json) -> None:
        message = record.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if record.get("isMeta") or content is None:
            return
        ctx = self.context(record)
        if isinstance(content, str):
            self.user_text(ctx, record, content)
            return
        if not isinstance(content, list):
            self.result.skipped["user (odd content)"] += 1
            return
        texts: list[str] = []
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_result" and isinstance(block.get("tool_use_id"), str):
                self.tool_result(ctx, record, block)
            elif block.get("type") == "text" and _typed(block.get("text")):
                texts.append(block["text"])
        if texts:
            self.user_text(ctx, record, "\n".join(texts))

    def user_text(self, ctx: ce.Context, record: Json, text: str) -> None:
        if text.startswith(_INTERRUPTED):
            key = ("interrupted", str(record.get("uuid") or ce.text_key(text + str(ctx.ts))))
            note = ce.note_event(ctx, "Claude Code turn interrupted by the user", key)
            note["data"]["interrupted"] = True
            self.result.events.append(note)
            return
        if "<local-command-stdout>" in text or "<local-command-stderr>" in text:
            return  # the output of a local command such as /cost, not something typed
        name = _COMMAND_NAME.search(text)
        if name is not None:
            args = _COMMAND_ARGS.search(text)
            command = name.group(1) if name.group(1).startswith("/") else "/" + name.group(1)
            text = f"{command} {args.group(1).strip() if args else ''}".strip()
        text_id = ce.text_key(text)
        counts = self.result.prompt_counts
        counts[text_id] = counts.get(text_id, 0) + 1
        self.result.events.append(ce.prompt_event(ctx, text, occurrence=counts[text_id]))

    def tool_result(self, ctx: ce.Context, record: Json, block: Json) -> None:
        tool_use_id = block["tool_use_id"]
        name, tool_input, started = self.tools.get(tool_use_id, ("unknown", {}, None))
        response = record.get("toolUseResult")
        error: str | None = None
        if block.get("is_error") is True:
            error = _block_text(block.get("content"))
        duration = _duration_ms(started, ctx.ts)
        self.result.events.extend(
            cte.tool_result_events(
                ctx, name, tool_use_id, tool_input, response, error=error, duration_ms=duration
            )
        )


def _typed(text: Any) -> bool:
    """Text a person typed, not a reminder Claude Code injected."""
    return isinstance(text, str) and not text.lstrip().startswith("<system-reminder>")


def _block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _duration_ms(start: str | None, end: str | None) -> int | None:
    began, ended = cv.parse_time(start), cv.parse_time(end)
    if began is None or ended is None:
        return None
    return max(0, int((ended - began).total_seconds() * 1000))


def read_transcript(
    path: Path,
    *,
    lane: str,
    workspace: str,
    start: int = 0,
    prompt_id: str | None = None,
    since: str | None = None,
    prompt_counts: dict[str, int] | None = None,
) -> TranscriptRead:
    """Events from the transcript's complete lines after byte `start` (records older than
    `since`, an RFC 3339 time, are skipped). Never raises: an unreadable file gives nothing."""
    reader = _Reader(lane, workspace, prompt_id, since)
    result = reader.result
    result.prompt_counts = dict(prompt_counts or {})
    offset = start
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            for line in handle:
                if not line.endswith(b"\n"):
                    result.partial_tail = True  # still being written: read it next time
                    break
                offset += len(line)
                result.lines += 1
                if len(line) > MAX_LINE:
                    result.malformed += 1
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    result.malformed += 1
                    continue
                if not isinstance(record, dict):
                    result.malformed += 1
                    continue
                reader.record(record)
    except OSError:
        pass
    reader.flush()
    result.end_offset = offset
    result.prompt_id = reader.prompt_id
    return result


# --- incremental reads from the hook -----------------------------------------------------------


def advance(session_dir: Path, lane: str, transcript: str, workspace: str) -> list[Json]:
    """Events from the transcript lines written since the last call for this lane (records
    from before the session started are skipped)."""
    path = _state_path(session_dir, lane)
    state = _load_state(path)
    start = state.get("offset") if state.get("transcriptPath") == transcript else 0
    start = start if isinstance(start, int) and start >= 0 else 0
    prompt_id = state.get("promptId") if isinstance(state.get("promptId"), str) else None
    read = read_transcript(
        Path(transcript),
        lane=lane,
        workspace=workspace,
        start=start,
        prompt_id=prompt_id,
        since=_session_started(session_dir),  # a resumed conversation brings older history
        prompt_counts=_counts(state.get("promptCounts")) if start else None,
    )
    state.update(lane=lane, transcriptPath=transcript, offset=read.end_offset)
    state["promptId"] = read.prompt_id
    state["promptCounts"] = read.prompt_counts
    _save_state(path, state)
    return read.events


# --- backfill at submit ------------------------------------------------------------------------


def known_transcripts(session_dir: Path) -> dict[str, Path]:
    """lane -> transcript path, as the hook noted them during the session."""
    found: dict[str, Path] = {}
    folder = session_dir.joinpath(*STATE_DIR)
    for state_file in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        state = _load_state(state_file)
        lane, transcript = state.get("lane"), state.get("transcriptPath")
        if isinstance(lane, str) and isinstance(transcript, str):
            found[lane] = Path(transcript)
    return found


_ID = re.compile(rb'"id":\s*"([0-9a-f-]{36})"')


def journal_ids(journal: Path) -> set[str]:
    """The event ids already in a journal (a fast scan; no full parse)."""
    try:
        data = journal.read_bytes()
    except OSError:
        return set()
    return {match.decode() for match in _ID.findall(data)}


def claude_project_dirs() -> list[Path]:
    """Where Claude Code keeps transcripts: $CLAUDE_CONFIG_DIR (comma-separated), ~/.claude,
    ~/.config/claude — each with a `projects` folder."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR", "")
    roots = [Path(p).expanduser() for p in configured.split(",") if p.strip()]
    roots += [Path.home() / ".claude", Path.home() / ".config" / "claude"]
    return [root / "projects" for root in roots]


def discover_transcripts(
    workspace: Path, since: str | None, project_dirs: list[Path] | None = None
) -> dict[str, Path]:
    """Transcripts of Claude Code sessions run in `workspace` (lane -> path), written to since
    `since`: Claude Code files them under the workspace path with every other character `-`."""
    names = {re.sub(r"[^A-Za-z0-9]", "-", str(p)) for p in (workspace, workspace.resolve())}
    cutoff = _epoch(since)
    found: dict[str, Path] = {}
    for root in project_dirs if project_dirs is not None else claude_project_dirs():
        for name in sorted(names):
            folder = root / name
            for transcript in sorted(folder.glob("*.jsonl")) if folder.is_dir() else ():
                try:
                    fresh = cutoff is None or transcript.stat().st_mtime >= cutoff
                except OSError:
                    continue
                if fresh:
                    found.setdefault(transcript.stem, transcript)
    return found


def _epoch(ts: str | None) -> float | None:
    moment = cv.parse_time(ts)
    return moment.timestamp() if moment is not None else None


def _session_started(session_dir: Path) -> str | None:
    state = _load_state(session_dir / "session.json")
    started = state.get("startedAt")
    return started if isinstance(started, str) else None


def backfill_transcripts(
    session_dir: Path,
    *,
    workspace: Path | None = None,
    existing_ids: Collection[str] | None = None,
    since: str | None = None,
    extra: dict[str, Path] | None = None,
    project_dirs: list[Path] | None = None,
) -> list[Json]:
    """The events of this session's Claude Code transcripts that the journal does not have yet.

    Transcripts are those the hook noted, plus any Claude Code session run in the workspace
    since the session started (found in Claude Code's project folders, so sessions whose hooks
    did not run are backfilled too), plus `extra` (lane -> path). `existing_ids` defaults to
    the ids in `session_dir/timeline.jsonl`; records older than `since` (default: the
    session's start) are skipped. Each transcript with records it could not use adds one
    `warning` (code `transcript_skipped`) counting them by type.
    """
    workspace = workspace if workspace is not None else session_dir.parent
    root = str(workspace)
    since = since if since is not None else _session_started(session_dir)
    have = (
        set(existing_ids)
        if existing_ids is not None
        else journal_ids(session_dir / "timeline.jsonl")
    )
    transcripts = {
        **discover_transcripts(workspace, since, project_dirs),
        **known_transcripts(session_dir),
        **(extra or {}),
    }
    events: list[Json] = []
    for lane, transcript in transcripts.items():
        read = read_transcript(transcript, lane=lane, workspace=root, since=since)
        for event in read.events:
            if event["id"] not in have:
                have.add(event["id"])
                events.append(event)
        if read.skipped or read.malformed or read.partial_tail or not transcript.is_file():
            ctx = ce.Context(
                lane=lane, workspace=root, channel="import", emitter="promptster-transcript"
            )
            events.append(_skipped_warning(ctx, transcript, read))
    return events


def _skipped_warning(ctx: ce.Context, transcript: Path, read: TranscriptRead) -> Json:
    if not transcript.is_file():
        message = (
            f"the Claude Code transcript of session {ctx.lane} is gone; hooks captured it alone"
        )
        return ce.warning_event(ctx, "transcript_missing", message, lane=ctx.lane)
    parts = [f"{n} {kind!r}" for kind, n in sorted(read.skipped.items())]
    if read.malformed:
        parts.append(f"{read.malformed} malformed")
    if read.partial_tail:
        parts.append("a partial last line")
    message = f"Claude Code transcript of session {ctx.lane}: skipped {', '.join(parts)}"
    return ce.warning_event(
        ctx,
        "transcript_skipped",
        message,
        lane=ctx.lane,
        recordTypes=dict(read.skipped),
        malformedLines=read.malformed,
        partialLastLine=read.partial_tail,
        lines=read.lines,
    )
