"""`promptster redeem` and the core `redeem_key` that `start` calls."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reviewer_helpers import Cli

from promptster.errors import CheckFailed, EnvironmentProblem, InputError
from promptster.formats.crypto import SigningKey, dsse_sign
from promptster.formats.jsonio import canonical_json
from promptster.issue.assessment import PACK_PAYLOAD_TYPE, open_pack
from promptster.issue.candidate_state import read_state
from promptster.issue.identity import Signer
from promptster.issue.redeem import (
    CAPTURED,
    ConsentDeclined,
    ConsentInfo,
    attach_session,
    find_pack,
    find_redemption,
    mark_completed,
    redeem_key,
)
from promptster.reviewer.assessments import (
    AssessmentSpec,
    create_assessment,
    create_keys,
    revoke_keys,
)
from promptster.reviewer.store import AssessmentRecord, Workspace


class Issued:
    """An assessment pack on disk plus its keys, made by the real reviewer core."""

    def __init__(self, signer: Signer, assessment: AssessmentRecord, folder: Path) -> None:
        with Workspace.open() as ws:
            batch = create_keys(ws, signer, assessment.id, count=3)
            self.old = create_keys(
                ws, signer, assessment.id, count=1, now=datetime.now(UTC) - timedelta(days=8)
            ).keys[0]
            revoke_keys(ws, signer, [batch.keys[2].id])
            record = ws.find_assessment(assessment.id)
        assert record is not None and record.pack is not None
        self.good, self.other, self.revoked = batch.keys
        folder.mkdir(parents=True, exist_ok=True)
        self.pack_path = folder / "assessment-pack-from-email.json"
        self.pack_path.write_bytes(record.pack)
        self.folder = folder


@pytest.fixture
def issued(signer: Signer, assessment: AssessmentRecord, tmp_path: Path) -> Issued:
    return Issued(signer, assessment, tmp_path / "work")


@pytest.fixture
def candidate_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The candidate's machine: a PROMPTSTER_HOME of their own."""
    path = tmp_path / "candidate-home"
    return path


def accept(info: ConsentInfo) -> bool:
    return True


def test_a_good_key_is_redeemed_with_consent(issued: Issued, candidate_home: Path) -> None:
    seen: list[ConsentInfo] = []

    def consent(info: ConsentInfo) -> bool:
        seen.append(info)
        return True

    typed = issued.good.key_text.lower().replace("0", "o")
    redemption = redeem_key(typed, issued.pack_path, consent, state_dir=candidate_home)
    assert redemption.key == issued.good.key_text
    assert redemption.key_id == issued.good.id
    assert redemption.role == "Backend Engineer" and redemption.org == "Acme Hiring"
    assert redemption.time_limit_minutes == 90
    assert redemption.session_id is None
    (info,) = seen
    assert info.captured == CAPTURED and "anything outside this workspace folder" in info.text()
    assert "Secret" not in info.text()  # the title is never shown to candidates
    assert redemption.pack_bytes() == issued.pack_path.read_bytes()
    assert read_state(candidate_home) == [redemption]


def test_start_resumes_a_redeemed_key_and_marks_it_used(
    issued: Issued, candidate_home: Path, tmp_path: Path
) -> None:
    redeem_key(issued.good.key_text, issued.pack_path, accept, state_dir=candidate_home)

    def must_not_ask(info: ConsentInfo) -> bool:
        raise AssertionError("consent asked twice")

    elsewhere = tmp_path / "empty-workspace"  # no pack here: the saved copy is used
    elsewhere.mkdir()
    resumed = redeem_key(
        issued.good.key_text,
        None,
        must_not_ask,
        folder=elsewhere,
        resume=True,
        state_dir=candidate_home,
    )
    started = attach_session(resumed, "session-1", state_dir=candidate_home)
    assert find_redemption(issued.good.key_text, candidate_home) == started
    with pytest.raises(CheckFailed, match="for session session-1"):
        redeem_key(issued.good.key_text, None, accept, resume=True, state_dir=candidate_home)
    done = mark_completed(started, "session-1", state_dir=candidate_home)
    assert done.completed_at is not None
    assert read_state(candidate_home)[0].completed_at == done.completed_at


