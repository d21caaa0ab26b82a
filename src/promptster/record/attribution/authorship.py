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
from pathlib import Path
from queue import Full, Queue
from typing import Any, cast

from promptster.bundle.authorship import (
    Authorship,
    FileAuthorship,
    LineOrigin,
    encode_parts,
    file_json,
    is_binary,
    run_length,
    split_text,
)
from promptster.formats.events import FILE_KINDS, Event
from promptster.gitblobs import BlobReader, changed_blobs, changes_since, tree_files
from promptster.gitutil import run_git
from promptster.integrations.claude.values import parse_time
from promptster.record.attribution.events import EventAttributor, time_order, write_evidence
from promptster.record.attribution.lines import FileLines, assign, starter_file
from promptster.record.attribution.resume import Knowledge, ReplayState, ToolNames

__all__ = [
    "Knowledge",
    "ReplayState",
    "authorship_member",
    "compute_authorship",
    "replay_events",
    "replay_prefix",
]

Json = Mapping[str, Any]
PREFETCH_CHUNK = 64  # blobs handed over at a time by the reading thread


def snapshot_order(git_dir: Path, head: str) -> list[str]:
    out = run_git(["rev-list", "--reverse", "--first-parent", head], git_dir=git_dir).text
    return out.split()


def replay_events(events: Iterable[Event]) -> list[dict[str, Any]]:
    """The journal's events as the replay reads them: `Event.to_dict` with the fields it reads
    only, and the event's own `source`, `actor` and `data` (not copied: it reads them only)."""
    return [
        {"id": e.id, "seq": e.seq, "ts": e.ts, "kind": e.kind, "source": e.source,
         "actor": e.actor, "data": e.data, "prev": e.prev}
        for e in events
    ]  # fmt: skip


def compute_authorship(
    events: Sequence[Json],
    git_dir: Path,
    head: str,
    workspace: str,
    resume: ReplayState | None = None,
) -> Authorship:
    """Authorship of every file of snapshot `head`, from the session's events (journal order);
    `workspace` is the absolute workspace path the AI tools' events name files under.
    `resume`: a replay of a prefix of `events`, used when it fits (same result, less work)."""
    files = _finish(events, git_dir, head, workspace, resume, keep=False)
    return Authorship(head, tuple(item for _, item in files if isinstance(item, FileAuthorship)))


def authorship_member(
    events: Sequence[Json],
    git_dir: Path,
    head: str,
    workspace: str,
    resume: ReplayState | None = None,
) -> bytes:
    """`encode(compute_authorship(...))`, byte for byte; from a checkpoint, the entries of the
    files the rest of the timeline leaves alone are taken as the checkpoint encoded them."""
    files = _finish(events, git_dir, head, workspace, resume, keep=True)
    return encode_parts(
        head, [(path, item if isinstance(item, bytes) else file_json(item)) for path, item in files]
    )


def _finish(
    events: Sequence[Json],
    git_dir: Path,
    head: str,
    workspace: str,
    resume: ReplayState | None,
    keep: bool,
) -> list[tuple[str, FileAuthorship | bytes]]:
    """Each file of `head` with its authorship, or (`keep`) its member entry as a checkpoint
    kept it."""
    # git runs in a worker thread while Python works (a subprocess does not hold the GIL):
    # the history's blob ids and the starter files while the timeline is indexed, then the
    # blobs of the file events while the replay consumes them.
    with BlobReader(git_dir) as blobs, ThreadPoolExecutor(1) as worker:
        final_tree = worker.submit(lambda: list(tree_files(git_dir, head)))
        state, latest = _advance(
            events, len(events), git_dir, head, workspace, resume, blobs, worker
        )
        final = final_tree.result()
        kept = state.finals if keep else {}
        missing = [(path, oid) for path, oid in final if kept.get(path, ("",))[0] != oid]
        # most files the replay changed end as its last event left them: read already
        read: dict[tuple[str, str], bytes | None] = {
            item: latest[item] for item in missing if item in latest
        }
        unread = [item for item in missing if item not in read]
        read.update(zip(unread, blobs.read_many(oid for _, oid in unread), strict=True))
        return [
            (path, kept[path][1])
            if (path, oid) not in read
            else (path, _final(path, read[path, oid] or b"", state.files.get(path)))
            for path, oid in final
        ]


