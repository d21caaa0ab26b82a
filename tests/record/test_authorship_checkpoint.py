"""Line authorship resumed from a checkpoint of the replay (record/attribution/checkpoint.py):
the same authorship.json, byte for byte, as a replay from the start, on real git snapshots.

A checkpoint is taken knowing only the timeline so far; later events can change how the
prefix replays (a tool result that arrives later, a shell command of the candidate's that
ends later). Such a checkpoint must not fit, and submit then replays everything."""

from __future__ import annotations

import hashlib
import json
import pickle
import tempfile
from pathlib import Path
from typing import Any

import pytest
from authorship_kit import WS, Session, at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptster.bundle.authorship import (
    FORMAT,
    VERSION,
    Authorship,
    FileAuthorship,
    LineOrigin,
    Range,
    encode,
)
from promptster.formats.jsonio import canonical_json
from promptster.gitblobs import changes_since
from promptster.integrations.claude import tool_events as cte
from promptster.record.attribution import authorship as authorship_module
from promptster.record.attribution import checkpoint
from promptster.record.attribution.authorship import (
    ReplayState,
    authorship_member,
    compute_authorship,
    replay_prefix,
)
from promptster.record.attribution.events import human_command_windows, tool_results
from promptster.record.attribution.resume import tools_of

SECRET = b"session key bytes"


