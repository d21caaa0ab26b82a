"""Aider's history files, parsed a chunk at a time (pure functions, no I/O).

`.aider.input.history` (prompt_toolkit's FileHistory): per entry a blank line, `# <local
time>`, then each input line prefixed `+`. `.aider.chat.history.md`: `# aider chat started at
…`, status lines as `> ` block quotes (`> Model: <name> with <format> edit format`, `> Tokens:
2.5k sent, 28 received.`, `> Applied edit to <path>`, `> Commit <sha> <message>`), each prompt
line as `#### `, and the model's replies as plain Markdown, followed by their `> Tokens:` line.

Each parser takes the text after the last position it consumed and returns what it found and
how many characters it used: a line without its newline (a write in progress) and a reply not
yet closed by a status line are left for the next read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKENS = re.compile(r"^> Tokens: ([\d.]+)([kM]?) sent, ([\d.]+)([kM]?) received")
_MODEL = re.compile(r"^> (?:Main )?[Mm]odel: (\S+)")
_FILENAME = re.compile(r"^[\w./\\-]+\.[\w-]+$|^[\w./\\-]*/[\w.-]+$")
_FENCE = re.compile(r"^(```|~~~)")


@dataclass(frozen=True)
class InputEntry:
    time: str  # as Aider wrote it: local time, "YYYY-MM-DD HH:MM:SS.ffffff"
    text: str


def parse_input(text: str) -> tuple[list[InputEntry], int]:
    """Entries of `.aider.input.history` in `text`, and the characters consumed. Aider writes
    an entry in one go, so an entry is whole once a blank line, the next entry's `# ` line or
    the end of `text` (after a newline) follows its `+` lines."""
    end = text.rfind("\n") + 1
    entries: list[InputEntry] = []
    time: str | None = None
    lines: list[str] = []
    consumed = 0
    position = 0

    def close(at: int) -> None:
        nonlocal time, lines, consumed
        if time is not None and lines:
            entries.append(InputEntry(time, "\n".join(lines)))
            consumed = at
        time, lines = None, []

    for line in text[:end].splitlines(keepends=True):
        start = position
        position += len(line)
        bare = line.rstrip("\n")
        if bare.startswith("# "):
            close(start)
            time = bare[2:].strip()
        elif bare.startswith("+") and time is not None:
            lines.append(bare[1:])
        elif not bare:
            close(start)
    if end == len(text):
        close(end)
    return entries, consumed


def _count(number: str, suffix: str) -> int:
    return int(float(number) * {"": 1, "k": 1_000, "M": 1_000_000}[suffix])


@dataclass(frozen=True)
class Reply:
    text: str
    model: str | None
    input_tokens: int | None = None
    output_tokens: int | None = None
    approximate: bool = False  # Aider rounds counts over 1,000 ("2.5k")


@dataclass(frozen=True)
class Edit:
    """An edit a reply proposes: a SEARCH/REPLACE block, or a whole file."""

    path: str
    old: str
    new: str


@dataclass
class ChatState:
    model: str | None = None


@dataclass
class ChatRead:
    replies: list[Reply] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    consumed: int = 0


def parse_chat(text: str, state: ChatState) -> ChatRead:
    """Replies (with tokens) and the edits they propose, from `.aider.chat.history.md`."""
    end = text.rfind("\n") + 1
    read = ChatRead()
    block: list[str] = []
    after_prompt = False
    position = 0
    for line in text[:end].splitlines(keepends=True):
        position += len(line)
        bare = line.rstrip("\n").rstrip()
        status = bare.startswith("> ") or bare == ">" or bare.startswith("# aider chat started")
        if not (status or bare.startswith("####")):
            block.append(line.rstrip("\n"))
            continue
        body = "\n".join(block).strip("\n")
        tokens = _TOKENS.match(bare)
        if body.strip() and (tokens or after_prompt):
            reply = Reply(body.strip(), state.model)
            if tokens:
                sent, received = _count(*tokens.group(1, 2)), _count(*tokens.group(3, 4))
                approximate = bool(tokens.group(2) or tokens.group(4))
                reply = Reply(reply.text, state.model, sent, received, approximate)
            read.replies.append(reply)
            read.edits.extend(proposed_edits(body))
        block = []
        model = _MODEL.match(bare)
        if model:
            state.model = model.group(1)
        after_prompt = bare.startswith("####")
        read.consumed = position
    return read


def proposed_edits(reply: str) -> list[Edit]:
    """SEARCH/REPLACE blocks (Aider's `diff` and `diff-fenced` formats) and whole files in a
    fence under a file name (`whole`), as (path, old, new)."""
    lines = reply.splitlines()
    edits: list[Edit] = []
    path: str | None = None
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("<<<<<<< SEARCH"):
            old, new, i = _search_replace(lines, i + 1)
            if path is not None and new is not None:
                edits.append(Edit(path, old, new))
            continue
        if _FENCE.match(line):
            if in_fence:
                in_fence = False
            elif path is not None and _whole_file(lines, i):
                body, i = _fenced(lines, i + 1)
                edits.append(Edit(path, "", body))
                path = None
                continue
            else:
                in_fence = True
        elif _FILENAME.match(line):
            path = line
        i += 1
    return edits


def _search_replace(lines: list[str], i: int) -> tuple[str, str | None, int]:
    old: list[str] = []
    new: list[str] = []
    target = old
    while i < len(lines):
        line = lines[i]
        if line.strip() == "=======" and target is old:
            target = new
        elif line.strip().startswith(">>>>>>> REPLACE"):
            return "\n".join(old), "\n".join(new), i + 1
        else:
            target.append(line)
        i += 1
    return "\n".join(old), None, i  # not closed: not an edit


def _whole_file(lines: list[str], i: int) -> bool:
    """A fence whose body holds no SEARCH/REPLACE block."""
    for line in lines[i + 1 :]:
        if _FENCE.match(line.strip()):
            return True
        if line.strip().startswith("<<<<<<< SEARCH"):
            return False
    return False


def _fenced(lines: list[str], i: int) -> tuple[str, int]:
    body: list[str] = []
    while i < len(lines) and not _FENCE.match(lines[i].strip()):
        body.append(lines[i])
        i += 1
    return "\n".join(body), i + 1