def test_declining_consent_stores_nothing(issued: Issued, candidate_home: Path) -> None:
    with pytest.raises(ConsentDeclined, match="nothing was recorded"):
        redeem_key(
            issued.good.key_text, issued.pack_path, lambda _: False, state_dir=candidate_home
        )
    assert read_state(candidate_home) == []


def bad_keys(issued: Issued) -> list[tuple[str, type[Exception], str]]:
    good = issued.good.key_text
    typo = good[:-1] + ("0" if good[-1] != "0" else "1")
    return [
        ("hello", InputError, "is not a Promptster candidate key"),
        ("PST-1234-567", InputError, "it has 7 symbols after PST"),
        (typo, InputError, "this key has a typo"),
        (issued.revoked.key_text, CheckFailed, "was revoked by the reviewer"),
        (issued.old.key_text, CheckFailed, "expired on"),
    ]


def test_each_kind_of_bad_key_is_refused(issued: Issued, candidate_home: Path) -> None:
    for text, error, message in bad_keys(issued):
        with pytest.raises(error, match=message):
            redeem_key(text, issued.pack_path, accept, state_dir=candidate_home)
    assert read_state(candidate_home) == []


def test_a_key_of_another_assessment_is_refused(
    issued: Issued, signer: Signer, candidate_home: Path
) -> None:
    with Workspace.open() as ws:
        other = create_assessment(ws, signer, AssessmentSpec("Other", "Frontend", "# Other\n"))
        stranger = create_keys(ws, signer, other.id, count=1).keys[0]
    with pytest.raises(CheckFailed, match="is not one of the keys of this assessment pack"):
        redeem_key(stranger.key_text, issued.pack_path, accept, state_dir=candidate_home)


def test_a_key_is_good_once_per_machine(issued: Issued, candidate_home: Path) -> None:
    redeem_key(issued.good.key_text, issued.pack_path, accept, state_dir=candidate_home)
    with pytest.raises(CheckFailed, match="already redeemed on this machine"):
        redeem_key(issued.good.key_text, issued.pack_path, accept, state_dir=candidate_home)


def test_tampered_and_forged_packs_are_refused(issued: Issued, candidate_home: Path) -> None:
    envelope = json.loads(issued.pack_path.read_bytes())
    body = json.loads(base64.b64decode(envelope["payload"]))
    body["timeLimitMinutes"] = 9999
    envelope["payload"] = base64.b64encode(canonical_json(body)).decode()
    tampered = issued.folder / "tampered.json"
    tampered.write_text(json.dumps(envelope))
    with pytest.raises(CheckFailed, match="changed after the reviewer signed it"):
        redeem_key(issued.good.key_text, tampered, accept, state_dir=candidate_home)

    mallory = SigningKey.from_seed(b"m" * 32)
    forged = issued.folder / "forged.json"
    forged.write_bytes(
        canonical_json(dsse_sign(PACK_PAYLOAD_TYPE, canonical_json(body), mallory).to_json_obj())
    )
    with pytest.raises(CheckFailed, match="someone else signed it"):
        redeem_key(issued.good.key_text, forged, accept, state_dir=candidate_home)

    broken = issued.folder / "broken.json"
    broken.write_text('{"payloadType": ')
    with pytest.raises(InputError, match="not valid JSON"):
        redeem_key(issued.good.key_text, broken, accept, state_dir=candidate_home)
    with pytest.raises(InputError, match="does not exist"):
        redeem_key(
            issued.good.key_text, issued.folder / "nope.json", accept, state_dir=candidate_home
        )
    assert read_state(candidate_home) == []


def test_the_pack_is_found_by_its_format_field(issued: Issued, tmp_path: Path) -> None:
    (issued.folder / "package.json").write_text('{"name": "x"}')
    (issued.folder / "tsconfig.json").write_text("not even json")
    assert find_pack(issued.folder) == issued.pack_path
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "assessment.json").write_text('{"format": "something else"}')
    with pytest.raises(InputError, match="no assessment pack in"):
        find_pack(empty)
    (issued.folder / "copy.json").write_bytes(issued.pack_path.read_bytes())
    with pytest.raises(InputError, match="2 assessment packs"):
        find_pack(issued.folder)


