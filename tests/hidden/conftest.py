"""Fixtures for hidden tests: a reviewer with a private home, an assessment carrying hidden
tests (created through the real CLI), and the `promptster` command run as a real process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hidden_kit import HIDDEN_TESTS, Reviewer, write_folder


@pytest.fixture
def reviewer(tmp_path: Path) -> Reviewer:
    home = tmp_path / "reviewer"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTSTER_")}
    env.update(PROMPTSTER_HOME=str(home / "promptster-home"), HOME=str(home))
    found = Reviewer(home, env)
    done = found.run("identity", "init", "--org", "Acme Hiring")
    assert done.returncode == 0, done.stderr
    return found


@pytest.fixture
def hidden_dir(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "hidden", HIDDEN_TESTS)


@pytest.fixture
def assessment_id(reviewer: Reviewer, hidden_dir: Path) -> str:
    brief = reviewer.home / "brief.md"
    brief.write_text("# is_even\n\nImplement `is_even(n)` in calc.py, with tests.\n")
    created = reviewer.json(
        "assessment", "create", "--title", "Parity", "--role", "Engineer",
        "--brief", str(brief), "--hidden-tests", str(hidden_dir),
        "--hidden-test-timeout", "60", "--json",
    )  # fmt: skip
    assert created["assessment"]["hiddenTests"]["command"] == "pytest -q"
    return str(created["assessment"]["id"])
