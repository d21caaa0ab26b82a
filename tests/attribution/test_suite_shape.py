"""The suite's own pieces, without any AI tool: the ground truth's rules, the scoring, and the
shape of the scenario list."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from engines import authors_in_repo
from scenarios import SCENARIOS
from scoring import score
from steps import AIShell, HandReplace, Scenario
from suite import GROUPS
from truth import AI, HUMAN, REVISED, STARTER, Truth


def test_at_least_twenty_scenarios_each_in_one_group() -> None:
    names = [s.name for s in SCENARIOS]
    grouped = [name for group in GROUPS.values() for name in group]
    assert len(names) >= 20 and len(set(names)) == len(names)
    assert sorted(grouped) == sorted(names)


def test_an_edit_keeps_the_author_of_the_lines_it_repeats() -> None:
    truth = Truth()
    truth.starter("m.py", "def mul(a, b):\n    return a + b\n")
    truth.replace("m.py", 0, 2, ["def mul(a, b):", "    # product", "    return a * b"], AI)
    assert [(x.text[:7], x.author) for x in truth.files["m.py"].lines] == [
        ("def mul", STARTER),
        ("    # p", AI),
        ("    ret", AI),
    ]


def test_a_revision_by_hand_marks_only_ai_lines_revised() -> None:
    truth = Truth()
    truth.write("a.py", "x = 1\ny = 2\n", AI)
    truth.replace("a.py", 1, 2, ["y = 3", "z = 4"], REVISED)
    assert [x.author for x in truth.files["a.py"].lines] == [AI, REVISED, HUMAN]


def test_a_retyped_rewrite_takes_every_line_even_equal_ones() -> None:
    truth = Truth()
    truth.write("a.py", "x = 1\n\ny = 2\n", AI)
    truth.replace("a.py", 0, 3, ["w = 1", "", "v = 2"], HUMAN, retyped=True)
    assert {x.author for x in truth.files["a.py"].lines} == {HUMAN}


def test_crlf_and_no_final_newline_round_trip() -> None:
    truth = Truth()
    truth.starter("s.ini", "[a]\r\nk = 1\r\n", "\r\n")
    truth.write("v.py", "A = 1\nB = 2", AI)
    assert truth.files["s.ini"].content() == "[a]\r\nk = 1\r\n"
    truth.replace("v.py", 2, 2, ["C = 3"], HUMAN)
    assert truth.files["v.py"].content() == "A = 1\nB = 2\nC = 3"


def test_a_shell_step_writes_with_a_heredoc_and_records_its_moves() -> None:
    step = AIShell(writes=(("g.py", "x = 1\n"),), moves=(("g.py", "h.py"),))
    assert "cat > g.py <<'PST_EOF'\nx = 1\nPST_EOF" in step.command(None)
    truth = Truth()
    step.apply(truth)
    assert list(truth.files) == ["h.py"] and truth.files["h.py"].lines[0].author == AI


def test_scoring_counts_lines_and_ai_precision_and_recall() -> None:
    scenario = Scenario("s", "test", also={HUMAN: (REVISED,)})
    truth = Truth()
    truth.write("f.py", "a = 1\nb = 2\nc = 3\nd = 4\n", AI)
    HandReplace("f.py", 3, 4, ("d = 5",), retyped=True).apply(truth)
    result = score(scenario, truth, {"s/f.py": ["ai", "human", "ai", "ai_then_human"]})
    assert (result.lines, result.right) == (4, 3)
    assert (result.true_ai, result.called_ai, result.both_ai) == (3, 2, 2)
    assert result.precision == 1.0 and result.recall == 2 / 3
    missing = score(scenario, truth, {"s/f.py": ["ai"]})
    assert missing.right == 0 and "1 lines attributed, 4 in file" in missing.wrong[0]


def _commit(repo: Path, message: str) -> str:
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm",
         message],
        check=True,
    )  # fmt: skip
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _event(kind: str, commit: str, path: str, verdict: str) -> dict[str, Any]:
    return {"kind": kind, "data": {"commit": commit, "path": path}, "provenance": {
        "attribution": verdict}}  # fmt: skip


def test_the_per_event_labels_follow_lines_through_a_rename(tmp_path: Path) -> None:
    repo = tmp_path / "snap"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "a.py").write_text("x = 1\ny = 2\n")
    _commit(repo, "baseline")
    (repo / "a.py").write_text("x = 1\ny = 2\ndef ai_helper():\n    return 42\n")
    ai_commit = _commit(repo, "ai")
    (repo / "a.py").rename(repo / "b.py")
    _commit(repo, "renamed")
    (repo / "b.py").write_text("x = 1\ny = 2\ndef ai_helper():\n    return 42\nHAND = 'typed'\n")
    hand_commit = _commit(repo, "hand")
    (repo / "c.py").write_text("mixed = True\n")
    mixed_commit = _commit(repo, "mixed")
    events = [
        _event("file_diff", ai_commit, "a.py", "likely_ai"),
        _event("file_diff", hand_commit, "b.py", "likely_human"),
        _event("file_create", mixed_commit, "c.py", "mixed"),
    ]
    authors = authors_in_repo(repo, "HEAD", events, ["b.py", "c.py", "gone.py"])
    assert authors == {
        "b.py": ["starter", "starter", "ai", "ai", "human"],
        "c.py": ["unknown"],
        "gone.py": [],
    }
