"""What a newcomer meets first: the README, the docs, the invite, the demo's folder.

These check the promises the README makes against the files that keep them, so the first ten
minutes do not depend on anything outside the repository.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tracked(*patterns: str) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--", *patterns], cwd=ROOT, capture_output=True, text=True
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    return [ROOT / line for line in listed.stdout.splitlines()]


def test_nothing_refers_to_a_design_document_the_repository_lacks() -> None:
    assert not (ROOT / "DESIGN.md").exists()
    files = [p for p in tracked("*.md", "*.py", "*.sql", "*.toml") if p != Path(__file__)]
    citing = [str(p.relative_to(ROOT)) for p in files if "DESIGN.md" in p.read_text("utf-8")]
    assert citing == []


def test_the_demo_folder_is_ignored_by_git() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "promptster-demo/report.html"], cwd=ROOT
    ).returncode
    assert ignored == 0


def test_the_readme_says_how_to_install_and_test_with_pip_alone() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "pipx install ." in readme
    assert "python3 -m pip install -e '.[test,judge]'" in readme and "pytest -n auto" in readme
    assert "python3 -m pip install nox" in readme  # before the first `nox -s tests`


def test_the_invite_installs_the_way_the_readme_does() -> None:
    from types import SimpleNamespace

    from promptster.reviewer.invites import INSTALL_COMMAND, build_invite

    readme = (ROOT / "README.md").read_text("utf-8")
    assert INSTALL_COMMAND in readme
    when = datetime(2026, 12, 1, tzinfo=UTC)
    assessment = SimpleNamespace(
        id="as-1", org="Acme", role="Dev", brief="Build it.", time_limit_minutes=60
    )
    key = SimpleNamespace(
        id="ck_1", key_text="PST-AAAA-BBBB", candidate_email="a@example.org",
        candidate_name="Ada", expires_at=when,
    )  # fmt: skip
    message = build_invite(assessment, key, b"{}", "hr@example.org")  # type: ignore[arg-type]
    body = message.get_body(("plain",))
    assert body is not None and INSTALL_COMMAND in body.get_content()
