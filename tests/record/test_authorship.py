"""Line authorship at submit: real git snapshots, events as the hooks and the recorder write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from authorship_kit import WS, Session, at

from promptster.bundle.authorship import Authorship, decode, encode
from promptster.integrations.claude import tool_events as cte
from promptster.record.attribution.authorship import compute_authorship

PY = (
    "import logging\n\n\ndef total(xs):\n    return sum(xs)\n\n\n"
    "def mean(xs):\n    return total(xs) / len(xs)\n"
)


def authors(session: Session, path: str) -> list[str]:
    result = compute_authorship(session.events, session.git_dir, session.head, WS)
    item = result.file(path)
    assert item is not None, [f.path for f in result.files]
    return [origin.author for _, origin in item.origins()]


def test_ai_human_revised_starter_and_moves(tmp_path: Path) -> None:
    session = Session(tmp_path, {"README.md": b"# Stats\n"})
    session.ai_write(10, "t1", "stats.py", PY)
    session.save(40, {"stats.py": PY.replace("sum(xs)", "sum(xs) or 0").encode() + b"# mine\n"})
    result = compute_authorship(session.events, session.git_dir, session.head, WS)
    assert [o.author for _, o in result.file("README.md").origins()] == ["starter"]  # type: ignore[union-attr]
    lines = authors(session, "stats.py")
    assert lines[4] == "ai_then_human" and lines[-1] == "human"
    assert lines[:4] == ["ai"] * 4
    origin = dict(result.file("stats.py").origins())[1]  # type: ignore[union-attr]
    assert origin.tool == "claude" and origin.event_id and origin.seq is not None
    # re-indenting and moving the AI's function keeps its author
    moved = "class Stats:\n    def mean(xs):\n        return total(xs) / len(xs)\n"
    kept = PY.replace("sum(xs)", "sum(xs) or 0").split("def mean")[0] + "# mine\n"
    session.save(60, {"stats.py": (moved + kept).encode()})
    lines = authors(session, "stats.py")
    assert lines[0] == "human" and lines[2] == "ai"


def test_round_trip_and_run_length(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.ai_write(10, "t1", "big.py", "".join(f"x{i} = {i}\n" for i in range(500)))
    result = compute_authorship(session.events, session.git_dir, session.head, WS)
    assert len(result.files[0].ranges) == 1
    assert decode(encode(result)) == result
    assert isinstance(result, Authorship)


def test_an_edit_that_never_ran_is_no_candidate(tmp_path: Path) -> None:
    session = Session(tmp_path)
    proposal = {"file_path": f"{WS}/app.py", "content": "import logging\nimport os\n"}
    session.add(cte.tool_use_events(at(5), "Write", "rejected", proposal))  # no tool_result
    session.save(20, {"app.py": b"import logging\nimport os\n"})
    assert authors(session, "app.py") == ["human", "human"]


def test_an_edit_the_candidate_denied_is_no_candidate(tmp_path: Path) -> None:
    """A transcript import carries the refused call and its failed result (`ok: false`, with
    the proposed edit): its lines must not explain the candidate typing the same lines."""
    session = Session(tmp_path)
    proposal = {"file_path": f"{WS}/app.py", "content": "import logging\nimport os\n"}
    session.add(cte.tool_use_events(at(5), "Write", "denied", proposal))
    refused = "Permission to use Write has been denied."
    session.add(cte.tool_result_events(at(6), "Write", "denied", proposal, {}, error=refused))
    session.save(12, {"app.py": b"import logging\nimport os\n"})
    assert authors(session, "app.py") == ["human", "human"]


def test_lines_revised_in_place_are_not_a_rewrite(tmp_path: Path) -> None:
    """Three of six AI lines tweaked: the three left alone stay the AI's."""
    session = Session(tmp_path)
    ai = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\n"
    session.ai_write(10, "t1", "v.py", ai)
    mine = "a = 1\nb = 2\nc = 3\nd = 40\ne = 50\nf = 60\n"
    session.save(200, {"v.py": mine.encode()})
    assert authors(session, "v.py") == ["ai"] * 3 + ["ai_then_human"] * 3


