"""examples/bundles give the documented numbers; the CI example runs as written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from analysis_scenarios import DEMO
from analysis_tamper import tampered

from promptster.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "bundles"
SCRIPT = ROOT / "examples" / "ci" / "score-bundles.sh"


def test_examples_are_the_scenarios(demo_dir: Path) -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.pst")) == sorted(
        f"{make().name}.pst" for make in DEMO
    )


def test_score_examples_gives_the_documented_csv(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["score", "examples/bundles", "--format", "csv", "--jobs", "1"]) == 0
    assert capsys.readouterr().out == (EXAMPLES / "expected-scores.csv").read_text()


def test_cohort_examples_gives_the_documented_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["cohort", "examples/bundles", "--json"]) == 0
    assert capsys.readouterr().out == (EXAMPLES / "expected-cohort.json").read_text()


def _run_script(folder: Path, scores: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["bash", str(SCRIPT), str(folder), str(scores)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_ci_script_passes_on_good_bundles_and_fails_on_tampering(tmp_path: Path) -> None:
    if shutil.which("promptster", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("the promptster entry point is not installed next to this python")
    good = _run_script(EXAMPLES, tmp_path / "good.csv")
    assert good.returncode == 0, good.stderr
    assert (tmp_path / "good.csv").read_text().count("\n") == 5
    folder = tmp_path / "bundles"
    shutil.copytree(EXAMPLES, folder)
    tampered(EXAMPLES / "ada.pst", folder / "ada.pst")
    bad = _run_script(folder, tmp_path / "bad.csv")
    assert bad.returncode == 1
    assert "failed verification" in bad.stderr and "ada.pst" in bad.stderr
    empty = _run_script(tmp_path / "nothing-here", tmp_path / "none.csv")
    assert empty.returncode == 2
