"""`promptster verify --cohort DIR`: one candidate key, one bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptster.cli import main
from promptster.issue.keys import CandidateKey, check_symbol
from promptster.record.synth import generate_bundle

KEY_A = CandidateKey("AAAAAAA" + check_symbol("AAAAAAA")).text
KEY_C = CandidateKey("CCCCCCC" + check_symbol("CCCCCCC")).text


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))


def test_a_key_used_in_two_bundles_fails_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort = tmp_path / "cohort"
    generate_bundle(cohort / "a.pst", events=60, seed=1, candidate_key=KEY_A)
    generate_bundle(cohort / "b.pst", events=60, seed=2, candidate_key=KEY_A)
    generate_bundle(cohort / "c.pst", events=60, seed=3, candidate_key=KEY_C)

    assert main(["verify", "--json", str(cohort / "a.pst"), "--cohort", str(cohort)]) == 1
    findings = json.loads(capsys.readouterr().out)["bundles"][0]["findings"]
    cohort_findings = [f for f in findings if f["check"] == "cohort"]
    assert len(cohort_findings) == 1
    assert cohort_findings[0]["status"] == "failed"
    assert "b.pst" in cohort_findings[0]["message"]


def test_distinct_keys_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cohort = tmp_path / "cohort"
    generate_bundle(cohort / "a.pst", events=60, seed=1, candidate_key=KEY_A)
    generate_bundle(cohort / "c.pst", events=60, seed=3, candidate_key=KEY_C)
    assert main(["verify", "--json", str(cohort / "a.pst"), "--cohort", str(cohort)]) == 0
    findings = json.loads(capsys.readouterr().out)["bundles"][0]["findings"]
    assert not [f for f in findings if f["check"] == "cohort"]
