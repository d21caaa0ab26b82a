"""`identity init|show` and unlocking the reviewer key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from reviewer_helpers import Cli

from promptster.errors import EnvironmentProblem, InputError, StateError
from promptster.issue.identity import init_identity, read_identity, unlock_identity


def test_init_creates_a_0600_key_and_show_prints_it(run: Cli, home: Path) -> None:
    created = run.json("identity", "init", "--org", "Acme Hiring")
    key_file = home / "identity" / "reviewer.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert created["org"] == "Acme Hiring" and created["encrypted"] is False
    shown = run.json("identity", "show")
    assert shown["publicKey"] == created["publicKey"]
    assert shown["fingerprint"].startswith("sha256:")
    human = run("identity", "show")
    assert human.exit_code == 0 and created["fingerprint"] in human.stdout
    assert human.stderr == ""  # the result is on stdout, nothing else is said


def test_init_refuses_to_replace_an_identity(run: Cli, home: Path) -> None:
    run.json("identity", "init")
    before = (home / "identity" / "reviewer.key").read_bytes()
    again = run("identity", "init")
    assert again.exit_code == 2
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
    assert (home / "identity" / "reviewer.key").read_bytes() == before


def test_passphrase_comes_from_the_environment(
    run: Cli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = run("identity", "init", "--passphrase-env", "MY_PASS")
    assert missing.exit_code == 2 and "MY_PASS is not set" in missing.stderr
    assert not (home / "identity").exists()
    monkeypatch.setenv("MY_PASS", "correct horse")
    assert run.json("identity", "init", "--passphrase-env", "MY_PASS")["encrypted"] is True
    assert b"ENCRYPTED" in (home / "identity" / "reviewer.key").read_bytes()
    assert unlock_identity("MY_PASS").identity.encrypted
    with pytest.raises(InputError, match="PROMPTSTER_PASSPHRASE is not set"):
        unlock_identity()
    monkeypatch.setenv("MY_PASS", "wrong horse")
    with pytest.raises(InputError, match="wrong passphrase") as caught:
        unlock_identity("MY_PASS")
    assert caught.value.exit_code == 2


def test_an_unreadable_key_file_is_reported_not_crashed_on(home: Path) -> None:
    init_identity("Acme", None)
    key_file = home / "identity" / "reviewer.key"
    key_file.write_bytes(b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    with pytest.raises(InputError, match="cannot use the reviewer identity"):
        unlock_identity()
    key_file.unlink()
    with pytest.raises(InputError, match="is missing"):
        unlock_identity()


def test_a_damaged_public_file_is_reported(home: Path) -> None:
    init_identity("Acme", None)
    (home / "identity" / "reviewer.json").write_text("{not json")
    with pytest.raises(InputError, match="reviewer identity file is damaged"):
        read_identity()


def test_a_key_readable_by_others_is_refused(home: Path) -> None:
    init_identity("Acme", None)
    (home / "identity" / "reviewer.key").chmod(0o644)
    with pytest.raises(EnvironmentProblem, match="can be read by other users"):
        unlock_identity()


def test_swapped_key_files_are_detected(home: Path, tmp_path: Path) -> None:
    init_identity("Acme", None)
    other = tmp_path / "other"
    init_identity("Other", None, directory=other)
    (home / "identity" / "reviewer.key").write_bytes((other / "reviewer.key").read_bytes())
    with pytest.raises(InputError, match="does not hold the key"):
        unlock_identity()


def test_commands_that_sign_need_an_identity(run: Cli, tmp_path: Path) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# Task\n")
    result = run("assessment", "create", "--title", "T", "--role", "R", "--brief", str(brief))
    assert result.exit_code == 2
    assert "no reviewer identity" in result.stderr and "identity init" in result.stderr
    with pytest.raises(StateError):
        read_identity()
