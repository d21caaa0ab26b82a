"""Line-level authorship of the final snapshot, computed at submit (docs/attribution.md).

The timeline's file events are replayed in order onto the snapshots: each event's file is read
at the event's snapshot and diffed, line by line, against the file as the replay has it. Lines
the diff keeps keep their origin; added lines get one from the attribution engine (run here over
the whole timeline, so a proposed edit counts only when it ran and the candidate's own shell
commands are known) with these rules on top:

- a line removed and added again in the same change with the same text, ignoring indentation
  (moved, re-indented), keeps its origin;
- a line the candidate added in place of a similar AI line (a replaced block) is
  `ai_then_human`;
- a rewrite (one change replacing at least half of a file's meaningful lines with new text;
  lines revised in place, `ai_then_human`, do not count) takes over the lines it left
  unchanged: a line the other party typed again identically is theirs; short of that, an
  unchanged line keeps its author;
- blank and punctuation-only lines left unchanged between lines a change replaced follow that
  change;
- a change flagged as a likely paste (paste.py) makes its lines `unknown`;
- files of the first snapshot (the starter) are `starter`.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Full, Queue
from typing import Any, cast

from promptster.bundle.authorship import (
    Authorship,
    FileAuthorship,
    LineOrigin,
    is_binary,
    run_length,
    split_text,
)
from promptster.formats.events import FILE_KINDS
from promptster.gitblobs import BlobReader, changed_blobs, tree_files
from promptster.gitutil import run_git
from promptster.integrations.claude.events import parse_time
from promptster.record.attribution.engine import SIMILARITY, ChangeVerdict, is_trivial
from promptster.record.attribution.events import (
    EventAttributor,
    human_command_windows,
    in_time_order,
    tool_results,
    write_evidence,
)

REWRITE_SHARE = 0.5
PREFETCH_CHUNK = 64  # blobs handed over at a time by the reading thread
MAX_PAIRS = 200  # AI lines of a replaced block compared with each new line (bounded work)
STARTER = LineOrigin("starter")
AI_AUTHORS = frozenset({"ai", "ai_then_human"})

Json = Mapping[str, Any]


@dataclass
class _Line:
    text: str
    origin: LineOrigin
    trivial: bool = False

    @classmethod
    def of(cls, text: str, origin: LineOrigin) -> _Line:
        return cls(text, origin, is_trivial(text))


@dataclass
class _File:
    lines: list[_Line]
    binary: bool = False


def snapshot_order(git_dir: Path, head: str) -> list[str]:
    out = run_git(["rev-list", "--reverse", "--first-parent", head], git_dir=git_dir).text
    return out.split()


def _tools(events: Sequence[Json]) -> dict[str, str]:
    """tool_use_id -> the integration that reported it (claude, codex, …)."""
    tools: dict[str, str] = {}
    for event in events:
        data, source = event.get("data"), event.get("source")
        if event.get("kind") in ("tool_use", "tool_result") and isinstance(data, Mapping):
            integration = source.get("integration") if isinstance(source, Mapping) else None
            tool_use_id = data.get("toolUseId")
            if isinstance(tool_use_id, str) and isinstance(integration, str):
                # "claude-code" -> "claude", "gemini-cli" -> "gemini": the tool, not the adapter
                name = integration.removesuffix("-code").removesuffix("-cli")
                tools.setdefault(tool_use_id, name)
    return tools


def compute_authorship(
    events: Sequence[Json], git_dir: Path, head: str, workspace: str
) -> Authorship:
    """Authorship of every file of snapshot `head`, from the session's events (journal order);
    `workspace` is the absolute workspace path the AI tools' events name files under."""
    files: dict[str, _File] = {}
    # git runs in a worker thread while Python works (a subprocess does not hold the GIL):
    # the history's blob ids and the starter files while the timeline is indexed, then the
    # blobs of the file events while the replay consumes them.
    with BlobReader(git_dir) as blobs, ThreadPoolExecutor(1) as worker:
        history = worker.submit(_history, git_dir, head, blobs)
        final_tree = worker.submit(lambda: list(tree_files(git_dir, head)))
        tools = _tools(events)
        attributor = EventAttributor(
            workspace, ran=tool_results(events), shell_windows=human_command_windows(events)
        )
        starter, oids = history.result()
        for path, content in starter:
            files[path] = _starter(content or b"")
        replay = _Replay(events, files, tools, attributor, oids)
        replay.run(lambda names: _prefetch(worker, blobs.read_many(names)))
        final = final_tree.result()
        read = blobs.read_many(oid for _, oid in final)
        result = [
            _final(path, content or b"", files.get(path))
            for (path, _), content in zip(final, read, strict=True)
        ]
    return Authorship(head, tuple(result))


