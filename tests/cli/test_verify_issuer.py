"""Unknown reviewer = not verified: `verify`, `review` and `score` compare the pack's issuer
with the reviewer's keys (`--reviewer-key FILE|FINGERPRINT`, the local identity), say first
when they could not, and fail with `--require-issuer`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptster.cli import main
from promptster.formats.crypto import SigningKey
from promptster.issue.identity import init_identity
from promptster.record.synth import SYNTH_REVIEWER, generate_bundle
from support import require_executable

SYNTH = SYNTH_REVIEWER.public.fingerprint
STRANGER = SigningKey.from_seed(b"\x33" * 32).public.fingerprint


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_executable("git")
    path = tmp_path_factory.mktemp("issuer") / "sample.pst"
    generate_bundle(path, events=60, seed=5)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def issuer(out: str) -> tuple[bool, dict[str, str]]:
    (report,) = json.loads(out)["bundles"]
    finding = next(f for f in report["findings"] if f["check"] == "issuer")
    return report["issuerChecked"], finding


def test_verify_without_any_reviewer_key_says_so_first(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "verify", str(sample))
    assert code == 0
    assert out.splitlines()[0].endswith("verified (issuer not checked: no reviewer key)")
    code, out, _ = run(capsys, "verify", "--json", str(sample))
    checked, finding = issuer(out)
    assert checked is False and finding["status"] == "warning"


def test_require_issuer_turns_the_unchecked_issuer_into_a_failure(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "verify", "--json", "--require-issuer", str(sample))
    assert code == 1
    checked, finding = issuer(out)
    assert checked is False and finding["status"] == "failed"


@pytest.mark.parametrize("spelling", ["fingerprint", "bare-hex", "public-key-file", "json-file"])
def test_the_issuers_key_in_any_spelling_verifies(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    value = {
        "fingerprint": SYNTH,
        "bare-hex": SYNTH.removeprefix("sha256:").upper(),
    }.get(spelling)
    if value is None:
        key_file = tmp_path / "reviewer.key.txt"
        text = SYNTH_REVIEWER.public.text
        key_file.write_text(json.dumps({"publicKey": text}) if spelling == "json-file" else text)
        value = str(key_file)
    code, out, _ = run(
        capsys, "verify", "--json", "--require-issuer", "--reviewer-key", value, str(sample)
    )
    assert code == 0
    checked, finding = issuer(out)
    assert checked is True and finding["status"] == "ok"


def test_a_pack_from_another_key_fails_verify_review_and_score(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "verify", "--json", "--reviewer-key", STRANGER, str(sample))
    assert code == 1
    assert "which is not yours" in issuer(out)[1]["message"]
    code, _, err = run(
        capsys, "review", str(sample), "-o", str(tmp_path / "r.html"), "--reviewer-key", STRANGER
    )
    assert code == 1 and "failed verification (issuer)" in err
    code, out, _ = run(capsys, "score", "--format", "json", "--reviewer-key", STRANGER, str(sample))
    assert code == 1


def test_the_local_reviewer_identity_is_the_default_reviewer_key(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A reviewer with an identity on this machine did not issue the synthetic pack.
    init_identity("Acme Hiring", None)
    code, out, _ = run(capsys, "verify", "--json", str(sample))
    assert code == 1
    checked, finding = issuer(out)
    assert checked is True and finding["status"] == "failed"
    # Trusting the synthetic reviewer as well makes it pass.
    assert run(capsys, "verify", "--reviewer-key", SYNTH, str(sample))[0] == 0


def test_review_says_first_that_the_issuer_was_not_checked(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "review", str(sample), "-o", str(tmp_path / "r.html"))
    assert code == 0
    assert "verified (issuer not checked: no reviewer key)" in err.splitlines()[0]
    assert (
        run(capsys, "review", str(sample), "-o", str(tmp_path / "r.html"), "--require-issuer")[0]
        == 1
    )


def test_a_bad_reviewer_key_is_a_usage_error(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "verify", "--reviewer-key", "no-such-file", str(sample))
    assert code == 2
    assert "neither a key fingerprint nor a file" in err


def test_synth_says_how_to_trust_its_issuer_once_you_have_an_identity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new reviewer who tries `synth` after `identity init`: the issuer is not theirs, and
    synth's own output says which `--reviewer-key` makes verify accept it."""
    init_identity("Acme Hiring", None)
    bundle = tmp_path / "try.pst"
    code, _, err = run(capsys, "synth", "-o", str(bundle), "--events", "30")
    assert code == 0
    (line,) = [line for line in err.splitlines() if "--reviewer-key" in line]
    fingerprint = line.split("--reviewer-key ", 1)[1].strip()
    assert fingerprint == SYNTH_REVIEWER.public.fingerprint
    assert run(capsys, "verify", str(bundle))[0] == 1
    assert run(capsys, "verify", "--reviewer-key", fingerprint, str(bundle))[0] == 0
