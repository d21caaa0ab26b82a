"""The reviewer's checks on a bundle's assessment pack and key, and cohort duplicates."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from reviewer_helpers import HOLDER

from promptster.bundle import format as fmt
from promptster.bundle.verify import Finding, VerifyContext, VerifyReport
from promptster.formats.crypto import SigningKey
from promptster.issue.assessment import AssessmentPack, PackKey, new_key_hash, sign_pack
from promptster.issue.identity import Signer
from promptster.issue.keys import generate_key
from promptster.reviewer.assessments import create_keys, revoke_keys
from promptster.reviewer.checks import (
    AssessmentPackCheck,
    find_duplicate_keys,
    reviewer_checks,
)
from promptster.reviewer.limitscheck import AssessmentLimitsCheck
from promptster.reviewer.store import AssessmentRecord, KeyRecord, Workspace
from promptster.reviewer.timecheck import TimeLimitCheck
from support import require_executable

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def manifest(
    assessment_id: str | None,
    key: str | None,
    started: datetime = START,
    session: str = "s-1",
    **extra: Any,
) -> fmt.Manifest:
    return fmt.Manifest(
        format_version=1, tool_version="0", session_id=session, assessment_id=assessment_id,
        candidate_key=key, started_at=started.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        ended_at=(started + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        event_count=0, public_key="", chain_head="", snapshot_head="", members={}, extra=extra,
    )  # fmt: skip


def run_checks(
    m: fmt.Manifest,
    pack: bytes | None,
    workspace: Path | None = None,
    *,
    keys: tuple[str, ...] = (),
    require_issuer: bool = False,
) -> list[Finding]:
    context = VerifyContext(Path("b.pst"), manifest=m, assessment_pack=pack)
    findings: list[Finding] = []
    for check in reviewer_checks(workspace, reviewer_keys=keys, require_issuer=require_issuer):
        check(context, findings)
    return findings


def failures(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if f.status == "failed"]


def warnings(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if f.status == "warning"]


class Issued:
    def __init__(self, signer: Signer, assessment: AssessmentRecord, home: Path) -> None:
        with Workspace.open() as ws:
            self.keys: list[KeyRecord] = create_keys(
                ws, signer, assessment.id, count=2, now=START - timedelta(days=1)
            ).keys
            record = ws.find_assessment(assessment.id)
        assert record is not None and record.pack is not None
        self.pack = record.pack
        self.assessment_id = assessment.id
        self.workspace = home / "workspace.duckdb"

    def manifest(self, index: int = 0, **kwargs: Any) -> fmt.Manifest:
        return manifest(self.assessment_id, self.keys[index].key_text, **kwargs)


def signer_fp(issued: Issued) -> str:
    """The fingerprint of the reviewer key that signed `issued`'s pack."""
    from promptster.issue.assessment import open_pack

    return open_pack(issued.pack).reviewer_fingerprint


@pytest.fixture
def issued(signer: Signer, assessment: AssessmentRecord, home: Path) -> Issued:
    return Issued(signer, assessment, home)


def test_a_bundle_without_a_pack_fails() -> None:
    # No pack, no verification: a key holder could otherwise strip the pack and re-sign.
    findings = run_checks(manifest("synthetic-0", None), None)
    assert failures(findings) == [
        "the bundle carries no assessment pack (assessment.json): who issued the assessment "
        "and the candidate key cannot be checked"
    ]
    assert findings[0].check == "assessment"


def test_a_good_bundle_passes_with_and_without_the_workspace(
    issued: Issued, signer: Signer
) -> None:
    alone = run_checks(issued.manifest(), issued.pack)
    assert failures(alone) == []
    (unchecked,) = warnings(alone)  # no reviewer key to compare the issuer with
    assert unchecked.startswith("issuer not checked: ")
    assert "validly signed by reviewer key sha256:" in unchecked
    strict = run_checks(issued.manifest(), issued.pack, require_issuer=True)
    assert failures(strict) == [unchecked]
    own = run_checks(issued.manifest(), issued.pack, keys=(signer.identity.fingerprint,))
    assert failures(own) == [] and warnings(own) == []
    mine = run_checks(issued.manifest(1), issued.pack, issued.workspace)
    assert failures(mine) == [] and warnings(mine) == []
    assert any("signed by your reviewer key" in f.message for f in mine)
    assert any(f.check == "candidate-key" and f.status == "ok" for f in mine)