def _history(
    git_dir: Path, head: str, blobs: BlobReader
) -> tuple[list[tuple[str, bytes | None]], dict[tuple[str, str], str]]:
    """The starter files (path, content) and the blob ids of every path each snapshot changed."""
    order = snapshot_order(git_dir, head)
    starter: list[tuple[str, bytes | None]] = []
    if order:
        listed = list(tree_files(git_dir, order[0]))
        read = blobs.read_many(oid for _, oid in listed)
        starter = [(path, content) for (path, _), content in zip(listed, read, strict=True)]
    return starter, changed_blobs(git_dir, head)


_DONE = object()


def _prefetch(
    worker: ThreadPoolExecutor, items: Iterator[bytes | None]
) -> Generator[bytes | None, None, None]:
    """`items`, produced by `worker` ahead of the consumer (a bounded number of chunks). Closing
    the generator stops the producer."""
    queue: Queue[object] = Queue(maxsize=8)
    stop = threading.Event()

    def put(value: object) -> None:
        while not stop.is_set():
            try:
                queue.put(value, timeout=0.05)
                return
            except Full:
                continue

    def produce() -> None:
        chunk: list[bytes | None] = []
        try:
            for item in items:
                if stop.is_set():
                    return
                chunk.append(item)
                if len(chunk) == PREFETCH_CHUNK:
                    put(chunk)
                    chunk = []
            put(chunk)
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)

    worker.submit(produce)
    try:
        while True:
            got = queue.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield from cast(list[bytes | None], got)
    finally:
        stop.set()


def _starter(content: bytes) -> _File:
    if is_binary(content):
        return _File([], binary=True)
    return _File([_Line.of(text, STARTER) for text in split_text(content)])


def _final(path: str, content: bytes, state: _File | None) -> FileAuthorship:
    """The file as the snapshot has it, with the replay's origins where the texts agree (a file
    whose events are missing or did not replay gets `unknown` for the lines that differ)."""
    if is_binary(content):
        return FileAuthorship(path, 0, True, ())
    texts = split_text(content)
    known = state.lines if state is not None and not state.binary else []
    if [line.text for line in known] == texts:
        return run_length(path, [line.origin for line in known])
    origins = [LineOrigin("unknown")] * len(texts)
    matcher = difflib.SequenceMatcher(None, [line.text for line in known], texts, autojunk=False)
    for tag, i1, _, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            origins[j1:j2] = [known[i1 + k].origin for k in range(j2 - j1)]
    return run_length(path, origins)


class _Replay:
    def __init__(
        self,
        events: Sequence[Json],
        files: dict[str, _File],
        tools: Mapping[str, str],
        attributor: EventAttributor,
        oids: Mapping[tuple[str, str], str],
    ) -> None:
        self.oids = oids
        self.events = events
        self.files = files
        self.tools = tools
        self.deleted: dict[str, _File] = {}
        self.attributor = attributor
        self.origins: dict[LineOrigin, LineOrigin] = {}  # one object per origin: fast compares

    def run(self, read: Callable[[Iterable[str]], Generator[bytes | None, None, None]]) -> None:
        """Replay the events; `read(names)` gives the blobs of the file events, in order."""
        file_events = [
            (event, _blob_name(event, self.oids))
            for event in self.events
            if event.get("kind") in FILE_KINDS
        ]
        contents = read(name for _, name in file_events if name is not None)
        pending = iter(file_events)
        try:
            for event in in_time_order(self.events):
                if event.get("kind") not in FILE_KINDS:
                    self.attributor.observe(event)
                    continue
                _, name = next(pending)
                content = next(contents) if name is not None else None
                self._change(event, content)
            for _ in contents:  # none left; ends the reader's thread
                pass
        finally:
            contents.close()  # on an error too: the reading thread stops

    def _change(self, event: Json, content: bytes | None) -> None:
        data = event.get("data")
        time = parse_time(event.get("ts"))
        if not isinstance(data, Mapping) or time is None:
            return
        path, commit = str(data.get("path", "")), str(data.get("commit", ""))
        origin_id, seq = str(event.get("id", "")), event.get("seq")
        seq = seq if isinstance(seq, int) else None
        before = self.files.pop(path, None)
        if before is None and isinstance(data.get("renamedFrom"), str):
            before = self.deleted.pop(data["renamedFrom"], None) or self.files.get(
                data["renamedFrom"]
            )
        if event.get("kind") == "file_delete":
            if before is not None:
                self.deleted[path] = before
            self.attributor.verdict(
                path, commit, (), [x.text for x in before.lines] if before else (), time
            )
            return
        if content is None:  # the snapshot is missing: the file's lines are unknown from here
            self.files[path] = _File([])
            return
        if is_binary(content):
            self.files[path] = _File([], binary=True)
            return
        old = before.lines if before is not None and not before.binary else []
        new_texts = split_text(content)
        matcher = difflib.SequenceMatcher(None, [x.text for x in old], new_texts, autojunk=False)
        opcodes = matcher.get_opcodes()
        added = [t for tag, _, _, j1, j2 in opcodes if tag != "equal" for t in new_texts[j1:j2]]
        removed = [x.text for tag, i1, i2, _, _ in opcodes if tag != "equal" for x in old[i1:i2]]
        verdict = self.attributor.verdict(path, commit, added, removed, time, write_evidence(data))
        pasted = verdict.likely_paste
        here = LineOrigin("human", None, origin_id, seq)
        self.files[path] = _File(
            _assign(old, new_texts, opcodes, verdict, here, self.tools, pasted)
        )