def chained(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events with `prev` set as the journal sets it (a hash of the line before)."""
    out, prev = [], "sha256:" + "0" * 64
    for event in events:
        body = {**event, "prev": prev}
        out.append(body)
        line = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        prev = "sha256:" + hashlib.sha256(line).hexdigest()
    return out


def cold(session: Session, events: list[dict[str, Any]]) -> bytes:
    return encode(compute_authorship(events, session.git_dir, session.head, WS))


def resumed(
    session: Session, events: list[dict[str, Any]], count: int, known: int, path: Path
) -> tuple[bytes, bool]:
    """authorship.json computed from a checkpoint of `events[:count]` taken when only
    `events[:known]` existed (saved and loaded as the recorder and submit do), and whether
    the checkpoint fitted."""
    state = replay_prefix(events[:known], count, session.git_dir, session.head, WS)
    checkpoint.save(path, state, SECRET)
    loaded = checkpoint.load(path, SECRET)
    assert loaded is not None
    fits = fitted(session, events, loaded)
    # as submit does it: the kept files' entries as the checkpoint encoded them
    member = authorship_member(events, session.git_dir, session.head, WS, loaded)
    again = checkpoint.load(path, SECRET)  # a resume uses the state up
    result = compute_authorship(events, session.git_dir, session.head, WS, again)
    assert encode(result) == member
    return member, fits


def fitted(session: Session, events: list[dict[str, Any]], state: ReplayState) -> bool:
    first = session.git("rev-list", "--reverse", "--first-parent", "HEAD").split()[0]
    windows = human_command_windows(events)
    return state.fits(events, first, tool_results(events), windows, tools_of(events)) is not None


PY = "import os\n\n\ndef total(xs):\n    return sum(xs)\n\n\ndef mean(xs):\n    return 1\n"

OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["ai_write", "ai_edit", "hand", "delete", "rename", "unanswered", "late_result",
             "terminal", "ai_bash", "paste", "copy"]
        ),
        st.integers(0, 2),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=9,
)  # fmt: skip


def play(session: Session, ops: list[tuple[str, int, int]]) -> None:
    """A session from generated steps, 30 s apart."""
    second = 5.0
    pending: list[tuple[str, dict[str, Any]]] = []
    for n, (op, index, variant) in enumerate(ops):
        second += 30
        path = f"f{index}.py" if op != "hand" or variant else f"copy{index}.py"
        current = (session.dir / path).read_text() if (session.dir / path).exists() else None
        if op == "ai_write" and current != PY.replace("1", str(variant)):
            session.ai_write(second, f"w{n}", path, PY.replace("1", str(variant)))
        elif op == "ai_edit" and current and "return" in current:
            session.ai_edit(second, f"e{n}", path, "return", f"return {variant} +")
        elif op == "hand":
            text = (current or "") + f"typed_{variant} = {n}\n"
            session.save(second, {path: text.replace("total", f"sum{variant}").encode()})
        elif op == "delete" and current is not None:
            session.save(second, {path: None})
        elif op == "rename" and current is not None:
            target = f"moved{variant}.py"
            if not (session.dir / target).exists():
                session.save(second, {path: None, target: current.encode()}, {target: path})
        elif op == "copy" and current is not None:  # a copy recorded as a rename
            target = f"copy{variant}.py"
            if (session.dir / target).exists() and (session.dir / target).read_text() == current:
                continue
            session.save(second, {target: current.encode()}, {target: path})
        elif op == "unanswered":  # proposed; its result may come later (late_result)
            tool_input = {"file_path": f"{WS}/{path}", "content": f"late_{n} = {variant}\n"}
            session.add(cte.tool_use_events(at(second), "Write", f"u{n}", tool_input))
            session.save(second + 1, {path: tool_input["content"].encode()})
            pending.append((f"u{n}", tool_input))
        elif op == "late_result" and pending:
            tool_id, tool_input = pending.pop(0)
            session.add(cte.tool_result_events(at(second), "Write", tool_id, tool_input, {}))
        elif op == "terminal":  # a command that started long before it ended (an editor)
            session.terminal_command(second, 1000 * 30 * (variant + 1), "vim")
        elif op == "ai_bash":
            bash = {"command": f"python gen{n}.py"}
            session.add(cte.tool_use_events(at(second), "Bash", f"b{n}", bash))
            session.save(second + 2, {path: f"generated_{n} = {variant}\n".encode()})
            result = {"stdout": "", "stderr": ""}
            session.add(cte.tool_result_events(at(second + 4), "Bash", f"b{n}", bash, result))
        elif op == "paste":
            block = "".join(f"def pasted_{n}_{i}(v):\n    return v * {i}\n" for i in range(12))
            session.save(second, {path: block.encode()})


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=OPS, data=st.data())
def test_a_resumed_replay_gives_the_same_bytes(
    ops: list[tuple[str, int, int]], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        session = Session(Path(tmp), {"f0.py": PY.encode(), "README.md": b"# hi\n"})
        play(session, ops)
        session.save(9999, {"END.md": b"end\n"})
        events = chained(session.events)
        expected = cold(session, events)
        known = data.draw(st.integers(1, len(events)), label="events known")
        count = data.draw(st.integers(0, known - 1), label="events replayed")
        got, _ = resumed(session, events, count, known, Path(tmp) / "ck")
        assert got == expected


def test_a_settled_checkpoint_fits_and_is_used(tmp_path: Path) -> None:
    session = Session(tmp_path, {"f0.py": PY.encode()})
    play(session, [("ai_write", 1, 0), ("hand", 1, 1), ("ai_edit", 1, 0), ("hand", 0, 2)])
    session.save(999, {"END.md": b"end\n"})
    events = chained(session.events)
    for count in range(len(events)):
        got, fits = resumed(session, events, count, len(events), tmp_path / "ck")
        assert fits and got == cold(session, events), count


def test_a_tool_result_learnt_later_does_not_fit(tmp_path: Path) -> None:
    """The AI's Write is seen in the snapshots before its result reaches the journal: replayed
    then, it was a proposal that never ran (the candidate's lines); it did run."""
    session = Session(tmp_path)
    tool_input = {"file_path": f"{WS}/a.py", "content": PY}
    session.add(cte.tool_use_events(at(10), "Write", "t1", tool_input))
    session.save(10.2, {"a.py": PY.encode()})
    session.save(10.3, {"b.py": b"mine = 1\n"})
    result_at = len(session.events)
    session.add(cte.tool_result_events(at(10.4), "Write", "t1", tool_input, {}))
    session.save(99, {"END.md": b"end\n"})
    events = chained(session.events)
    assert b'"author":"ai"' in cold(session, events)
    got, fits = resumed(session, events, result_at - 1, result_at, tmp_path / "ck")
    assert not fits and got == cold(session, events)
    # known when the checkpoint was taken: it fits
    got, fits = resumed(session, events, result_at - 1, result_at + 1, tmp_path / "ck")
    assert fits and got == cold(session, events)


def test_a_shell_window_learnt_later_does_not_fit_where_it_was_consulted(tmp_path: Path) -> None:
    """A hand save during an AI command is the AI's, unless the candidate's own command (an
    editor in the recorded shell) was running then, which the journal says when it ends."""
    session = Session(tmp_path)
    bash = {"command": "sleep 30 && python gen.py"}
    session.add(cte.tool_use_events(at(10), "Bash", "b1", bash))
    session.save(30, {"mine.py": b"typed_by_me = 1\n"})  # saved in vim in the recorded shell
    session.save(39, {"gen_out.py": b"GENERATED = 1\n"})
    session.add(cte.tool_result_events(at(40), "Bash", "b1", bash, {"stdout": "", "stderr": ""}))
    vim_ends = len(session.events)
    session.terminal_command(45, 40_000, "vim mine.py")  # from 5 s to 45 s
    events = chained(session.events)
    assert b'"author":"human"' in cold(session, events)
    got, fits = resumed(session, events, vim_ends - 1, vim_ends, tmp_path / "ck")
    assert not fits and got == cold(session, events)
    # a window that covers no moment the replay looked at: it fits
    session.terminal_command(200, 1_000, "ls")
    session.save(300, {"END.md": b"end\n"})
    events = chained(session.events)
    ls_ends = len(events) - 2
    got, fits = resumed(session, events, ls_ends - 1, ls_ends, tmp_path / "ck")
    assert fits and got == cold(session, events)


def test_a_tool_named_only_by_a_later_event_does_not_fit(tmp_path: Path) -> None:
    """The AI line's tool comes from the first event of its call that names an integration;
    when that event comes after the checkpoint, the checkpoint's replay did not know it."""
    session = Session(tmp_path)
    tool_input = {"file_path": f"{WS}/a.py", "content": PY}
    unnamed = [*cte.tool_use_events(at(10), "Write", "t1", tool_input),
               *cte.tool_result_events(at(10.4), "Write", "t1", tool_input, {})]  # fmt: skip
    for event in unnamed:
        event["source"] = {k: v for k, v in event["source"].items() if k != "integration"}
    session.add(unnamed)
    session.save(10.2, {"a.py": PY.encode()})
    session.save(20, {"b.py": b"mine = 1\n"})
    known = len(session.events)
    session.add(cte.tool_result_events(at(70), "Write", "t1", tool_input, {}))  # names it
    session.save(90, {"END.md": b"end\n"})
    events = chained(session.events)
    assert b'"tool":"claude"' in cold(session, events)
    got, fits = resumed(session, events, known - 1, known, tmp_path / "ck")
    assert not fits and got == cold(session, events)


def test_a_checkpoint_that_cannot_be_trusted_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = Session(tmp_path)
    play(session, [("ai_write", 0, 0), ("hand", 0, 0)])
    events = chained(session.events)
    state = replay_prefix(events, 2, session.git_dir, session.head, WS)
    target = tmp_path / "ck"
    assert checkpoint.load(target, SECRET) is None  # none yet
    checkpoint.save(target, state, SECRET)
    assert checkpoint.load(target, SECRET) is not None
    assert checkpoint.load(target, b"another key") is None
    data = target.read_bytes()
    target.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert checkpoint.load(target, SECRET) is None  # changed: the HMAC does not match
    target.write_bytes(data[:40])
    assert checkpoint.load(target, SECRET) is None  # cut short
    checkpoint.save(target, state, SECRET)
    monkeypatch.setattr(checkpoint, "code_digest", lambda: b"\1" * 32)
    assert checkpoint.load(target, SECRET) is None  # written by other attribution code
    # a checkpoint of another timeline (the hash chain differs) does not fit
    other = chained([{**events[0], "id": "changed"}, *events[1:]])
    first = session.git("rev-list", "--reverse", "HEAD").split()[0]
    assert state.fits(other, first, tool_results(other), [], {}) is None
    assert state.fits(events, "another starter", tool_results(events), [], {}) is None


def test_settled_count_stops_before_a_call_waiting_for_its_result(tmp_path: Path) -> None:
    session = Session(tmp_path)
    play(session, [("ai_write", 0, 0), ("hand", 0, 0), ("unanswered", 1, 0), ("hand", 2, 0)])
    events = chained(session.events)
    uses = [i for i, e in enumerate(events) if e["kind"] == "tool_use"]
    waiting = next(i for i in uses if events[i]["data"]["toolUseId"] == "u2")
    assert checkpoint.settled_count(events) == waiting
    assert checkpoint.settled_count(events[:waiting]) == waiting - 1
    assert checkpoint.settled_count(events[:1]) == 0


def test_the_pickled_state_holds_columns_not_line_objects(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.ai_write(10, "t1", "big.py", "".join(f"x{i} = {i}\n" for i in range(300)))
    session.save(60, {"END.md": b"end\n"})
    events = chained(session.events)
    state = replay_prefix(events, len(events) - 1, session.git_dir, session.head, WS)
    again = pickle.loads(pickle.dumps(state))
    assert again.files["big.py"].columns()[0] == [f"x{i} = {i}" for i in range(300)]
    assert b"_Line" not in pickle.dumps(state)


def test_a_copy_sharing_lines_with_its_source_resumes_alike(tmp_path: Path) -> None:
    """A copy recorded as renamed from a file that still exists shares the replay's line
    objects with it, so a later rewrite of the copy changes the source's lines too: the
    checkpoint keeps that sharing, so resuming gives what the replay from the start gives."""
    session = Session(tmp_path)
    session.ai_write(10, "t1", "a.py", PY)
    session.save(60, {"b.py": PY.encode()}, {"b.py": "a.py"})  # a.py stays
    copied = len(session.events)
    rewritten = "".join(f"mine_{n} = {n}\n" for n in range(6)) + PY.split("def mean")[1]
    session.save(120, {"b.py": rewritten.encode()})
    session.save(180, {"END.md": b"end\n"})
    events = chained(session.events)
    for count in (copied, copied + 1):
        got, fits = resumed(session, events, count, len(events), tmp_path / "ck")
        assert fits and got == cold(session, events), count


ORIGINS = st.builds(
    LineOrigin,
    st.sampled_from(["ai", "human", "ai_then_human", "starter", "unknown"]),
    st.none() | st.sampled_from(["claude", "codex", "ü"]),
    st.none() | st.text(max_size=5),
    st.none() | st.integers(0, 10**6),
)


@st.composite
def authorships(draw: st.DrawFn) -> Authorship:
    files = []
    for path in draw(st.lists(st.text(min_size=1, max_size=6), max_size=5)):
        sizes = draw(st.lists(st.integers(1, 4), max_size=4))
        ranges, start = [], 1
        for size in sizes:
            ranges.append(Range(start, start + size - 1, draw(ORIGINS)))
            start += size
        files.append(FileAuthorship(path, start - 1, draw(st.booleans()), tuple(ranges)))
    return Authorship(draw(st.text(max_size=8)), tuple(files))


def reference_encode(authorship: Authorship) -> bytes:
    """The member as encode wrote it in one piece, before it was assembled from parts."""
    files = []
    for item in sorted(authorship.files, key=lambda f: f.path):
        ranges = []
        for piece in item.ranges:
            entry: dict[str, Any] = {"start": piece.start, "end": piece.end,
                                     "author": piece.origin.author}  # fmt: skip
            if piece.origin.tool is not None:
                entry["tool"] = piece.origin.tool
            if piece.origin.event_id is not None:
                entry["eventId"] = piece.origin.event_id
                entry["seq"] = piece.origin.seq
            ranges.append(entry)
        files.append({"path": item.path, "lines": item.lines, "binary": item.binary,
                      "ranges": ranges})  # fmt: skip
    body = {"format": FORMAT, "version": VERSION, "snapshot": authorship.snapshot, "files": files}
    return canonical_json(body) + b"\n"


@settings(max_examples=200, deadline=None)
@given(authorship=authorships())
def test_the_member_assembled_from_parts_is_the_canonical_document(
    authorship: Authorship,
) -> None:
    assert encode(authorship) == reference_encode(authorship)


def test_a_checkpoint_of_an_earlier_head_resumes_without_listing_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder's checkpoint was taken when the snapshot branch stood further back: its
    head is on the final head's line, so one `git log` of the commits since is enough."""
    session = Session(tmp_path, {"f0.py": PY.encode()})
    play(session, [("ai_write", 1, 0), ("hand", 1, 1), ("ai_edit", 1, 0)])
    earlier, known = session.head, len(session.events)
    play(session, [("hand", 0, 2), ("ai_write", 2, 1), ("rename", 1, 0)])
    session.save(999, {"END.md": b"end\n"})
    events = chained(session.events)
    state = replay_prefix(events[:known], known - 1, session.git_dir, earlier, WS)
    assert state.tip == earlier
    expected = cold(session, events)

    def unused(*_: object) -> list[str]:
        raise AssertionError("the whole history was listed")

    monkeypatch.setattr(authorship_module, "snapshot_order", unused)
    assert authorship_member(events, session.git_dir, session.head, WS, state) == expected


def test_a_checkpoint_whose_head_is_not_on_the_line_lists_the_history(tmp_path: Path) -> None:
    session = Session(tmp_path, {"f0.py": PY.encode()})
    play(session, [("ai_write", 1, 0), ("hand", 1, 1), ("ai_edit", 1, 0), ("hand", 0, 2)])
    session.save(999, {"END.md": b"end\n"})
    events = chained(session.events)
    expected = cold(session, events)
    tree = session.git("rev-parse", "HEAD^{tree}").strip()
    elsewhere = session.git("commit-tree", tree, "-m", "another line").strip()
    assert changes_since(session.git_dir, session.head, elsewhere) is None
    assert changes_since(session.git_dir, elsewhere, session.head) is None
    state = replay_prefix(events, len(events) - 2, session.git_dir, session.head, WS)
    state.tip = elsewhere
    assert authorship_member(events, session.git_dir, session.head, WS, state) == expected
    line = changes_since(session.git_dir, session.head, state.head)
    assert line is not None and session.head in line[0] and state.head not in line[0]
