"""The outcome of the last test run through the signals and the cohort: a run that found no
tests, erred or was interrupted is never "passed", old events without `outcome` get one from
their counts, and a cohort tells "no run" from "ran, but not passing"."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from analysis_scenarios import Scenario, build

from promptster.analysis.cohort import build_cohort
from promptster.analysis.database import connect
from promptster.analysis.signals import bundle_signals
from promptster.cli import main
from promptster.runs.events import TestSummary, classify_outcome, run_event


def test_the_sql_rules_are_the_recorders_rules() -> None:
    """For every combination of counts and exit code, the SQL that reads old events and the
    recorder that writes new ones agree (the recorder alone also reads the output)."""
    counts = [None, (0, 0, 0, 0), (3, 0, 0, 0), (2, 1, 0, 0), (0, 0, 2, 0), (1, 0, 0, 1)]
    exits = [None, 0, 1, 2, 4, 5, 130, -2]
    tools = ["pytest", "jest"]
    con = connect()
    try:
        for found, exit_code, tool in itertools.product(counts, exits, tools):
            summary = TestSummary(tool, *found, None) if found else None
            row = [*(found or (None,) * 4), exit_code, tool]
            (sql,) = con.execute(
                "SELECT ps_test_outcome(?::BIGINT, ?::BIGINT, ?::BIGINT, ?::BIGINT, ?::BIGINT, ?)",
                row,
            ).fetchone() or (None,)
            assert sql == classify_outcome(tool, summary, exit_code), (found, exit_code, tool)
    finally:
        con.close()


def _live(tmp_path: Path, argv: list[str]) -> tuple[str, dict[str, object]]:
    """Run a real test runner in an empty folder; the test_run data the recorder makes of it."""
    folder = tmp_path / "empty"
    folder.mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, *argv], cwd=folder, capture_output=True, text=True)
    command = "python " + " ".join(argv)
    event = run_event(command, done.stdout + done.stderr, exit_code=done.returncode, duration_ms=9)
    assert event is not None
    return command, dict(event.data)


def _session(name: str, runs: list[tuple[str, dict[str, object]]]) -> Scenario:
    s = Scenario(name, name.capitalize())
    s.prompt(10, "Write the function and its tests.")
    for index, (command, data) in enumerate(runs):
        s.command(20 + index * 10, command, int(str(data["exitCode"])))
        s.add(21 + index * 10, "test_run", data)
    return s


@pytest.fixture
def cohort_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "cohort"
    folder.mkdir()
    unittest_empty = _live(tmp_path, ["-m", "unittest"])
    assert unittest_empty[1]["outcome"] == "no_tests"
    passing = (
        "pytest -q",
        {"tool": "pytest", "command": "pytest -q", "exitCode": 0, "passed": 4, "failed": 0,
         "skipped": 0, "errors": 0},
    )  # fmt: skip  # an old event: no `outcome`, derived as passed
    pytest_empty = (
        "pytest",
        {"tool": "pytest", "command": "pytest", "exitCode": 5, "passed": 0, "failed": 0,
         "skipped": 0, "errors": 0},
    )  # fmt: skip  # an old pytest exit 5 ("no tests ran"): derived as no_tests
    interrupted = (
        "pytest",
        {**passing[1], "command": "pytest", "exitCode": 2, "passed": 1, "outcome": "interrupted"},
    )
    build(_session("correct", [pytest_empty, passing]), folder / "correct.pst")
    build(_session("zero", [passing, unittest_empty]), folder / "zero.pst")
    build(_session("stopped", [interrupted]), folder / "stopped.pst")
    build(_session("oldzero", [pytest_empty]), folder / "oldzero.pst")
    build(_session("none", []), folder / "none.pst")
    return folder


def test_each_outcome_reaches_the_signals(cohort_dir: Path) -> None:
    outcome = {
        name: (bundle_signals(cohort_dir / f"{name}.pst").value("testResults") or {})
        for name in ("correct", "zero", "stopped", "oldzero", "none")
    }
    assert {k: v.get("outcome") for k, v in outcome.items()} == {
        "correct": "passed",
        "zero": "no_tests",  # recorded by the recorder from a real `python -m unittest`
        "stopped": "interrupted",  # recorded (its counts alone would say error)
        "oldzero": "no_tests",  # derived from an old event
        "none": None,
    }


def test_a_hostile_outcome_is_replaced_by_the_derived_one(tmp_path: Path) -> None:
    data = {"tool": "pytest", "command": "pytest", "exitCode": 0, "passed": 0, "failed": 0,
            "skipped": 0, "errors": 0, "outcome": "<b>passed</b>"}  # fmt: skip
    bundle = build(_session("hostile", [("pytest", data)]), tmp_path / "h.pst")
    result = bundle_signals(bundle).value("testResults")
    assert isinstance(result, dict) and result["outcome"] == "no_tests"


def test_the_cohort_shows_the_last_run_not_no_run(
    cohort_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "out" / "cohort.html"
    assert main(["cohort", str(cohort_dir), "--json", "--html", str(page)]) == 0
    body = json.loads(capsys.readouterr().out)
    (cohort,) = body["cohorts"]
    last = {s["candidateName"]: s["lastTestOutcome"] for s in cohort["sessions"]}
    assert last == {
        "Correct": "passed",
        "Zero": "no_tests",
        "Stopped": "interrupted",
        "Oldzero": "no_tests",
        "None": None,
    }
    # one of the four sessions that ran tests left them passing
    assert cohort["metrics"]["testPassRate"] == pytest.approx(0.25)
    html = page.read_text("utf-8")
    cells = html.split('title="the outcome of the last test run">')[1:]
    shown = sorted(cell.split("</td>")[0] for cell in cells)
    assert shown == sorted(
        [
            '<span class="tag res-ok">passed</span>',
            '<span class="tag res-warning">no tests</span>',
            '<span class="tag res-warning">no tests</span>',
            '<span class="tag res-warning">interrupted</span>',
            '<span class="muted">no run</span>',
        ]
    )


def test_a_session_without_runs_is_left_out_of_the_pass_rate(cohort_dir: Path) -> None:
    sessions = [bundle_signals(cohort_dir / f"{n}.pst") for n in ("correct", "none")]
    cohort = build_cohort("asmt-demo", sessions)
    assert cohort.test_pass_rate == 1.0
    assert [m.tests_all_passed for m in cohort.members if m.session.candidate_name == "None"] == [
        None
    ]