def test_a_pack_signed_by_another_reviewer_fails_against_the_workspace(issued: Issued) -> None:
    mallory = SigningKey.from_seed(b"m" * 32)
    key = generate_key()
    salt, digest = new_key_hash(key)
    forged = AssessmentPack(
        assessment_id=issued.assessment_id, org="Acme Hiring", role="Backend Engineer",
        brief="x", time_limit_minutes=None, repo=None, reviewer_public_key=mallory.public,
        keys=(PackKey("ck_m", salt, digest, START + timedelta(days=7), False),), issued_at=START,
    )  # fmt: skip
    m = manifest(issued.assessment_id, key.text)
    findings = run_checks(m, sign_pack(forged, mallory), issued.workspace)
    assert [msg for msg in failures(findings) if "signed by someone else" in msg]
    # Without the workspace, the reviewer's own key tells: a self-made assessment fails.
    (own,) = failures(run_checks(m, sign_pack(forged, mallory), keys=(signer_fp(issued),)))
    assert "which is not yours (a self-made or someone else's assessment)" in own
    # With no key at all, nothing can tell, which the message says first.
    (unchecked,) = warnings(run_checks(m, sign_pack(forged, mallory)))
    assert unchecked.startswith("issuer not checked")


def test_a_pack_for_an_assessment_the_workspace_does_not_know_is_checked_by_key(
    issued: Issued, signer: Signer, tmp_path: Path
) -> None:
    findings = run_checks(issued.manifest(), issued.pack, tmp_path / "other.duckdb")
    assert failures(findings) == []  # no such workspace file: treated as no workspace
    with Workspace.open(tmp_path / "other.duckdb"):
        pass
    findings = run_checks(issued.manifest(), issued.pack, tmp_path / "other.duckdb")
    assert any(w.startswith("issuer not checked") for w in warnings(findings))
    keyed = run_checks(
        issued.manifest(), issued.pack, tmp_path / "other.duckdb", keys=(signer_fp(issued),)
    )
    assert failures(keyed) == [] and warnings(keyed) == []


def test_a_changed_pack_and_a_mismatched_assessment_fail(issued: Issued) -> None:
    tampered = issued.pack.replace(b'"payload":"', b'"payload":"AAAA', 1)
    assert failures(run_checks(issued.manifest(), tampered))
    other = manifest("another-assessment", issued.keys[0].key_text)
    (message,) = failures(run_checks(other, issued.pack))
    assert "but its pack is for" in message


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "carries a pack but no candidate key"),
        ("nonsense", "the bundle's key: 'nonsense' is not a Promptster candidate key"),
        ("generated", "does not match any key of its assessment pack"),
    ],
)
def test_the_bundle_key_must_hash_to_a_pack_entry(
    issued: Issued, key: str | None, message: str
) -> None:
    text = generate_key().text if key == "generated" else key
    (found,) = failures(run_checks(manifest(issued.assessment_id, text), issued.pack))
    assert message in found


def test_a_session_started_after_the_key_expired_fails(issued: Issued) -> None:
    late = issued.manifest(started=START + timedelta(days=6, hours=1))
    (message,) = failures(run_checks(late, issued.pack))
    assert "after key" in message and "expired" in message


