"""A test run whose counts could not be read stays null through the analysis and the report
(not 0 passed)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from analysis_scenarios import Scenario, build

from promptster.analysis.signals import bundle_signals
from promptster.cli import main


@pytest.fixture
def unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))
    s = Scenario("unread-counts", "Una Read")
    s.prompt(10, "Run the tests and tell me what fails in src/app/service.py.")
    s.command(20, "make test", 0)
    s.add(
        21,
        "test_run",
        {"tool": "make", "command": "make test", "exitCode": 0, "passed": None,
         "failed": None, "skipped": None, "errors": None},
    )  # fmt: skip
    return build(s, tmp_path / "unread.pst")


def test_unread_counts_are_null_not_zero(unread: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signals = bundle_signals(unread)
    assert signals.value("testRunCount") == 1
    assert signals.value("testResults") == {
        "passed": None, "failed": None, "skipped": None, "errors": None, "total": None,
        "outcome": "unknown",  # derived: no counts, exit 0 (an event without `outcome`)
    }  # fmt: skip
    capsys.readouterr()
    assert main(["score", str(unread), "--format", "csv", "--jobs", "1"]) == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert row["testRunCount"] == "1"
    assert [row[c] for c in ("testsPassed", "testsFailed", "testsTotal")] == ["", "", ""]


def test_the_report_says_the_counts_could_not_be_read(unread: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["review", str(unread), "-o", str(out)]) == 0
    html = out.read_text("utf-8")
    assert "Yes: 1 test run; its counts could not be read." in html
    assert "(0 passed)" not in html and "Yes: 1 test runs" not in html