def replay_prefix(
    events: Sequence[Json],
    count: int,
    git_dir: Path,
    head: str,
    workspace: str,
    resume: ReplayState | None = None,
) -> ReplayState:
    """The replay of `events[:count]` (count < len(events)), knowing all of `events`."""
    if not 0 <= count < len(events):
        raise ValueError(f"a prefix of 0..{len(events) - 1} events, not {count}")
    with BlobReader(git_dir) as blobs, ThreadPoolExecutor(1) as worker:
        state, _ = _advance(events, count, git_dir, head, workspace, resume, blobs, worker)
    state.make_finals()
    return state


def _advance(
    events: Sequence[Json],
    count: int,
    git_dir: Path,
    head: str,
    workspace: str,
    resume: ReplayState | None,
    blobs: BlobReader,
    worker: ThreadPoolExecutor,
) -> tuple[ReplayState, dict[tuple[str, str], bytes]]:
    """The replay of the events up to `count`, and the content of each file as the last of
    them that read it left it, by (path, blob id)."""
    history = worker.submit(_history, git_dir, head, blobs, resume)
    chained = (
        resume is not None
        and resume.workspace == workspace
        and resume.chained(events)
        and resume.count <= count
    )
    if resume is not None and chained:  # the prefix's knowledge is kept: only the rest's
        knowledge = resume.prefix.extended(events[resume.count :])
    else:
        knowledge = Knowledge.of(events)
    ran, windows = knowledge.ran, knowledge.windows
    starter_commit, starter, oids = history.result()
    # Attribution reads the events in time order (events.time_order), not journal order: the
    # replay kept consumed the first events of that order, which must still come first.
    order = time_order(events)
    extra = None
    if resume is not None and order[: len(resume.order)] == resume.order:
        extra = resume.fits(events, starter_commit, ran, windows, knowledge.tools)
    if resume is not None and chained and extra is not None:
        files, deleted, attributor = resume.files, resume.deleted, resume.attributor
        attributor.learn(ran, extra)
        blob_ids, begin, prefix = resume.blob_ids, resume.count, resume.prefix
        missed, consumed = resume.tools_missed, list(resume.order)
    else:
        attributor = EventAttributor(workspace, ran=ran, shell_windows=windows)
        files, deleted, blob_ids, begin, resume = {}, {}, {}, 0, None
        prefix, missed, consumed = Knowledge({}, {}, []), set(), []
        if starter is None:  # read for a resume that does not fit after all
            starter = _starter_files(git_dir, starter_commit, blobs)
        for path, oid, content in starter:
            files[path] = starter_file(content or b"")
            blob_ids[path] = oid
    # this time, up to the first event of the order beyond the first `count` events
    end = next((n for n in range(len(consumed), len(order)) if order[n] >= count), len(order))
    now = order[len(consumed) : end]
    tool_of = ToolNames(knowledge.tools, missed)
    replay = _Replay(events, files, deleted, tool_of, attributor, oids, blob_ids)
    replay.run(lambda names: _prefetch(worker, blobs.read_many(names)), now)
    consumed.extend(now)
    chain = events[count].get("prev") if count < len(events) else None
    finals = {}
    if resume is not None:
        finals = {p: item for p, item in resume.finals.items() if p not in replay.touched}
    state = ReplayState(
        count,
        chain if isinstance(chain, str) else "",
        starter_commit,
        files,
        deleted,
        attributor,
        frozenset(windows),
        prefix.extended(events[begin:count]),
        replay.last_commit or (resume.head if resume is not None else starter_commit),
        blob_ids,
        finals,
        missed,
        workspace,
        consumed,
        head,
    )
    return state, {(path, oid): content for path, (oid, content) in replay.latest.items()}


def _history(
    git_dir: Path, head: str, blobs: BlobReader, resume: ReplayState | None
) -> tuple[str, list[tuple[str, str, bytes | None]] | None, dict[tuple[str, str], str]]:
    """The first snapshot, its files (path, blob id, content; None when `resume` starts from
    it) and the blob ids of every path each snapshot changed (since `resume`'s head: the
    events it replayed need none; any other is read by `<commit>:<path>`)."""
    if resume is not None and resume.tip:
        # One `git log` instead of listing the whole history too: when `resume`'s head and tip
        # are on `head`'s first-parent line, its first commit is the one `resume` knew.
        after = changes_since(git_dir, head, resume.head)
        if after is not None and (resume.tip == resume.head or resume.tip in after[0]):
            return resume.starter, None, after[1]
    order = snapshot_order(git_dir, head)
    first = order[0] if order else ""
    starter = None
    if resume is None or resume.starter != first:
        starter = _starter_files(git_dir, first, blobs)
    since = resume.head if resume is not None and resume.head in order else None
    return first, starter, changed_blobs(git_dir, head, since)


