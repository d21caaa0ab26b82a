"""The reviewer's machine is safe from any bundle: each hostile class (hostilekit.CASES) run
through `promptster verify`, `review` and `score` as a reviewer runs them, in a child process.

For each: the right exit code and finding, peak memory under the 300 MB budget measured by the
child's own accounting (never a wall-clock assertion), and no file written outside the
temporary tree (the child's TMPDIR, cwd and HOME are watched; only the report appears where
it was asked for).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostilekit import (
    BIG,
    CASES,
    MEMORY_BUDGET_MB,
    HostileCase,
    Run,
    base_bundle,
    build_case,
    finding,
    measure,
)

from promptster.report.review import FAILED_NOTE
from support import require_executable

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_executable("git")
    return tmp_path_factory.mktemp("hostile")


@dataclass
class Child:
    """Where a child runs: its cwd, TMPDIR and HOME, all watched for stray files."""

    root: Path
    env: dict[str, str]

    @property
    def watched(self) -> list[Path]:
        return [self.root / "cwd", self.root / "tmp", self.root / "home"]

    def listing(self) -> dict[str, list[str]]:
        return {
            str(folder): sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
            for folder in self.watched
        }

    def run(self, *args: str) -> Run:
        exe = require_executable("promptster")
        before = self.listing()
        result = measure([exe, *args], env=self.env, cwd=self.root / "cwd", logs=self.root)
        assert self.listing() == before, f"promptster {args[0]} left files behind"
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        return result


@pytest.fixture
def child(tmp_path: Path) -> Iterator[Child]:
    for name in ("cwd", "tmp", "home", "out"):
        (tmp_path / name).mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "tmp"),
        "PROMPTSTER_HOME": str(tmp_path / "home" / "promptster"),
        "LC_ALL": "C.UTF-8",
        "NO_COLOR": "1",
    }
    yield Child(tmp_path, env)


def _ids(case: HostileCase) -> str:
    return case.name


def _within_budget(run: Run, what: str) -> None:
    assert run.peak_mb < MEMORY_BUDGET_MB, f"{what} peaked at {run.peak_mb:.0f} MB"
    # Where the bomb inflates past the budget, bounded reading is what keeps it under.
    assert run.peak_mb < BIG / 2**20, what


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_verify_gives_the_finding_within_bounds(
    case: HostileCase, corpus: Path, child: Child
) -> None:
    bundle = build_case(case, base_bundle(corpus), corpus)
    run = child.run("verify", "--json", str(bundle))
    assert run.code == case.exit_code, run.stdout + run.stderr
    report = json.loads(run.stdout)["bundles"][0]
    assert finding(report, case.check, case.message, case.status), report["findings"]
    _within_budget(run, "verify")


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_review_shows_only_findings_of_a_failed_bundle_within_bounds(
    case: HostileCase, corpus: Path, child: Child
) -> None:
    bundle = build_case(case, base_bundle(corpus), corpus)
    out = child.root / "out" / "report.html"
    run = child.run("review", str(bundle), "-o", str(out))
    assert run.code == case.exit_code, run.stderr
    html = out.read_text("utf-8")
    if case.exit_code:
        assert "This bundle did not verify" in html
        assert FAILED_NOTE in html
    else:
        assert "✓ Verified" in html or "Verified" in html
    if case.name == "cast-bomb":
        assert "is cut short to stay within the size budget" in html
    _within_budget(run, "review")


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_score_fails_or_scores_within_bounds(case: HostileCase, corpus: Path, child: Child) -> None:
    bundle = build_case(case, base_bundle(corpus), corpus)
    run = child.run("score", str(bundle), "--format", "json")
    assert run.code == case.exit_code, run.stderr
    _within_budget(run, "score")
