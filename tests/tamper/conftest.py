"""Fixtures for the tamper suite: pristine bundles, and a sandbox that notices stray files."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tamperkit import EVENTS, OTHER_SEED, SEED, Bundle, Outcome, Sandbox, blob_name

from promptster.cli import main
from promptster.issue.keys import CandidateKey, check_symbol
from promptster.record.synth import SYNTH_REVIEWER, generate_bundle, session_key_for_seed
from support import require_executable


@pytest.fixture(scope="session")
def pristine_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid synthetic bundle (seed 11, about 150 events); never modified."""
    require_executable("git")
    path = tmp_path_factory.mktemp("pristine") / "session.pst"
    generate_bundle(path, events=EVENTS, seed=SEED)
    path.chmod(0o444)
    return path


@pytest.fixture(scope="session")
def other_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second valid bundle from another session and key (seed 12)."""
    require_executable("git")
    path = tmp_path_factory.mktemp("other") / "other.pst"
    generate_bundle(path, events=EVENTS, seed=OTHER_SEED)
    path.chmod(0o444)
    return path


CANDIDATE = CandidateKey("ABCD123" + check_symbol("ABCD123"))


@pytest.fixture(scope="session")
def full_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pristine session recorded with CANDIDATE's key (so its pack, signed by the
    synthetic reviewer, holds that key's hash), plus a cast and a blob, signed again: it
    passes the reviewer checks too."""
    require_executable("git")
    folder = tmp_path_factory.mktemp("full")
    generate_bundle(folder / "base.pst", events=EVENTS, seed=SEED, candidate_key=CANDIDATE.text)
    bundle = Bundle.load(folder / "base.pst", session_key_for_seed(SEED))
    bundle.add_member(
        "terminal/0.cast", b'{"version": 2, "width": 80, "height": 24}\n[0.5, "o", "$ ls\\r\\n"]\n'
    )
    blob = b"full command output\n" * 50
    bundle.add_member(blob_name(blob), blob)
    bundle.resign()
    path = folder / "full.pst"
    bundle.save(path)
    path.chmod(0o444)
    return path


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path / "work", tmp_path / "temp", tmp_path / "cwd")
    for path in (box.work, box.temp, box.cwd):
        path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(box.temp))
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))  # no reviewer workspace
    monkeypatch.setenv("TMPDIR", str(box.temp))
    monkeypatch.chdir(box.cwd)
    yield box


@pytest.fixture
def verify_cli(capsys: pytest.CaptureFixture[str], sandbox: Sandbox) -> Any:
    """Run `promptster verify` (JSON, then human) through the real CLI entry point."""

    def run(path: Path) -> Outcome:
        before = sandbox.listing()
        capsys.readouterr()
        trust = ["--reviewer-key", SYNTH_REVIEWER.public.fingerprint]
        code = main(["verify", "--json", *trust, str(path)])
        out = capsys.readouterr()
        assert "Traceback" not in out.err and "internal error" not in out.err, out.err
        report = json.loads(out.out)["bundles"][0]
        human_code = main(["verify", *trust, str(path)])
        human = capsys.readouterr()
        assert human_code == code
        assert human.err == ""  # the findings are the result: on stdout
        assert "Traceback" not in human.out and "internal error" not in human.err, human.err
        assert sandbox.listing() == before, "verify left files behind"
        return Outcome(code, report, human.out)

    return run
