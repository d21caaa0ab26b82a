"""Names, human scorecards and analytics end to end, over three real recorded sessions.

The sessions are recorded as `promptster demo` records one (the real recorder, a real bash
in a pty, Claude Code hook calls, `promptster submit`; tests/report/ratings_kit.py), from keys
the reviewer issued with names and e-mails. The reviewer imports them, rates them from the CLI
and from the report page's form in Chromium (the command it writes is run as written, the file
it downloads is imported), and reads the cohort page, `score`, `sessions list` and the
analytics page, which name every candidate.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ratings_kit import CANDIDATES, OTHER_TITLE, TITLE, RecordedCohort, record_cohort

from promptster.analysis.score import COLUMNS, REVIEWER_COLUMNS
from promptster.cli import main
from support import require, require_executable

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> RecordedCohort:
    require_executable("bash")
    require_executable("git")
    require(importlib.util.find_spec("pexpect") is not None, "pexpect drives the recorded shell")
    return record_cohort(tmp_path_factory.mktemp("ratings") / "cohort")


@pytest.fixture
def home(
    recorded: RecordedCohort, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A copy of the reviewer's home, the sessions imported: each test rates afresh."""
    copy = tmp_path / "home"
    shutil.copytree(recorded.reviewer_home, copy)
    monkeypatch.setenv("PROMPTSTER_HOME", str(copy))
    monkeypatch.delenv("PROMPTSTER_REVIEWER", raising=False)
    assert main(["import", *map(str, recorded.bundles.values())]) == 0
    yield copy


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def _ids(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    listed = _json(["sessions", "list", "--json"], capsys)
    return {s["candidateEmail"].split("@")[0]: s["id"] for s in listed["sessions"]}


def test_names_ratings_and_analytics_from_the_cli(
    recorded: RecordedCohort, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = _json(["sessions", "list", "--json"], capsys)["sessions"]
    assert {(s["candidateName"], s["candidateEmail"], s["assessmentTitle"]) for s in listed} == {
        (name, email, TITLE) for _, name, email in CANDIDATES
    }
    ids = _ids(capsys)
    rate = ["rate", ids["ada"], "--dimension", "problem_decomposition=5"]
    assert (
        main(
            [*rate, "--dimension", "code_quality=4", "--decision", "advance", "--reviewer", "rita"]
        )
        == 0
    )
    assert (
        main([*rate, "--dimension", "code_quality=2", "--reviewer", "sam", "--note", "fast"]) == 0
    )
    assert main(["rate", ids["ben"], "--decision", "hold", "--reviewer", "rita"]) == 0

    # the cohort page: names first, e-mails and ids second, the title, the scorecards
    page = tmp_path / "cohort.html"
    bundles = [str(p) for p in recorded.bundles.values()]
    capsys.readouterr()
    assert main(["cohort", *bundles, "--html", str(page)]) == 0
    text = capsys.readouterr().out
    assert "Ada Lovelace" in text and TITLE in text  # the terminal table, by name
    html = page.read_text("utf-8")
    for _, name, email in CANDIDATES:
        assert name in html and email in html
    assert f'{TITLE} <span class="raw">assessment {recorded.assessment_id}</span>' in html
    assert "Human scorecards" in html and "3.0 (±2)" in html  # code_quality 4 and 2
    assert "advance 1" in html and "rita: " not in html and "sam: fast" in html
    assert "Ranking orientation" in html and "a lower value ↓" in html

    # score: the older columns first and unchanged, the reviewer's columns after them
    capsys.readouterr()
    assert main(["score", *bundles, "--format", "csv"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == list(COLUMNS) and list(COLUMNS[-len(REVIEWER_COLUMNS) :]) == list(
        REVIEWER_COLUMNS
    )
    ada = next(r for r in rows if r["candidateEmail"] == "ada@example.com")
    assert ada["candidateName"] == "Ada Lovelace" and ada["assessmentTitle"] == TITLE
    assert ada["reviewerCount"] == "2" and ada["ratingCodeQuality"] == "3.0"
    assert ada["decisions"] == "advance=1"
    capsys.readouterr()
    assert main(["score", *bundles, "--format", "jsonl"]) == 0
    out = capsys.readouterr().out
    assert "_candidateKey" not in out and "PST-" not in out  # the key is not in the output

    # analytics: two assessments, the funnel of each, the top candidates by name
    body = _json(["analytics", "--json", "-o", str(tmp_path / "analytics.html")], capsys)
    by_title = {a["assessmentTitle"]: a for a in body["assessments"]}
    assert set(by_title) == {TITLE, OTHER_TITLE}
    funnel = {f["label"]: f["count"] for f in by_title[TITLE]["funnel"]}
    assert funnel == {"issued": 3, "redeemed": 3, "submitted": 3, "reviewed": 1, "decided": 2}
    assert by_title[TITLE]["completionRate"] == 1.0
    other = {f["label"]: f["count"] for f in by_title[OTHER_TITLE]["funnel"]}
    assert other == {"issued": 2, "redeemed": 0, "submitted": 0, "reviewed": 0, "decided": 0}
    assert by_title[OTHER_TITLE]["completionRate"] == 0.0
    assert {c["candidateName"] for c in body["topCandidates"]} == {n for _, n, _ in CANDIDATES}
    analytics = (tmp_path / "analytics.html").read_text("utf-8")
    assert TITLE in analytics and OTHER_TITLE in analytics and "Ada Lovelace" in analytics

    # the report header names the candidate with the e-mail the reviewer gave the key
    report = tmp_path / "ada.html"
    assert main(["review", str(recorded.bundles["ada"]), "-o", str(report)]) == 0
    header = report.read_text("utf-8")
    assert '<h1 id="summary-h">Ada Lovelace</h1>' in header
    assert "ada@example.com" in header and TITLE in header


def test_the_report_form_and_the_pages_in_chromium(
    recorded: RecordedCohort,
    home: Path,
    tmp_path: Path,
    open_report: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = _ids(capsys)
    report = tmp_path / "ben.html"
    assert main(["review", str(recorded.bundles["ben"]), "-o", str(report)]) == 0
    watched = open_report(report)
    page = watched.page
    page.select_option("select[name=problem_decomposition]", "4")
    page.select_option("select[name=communication]", "2")
    page.select_option("select[name=decision]", "hold")
    page.fill("input[name=reviewer]", "Rita O'Neil")
    page.fill("textarea[name=note]", "asked the AI first; verify more")
    command = page.inner_text("#rate-command")
    assert command.startswith(f"promptster rate {ids['ben']} ")
    # the command runs as the page wrote it (shell quoting included)
    args = shlex.split(command)
    assert args[:2] == ["promptster", "rate"]
    capsys.readouterr()
    assert main(args[1:]) == 0
    assert "rated Ben Bitdiddle" in capsys.readouterr().out
    # the downloaded file imports the same rating (here under another reviewer's name)
    page.fill("input[name=reviewer]", "Sam")
    with page.expect_download() as download:
        page.click("#rate-download")
    file = tmp_path / "rating.json"
    download.value.save_as(file)
    saved = json.loads(file.read_text("utf-8"))
    assert saved["format"] == "promptster.rating" and saved["sessionId"] == ids["ben"]
    assert main(["rate", "--from", str(file)]) == 0
    # nothing left the page: the only request besides the page is the local blob it saved
    assert all(u.startswith("blob:") for u in watched.requests if u != watched.url)
    assert watched.console_errors == watched.page_errors == watched.csp_violations() == []

    ratings = _json(["sessions", "list", "--json"], capsys)["sessions"]
    ben = next(s for s in ratings if s["id"] == ids["ben"])["ratings"]
    assert ben["reviewerCount"] == 2
    assert {c["reviewer"] for c in ben["scorecards"]} == {"Rita O'Neil", "Sam"}
    assert ben["dimensions"]["communication"]["mean"] == 2
    assert ben["decisions"] == {"hold": 2}

    # the cohort page in Chromium: names in the table, the scorecards sort by their mean
    cohort = tmp_path / "cohort.html"
    assert main(["cohort", *map(str, recorded.bundles.values()), "--html", str(cohort)]) == 0
    watched = open_report(cohort)
    names = watched.page.locator("table.cohort-table >> nth=0 >> tbody tr td:nth-child(2)")
    texts = " ".join(names.all_inner_texts())
    for _, name, email in CANDIDATES:
        assert name in texts and email in texts
    assert watched.page.locator(".ratings-table tbody tr").count() == 1  # only ben is rated
    watched.page.click("#cohort-1-orientation summary")
    assert "Prompts" in watched.page.inner_text("#cohort-1-orientation")
    watched.assert_clean()

    analytics = tmp_path / "analytics.html"
    assert main(["analytics", "-o", str(analytics)]) == 0
    watched = open_report(analytics)
    assert watched.page.locator("svg.chart").count() >= 5  # funnels, tiers, overall
    assert "Ben Bitdiddle" in watched.page.inner_text("#top-candidates")
    watched.assert_clean()