def _starter_files(
    git_dir: Path, commit: str, blobs: BlobReader
) -> list[tuple[str, str, bytes | None]]:
    if not commit:
        return []
    listed = list(tree_files(git_dir, commit))
    read = blobs.read_many(oid for _, oid in listed)
    return [(path, oid, content) for (path, oid), content in zip(listed, read, strict=True)]


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


def _final(path: str, content: bytes, state: FileLines | None) -> FileAuthorship:
    """The file as the snapshot has it, with the replay's origins where the texts agree (a file
    whose events are missing or did not replay gets `unknown` for the lines that differ)."""
    if is_binary(content):
        return FileAuthorship(path, 0, True, ())
    texts = split_text(content)
    known, known_origins = state.columns() if state is not None and not state.binary else ([], [])
    if known == texts:
        return run_length(path, known_origins)
    origins = [LineOrigin("unknown")] * len(texts)
    matcher = difflib.SequenceMatcher(None, known, texts, autojunk=False)
    for tag, i1, _, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            origins[j1:j2] = known_origins[i1 : i1 + j2 - j1]
    return run_length(path, origins)


class _Replay:
    def __init__(
        self,
        events: Sequence[Json],
        files: dict[str, FileLines],
        deleted: dict[str, FileLines],
        tool_of: Callable[[str], str | None],
        attributor: EventAttributor,
        oids: Mapping[tuple[str, str], str],
        blob_ids: dict[str, str],
    ) -> None:
        self.oids = oids
        self.blob_ids = blob_ids
        # The paths whose lines this run may have changed (a copy's source too: they share
        # lines), so their authorship cannot be taken from a checkpoint.
        self.touched: set[str] = set()
        self.last_commit = ""  # the snapshot of the last file event replayed
        self.latest: dict[str, tuple[str, bytes]] = {}  # path -> its last blob read (id, content)
        self.events = events
        self.files = files
        self.tool_of = tool_of
        self.deleted = deleted
        self.attributor = attributor

    def run(
        self,
        read: Callable[[Iterable[str]], Generator[bytes | None, None, None]],
        order: Sequence[int],
    ) -> None:
        """Replay the events at the positions `order` gives, in that order; `read(names)` gives
        the blobs of the file events, in order."""
        events = [self.events[index] for index in order]
        file_events = [
            (event, _blob_name(event, self.oids))
            for event in events
            if event.get("kind") in FILE_KINDS
        ]
        contents = read(name for _, name in file_events if name is not None)
        pending = iter(file_events)
        try:
            for event in events:
                if event.get("kind") not in FILE_KINDS:
                    self.attributor.observe(event)
                    continue
                _, name = next(pending)
                content = next(contents) if name is not None else None
                self._change(event, content, name)
            for _ in contents:  # none left; ends the reader's thread
                pass
        finally:
            contents.close()  # on an error too: the reading thread stops

    def _change(self, event: Json, content: bytes | None, name: str | None) -> None:
        data = event.get("data")
        time = parse_time(event.get("ts"))
        if not isinstance(data, Mapping) or time is None:
            return
        path, commit = str(data.get("path", "")), str(data.get("commit", ""))
        origin_id, seq = str(event.get("id", "")), event.get("seq")
        seq = seq if isinstance(seq, int) else None
        self.touched.add(path)
        self.last_commit = commit or self.last_commit
        self.blob_ids.pop(path, None)
        self.latest.pop(path, None)
        if content is not None and name is not None and ":" not in name:
            self.blob_ids[path] = name  # set now: every branch below makes the file `content`
            self.latest[path] = name, content
        before = self.files.pop(path, None)
        if before is None and isinstance(data.get("renamedFrom"), str):
            source = data["renamedFrom"]
            self.touched.add(source)
            before = self.deleted.pop(source, None)
            if before is None and source in self.files:  # a copy: lines of its own
                before = self.files[source].copy()
        if event.get("kind") == "file_delete":
            if before is not None:
                self.deleted[path] = before
            self.attributor.verdict(
                path, commit, (), [x.text for x in before.lines] if before else (), time
            )
            return
        if content is None:  # the snapshot is missing: the file's lines are unknown from here
            self.files[path] = FileLines([])
            return
        if is_binary(content):
            self.files[path] = FileLines([], binary=True)
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
        self.files[path] = FileLines(
            assign(old, new_texts, opcodes, verdict, here, self.tool_of, pasted)
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
