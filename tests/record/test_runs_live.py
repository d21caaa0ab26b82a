"""Live runs of pytest, `python -m unittest` and `node --test` in a temporary directory, parsed
as the recorder would parse them, and property tests that feed the parsers garbage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptster.runs import events as runs
from promptster.runs.text import clean_output
from support import require_executable

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "runs"


def counts(summary: runs.TestSummary | None) -> tuple[str, int, int, int, int] | None:
    if summary is None:
        return None
    return (summary.suite, summary.passed, summary.failed, summary.skipped, summary.errors)


# --- live runs of the runners that every machine here has ------------------------------------

PYTEST_PROJECT = """
import pytest


@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")


def test_one():
    assert 1 + 1 == 2


def test_two():
    assert "a".upper() == "A"


def test_fails():
    assert 2 * 2 == 5


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


def test_error(broken):
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False
"""

UNITTEST_PROJECT = """
import unittest


class Live(unittest.TestCase):
    def test_one(self):
        self.assertTrue(True)

    def test_two(self):
        self.assertEqual(1, 1)

    def test_fails(self):
        self.assertEqual(2 * 2, 5)

    def test_errors(self):
        raise RuntimeError("boom")

    @unittest.skip("not today")
    def test_skipped(self):
        pass
"""

NODE_PROJECT = """
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('one', () => { assert.equal(1 + 1, 2); });
test('two', () => { assert.ok(true); });
test('fails', () => { assert.equal(2 * 2, 5); });
test('skipped', { skip: 'not today' }, () => {});
test('later', { todo: true }, () => {});
"""


def run_live(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # The outer pytest's own settings (xdist worker ids, addopts) must not leak into the run.
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        argv, cwd=cwd, env={**clean_env, **env}, capture_output=True, text=True, check=False
    )


def live_summary(tool: str, result: subprocess.CompletedProcess[str]) -> runs.TestSummary:
    summary = runs.parse_test_summary(tool, result.stdout + result.stderr)
    assert summary is not None, result.stdout + result.stderr
    return summary


@pytest.mark.parametrize("colour", ["no", "yes"])
def test_live_pytest_run(tmp_path: Path, colour: str) -> None:
    (tmp_path / "test_live.py").write_text(PYTEST_PROJECT)
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--color={colour}"]
    result = run_live([*argv, "test_live.py"], tmp_path)
    assert result.returncode == 1
    summary = live_summary("pytest", result)
    assert counts(summary) == ("pytest", 2, 1, 2, 1)
    assert summary.duration_ms is not None


def test_live_pytest_run_becomes_a_test_run_event(tmp_path: Path) -> None:
    (tmp_path / "test_live.py").write_text(PYTEST_PROJECT)
    command = "PYTHONDONTWRITEBYTECODE=1 python -m pytest -p no:cacheprovider test_live.py 2>&1"
    result = run_live(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_live.py"], tmp_path
    )
    event = runs.run_event(command, result.stdout, exit_code=result.returncode, duration_ms=1)
    assert event is not None
    assert event.kind == "test_run"
    assert {k: event.data[k] for k in ("suite", "passed", "failed", "skipped", "errors")} == {
        "suite": "pytest",
        "passed": 2,
        "failed": 1,
        "skipped": 2,
        "errors": 1,
    }


def test_live_unittest_run(tmp_path: Path) -> None:
    (tmp_path / "test_live_ut.py").write_text(UNITTEST_PROJECT)
    result = run_live([sys.executable, "-m", "unittest", "test_live_ut"], tmp_path)
    assert result.returncode == 1
    assert counts(live_summary("unittest", result)) == ("unittest", 2, 1, 1, 1)


@pytest.mark.parametrize("reporter", ["spec", "tap"])
def test_live_node_test_run(tmp_path: Path, reporter: str) -> None:
    node = require_executable("node", "Node.js 18+ runs `node --test`")
    (tmp_path / "live.test.mjs").write_text(NODE_PROJECT)
    argv = [node, "--test", f"--test-reporter={reporter}", "live.test.mjs"]
    result = run_live(argv, tmp_path, FORCE_COLOR="1")
    assert result.returncode == 1
    assert counts(live_summary("node-test", result)) == ("node-test", 2, 1, 2, 0)


# --- garbage in, None out ---------------------------------------------------------------------

# Lines of real summaries mixed with arbitrary text reach deep into every parser.
REAL_LINES = sorted(
    {line for path in FIXTURES.rglob("*.txt") for line in path.read_text().splitlines()}
)
messy_text = st.lists(
    st.one_of(st.text(), st.sampled_from(REAL_LINES), st.sampled_from(["\x1b[31m", "\r", "\n"])),
    max_size=30,
).map("\n".join)


@settings(deadline=None)
@given(text=messy_text)
def test_parsers_never_raise(text: str) -> None:
    cleaned = clean_output(text)
    for parser in runs.PARSERS.values():  # unguarded: a parser bug must show here
        found = parser(cleaned)
        if found is not None:
            assert min(found.passed, found.failed, found.skipped, found.errors) >= 0
    for tool in [*runs.PARSERS, "pytest", "npm-test", "cargo-test", "go-test", "make-test"]:
        runs.parse_test_summary(tool, text)


@settings(deadline=None)
@given(text=messy_text, exit_code=st.one_of(st.none(), st.integers(-255, 255)))
def test_build_error_counting_never_raises(text: str, exit_code: int | None) -> None:
    for tool in ["ruff", "mypy", "tsc", "eslint", "cargo-clippy", "go-vet", "flake8", "make"]:
        count = runs.count_build_errors(tool, text, exit_code)
        assert count is None or count >= 0