def _blob_name(event: Json, oids: Mapping[tuple[str, str], str]) -> str | None:
    """The blob id (else `<commit>:<path>`) of the file an event's snapshot holds; None:
    nothing to read."""
    data = event.get("data")
    if event.get("kind") == "file_delete" or not isinstance(data, Mapping):
        return None
    if parse_time(event.get("ts")) is None:
        return None
    commit, path = str(data.get("commit", "")), str(data.get("path", ""))
    return oids.get((commit, path)) or f"{commit}:{path}"


def _similar(a: str, b: str) -> bool:
    """A revision of a line keeps most of it: the common prefix and suffix (whitespace at
    the ends ignored) are at least SIMILARITY of the longer line. Linear, unlike difflib."""
    a, b = a.strip(), b.strip()
    longest = max(len(a), len(b))
    if not longest:
        return False
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    suffix = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y or prefix + suffix >= min(len(a), len(b)):
            break
        suffix += 1
    return (prefix + suffix) / longest >= SIMILARITY


def _assign(
    old: list[_Line],
    new_texts: list[str],
    opcodes: Sequence[tuple[str, int, int, int, int]],
    verdict: ChangeVerdict,
    here: LineOrigin,
    tools: Mapping[str, str],
    pasted: bool,
) -> list[_Line]:
    moved: dict[str, list[LineOrigin]] = {}
    replaced = 0
    for tag, i1, i2, _, _ in opcodes:
        if tag != "equal":
            for line in old[i1:i2]:
                if not line.trivial:
                    moved.setdefault(line.text.strip(), []).append(line.origin)
                    replaced += 1
    meaningful_old = sum(1 for line in old if not line.trivial)
    labels = iter(zip(verdict.line_labels, verdict.line_owners, strict=True))
    result: list[_Line] = []
    added_origins: list[LineOrigin] = []
    ai_origins: dict[str, LineOrigin] = {}
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            result.extend(old[i1:i2])
            continue
        block_old = old[i1:i2]
        block_ai = [line for line in block_old if line.origin.author in AI_AUTHORS]
        for text in new_texts[j1:j2]:
            label, owner = next(labels)
            trivial = is_trivial(text)
            carried = moved.get(text.strip()) if not trivial else None
            if carried:
                origin = carried.pop(0)
            elif label != "human":
                origin = ai_origins.get(owner) or ai_origins.setdefault(
                    owner, LineOrigin("ai", tools.get(owner) or None, here.event_id, here.seq)
                )  # one object per owner: run_length compares them by identity first
            elif pasted:
                origin = LineOrigin("unknown", None, here.event_id, here.seq)
            else:
                origin = _human(text, trivial, block_ai, here)
            result.append(_Line(text, origin, trivial))
            added_origins.append(origin)
    if not added_origins:
        return result
    change_origin = max(set(added_origins), key=added_origins.count)
    # Lines revised in place (`ai_then_human`: a similar line replaced) are edits of the text
    # that stays, not a rewrite of it: only lines replaced by new text count towards one.
    revised = sum(1 for origin in added_origins if origin.author == "ai_then_human")
    rewrite = meaningful_old > 0 and (replaced - revised) / meaningful_old >= REWRITE_SHARE
    _take_over(result, opcodes, change_origin, rewrite)
    return result


def _human(text: str, trivial: bool, block_ai: list[_Line], here: LineOrigin) -> LineOrigin:
    """The candidate's line, or `ai_then_human` when it replaced a similar AI line of the same
    replaced block."""
    if not trivial:
        for line in block_ai[:MAX_PAIRS]:
            if _similar(line.text, text):
                return LineOrigin("ai_then_human", line.origin.tool, here.event_id, here.seq)
    return here


def _take_over(
    result: list[_Line],
    opcodes: Sequence[tuple[str, int, int, int, int]],
    origin: LineOrigin,
    rewrite: bool,
) -> None:
    """Unchanged lines the change takes over: all of them in a rewrite (retyped identically),
    else runs of blank/punctuation lines between lines it replaced."""
    for index, (tag, _, _, j1, j2) in enumerate(opcodes):
        if tag != "equal":
            continue
        run = result[j1:j2]
        if rewrite:
            retyped = [
                line
                for line in run
                if line.origin.author != "starter" and line.origin.author != origin.author
            ]
            for line in retyped:
                line.origin = origin
            continue
        before_changed = index > 0 and opcodes[index - 1][0] in ("insert", "replace")
        after_changed = index + 1 < len(opcodes) and opcodes[index + 1][0] in ("insert", "replace")
        if before_changed and after_changed and all(line.trivial for line in run):
            for line in run:
                line.origin = origin