def test_revocation_in_the_pack_and_in_the_workspace(issued: Issued, signer: Signer) -> None:
    old_pack = issued.pack  # what the candidate holds: the key is not revoked in it
    with Workspace.open() as ws:
        revoke_keys(ws, signer, [issued.keys[0].id], now=START - timedelta(hours=1))
        revoke_keys(ws, signer, [issued.keys[1].id], now=START + timedelta(minutes=5))
        record = ws.find_assessment(issued.assessment_id)
    assert record is not None and record.pack is not None
    (in_pack,) = failures(run_checks(issued.manifest(0), record.pack))
    assert "marked revoked in the pack" in in_pack
    before = run_checks(issued.manifest(0), old_pack, issued.workspace)
    assert [m for m in failures(before) if "before the session started" in m]
    after = run_checks(issued.manifest(1), old_pack, issued.workspace)
    assert failures(after) == []
    assert [m for m in warnings(after) if "after the session started" in m]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_workspace_that_cannot_be_read_fails_the_check(
    issued: Issued, tmp_path: Path, damage: str
) -> None:
    # An existing workspace that cannot be read must not silently skip its revocations.
    damaged = tmp_path / "damaged.duckdb"
    whole = issued.workspace.read_bytes()
    damaged.write_bytes(b"garbage" * 100 if damage == "garbage" else whole[: len(whole) // 3])
    findings = run_checks(issued.manifest(), issued.pack, damaged)
    (message,) = failures(findings)
    assert "cannot check the pack and the candidate key against your reviewer workspace" in message
    assert "is damaged" in message and "move it aside" in message
    assert not [w for w in warnings(findings) if "is not in your reviewer workspace" in w]


def test_a_workspace_in_use_by_another_process_fails_the_check(
    issued: Issued, tmp_path: Path
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(issued.workspace)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        findings = run_checks(issued.manifest(), issued.pack, issued.workspace)
    finally:
        assert holder.stdin is not None
        holder.stdin.write("done\n")
        holder.stdin.close()
        holder.wait()
    (message,) = failures(findings)
    assert "in use by another promptster process" in message
    assert "(or close it)" in message


def test_the_key_id_hint_is_used_and_a_wrong_hint_is_harmless(issued: Issued) -> None:
    hinted = issued.manifest(1, candidateKeyId=issued.keys[1].id)
    assert failures(run_checks(hinted, issued.pack)) == []
    wrong = issued.manifest(1, candidateKeyId=issued.keys[0].id)
    assert failures(run_checks(wrong, issued.pack)) == []


def test_checks_can_be_sent_to_worker_processes(tmp_path: Path) -> None:
    check, timing, limits = reviewer_checks(tmp_path / "w.duckdb")
    copy = pickle.loads(pickle.dumps(check))
    assert isinstance(copy, AssessmentPackCheck) and copy.workspace == tmp_path / "w.duckdb"
    assert isinstance(pickle.loads(pickle.dumps(timing)), TimeLimitCheck)
    assert isinstance(pickle.loads(pickle.dumps(limits)), AssessmentLimitsCheck)


def report(path: str, assessment_id: str | None, key: str | None, session: str) -> VerifyReport:
    context = VerifyContext(Path(path), manifest=manifest(assessment_id, key, session=session))
    return VerifyReport(Path(path), [], context)


def test_find_duplicate_keys_in_a_cohort() -> None:
    key, other = generate_key().text, generate_key().text
    reports = [
        report("a.pst", "A", key, "s-a"),
        report("b.pst", "A", other, "s-b"),
        report("c.pst", "A", key.lower().replace("-", ""), "s-c"),
        report("d.pst", "B", other, "s-d"),  # another assessment: not the same key use
        report("e.pst", "A", None, "s-e"),
        report("f.pst", "A", other, "s-b"),
    ]
    duplicates = find_duplicate_keys(reports)
    assert [(d.key, d.paths) for d in duplicates] == sorted(
        [(key, (Path("a.pst"), Path("c.pst"))), (other, (Path("b.pst"), Path("f.pst")))]
    )
    messages = {d.key: d.finding() for d in duplicates}
    assert messages[key].status == "failed" and messages[key].check == "cohort"
    assert "used by 2 bundles: a.pst, c.pst" in messages[key].message
    assert "the same session, submitted twice" in messages[other].message
    assert find_duplicate_keys(reports[:2]) == []


def test_verify_bundle_runs_the_checks_on_a_real_bundle(
    signer: Signer, assessment: AssessmentRecord, home: Path, tmp_path: Path
) -> None:
    from promptster.bundle.verify import verify_bundle
    from promptster.record.synth import generate_bundle

    require_executable("git")
    synthetic = generate_bundle(tmp_path / "synthetic.pst", events=40, seed=3)
    started = datetime.fromisoformat(synthetic.manifest.started_at.replace("Z", "+00:00"))
    with Workspace.open() as ws:
        batch = create_keys(ws, signer, assessment.id, count=1, now=started - timedelta(days=1))
    workspace = home / "workspace.duckdb"
    bundle = generate_bundle(
        tmp_path / "issued.pst",
        events=40,
        seed=3,
        candidate_key=batch.keys[0].key_text,
        issued=(assessment.id, batch.pack),
    )
    verified = verify_bundle(bundle.path, extra_checks=reviewer_checks(workspace))
    assert verified.ok, [f for f in verified.findings if f.status != "ok"]
    assert any("signed by your reviewer key" in f.message for f in verified.findings)
    # The synthetic reviewer is not this reviewer: with the identity's key, its pack fails.
    own = (signer.identity.fingerprint,)
    plain = verify_bundle(
        synthetic.path, extra_checks=reviewer_checks(workspace, reviewer_keys=own)
    )
    assert [f.check for f in plain.failures] == ["issuer"]
