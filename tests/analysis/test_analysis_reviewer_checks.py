"""Every reviewer command runs the same checks as `promptster verify` (assessment pack and
candidate key), so a bundle whose key was revoked before its session started is refused by
verify, review, score, import and cohort alike."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from analysis_scenarios import START, ada, build, prompts_only

from promptster.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PROMPTSTER_PASSPHRASE", raising=False)
    return tmp_path / "home"


@pytest.fixture
def revoked(home: Path, tmp_path: Path) -> Path:
    """A bundle started from the old pack with a key the reviewer revoked before it started,
    in a folder with a good bundle of the same assessment."""
    from promptster.issue.identity import init_identity, unlock_identity
    from promptster.reviewer.assessments import (
        AssessmentSpec,
        create_assessment,
        create_keys,
        revoke_keys,
    )
    from promptster.reviewer.store import Workspace

    init_identity("Acme Hiring", None)
    signer = unlock_identity()
    with Workspace.open() as ws:
        assessment = create_assessment(
            ws, signer, AssessmentSpec(title="Cache", role="Backend", brief="# Fix the cache\n")
        )
        batch = create_keys(ws, signer, assessment.id, count=2, now=START - timedelta(days=1))
        revoke_keys(ws, signer, [batch.keys[0].id], now=START - timedelta(hours=1))
    folder = tmp_path / "bundles"
    folder.mkdir()
    for scenario, key in ((ada(), batch.keys[0]), (prompts_only(), batch.keys[1])):
        scenario.assessment, scenario.candidate_key = assessment.id, key.key_text
        build(scenario, folder / f"{scenario.name}.pst", pack=batch.pack)
    return folder / "ada.pst"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_verify_rejects_the_revoked_key(revoked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "verify", str(revoked))
    assert code == 1
    assert "candidate-key" in out and "before the session started" in out


def test_score_runs_the_same_checks_as_verify(
    revoked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "score", str(revoked.parent), "--format", "json", "--jobs", "2")
    assert code == 1
    rows = {Path(r["path"]).name: r for r in json.loads(out)}
    assert rows["ada.pst"]["verified"] is False
    assert "before the session started" in rows["ada.pst"]["error"]
    assert rows["prompts-only.pst"]["verified"] is True
    code, out, _ = _run(capsys, "score", str(revoked), "--format", "json", "--jobs", "1")
    assert code == 1 and json.loads(out)[0]["verified"] is False


def test_import_refuses_the_revoked_key(revoked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "import", str(revoked), "--json")
    assert code == 1
    (result,) = json.loads(out)["imports"]
    assert result["status"] == "failed" and "before the session started" in result["message"]
    code, out, _ = _run(capsys, "import", str(revoked.parent / "prompts-only.pst"), "--json")
    assert code == 0 and json.loads(out)["imports"][0]["status"] == "imported"


def test_cohort_leaves_the_revoked_key_out(
    revoked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "cohort", str(revoked.parent), "--json")
    assert code == 1
    (cohort,) = json.loads(out)["cohorts"]
    assert [s["bundle"] for s in cohort["sessions"]] == [str(revoked.parent / "prompts-only.pst")]
    assert f"✗ {revoked} left out:" in err and "before the session started" in err


def test_review_rejects_the_revoked_key(
    revoked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "review", str(revoked), "-o", str(tmp_path / "r.html"))
    assert code == 1 and "candidate-key" in err
