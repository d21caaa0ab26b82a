"""Issue 16, attack 1, rebuilt faithfully: candidate A's session submitted as candidate B's.

A and B hold keys of one assessment, so one pack (signed by the reviewer) holds both keys'
hashes, and the candidate-key check alone passes for B's key. The relabelled bundle carries
B's key, is signed with a fresh session key, and sits in the cohort beside A's own bundle.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tamperkit import Bundle

from promptster.bundle import format as fmt
from promptster.cli import main
from promptster.formats.crypto import SigningKey
from promptster.issue.assessment import AssessmentPack, KdfParams, PackKey, hash_key, sign_pack
from promptster.issue.keys import CandidateKey, check_symbol
from promptster.record.synth import SYNTH_REVIEWER, generate_bundle
from support import require_executable

KEY_A = CandidateKey("AAAAAAA" + check_symbol("AAAAAAA"))
KEY_B = CandidateKey("BBBBBBB" + check_symbol("BBBBBBB"))
FRESH = SigningKey.from_seed(b"\x0b" * 32)
ASSESSMENT = "asm-relabel"
KDF = KdfParams(n=2**10)
TRUST = ["--reviewer-key", SYNTH_REVIEWER.public.fingerprint]


def shared_pack() -> bytes:
    """One assessment's pack, issued by the (synthetic) reviewer for A's and B's keys."""
    entries = tuple(
        PackKey(
            f"key-{name}", salt, hash_key(key, salt, KDF), datetime(2030, 1, 1, tzinfo=UTC), False
        )
        for name, key, salt in (("a", KEY_A, b"a" * 16), ("b", KEY_B, b"b" * 16))
    )
    pack = AssessmentPack(
        assessment_id=ASSESSMENT,
        org="Example Ltd",
        role="Backend engineer",
        brief="Build a rate limiter.",
        time_limit_minutes=120,
        repo=None,
        reviewer_public_key=SYNTH_REVIEWER.public,
        keys=entries,
        issued_at=datetime(2026, 1, 1, tzinfo=UTC),
        kdf=KDF,
    )
    return sign_pack(pack, SYNTH_REVIEWER)


@pytest.fixture
def cohort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    require_executable("git")
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))
    folder = tmp_path / "cohort"
    generate_bundle(
        folder / "a.pst",
        events=80,
        seed=21,
        candidate_key=KEY_A.text,
        issued=(ASSESSMENT, shared_pack()),
    )
    return folder


def verify(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, list[dict[str, str]]]]:
    capsys.readouterr()
    code = main(["verify", "--json", *TRUST, *args])
    report = json.loads(capsys.readouterr().out)["bundles"][0]
    return code, report


def failed(report: dict[str, list[dict[str, str]]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in report["findings"]:
        if finding["status"] == "failed":
            found.setdefault(finding["check"], []).append(finding["message"])
    return found


def relabel(source: Path, target: Path) -> Bundle:
    """B's key in A's manifest, signed with a fresh session key (the attack as reported)."""
    bundle = Bundle.load(source, FRESH)
    bundle.resign(
        edit=lambda m: m.update(
            candidateKey=KEY_B.text,
            candidateKeyHash=fmt.candidate_key_hash(KEY_B.text),
            publicKey=FRESH.public.text,
        )
    )
    bundle.save(target)
    return bundle


def test_a_relabelled_bundle_fails_on_its_own(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(capsys, str(cohort / "a.pst"))[0] == 0
    relabelled = tmp_path / "b.pst"
    relabel(cohort / "a.pst", relabelled)
    code, report = verify(capsys, str(relabelled))
    assert code == 1
    problems = failed(report)
    assert list(problems) == ["binding"]  # the pack holds B's key: only the binding can tell
    assert "relabelled as another candidate's" in problems["binding"][0]


def test_a_relabelled_bundle_beside_the_original_fails_the_cohort_and_names_the_pair(
    cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    relabel(cohort / "a.pst", cohort / "b.pst")
    code, report = verify(capsys, str(cohort / "b.pst"), "--cohort", str(cohort))
    assert code == 1
    (message,) = failed(report)["cohort"]
    assert message.startswith("b.pst and a.pst share the session id, chain head, snapshot head")
    # The original is named too when it is the one verified.
    code, report = verify(capsys, str(cohort / "a.pst"), "--cohort", str(cohort))
    assert code == 1
    assert failed(report)["cohort"][0].startswith("a.pst and b.pst share the session id")


def test_a_full_rewrite_that_passes_alone_is_caught_by_the_cohort(
    cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The strongest forger also rewrites the first event, takes a new session id and
    # re-chains every line: the bundle is self-consistent (docs/security.md says so) ...
    bundle = Bundle.load(cohort / "a.pst", FRESH)
    events = bundle.events()
    session = "00000000-0000-4000-8000-00000000000b"
    events[0]["data"].update(sessionId=session, candidateKeyHash=fmt.candidate_key_hash(KEY_B.text))
    bundle.edit_manifest(lambda m: m.update(sessionId=session))
    bundle.set_events(events, rechain_them=True)
    bundle.resign(
        refresh_chain=True,
        edit=lambda m: m.update(
            candidateKey=KEY_B.text,
            candidateKeyHash=fmt.candidate_key_hash(KEY_B.text),
            publicKey=FRESH.public.text,
        ),
    )
    bundle.save(cohort / "b.pst")
    code, _ = verify(capsys, str(cohort / "b.pst"))
    assert code == 0
    # ... but it is still A's work: the same snapshots as A's bundle.
    code, report = verify(capsys, str(cohort / "b.pst"), "--cohort", str(cohort))
    assert code == 1
    (message,) = failed(report)["cohort"]
    assert "share the snapshot head, baseline snapshot" in message
