"""`promptster followups BUNDLE [--json]`: through click, on real signed bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from analysis_tamper import tampered
from click.testing import CliRunner

from promptster.cli import cli, main


def test_text_lists_questions_and_their_events(scenario_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["followups", str(scenario_dir / "dee.pst")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. For “Use requests for HTTP” you chose requests.")
    assert "[technical_decisions, medium] events #11" in lines[1]
    assert "key moments (5):" in result.stdout
    assert "The fix that made it pass: green after 30 s" in result.stdout


def test_json_is_versioned_and_cites_events(scenario_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["followups", str(scenario_dir / "ada.pst"), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["format"] == "promptster-followups" and body["version"] == 1
    assert 5 <= len(body["questions"]) <= 8
    for question in body["questions"]:
        assert set(question) == {
            "question", "context", "focusArea", "difficulty", "source", "seqs", "relatedEvents",
        }  # fmt: skip
        assert len(question["seqs"]) == len(question["relatedEvents"]) >= 1
    assert [m["kind"] for m in body["keyMoments"]] == [
        "first_prompt", "first_failure", "fix", "decision",
    ]  # fmt: skip


def test_a_bundle_that_fails_verification_is_exit_1(
    scenario_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tampered(scenario_dir / "ada.pst", tmp_path / "bad.pst")
    assert main(["followups", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "failed verification" in captured.err


def test_a_missing_bundle_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["followups", str(tmp_path / "nope.pst")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "junk.pst").write_bytes(b"not a zip")
    assert main(["followups", str(tmp_path / "junk.pst"), "--json"]) == 2


def test_an_empty_session_has_no_question(scenario_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["followups", str(scenario_dir / "empty.pst")])
    assert result.exit_code == 0
    assert result.stdout.startswith("no follow-up question: the session has too little")