def test_no_pack_names_the_files_meant_as_one(tmp_path: Path) -> None:
    folder = tmp_path / "take-home"
    folder.mkdir()
    (folder / "package.json").write_text('{"name": "x"}')  # not meant as a pack: not named
    with pytest.raises(InputError) as caught:
        find_pack(folder)
    assert "skipped" not in caught.value.hint
    (folder / "pack.json").write_text("{bad")
    (folder / "my-assessment.json").write_text('{"title": "x"}')
    with pytest.raises(InputError, match="no assessment pack in") as caught:
        find_pack(folder)
    hint = caught.value.hint
    assert "my-assessment.json is valid JSON but not a signed Promptster assessment pack" in hint
    assert "pack.json is not valid JSON" in hint and "package.json" not in hint
    assert "--assessment FILE" in hint


def test_a_damaged_candidate_state_is_reported_and_kept(
    issued: Issued, candidate_home: Path
) -> None:
    candidate_home.mkdir(parents=True)
    state = candidate_home / "redemptions.json"
    state.write_text("{broken")
    with pytest.raises(EnvironmentProblem, match="candidate state file is damaged"):
        redeem_key(issued.good.key_text, issued.pack_path, accept, state_dir=candidate_home)
    assert state.read_text() == "{broken"


# -- the command ----------------------------------------------------------------------------


@pytest.fixture
def in_candidate_folder(
    issued: Issued, candidate_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Issued:
    monkeypatch.chdir(issued.folder)
    monkeypatch.setenv("PROMPTSTER_HOME", str(candidate_home))
    return issued


def test_redeem_command_accepts_a_good_key(run: Cli, in_candidate_folder: Issued) -> None:
    key = in_candidate_folder.good.key_text
    declined = run("redeem", key, input="no\n")
    assert declined.exit_code == 2 and "consent was not given" in declined.stderr
    eof = run("redeem", key, input="")
    assert eof.exit_code == 2 and "consent was not given" in eof.stderr
    assert "pass --accept to accept the consent text non-interactively" in eof.stderr
    assert "--accept" not in declined.stderr  # an answer was read: no hint needed
    accepted = run("redeem", key, input="yes\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert "Organisation:  Acme Hiring" in accepted.stderr
    assert "Time limit:    90 minutes" in accepted.stderr
    assert "It does not record" in accepted.stderr
    assert f"next: promptster start {key}" in accepted.stderr
    assert accepted.stdout == f"✓ {key} accepted for Backend Engineer at Acme Hiring\n"


def test_redeem_command_with_accept_and_json(
    run: Cli, in_candidate_folder: Issued, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pack = elsewhere / "p.json"
    pack.write_bytes(in_candidate_folder.pack_path.read_bytes())
    body = run.json(
        "redeem", in_candidate_folder.good.key_text, "--assessment", str(pack), "--accept"
    )
    assert body["keyId"] == in_candidate_folder.good.id
    assert body["assessmentId"] == open_pack(pack.read_bytes()).pack.assessment_id


def test_redeem_command_refuses_each_bad_key_with_its_exit_code(
    run: Cli, in_candidate_folder: Issued
) -> None:
    for text, error, message in bad_keys(in_candidate_folder):
        result = run("redeem", text, "--accept")
        assert result.exit_code == (2 if error is InputError else 1), result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
    run.json("redeem", in_candidate_folder.good.key_text, "--accept")
    again = run("redeem", in_candidate_folder.good.key_text, "--accept")
    assert again.exit_code == 1 and "already redeemed on this machine" in again.stderr


def test_redeem_command_without_a_pack(
    run: Cli, issued: Issued, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    result = run("redeem", issued.good.key_text, "--accept")
    assert result.exit_code == 2
    assert "no assessment pack in" in result.stderr and "--assessment FILE" in result.stderr