def test_ai_candidates_expire(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.ai_write(10, "t1", "a.py", "import logging\n")
    edit = {
        "file_path": f"{WS}/a.py",
        "old_string": "import logging\n",
        "new_string": "import os\n",
    }
    # the edit ran, but the candidate's save 10 minutes later is not its effect
    session.add(cte.tool_use_events(at(20), "Edit", "t2", edit))
    session.add(cte.tool_result_events(at(21), "Edit", "t2", edit, {}))
    session.save(620, {"a.py": b"import logging\nimport os\n"})
    assert authors(session, "a.py") == ["ai", "human"]


def test_blank_lines_follow_a_hand_rewrite(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.ai_write(10, "t1", "m.py", "def a():\n    return 1\n\n\ndef b():\n    return 2\n}\n")
    mine = b"class Registry:\n    items = []\n\n\nREGISTRY = Registry()\nprint(REGISTRY.items)\n}\n"
    session.save(200, {"m.py": mine})
    assert set(authors(session, "m.py")) == {"human"}
    # a change of blank lines only is the candidate's when no AI edit placed it
    session.save(300, {"m.py": mine.replace(b"\n\n", b"\n\n\n")})
    assert set(authors(session, "m.py")) == {"human"}


def test_a_big_ai_file_is_attributed_per_line(tmp_path: Path) -> None:
    session = Session(tmp_path)
    content = "".join(
        f"value_{i} = compute({i}, 'padding text to make it long')\n" for i in range(2500)
    )
    assert len(content) > 64 * 1024
    session.ai_write(10, "t1", "big.py", content)
    lines = authors(session, "big.py")
    assert len(lines) == 2500 and set(lines) == {"ai"}


def test_a_hand_save_during_a_long_ai_command(tmp_path: Path) -> None:
    session = Session(tmp_path)
    bash = {"command": "sleep 60 && python gen.py"}
    session.add(cte.tool_use_events(at(10), "Bash", "b1", bash))
    session.save(30, {"mine.py": b"typed_by_me = 1\n"})  # saved in vim in the recorded shell
    session.terminal_command(32, 25_000, "vim mine.py")
    session.save(69, {"gen_out.py": b"GENERATED = 1\n"})
    session.add(cte.tool_result_events(at(70), "Bash", "b1", bash, {"stdout": "", "stderr": ""}))
    assert authors(session, "mine.py") == ["human"]
    assert authors(session, "gen_out.py") == ["ai"]


def _measured(needed: int, written: int, dirtied: int) -> dict[str, Any]:
    return {
        "commandWrites": {
            "bytesNeeded": needed,
            "commands": {"b1": {"written": written, "dirtied": dirtied}},
        }
    }


def test_a_save_from_outside_the_recorded_shell_during_an_ai_command(tmp_path: Path) -> None:
    session = Session(tmp_path)
    bash = {"command": "sleep 4 && python gen.py"}
    session.add(cte.tool_use_events(at(10), "Bash", "b1", bash))
    # saved from an editor the recorder does not see, while the command slept: the command's
    # processes had written 664 bytes (to /dev/null) and dirtied no page
    session.save(11, {"todo.md": b"- check the report\n"}, extra={"todo.md": _measured(19, 664, 0)})
    session.save(
        14.5, {"gen_out.py": b"GENERATED = 1\n"}, extra={"gen_out.py": _measured(14, 900, 4096)}
    )
    session.add(cte.tool_result_events(at(15), "Bash", "b1", bash, {"stdout": "", "stderr": ""}))
    assert authors(session, "todo.md") == ["human"]
    assert authors(session, "gen_out.py") == ["ai"]


def test_a_claim_journaled_after_its_snapshot_still_explains_it(tmp_path: Path) -> None:
    session = Session(tmp_path)
    tool_input = {"file_path": f"{WS}/stats.py", "content": PY}
    session.save(10.2, {"stats.py": PY.encode()})
    # the hook's delivery went through the spool: journaled after the snapshot, stamped before
    session.add(cte.tool_use_events(at(10), "Write", "t1", tool_input))
    session.add(cte.tool_result_events(at(10.4), "Write", "t1", tool_input, {}))
    assert set(authors(session, "stats.py")) == {"ai"}


def test_a_large_block_nothing_explains_is_a_likely_paste(tmp_path: Path) -> None:
    session = Session(tmp_path)
    block = "".join(f"def helper_{i}(value):\n    return value * {i}\n" for i in range(15))
    session.save(400, {"pasted.py": block.encode()})
    session.save(500, {"typed.py": b"small = 1\n"})
    assert set(authors(session, "pasted.py")) == {"unknown"}
    assert authors(session, "typed.py") == ["human"]
    # the same block while the AI was at work, or after typing in the shell, is not a paste
    (tmp_path / "other").mkdir()
    other = Session(tmp_path / "other")
    other.terminal_command(395, 60_000, "vim pasted.py")
    other.save(400, {"pasted.py": block.encode()})
    assert set(authors(other, "pasted.py")) == {"human"}


def test_bad_input_has_defined_outcomes(tmp_path: Path) -> None:
    session = Session(tmp_path, {"logo.png": b"\x89PNG\0\0binary"})
    session.ai_write(10, "t1", "crlf.py", "a = 1\r\nb = 2\r\n")
    session.save(20, {"nonl.txt": b"first line\nno newline at end"})
    session.save(30, {"latin.txt": "caf\xe9 = 'bad utf-8'\n".encode("latin-1")})
    session.ai_write(40, "t2", "old_name.py", "moved_value = 42\n")
    session.save(50, {"old_name.py": None, "new_name.py": b"moved_value = 42\n"},
                 renamed={"new_name.py": "old_name.py"})  # fmt: skip
    session.ai_write(60, "t3", "again.py", "first_version = 1\n")
    session.save(70, {"again.py": None})
    session.save(200, {"again.py": b"second_version = 2\n"})
    result = compute_authorship(session.events, session.git_dir, session.head, WS)
    by_path = {item.path: item for item in result.files}
    assert by_path["logo.png"].binary and by_path["logo.png"].lines == 0
    assert [o.author for _, o in by_path["crlf.py"].origins()] == ["ai", "ai"]
    assert by_path["nonl.txt"].lines == 2
    assert by_path["latin.txt"].lines == 1
    assert [o.author for _, o in by_path["new_name.py"].origins()] == ["ai"]
    assert [o.author for _, o in by_path["again.py"].origins()] == ["human"]
    assert "old_name.py" not in by_path


def test_a_snapshot_missing_for_an_event(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.ai_write(10, "t1", "a.py", "x = 1\n")
    (event,) = [e for e in session.events if e["kind"] == "file_create"]
    event["data"]["commit"] = "0" * 40  # the file event names no snapshot
    assert authors(session, "a.py") == ["unknown"]


def test_a_copy_has_lines_of_its_own(tmp_path: Path) -> None:
    """A file created `renamedFrom` a file that still exists (a copy): rewriting the copy by
    hand, retyping some lines identically, leaves the source's authors alone."""
    session = Session(tmp_path)
    source = "def a():\n    return 1\n\n\ndef b():\n    return 2\n"
    session.ai_write(10, "t1", "a.py", source)
    session.save(200, {"b.py": source.encode()}, renamed={"b.py": "a.py"})
    assert set(authors(session, "b.py")) == {"ai"}
    mine = b"class Registry:\n    items = []\n\n\n    return 1\n\n\nREGISTRY = Registry()\n"
    session.save(300, {"b.py": mine})
    assert set(authors(session, "b.py")) == {"human"}
    assert set(authors(session, "a.py")) == {"ai"}
