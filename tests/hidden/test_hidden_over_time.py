"""Hidden tests over time (`--hidden-tests-at checkpoints`): run at each checkpoint and where
the candidate's own tests went green, stored per snapshot and reused, bounded per bundle,
given by `score --format json` and charted in the report, whose points link to their events
(checked in a real headless Chromium)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hidden_kit import CORRECT, Reviewer, Step, make_bundle, require_bwrap

from promptster.bundle import format as fmt
from promptster.bundle.reader import BundleReader
from promptster.reviewer.hidden_tests.over_time import MAX_RUNS, SnapshotPoint, bounded
from promptster.reviewer.hidden_tests.over_time import snapshot_points as points_of
from support import require, require_executable

ACTUAL = Path(__file__).parent.parent / "actual" / "hidden"  # screenshots, not compared
WRONG = {"calc.py": "def is_even(n):\n    return True\n"}  # 2 of the 3 hidden tests pass
# A first try (hidden tests fail at the first checkpoint), the candidate's own tests fail, the
# fix, their tests pass (the snapshot then is a point), a checkpoint on the same snapshot.
STEPS: list[dict[str, str] | Step] = [
    WRONG,
    ("checkpoint", "first try"),
    ("test_run", "failed"),
    CORRECT,
    ("test_run", "passed"),
    ("checkpoint", "done"),
]


def _session(tmp_path: Path, assessment_id: str, reviewer: Reviewer | None = None) -> Path:
    """Ada's session; issued a key of `reviewer`'s assessment (so it verifies) when given."""
    return make_bundle(
        tmp_path / "ada.pst", "Ada", STEPS, assessment_id=assessment_id, reviewer=reviewer
    )


def _stored(reviewer: Reviewer) -> list[tuple[str, str, str]]:
    database = reviewer.home / "promptster-home" / "workspace.duckdb"
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(
            "SELECT snapshot_commit, outcome, CAST(ran_at AS VARCHAR) FROM hidden_test_runs "
            "ORDER BY snapshot_commit"
        ).fetchall()
        return [(str(a), str(b), str(c)) for a, b, c in rows]
    finally:
        con.close()


def test_the_points_are_the_checkpoints_and_where_the_tests_went_green(tmp_path: Path) -> None:
    bundle = _session(tmp_path, "asmt-hidden")
    with BundleReader(bundle) as reader:
        found = points_of(reader.read(fmt.TIMELINE))
    assert [(p.reason, p.label) for p in found.points] == [
        ("checkpoint", "first try"),
        ("tests_passed", "own tests went green"),
        ("checkpoint", "done"),
    ]
    first, green, done = found.points
    assert first.commit != green.commit == done.commit  # the fix came between them
    assert found.last_seq > done.seq


def _line(seq: int, kind: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {"seq": seq, "ts": f"2026-03-02T09:00:{seq:02d}Z", "kind": kind, "data": data}
    )


def test_only_a_failing_then_passing_run_is_a_point() -> None:
    timeline = (
        "\n".join(
            [
                _line(0, "session_start", {"snapshot": "a" * 40}),
                _line(1, "test_run", {"outcome": "passed", "passed": 1}),  # green from the start
                _line(2, "file_diff", {"path": "calc.py", "commit": "b" * 40}),
                _line(3, "test_run", {"failed": 1, "passed": 0, "exitCode": 1}),  # no outcome: old
                _line(4, "test_run", {"outcome": "no_tests"}),  # found nothing: changes nothing
                _line(5, "file_diff", {"path": "calc.py", "commit": "c" * 40}),
                _line(6, "test_run", {"passed": 2, "failed": 0, "errors": 0, "exitCode": 0}),
                _line(7, "test_run", {"outcome": "passed", "passed": 2}),  # still green: no point
                "not json",
                _line(9, "checkpoint", {"label": "end", "trigger": "manual", "snapshot": None}),
                _line(10, "session_end", {"reason": "submit"}),
            ]
        ).encode()
        + b"\n"
    )
    found = points_of(timeline)
    assert [(p.seq, p.reason, p.commit) for p in found.points] == [
        (6, "tests_passed", "c" * 40),
        (9, "checkpoint", "c" * 40),  # no snapshot of its own: the current one
    ]
    assert (found.last_seq, found.last_ts) == (10, "2026-03-02T09:00:10Z")


def test_the_runs_per_bundle_are_bounded_the_latest_kept() -> None:
    points = [SnapshotPoint(i, "", "checkpoint", f"c{i}", f"{i:040x}") for i in range(30)]
    points.append(SnapshotPoint(30, "", "tests_passed", "green", f"{29:040x}"))  # shares a run
    kept, left_out = bounded(points, MAX_RUNS - 1)
    assert len({p.commit for p in kept}) == MAX_RUNS - 1
    assert [p.seq for p in kept] == list(range(30 - (MAX_RUNS - 1), 31))
    assert left_out == 31 - len(kept)


def test_score_gives_the_series_and_stores_each_run_once(
    reviewer: Reviewer, assessment_id: str, tmp_path: Path
) -> None:
    require_bwrap()
    bundle = _session(tmp_path, assessment_id, reviewer)
    done = reviewer.run(
        "score", str(bundle), "--format", "json", "--hidden-tests-at", "checkpoints"
    )
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)[0]
    assert row["hiddenTestPassRate"] == 1.0
    series = row["hiddenTestsOverTime"]
    assert [(p["reason"], p["passed"], p["total"], p["outcome"]) for p in series["points"]] == [
        ("checkpoint", 2, 3, "failed"),
        ("tests_passed", 3, 3, "passed"),
        ("checkpoint", 3, 3, "passed"),
        ("final", 3, 3, "passed"),
    ]
    assert (series["runs"], series["leftOut"], series["limit"]) == (2, 0, MAX_RUNS)
    first = _stored(reviewer)
    # The final run is keyed `final`, the checkpoint's by its snapshot commit.
    assert sorted(o for _, o, _ in first) == ["failed", "passed"]
    assert series["points"][0]["commit"] in {c for c, _, _ in first}
    # Stored and reused, like the final one; the series is JSON-only.
    again = reviewer.run(
        "score", str(bundle), "--format", "csv", "--hidden-tests-at", "checkpoints"
    )
    assert again.returncode == 0, again.stderr
    assert "hiddenTestsOverTime" not in again.stdout
    assert _stored(reviewer) == first
    plain = reviewer.json("score", str(bundle), "--format", "json")
    assert "hiddenTestsOverTime" not in plain[0]


def test_the_report_charts_them_with_links_to_the_events(
    reviewer: Reviewer, assessment_id: str, tmp_path: Path
) -> None:
    require_bwrap()
    bundle = _session(tmp_path, assessment_id, reviewer)
    with BundleReader(bundle) as reader:
        found = points_of(reader.read(fmt.TIMELINE))
    report = tmp_path / "ada.html"
    done = reviewer.run(
        "review", str(bundle), "-o", str(report), "--hidden-tests-at", "checkpoints", "--json"
    )
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)["hiddenTestsOverTime"]
    assert [p["seq"] for p in said["points"]] == [p.seq for p in found.points] + [found.last_seq]
    html = report.read_text()
    assert 'id="chart-hidden"' in html
    seqs = [p.seq for p in found.points] + [found.last_seq]
    for seq in seqs:
        assert f'href="#ev-{seq}"' in html
    assert "ran 2 times over the session" in html
    assert f"at most {MAX_RUNS} runs per bundle" in html
    # Without the option, no chart (today's report).
    plain = tmp_path / "plain.html"
    assert reviewer.run("review", str(bundle), "-o", str(plain)).returncode == 0
    assert 'id="chart-hidden"' not in plain.read_text()
    _check_in_browser(report, seqs)


def _check_in_browser(report: Path, seqs: list[int]) -> None:
    """The chart shows, its points are links, and following one reveals its timeline event."""
    require(importlib.util.find_spec("playwright") is not None, "playwright is not installed")
    chromium = require_executable("chromium", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or chromium,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"],
        )
        try:
            page: Any = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(report.resolve().as_uri())
            page.wait_for_selector("html[data-ready]")
            chart = page.locator("#chart-hidden")
            chart.scroll_into_view_if_needed()
            ACTUAL.mkdir(parents=True, exist_ok=True)
            page.locator("#hidden-over-time").screenshot(path=str(ACTUAL / "over_time.png"))
            box = chart.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100
            links = page.locator("#chart-hidden a.hidden-point")
            assert links.count() == len(seqs)
            green = page.locator("#chart-hidden a.hidden-point circle.s-passed")
            red = page.locator("#chart-hidden a.hidden-point circle.s-failed")
            assert (green.count(), red.count()) == (3, 1)
            # The first point is the failing checkpoint: lower on the chart than the others.
            first_y = float(red.first.get_attribute("cy") or 0)
            assert all(first_y > float(green.nth(i).get_attribute("cy") or 0) for i in range(3))
            links.nth(0).click()
            target = f"#ev-{seqs[0]}"
            for _ in range(200):
                if page.evaluate(
                    f"location.hash === '{target}' && !!document.querySelector('{target}')"
                ):
                    break
                page.wait_for_timeout(50)
            assert page.evaluate("location.hash") == target
            assert page.locator(target).is_visible()
            assert "first try" in page.locator(target).inner_text()
        finally:
            browser.close()
    assert errors == []


@pytest.mark.parametrize("at", ["final", "checkpoints"])
def test_cohort_accepts_the_option(
    reviewer: Reviewer, assessment_id: str, tmp_path: Path, at: str
) -> None:
    require_bwrap()
    bundle = _session(tmp_path, assessment_id, reviewer)
    page = tmp_path / "cohort.html"
    done = reviewer.run(
        "cohort", str(bundle), "--json", "--html", str(page), "--hidden-tests-at", at
    )
    assert done.returncode == 0, done.stderr
    runs = _stored(reviewer)
    assert len(runs) == (2 if at == "checkpoints" else 1)
    # Each session's report beside the page charts them (from the stored runs).
    (report,) = (tmp_path / "cohort-reports").glob("*.html")
    assert ('id="chart-hidden"' in report.read_text()) == (at == "checkpoints")


def test_the_chart_says_what_the_bound_left_out() -> None:
    from promptster.report.hidden_chart import hidden_over_time
    from promptster.report.timeline_data import digest_timeline
    from promptster.reviewer.hidden_tests.over_time import HiddenSeries, OverTimePoint
    from promptster.reviewer.hidden_tests.results import HiddenResult

    result = HiddenResult(
        outcome="failed", cases=(), counts={"passed": 1, "total": 3}, duration_ms=5,
        command="pytest -q", exit_code=1, output="", output_cut=False, overlapped=(),
        sandboxed=True, snapshot_commit="c" * 40, suite_digest="sha256:x",
    )  # fmt: skip
    point = SnapshotPoint(3, "", "checkpoint", "<b>mine</b>", "c" * 40)
    chart = hidden_over_time(
        digest_timeline(b"", None), HiddenSeries((OverTimePoint(point, result),), left_out=7)
    )
    assert f"7 earlier point(s) not run: at most {MAX_RUNS} runs per bundle" in chart.caption
    assert 'href="#ev-3"' in chart.svg
    assert "<b>mine</b>" not in chart.svg and "&lt;b&gt;mine&lt;/b&gt;" in chart.svg
