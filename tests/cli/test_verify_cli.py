"""`promptster verify` and `promptster synth` through the CLI: output streams and exit codes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from promptster.cli import main
from support import require_executable


@pytest.fixture(autouse=True)
def _no_reviewer_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))


CORE_CHECKS = ["zip", "manifest", "signature", "hashes", "timeline", "binding", "replay"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_executable("git")
    path = tmp_path_factory.mktemp("cli") / "sample.pst"
    assert main(["synth", "-o", str(path), "--events", "120", "--seed", "3"]) == 0
    path.chmod(0o444)
    return path


def tampered_copy(source: Path, target: Path) -> Path:
    """Rewrite one prompt in the timeline (a well-formed zip, so only the hashes can tell)."""
    with zipfile.ZipFile(source) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(target, "w") as archive:
        for info, data in members:
            if info.filename == "timeline.jsonl":
                data = data.replace(b'"kind":"prompt"', b'"kind":"note"', 1)
            archive.writestr(info, data)
    return target


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_valid_bundle_exits_0_with_a_short_summary_on_stdout(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "verify", str(sample))
    assert code == 0
    assert err == ""  # the summary is the result: stdout, for a pipe or a file
    first, *rest = out.strip().splitlines()
    assert first.startswith(f"✓ {sample}")
    # No reviewer identity and no --reviewer-key: the first line says the issuer is unchecked.
    assert first.endswith("verified (issuer not checked: no reviewer key)")
    # Without -v only problems are listed: here the reviewer-side warning that says why.
    assert len(rest) == 1
    assert rest[0].startswith("    warning issuer: issuer not checked: assessment synthetic")


def test_verbose_lists_every_check(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", "-v", str(sample))
    assert code == 0
    for check in CORE_CHECKS:
        assert f"ok {check}:" in out


def test_json_reports_every_finding_on_stdout(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "verify", "--json", str(sample))
    assert code == 0
    assert err == ""
    document = json.loads(out)
    (report,) = document["bundles"]
    assert report["path"] == str(sample)
    assert report["ok"] is True
    assert report["eventCount"] > 100
    checks = [f["check"] for f in report["findings"]]
    assert checks[:7] == CORE_CHECKS
    # The reviewer side's checks come last.
    assert checks[7:] == ["issuer", "candidate-key", "time-limit"]
    assert report["issuerChecked"] is False
    for finding in report["findings"]:
        assert set(finding) == {"check", "status", "message", "seq"}
        assert finding["status"] == ("warning" if finding["check"] == "issuer" else "ok")


def test_tampered_copy_exits_1_and_says_what_was_changed(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tampered_copy(sample, tmp_path / "bad.pst")
    code, out, err = run(capsys, "verify", str(bad))
    assert code == 1
    assert err == ""  # the findings are the result: stdout
    assert "failed verification" in out
    assert "failed hashes: member 'timeline.jsonl' was changed after signing" in out


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_zip = tmp_path / "notes.pst"
    not_zip.write_text("just some text\n")
    code, out, _ = run(capsys, "verify", str(not_zip))
    assert code == 2
    assert "is not a readable bundle" in out
    assert f"{not_zip}: {not_zip}" not in out and out.count(str(not_zip)) == 1
    code, out, _ = run(capsys, "verify", str(tmp_path / "missing.pst"))
    assert code == 2
    assert "cannot be read" in out and "no such file" in out
    assert "failed verification" not in out
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "verify", str(empty))
    assert code == 2
    assert f"no bundles (*.pst) in the folder {empty}" in err


def test_a_folder_is_searched_for_bundles(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "bundles"
    (folder / "nested").mkdir(parents=True)
    (folder / "b.pst").write_bytes(sample.read_bytes())
    (folder / "nested" / "a.pst").write_bytes(sample.read_bytes())
    (folder / "notes.txt").write_text("not a bundle\n")
    code, out, _ = run(capsys, "verify", str(folder), "--json")
    assert code == 0
    paths = [b["path"] for b in json.loads(out)["bundles"]]
    assert paths == [str(folder / "b.pst"), str(folder / "nested" / "a.pst")]


def test_several_bundles_exit_with_the_worst_outcome(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tampered_copy(sample, tmp_path / "bad.pst")
    code, out, _ = run(capsys, "verify", "--json", str(sample), str(bad))
    assert code == 1
    assert [r["ok"] for r in json.loads(out)["bundles"]] == [True, False]
    code, out, _ = run(capsys, "verify", "--json", str(sample), str(bad), str(tmp_path / "gone"))
    assert code == 2
    assert [r["ok"] for r in json.loads(out)["bundles"]] == [True, False, False]


def test_verify_without_arguments_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "verify")
    assert code == 2
    assert "Missing argument" in err


def test_verify_writes_nothing(
    sample: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    before = sorted(p.name for p in sample.parent.iterdir())
    assert run(capsys, "verify", str(sample))[0] == 0
    assert list(tmp_path.iterdir()) == []
    assert sorted(p.name for p in sample.parent.iterdir()) == before


def test_synth_is_reproducible_and_prints_the_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.pst", tmp_path / "b.pst"
    code, out, err = run(capsys, "synth", "-o", str(first), "--events", "40", "--seed", "9")
    assert code == 0
    assert out.strip() == "sha256:" + hashlib.sha256(first.read_bytes()).hexdigest()
    assert f"wrote {first}" in err
    run(capsys, "synth", "-o", str(second), "--events", "40", "--seed", "9")
    assert first.read_bytes() == second.read_bytes()
    run(capsys, "synth", "-o", str(second), "--events", "40", "--seed", "10")
    assert first.read_bytes() != second.read_bytes()


def test_synth_candidate_name_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "named.pst"
    run(capsys, "synth", "-o", str(path), "--events", "20", "--candidate", "Katherine Johnson")
    with zipfile.ZipFile(path) as archive:
        first = json.loads(archive.read("timeline.jsonl").split(b"\n")[0])
    assert first["kind"] == "session_start"
    assert first["data"]["candidateName"] == "Katherine Johnson"


@pytest.mark.parametrize(
    ("events", "message"),
    [("1", "at least 2"), ("9000000", "limited to 5,000,000"), ("many", "is not a valid integer")],
)
def test_synth_rejects_bad_event_counts(
    events: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "synth", "-o", str(tmp_path / "x.pst"), "--events", events)
    assert code == 2
    assert message in err
    assert not (tmp_path / "x.pst").exists()


def test_new_user_walkthrough_with_the_installed_command(tmp_path: Path) -> None:
    """The issue's "done when": generate a sample, verify it (0), verify a tampered copy (1)."""
    require_executable("git")
    exe = Path(sys.executable).with_name("promptster")
    command = str(exe) if exe.exists() else require_executable("promptster")
    sample = tmp_path / "sample.pst"
    made = subprocess.run(
        [command, "synth", "-o", str(sample), "--events", "60"], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    good = subprocess.run([command, "verify", str(sample)], capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    bad = tampered_copy(sample, tmp_path / "tampered.pst")
    failed = subprocess.run([command, "verify", str(bad)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "'timeline.jsonl' was changed after signing" in failed.stdout
    assert "Traceback" not in failed.stderr


def test_synth_into_a_directory_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "synth", "-o", str(tmp_path), "--events", "10")
    assert code == 2
    assert f"{tmp_path} is a directory" in err
    assert list(tmp_path.iterdir()) == []


def test_synth_to_an_unwritable_place_is_an_environment_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("promptster.bundle.writer.atomic_writer", full_disk)
    code, _, err = run(capsys, "synth", "-o", str(tmp_path / "x.pst"), "--events", "10")
    assert code == 3
    assert "cannot write" in err and "No space left on device" in err
    assert "internal error" not in err
