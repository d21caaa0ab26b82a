"""The signed assessment pack: format, signature, tampering, hashing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from promptster.errors import CheckFailed, FormatError, NewerFormatError
from promptster.formats.crypto import SigningKey, dsse_sign
from promptster.formats.jsonio import canonical_json
from promptster.issue.assessment import (
    PACK_PAYLOAD_TYPE,
    AssessmentPack,
    KdfParams,
    PackKey,
    RepoRef,
    looks_like_pack,
    new_key_hash,
    open_pack,
    sign_pack,
)
from promptster.issue.keys import generate_key

REVIEWER = SigningKey.from_seed(b"r" * 32)
MALLORY = SigningKey.from_seed(b"m" * 32)
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_pack(signer: SigningKey = REVIEWER, **changes: object) -> tuple[AssessmentPack, str]:
    key = generate_key()
    salt, digest = new_key_hash(key)
    fields: dict[str, object] = {
        "assessment_id": "a1b2c3d4-0000-4000-8000-000000000000",
        "org": "Acme Hiring",
        "role": "Backend Engineer",
        "brief": "# Task\nFix it.\n",
        "time_limit_minutes": 60,
        "repo": RepoRef("https://example.com/r.git", "abcdef1"),
        "reviewer_public_key": signer.public,
        "keys": (PackKey("ck_1", salt, digest, NOW + timedelta(days=7), False),),
        "issued_at": NOW,
    }
    fields.update(changes)
    return AssessmentPack(**fields), key.text  # type: ignore[arg-type]


def payload_of(raw: bytes) -> dict[str, Any]:
    envelope = json.loads(raw)
    return json.loads(base64.b64decode(envelope["payload"]))  # type: ignore[no-any-return]


def resign(body: dict[str, object], key: SigningKey) -> bytes:
    return canonical_json(dsse_sign(PACK_PAYLOAD_TYPE, canonical_json(body), key).to_json_obj())


def test_a_signed_pack_round_trips_and_finds_its_key() -> None:
    pack, key_text = make_pack()
    raw = sign_pack(pack, REVIEWER)
    assert looks_like_pack(raw)
    signed = open_pack(raw)
    assert signed.pack == pack
    assert signed.reviewer_fingerprint == REVIEWER.public.fingerprint
    from promptster.issue.keys import parse_key

    entry = signed.pack.find_key(parse_key(key_text))
    assert entry is not None and entry.id == "ck_1"
    assert signed.pack.find_key(generate_key()) is None


def test_the_pack_has_the_documented_fields_and_no_title() -> None:
    pack, _ = make_pack()
    body = payload_of(sign_pack(pack, REVIEWER))
    assert body["format"] == "promptster-assessment-pack"
    assert body["formatVersion"] == 1
    assert set(body) == {
        "format", "formatVersion", "assessmentId", "org", "role", "brief", "timeLimitMinutes",
        "repo", "reviewerPublicKey", "kdf", "keys", "issuedAt",
    }  # fmt: skip
    assert body["kdf"] == {"name": "scrypt", "n": 16384, "r": 8, "p": 1, "dklen": 32}
    keys = body["keys"]
    assert isinstance(keys, list) and len(keys) == 1
    assert set(keys[0]) == {"id", "salt", "scryptHash", "expiresAt", "revoked"}
    assert "title" not in json.dumps(body).lower()


def test_a_changed_payload_fails_the_signature() -> None:
    pack, _ = make_pack()
    envelope = json.loads(sign_pack(pack, REVIEWER))
    body = payload_of(sign_pack(pack, REVIEWER))
    body["timeLimitMinutes"] = 600
    envelope["payload"] = base64.b64encode(canonical_json(body)).decode()
    with pytest.raises(CheckFailed, match="changed after the reviewer signed it"):
        open_pack(json.dumps(envelope).encode())


def test_a_pack_signed_by_someone_else_than_the_key_it_names_fails() -> None:
    pack, _ = make_pack()
    forged = resign(pack.to_json_obj(), MALLORY)  # names REVIEWER, signed by MALLORY
    with pytest.raises(CheckFailed, match="someone else signed it"):
        open_pack(forged)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"payloadType": "application/json", "payload": "e30=", "signatures": [{"sig": ""}]}',
         "not a pack"),
    ],
)  # fmt: skip
def test_malformed_files_are_format_errors(data: bytes, message: str) -> None:
    assert not looks_like_pack(data)
    with pytest.raises(FormatError, match=message):
        open_pack(data)


def test_newer_format_versions_ask_for_an_upgrade() -> None:
    pack, _ = make_pack()
    body = pack.to_json_obj()
    body["formatVersion"] = 2
    with pytest.raises(NewerFormatError, match="format version 2") as caught:
        open_pack(resign(body, REVIEWER))
    assert "upgrade promptster" in caught.value.hint


def test_hostile_scrypt_parameters_are_refused_before_hashing() -> None:
    pack, _ = make_pack()
    body = pack.to_json_obj()
    body["kdf"] = {"name": "scrypt", "n": 2**30, "r": 8, "p": 1, "dklen": 32}
    with pytest.raises(FormatError, match="out of range"):
        open_pack(resign(body, REVIEWER))
    with pytest.raises(FormatError, match="not integers"):
        KdfParams.from_json_obj({"name": "scrypt", "n": "1", "r": 8, "p": 1, "dklen": 32})


def test_unknown_fields_from_a_newer_writer_are_kept() -> None:
    pack, _ = make_pack()
    body = pack.to_json_obj()
    body["proctoring"] = {"webcam": False}
    signed = open_pack(resign(body, REVIEWER))
    assert signed.pack.extra == {"proctoring": {"webcam": False}}
    assert signed.pack.to_json_obj() == body


def test_sign_pack_refuses_a_key_that_is_not_the_packs_reviewer() -> None:
    pack, _ = make_pack()
    with pytest.raises(ValueError):
        sign_pack(pack, MALLORY)
