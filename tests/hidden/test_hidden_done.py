"""The issue's "done when": a reviewer attaches hidden tests to an assessment, three candidates
record real sessions (the real recorder, a real recorded shell, `promptster submit`): one
correct and tested, one whose whole solution is `return True` with a test that passes, one
with no tests at all. `cohort` ranks the correct one first, and says it was hiddenTestPassRate
that placed it; the cohort page and each report show the hidden-test results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hidden_kit import Reviewer, require_bwrap

from promptster.demo.runner import CLI, Demo
from support import require

SOLUTIONS = {
    "Ada Correct": (
        "def is_even(n):\n    return n % 2 == 0\n",
        "from calc import is_even\n\n\ndef test_even():\n    assert is_even(2)\n\n\n"
        "def test_odd():\n    assert not is_even(7)\n",
    ),
    "Ben ReturnTrue": (
        "def is_even(n):\n    return True\n",
        "from calc import is_even\n\n\ndef test_even():\n    assert is_even(2)\n",
    ),
    "Cy NoTests": ("def is_even(n):\n    return n > 0 and n % 2 == 0\n", None),
}


def _record(folder: Path, pack: Path, key: str, name: str) -> Path:
    """One candidate's real session: start, write the code, run the tests in the recorded
    shell (when they wrote any), submit."""
    from promptster.demo.shell_driver import RecordedShell

    code, tests = SOLUTIONS[name]
    demo = Demo(folder, lambda label: None)
    try:
        demo.tools()
        demo.workspace.mkdir(parents=True)
        (demo.workspace / "calc.py").write_text("def is_even(n):\n    raise NotImplementedError\n")
        demo.cli(
            demo.candidate, "start", key, "--assessment", str(pack), "--accept", "--no-shell",
            "--workspace", str(demo.workspace),
        )  # fmt: skip
        with RecordedShell(demo.workspace, demo.env(demo.candidate), CLI) as shell:
            shell.run("ls")
            (demo.workspace / "calc.py").write_text(code)
            if tests is not None:
                (demo.workspace / "test_calc.py").write_text(tests)
            demo.snapshot("editor-save")
            if tests is not None:
                shell.run("python -m pytest -q")
        return demo.submit()
    finally:
        demo.close()


@pytest.mark.slow
def test_the_correct_session_ranks_first_for_the_right_reason(
    reviewer: Reviewer, assessment_id: str, tmp_path: Path
) -> None:
    require_bwrap()
    require(
        __import__("importlib").util.find_spec("pexpect") is not None, "pexpect is not installed"
    )
    keys = reviewer.json("keys", "create", assessment_id, "--count", "3", "--json")["keys"]
    pack = tmp_path / "pack.json"
    assert reviewer.run("assessment", "export", assessment_id, "-o", str(pack)).returncode == 0
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    for index, (name, key) in enumerate(zip(SOLUTIONS, keys, strict=True)):
        made = _record(tmp_path / f"candidate-{index}", pack, str(key["key"]), name)
        made.rename(bundles / f"{name.split()[0].lower()}.pst")

    page = tmp_path / "cohort.html"
    done = reviewer.run("cohort", str(bundles), "--json", "--html", str(page))
    assert done.returncode == 0, done.stderr
    (cohort,) = json.loads(done.stdout)["cohorts"]
    assert cohort["weights"]["hiddenTestPassRate"] == 1.0
    ranked = [Path(s["bundle"]).stem for s in cohort["sessions"]]
    assert ranked[0] == "ada", ranked
    first = cohort["sessions"][0]
    assert first["values"]["hiddenTestPassRate"] == 1.0
    assert first["placedBy"] == "hiddenTestPassRate"
    rates = {Path(s["bundle"]).stem: s["values"]["hiddenTestPassRate"] for s in cohort["sessions"]}
    assert rates["ben"] == pytest.approx(2 / 3) and rates["cy"] == pytest.approx(2 / 3)

    html = page.read_text()
    assert "Placed by" in html and "hidden tests: 3/3 passed" in html
    reports = sorted((tmp_path / "cohort-reports").glob("*.html"))
    assert len(reports) == 3
    ben = next(p for p in reports if p.stem == "ben").read_text()
    assert "Does the code work?" in ben and "test_odd" in ben

    scored = reviewer.run("score", str(bundles), "--format", "json")
    assert scored.returncode == 0, scored.stderr
    rows = {Path(r["path"]).stem: r for r in json.loads(scored.stdout)}
    assert (rows["ada"]["hiddenTestsPassed"], rows["ada"]["hiddenTestsTotal"]) == (3, 3)
    assert rows["cy"]["testsTotal"] is None  # Cy never ran a test
