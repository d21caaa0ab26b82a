"""The synthetic reviewer: its candidate keys and the assessment packs it signs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from promptster.formats.crypto import SigningKey
from promptster.issue.assessment import AssessmentPack, KdfParams, PackKey, hash_key, sign_pack
from promptster.issue.keys import ALPHABET as KEY_ALPHABET
from promptster.issue.keys import CandidateKey, check_symbol, parse_key
from promptster.record.synth.vocabulary import BASE_TIME, SYNTH_ASSESSMENT, SYNTH_TIME_LIMIT_MINUTES

# The synthetic reviewer: its packs verify, and `--reviewer-key` with its fingerprint checks
# the issuer of synthetic bundles. Cheap scrypt parameters: these keys protect nothing.
SYNTH_REVIEWER = SigningKey.from_seed(hashlib.sha256(b"promptster-synthetic-reviewer").digest())
SYNTH_KDF = KdfParams(n=2**10)


def synthetic_candidate_key(seed: int) -> str:
    """The candidate key of `generate_bundle(seed=seed)` when none is given (valid, stable)."""
    digest = hashlib.sha256(f"promptster-synth-key-{seed}".encode()).digest()
    data = "".join(KEY_ALPHABET[b % len(KEY_ALPHABET)] for b in digest[:7])
    return CandidateKey(data + check_symbol(data)).text


def synthetic_pack(key_text: str, seed: int, assessment_id: str = SYNTH_ASSESSMENT) -> bytes:
    """A pack of `assessment_id` (default: the synthetic assessment) signed by the synthetic
    reviewer and issued for `key_text`; deterministic."""
    salt = hashlib.sha256(f"promptster-synth-salt-{seed}".encode()).digest()[:16]
    pack = AssessmentPack(
        assessment_id=assessment_id,
        org="Synthetic reviewer",
        role="Backend engineer",
        brief="Build a small service with tests (synthetic session).",
        time_limit_minutes=SYNTH_TIME_LIMIT_MINUTES,
        repo=None,
        reviewer_public_key=SYNTH_REVIEWER.public,
        keys=(
            PackKey(
                "key-1",
                salt,
                hash_key(parse_key(key_text), salt, SYNTH_KDF),
                datetime(2030, 1, 1, tzinfo=UTC),
                False,
            ),
        ),
        issued_at=BASE_TIME - timedelta(days=1),
        kdf=SYNTH_KDF,
    )
    return sign_pack(pack, SYNTH_REVIEWER)
