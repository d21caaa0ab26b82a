"""What the tamper suite's tools do when nothing is tampered with, and what verify cannot catch.

The `_limit` cases pin down the documented limits of the trust model (docs/security.md): the
session key lives on the candidate's machine, so whoever holds it can rewrite the parts of a
session that no second channel (the git snapshots) corroborates, and a bundle re-signed with a
brand-new key is self-consistent. These tests make sure the docs stay true.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tamperkit import SEED, Bundle, Outcome, Sandbox

from promptster.formats.crypto import SigningKey
from promptster.record.synth import session_key_for_seed


def test_resign_without_edits_reproduces_the_bundle_byte_for_byte(
    pristine_path: Path, sandbox: Sandbox
) -> None:
    # The kit writes zips exactly as the bundle writer does, and Ed25519 is deterministic, so a
    # failing case fails because of its edit and nothing else.
    bundle = Bundle.load(pristine_path, session_key_for_seed(SEED))
    bundle.resign()
    out = bundle.save(sandbox.work / "same.pst")
    assert out.read_bytes() == pristine_path.read_bytes()


def test_full_bundle_with_every_optional_member_verifies(
    full_path: Path, verify_cli: Callable[[Path], Outcome]
) -> None:
    outcome = verify_cli(full_path)
    assert outcome.exit_code == 0, outcome.failed
    messages = {f["check"]: f["message"] for f in outcome.report["findings"]}
    assert messages["hashes"] == "5 members match the manifest"  # all but manifest + signature
    assert "signed by your reviewer key" in messages["issuer"]
    assert messages["binding"] == "the session is bound to its candidate key, assessment and pack"
    assert all(f["status"] == "ok" for f in outcome.report["findings"])


def test_resigned_with_new_session_key_limit(
    pristine_path: Path, sandbox: Sandbox, verify_cli: Callable[[Path], Outcome]
) -> None:
    """A bundle whose manifest names a new key, signed with that key, is self-consistent.

    verify reports which key signed it; binding that key to the candidate (the assessment
    pack, the reviewer's records) is what catches this, not the bundle alone.
    """
    forger = SigningKey.from_seed(b"\x07" * 32)
    bundle = Bundle.load(pristine_path, forger)
    bundle.resign(edit=lambda m: m.update(publicKey=forger.public.text))
    outcome = verify_cli(bundle.save(sandbox.work / "forged.pst"))
    assert outcome.exit_code == 0
    signature = next(f for f in outcome.report["findings"] if f["check"] == "signature")
    assert forger.public.fingerprint[:19] in signature["message"]
    assert session_key_for_seed(SEED).public.fingerprint[:19] not in signature["message"]


def test_uncorroborated_event_dropped_by_key_holder_limit(
    pristine_path: Path, sandbox: Sandbox, verify_cli: Callable[[Path], Outcome]
) -> None:
    """Dropping a prompt, re-chaining and re-signing with the session key goes unnoticed.

    File events are corroborated by the snapshots (see the `-rechained_fail` cases); prompts,
    commands and notes have no second channel inside the bundle.
    """
    bundle = Bundle.load(pristine_path, session_key_for_seed(SEED))
    events = bundle.events()
    del events[bundle.find(lambda e: e["kind"] == "prompt", 1)]
    bundle.set_events(events, rechain_them=True)
    bundle.resign(refresh_chain=True)
    outcome = verify_cli(bundle.save(sandbox.work / "rewritten.pst"))
    assert outcome.exit_code == 0


def test_format_1_bundle_verifies_with_a_binding_warning_limit(
    full_path: Path, sandbox: Sandbox, verify_cli: Callable[[Path], Outcome]
) -> None:
    """Bundles written before format 2 stay readable and verify, with a warning that they
    predate the binding. So a relabelled bundle written as format 1 (a downgrade) is not
    caught by the binding check: only by the cohort comparison and the candidate key."""
    bundle = Bundle.load(full_path, session_key_for_seed(SEED))

    def as_format_1(manifest: dict[str, object]) -> None:
        manifest.update(formatVersion=1)
        del manifest["candidateKeyHash"], manifest["packDigest"]

    bundle.resign(edit=as_format_1)
    outcome = verify_cli(bundle.save(sandbox.work / "format-1.pst"))
    assert outcome.exit_code == 0, outcome.failed
    (binding,) = [f for f in outcome.report["findings"] if f["check"] == "binding"]
    assert binding["status"] == "warning"
    assert binding["message"].startswith("format 1 bundle: it predates the binding")
