"""The "Did they test?" card tells the truth about the last test run: 0 tests, errors, a crash
and Ctrl-C are never "passed", in recorded events and in old ones without `outcome`."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

import pytest
from report_kit import SessionScript

from promptster.report.review import review_bundle

PASSING = {"tool": "pytest", "command": "pytest", "exitCode": 0, "passed": 3, "failed": 0,
           "skipped": 0, "errors": 0}  # fmt: skip


def _card(tmp_path: Path, runs: list[dict[str, Any]]) -> str:
    s = SessionScript(
        "outcome-" + hashlib.sha256(repr(runs).encode()).hexdigest()[:12],
        baseline={"a.py": "x = 1\n"},
    )
    s.write(10, {"a.py": "x = 2\n"})
    for index, data in enumerate(runs):
        s.add(20 + index, "test_run", data)
    bundle = s.build(tmp_path / "s.pst")
    out = tmp_path / "r.html"
    review_bundle(bundle, out, generated_at="2026-02-02 12:00:00 UTC")
    page = html.unescape(out.read_text("utf-8"))
    start = page.index("Did they test?")
    return page[start : start + 600]


@pytest.mark.parametrize(
    ("last", "verdict"),
    [
        (PASSING, "Yes: 2 test runs; the last one passed (3 passed)."),
        (
            {**PASSING, "passed": 0, "exitCode": 5, "outcome": "no_tests"},
            "Tests ran 2 times; the last run found no test to run: nothing was tested.",
        ),
        (  # an old event (no outcome): "Ran 0 tests ... OK" still is no test
            {**PASSING, "tool": "unittest", "passed": 0},
            "Tests ran 2 times; the last run found no test to run: nothing was tested.",
        ),
        (
            {**PASSING, "passed": 0, "errors": 1, "exitCode": 2, "outcome": "error"},
            "Tests ran 2 times; the last run ended in errors (1 error outside the tests).",
        ),
        (
            {**PASSING, "exitCode": 2, "outcome": "interrupted"},
            "Tests ran 2 times; the last run was interrupted before it finished (Ctrl-C).",
        ),
        (
            {
                **dict.fromkeys(("passed", "failed", "skipped", "errors")),
                "tool": "jest",
                "command": "npx jest",
                "exitCode": 139,
                "outcome": "error",
            },
            "Tests ran 2 times; the last run exited with code 139; its counts could not be read.",
        ),
        (
            {**PASSING, "exitCode": 1},  # old: all passed yet exit 1 (e.g. a coverage gate)
            "Tests ran 2 times; the last run exited with code 1 although no test failed.",
        ),
    ],
    ids=["passed", "no-tests", "old-zero", "error", "interrupted", "crash", "nonzero"],
)
def test_the_card_says_what_the_last_run_was(
    tmp_path: Path, last: dict[str, Any], verdict: str
) -> None:
    card = _card(tmp_path, [{**PASSING, "failed": 1, "exitCode": 1}, last])
    assert verdict in card
    if "passed (" not in verdict:
        assert "passed (0 passed)" not in card and "Yes:" not in card


def test_the_timeline_names_an_outcome_the_counts_do_not_say(
    tmp_path: Path, open_report: Any
) -> None:
    s = SessionScript("outcome-timeline", baseline={"a.py": "x = 1\n"})
    s.add(5, "test_run", {**PASSING, "passed": 0, "exitCode": 5, "outcome": "no_tests"})
    s.add(6, "test_run", {**PASSING, "exitCode": 2, "outcome": "interrupted"})
    s.add(7, "test_run", {**PASSING, "outcome": "passed"})
    out = tmp_path / "t.html"
    review_bundle(s.build(tmp_path / "t.pst"), out, generated_at="2026-02-02 12:00:00 UTC")
    watched = open_report(out)
    runs = watched.page.locator("#tl-list .ev.k-test_run")
    assert runs.count() == 3
    texts = [runs.nth(i).inner_text() for i in range(3)]
    assert "no tests ran" in texts[0] and "interrupted" in texts[1]
    assert not any(word in texts[2] for word in ("no tests", "interrupted", "error"))
    watched.assert_clean()
