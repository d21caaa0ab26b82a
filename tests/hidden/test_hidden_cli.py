"""Hidden tests through the real commands: attached to an assessment, kept out of the pack,
run by `score` (stored, reused, rerun on request), and every bad input or missing piece
answered with a message and an exit code, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from hidden_kit import CORRECT, Reviewer, make_bundle, require_bwrap, write_folder


def _runs(reviewer: Reviewer) -> list[tuple[str, str]]:
    database = reviewer.home / "promptster-home" / "workspace.duckdb"
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute("SELECT outcome, CAST(ran_at AS VARCHAR) FROM hidden_test_runs")
        return [(str(a), str(b)) for a, b in rows.fetchall()]
    finally:
        con.close()


def test_the_pack_never_holds_the_hidden_tests(
    reviewer: Reviewer, assessment_id: str, tmp_path: Path
) -> None:
    pack = tmp_path / "pack.json"
    assert reviewer.run("assessment", "export", assessment_id, "-o", str(pack)).returncode == 0
    text = pack.read_text()
    assert "is_even(4)" not in text and "test_calc" not in text
    shown = reviewer.json("assessment", "show", assessment_id, "--json")["assessment"]
    assert shown["hiddenTests"]["fileCount"] == 1
    assert shown["hiddenTests"]["timeoutSeconds"] == 60


def test_score_runs_them_once_and_reruns_on_request(
    reviewer: Reviewer, assessment_id: str, tmp_path: Path
) -> None:
    require_bwrap()
    bundles = tmp_path / "bundles"
    make_bundle(
        bundles / "ada.pst", "Ada", [CORRECT], assessment_id=assessment_id, reviewer=reviewer
    )
    make_bundle(
        bundles / "ben.pst",
        "Ben",
        [{"calc.py": "def is_even(n):\n    return True\n"}],
        assessment_id=assessment_id,
        reviewer=reviewer,
    )
    done = reviewer.run("score", str(bundles), "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = {Path(r["path"]).stem: r for r in json.loads(done.stdout)}
    ada, ben = rows["ada"], rows["ben"]
    assert (ada["hiddenTestsPassed"], ada["hiddenTestsTotal"], ada["hiddenTestPassRate"]) == (
        3, 3, 1.0,
    )  # fmt: skip
    assert (ben["hiddenTestsPassed"], ben["hiddenTestsTotal"]) == (2, 3)
    assert ben["hiddenTestPassRate"] == pytest.approx(2 / 3, abs=1e-6)
    first = _runs(reviewer)
    assert sorted(o for o, _ in first) == ["failed", "passed"]
    # A second score reuses the stored results …
    assert reviewer.run("score", str(bundles), "--format", "csv").returncode == 0
    assert _runs(reviewer) == first
    # … unless asked to run them again.
    again = reviewer.run("score", str(bundles), "--format", "csv", "--rerun-tests")
    assert again.returncode == 0 and "hiddenTestPassRate" in again.stdout.splitlines()[0]
    assert sorted(t for _, t in _runs(reviewer)) != sorted(t for _, t in first)


def test_without_bubblewrap_they_are_refused_unless_unsafe(
    reviewer: Reviewer, assessment_id: str, tmp_path: Path
) -> None:
    bundle = make_bundle(
        tmp_path / "ada.pst", "Ada", [CORRECT], assessment_id=assessment_id, reviewer=reviewer
    )
    tools = tmp_path / "bin"  # git and pytest, but no bwrap
    tools.mkdir()
    for name in ("git", "pytest"):
        found = shutil.which(name)
        assert found is not None
        os.symlink(found, tools / name)
    refused = reviewer.run("score", str(bundle), "--format", "json", path=str(tools))
    assert refused.returncode == 3
    assert "bubblewrap (bwrap)" in refused.stderr and "--unsafe-no-sandbox" in refused.stderr
    assert "Traceback" not in refused.stderr
    unsafe = reviewer.run(
        "score", str(bundle), "--format", "json", "--unsafe-no-sandbox", path=str(tools)
    )
    assert unsafe.returncode == 0, unsafe.stderr
    assert json.loads(unsafe.stdout)[0]["hiddenTestPassRate"] == 1.0


def test_a_runner_that_is_not_installed_is_named(
    reviewer: Reviewer, assessment_id: str, tmp_path: Path
) -> None:
    require_bwrap()
    changed = reviewer.run(
        "assessment", "update", assessment_id, "--hidden-test-command", "no-such-runner --all"
    )
    assert changed.returncode == 0, changed.stderr
    bundle = make_bundle(
        tmp_path / "ada.pst", "Ada", [CORRECT], assessment_id=assessment_id, reviewer=reviewer
    )
    done = reviewer.run("score", str(bundle))
    assert done.returncode == 3
    assert "'no-such-runner' is not installed" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--hidden-tests", "/no/such/folder"), "not a folder"),
        (("--hidden-test-timeout", "0"), "--hidden-test-timeout must be 1 to 3600 seconds"),
        (("--hidden-test-command", "pytest 'unclosed"), "cannot be parsed"),
        ((), "nothing to update"),
    ],
)
def test_bad_input_is_refused_with_a_message(
    reviewer: Reviewer, assessment_id: str, args: tuple[str, ...], message: str
) -> None:
    done = reviewer.run("assessment", "update", assessment_id, *args)
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_overlap_import_errors_and_a_missing_snapshot_are_reported(
    reviewer: Reviewer, assessment_id: str, tmp_path: Path
) -> None:
    require_bwrap()
    # The candidate wrote a file where a hidden test goes, and their code does not import.
    cheat = {
        "calc.py": "def is_even(n)\n    return True\n",
        "hidden_tests/test_calc.py": "def test_nothing():\n    pass\n",
    }
    bundle = make_bundle(
        tmp_path / "eve.pst", "Eve", [cheat], assessment_id=assessment_id, reviewer=reviewer
    )
    report = tmp_path / "eve.html"
    done = reviewer.run("review", str(bundle), "-o", str(report))
    assert done.returncode == 0, done.stderr
    html = report.read_text()
    assert "Does the code work?" in html
    assert "hidden_tests/test_calc.py" in html  # the overlap, named
    assert "SyntaxError" in html  # why the tests could not run
    row = json.loads(reviewer.run("score", str(bundle), "--format", "json").stdout)[0]
    assert (row["hiddenTestsPassed"], row["hiddenTestPassRate"]) == (0, 0.0)
    # A submission with no snapshot ref at all: no result, a reason.
    from promptster.reviewer.hidden_tests.run import no_snapshot
    from promptster.reviewer.hidden_tests.suite import HiddenSuite

    empty = no_snapshot(
        HiddenSuite("a", b"", "sha256:0", 0, "pytest -q", 60, __import__("datetime").datetime.now())
    )
    assert empty.pass_rate is None and "no snapshot" in (empty.detail or "")


def test_update_replaces_and_removes_the_tests(
    reviewer: Reviewer, assessment_id: str, tmp_path: Path
) -> None:
    other = write_folder(tmp_path / "other", {"package.json": "{}", "test.js": ""})
    changed = reviewer.json(
        "assessment", "update", assessment_id, "--hidden-tests", str(other), "--json"
    )
    assert changed["hiddenTests"]["command"] == "npm test"
    removed = reviewer.json("assessment", "update", assessment_id, "--no-hidden-tests", "--json")
    assert removed["hiddenTests"] is None
    assert (
        "hiddenTests"
        not in reviewer.json("assessment", "show", assessment_id, "--json")["assessment"]
    )
