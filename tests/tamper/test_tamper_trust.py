"""The tamper corpus, continued: binding, packs, issuers, strict dates, container tricks.

Same rules as test_tamper_cases.py: one edit per case, re-signed with the session key where
the edit touches signed content, run through the real CLI (`verify --json` and the human
output, trusting the synthetic reviewer's key), and each must exit 1 (or 2) with a finding
that names the check, no traceback, and nothing left behind.
"""

from __future__ import annotations

import base64
import json
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tamperkit import SEED, Bundle, Outcome, Sandbox, ZipEntry, entries_for, write_zip

from promptster.bundle import format as fmt
from promptster.formats.crypto import SigningKey
from promptster.formats.jsonio import canonical_json
from promptster.issue.assessment import AssessmentPack, PackKey, new_key_hash, sign_pack
from promptster.issue.keys import CandidateKey, check_symbol
from promptster.record.synth import generate_bundle, session_key_for_seed

OTHER_KEY = SigningKey.from_seed(bytes(range(32)))
FRESH_KEY = SigningKey.from_seed(b"\x09" * 32)  # a forger's brand-new session key
KEY_B = CandidateKey("BBBBBBB" + check_symbol("BBBBBBB")).text
MIDDLE = 40
CANDIDATE = CandidateKey("ABCD123" + check_symbol("ABCD123"))
SELF_MADE = SigningKey.from_seed(b"\x52" * 32)  # not the reviewer's key


def self_made_pack(assessment_id: str) -> bytes:
    """A real pack for CANDIDATE's key, signed by a key the reviewer never had."""
    salt, digest = new_key_hash(CANDIDATE)
    pack = AssessmentPack(
        assessment_id=assessment_id,
        org="Example Ltd",
        role="Backend engineer",
        brief="Build a rate limiter.",
        time_limit_minutes=120,
        repo=None,
        reviewer_public_key=SELF_MADE.public,
        keys=(PackKey("key-1", salt, digest, datetime(2030, 1, 1, tzinfo=UTC), False),),
        issued_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return sign_pack(pack, SELF_MADE)


@dataclass
class Tools:
    work: Path
    other: Bundle  # another valid session (seed 12), its own key and pack
    out: Path


Build = Callable[[Bundle, Tools], int | None]


@dataclass(frozen=True)
class Case:
    name: str
    build: Build
    check: str
    message: str
    exit_code: int
    base: str


CASES: list[Case] = []


def case(
    name: str, check: str, message: str, *, exit_code: int = 1, base: str = "full"
) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        CASES.append(Case(name, build, check, message, exit_code, base))
        return build

    return register


# -- binding: the session, its key and its pack -------------------------------------------------


@case("relabel-other-key-fresh-session-key_fail", "binding", "relabelled as another candidate's")
def _relabel(b: Bundle, t: Tools) -> int:
    # Issue 16, attack 1: B's key (and its hash) in A's manifest, signed with a new key.
    b.resign(
        edit=lambda m: m.update(
            candidateKey=KEY_B,
            candidateKeyHash=fmt.candidate_key_hash(KEY_B),
            publicKey=FRESH_KEY.public.text,
        ),
        key=FRESH_KEY,
    )
    b.save(t.out)
    return 0


@case("relabel-key-hash-kept_fail", "binding", "is not the hash of its candidateKey")
def _relabel_hash_kept(b: Bundle, t: Tools) -> int:
    b.resign(edit=lambda m: m.update(candidateKey=KEY_B))
    b.save(t.out)
    return 0


@case("relabel-assessment-id_fail", "binding", "the bundle was moved to another assessment")
def _relabel_assessment(b: Bundle, t: Tools) -> int:
    b.resign(edit=lambda m: m.update(assessmentId="another-assessment"))
    b.save(t.out)
    return 0


@case("pack-stripped-resigned_fail", "assessment", "carries no assessment pack")
def _pack_stripped(b: Bundle, t: Tools) -> None:
    # A key holder strips the pack and signs again (the pack would name the issuer).
    del b.members[fmt.ASSESSMENT]
    b.resign(edit=lambda m: m.update(packDigest=None))
    b.save(t.out)


@case("pack-swapped-other-bundle-resigned_fail", "binding", "started from another assessment")
def _pack_swapped(b: Bundle, t: Tools) -> int:
    pack = t.other.members[fmt.ASSESSMENT]
    b.members[fmt.ASSESSMENT] = pack
    b.resign(
        edit=lambda m: m.update(packDigest=json.loads(t.other.members[fmt.MANIFEST])["packDigest"])
    )
    b.save(t.out)
    return 0


@case("pack-swapped-digest-kept_fail", "binding", "is not the digest of assessment.json")
def _pack_swapped_digest_kept(b: Bundle, t: Tools) -> None:
    b.members[fmt.ASSESSMENT] = t.other.members[fmt.ASSESSMENT]
    b.resign()
    b.save(t.out)


@case("members-swapped-manifest-and-signature_fail", "hashes", "was changed after signing")
def _manifest_swapped(b: Bundle, t: Tools) -> None:
    # Two valid bundles: the signed manifest of one over the members of the other.
    b.members[fmt.MANIFEST] = t.other.members[fmt.MANIFEST]
    b.members[fmt.SIGNATURE] = t.other.members[fmt.SIGNATURE]
    b.save(t.out)


@case("members-swapped-snapshots-resigned_fail", "replay", "which is not in snapshots.bundle")
def _snapshots_swapped(b: Bundle, t: Tools) -> None:
    b.members[fmt.SNAPSHOTS] = t.other.members[fmt.SNAPSHOTS]
    b.resign(edit=lambda m: m.update(snapshotHead=t.other.manifest["snapshotHead"]))
    b.save(t.out)


# -- timestamps parsed strictly -----------------------------------------------------------------


def _set_ts(b: Bundle, index: int, ts: str) -> None:
    events = b.events()
    events[index]["ts"] = ts
    b.set_events(events, rechain_them=True)
    b.resign(refresh_chain=True)


@case("timeline-impossible-date-rechained_fail", "timeline", "which is not a calendar date")
def _impossible_date(b: Bundle, t: Tools) -> int:
    _set_ts(b, MIDDLE, "2026-02-30T10:00:00.000Z")
    b.save(t.out)
    return MIDDLE


@case("timeline-hour-25-rechained_fail", "timeline", "has no valid RFC 3339 UTC timestamp")
def _hour_25(b: Bundle, t: Tools) -> int:
    ts = b.events()[MIDDLE]["ts"]
    _set_ts(b, MIDDLE, ts[:11] + "25" + ts[13:])
    b.save(t.out)
    return MIDDLE


@case("manifest-ended-at-impossible-date_fail", "timeline", "endedAt is not an RFC 3339")
def _ended_impossible(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(endedAt="2026-04-31T10:00:00.000Z"))
    b.save(t.out)


# -- the container ------------------------------------------------------------------------------


@case("zip-comment_fail", "zip", "comment; the writer never adds one")
def _zip_comment(b: Bundle, t: Tools) -> None:
    b.save(t.out)
    with zipfile.ZipFile(t.out, "a") as archive:
        archive.comment = b"#!/bin/sh\necho hidden payload\n"


@case("zip-prepended-data_fail", "zip", "bytes of foreign data in front of the first member")
def _zip_prepended(b: Bundle, t: Tools) -> None:
    b.save(t.out)
    t.out.write_bytes(b"MZ" + b"\x00" * 510 + t.out.read_bytes())  # a self-extractor's stub


@case("zip-manifest-duplicated_fail", "zip", "member 'manifest.json' appears twice in the zip")
def _manifest_twice(b: Bundle, t: Tools) -> None:
    entries = entries_for(b.members)
    entries.append(ZipEntry(fmt.MANIFEST, t.other.members[fmt.MANIFEST]))
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_zip(t.out, entries)


# -- DSSE envelopes -----------------------------------------------------------------------------


def _edit_signatures(b: Bundle, edit: Callable[[list[dict[str, Any]]], None]) -> None:
    envelope = b.envelope
    edit(envelope["signatures"])
    b.members[fmt.SIGNATURE] = canonical_json(envelope)


@case("signature-extra-signature_fail", "signature", "holds 2 signatures")
def _extra_signature(b: Bundle, t: Tools) -> None:
    other = base64.b64encode(OTHER_KEY.sign(b"a claim nobody checks")).decode()
    _edit_signatures(b, lambda sigs: sigs.append({"keyid": "", "sig": other}))
    b.save(t.out)


@case("signature-truncated_fail", "signature", "the signature is 40 bytes")
def _truncated_signature(b: Bundle, t: Tools) -> None:
    def cut(sigs: list[dict[str, Any]]) -> None:
        sigs[0]["sig"] = base64.b64encode(base64.b64decode(sigs[0]["sig"])[:40]).decode()

    _edit_signatures(b, cut)
    b.save(t.out)


# -- converted timelines ------------------------------------------------------------------------


@case("timeline-crlf-converted-resigned_fail", "timeline", "line 0 is not in canonical JSON")
def _crlf_converted(b: Bundle, t: Tools) -> int:
    b.members[fmt.TIMELINE] = b.members[fmt.TIMELINE].replace(b"\n", b"\r\n")
    b.resign()
    b.save(t.out)
    return 0


@case("timeline-unicode-normalised-resigned_fail", "timeline", f"line {MIDDLE + 1} does not chain")
def _unicode_normalised(b: Bundle, t: Tools) -> int:
    # A valid session with composed text (é as one code point) ...
    events = b.events()
    events[MIDDLE]["data"]["note"] = "caf\u00e9 na\u00efve"
    b.set_events(events, rechain_them=True)
    # ... whose timeline a file transfer normalised to NFD; the member hashes signed again.
    text = b.members[fmt.TIMELINE].decode("utf-8")
    b.members[fmt.TIMELINE] = unicodedata.normalize("NFD", text).encode("utf-8")
    b.resign()
    b.save(t.out)
    return MIDDLE + 1


# -- the issuer ---------------------------------------------------------------------------------


@case("issuer-self-made-pack_fail", "issuer", "which is not yours", base="pristine")
def _self_made(b: Bundle, t: Tools) -> None:
    # Issue 16, attack 3: a coherent session from a pack its candidate signed themselves.
    pack = self_made_pack("self-made")
    generate_bundle(
        t.out, events=60, seed=SEED, candidate_key=CANDIDATE.text, issued=("self-made", pack)
    )


# -- the runner ---------------------------------------------------------------------------------


def test_case_names_are_unique_and_styled() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    assert all(name.endswith("_fail") and name == name.lower() for name in names)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_tampered_bundle_fails(
    case: Case,
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    other_path: Path,
    verify_cli: Callable[[Path], Outcome],
) -> None:
    base = request.getfixturevalue(f"{case.base}_path")
    bundle = Bundle.load(base, session_key_for_seed(SEED))
    tools = Tools(sandbox.work, Bundle.load(other_path, OTHER_KEY), sandbox.work / "tampered.pst")
    seq = case.build(bundle, tools)

    outcome = verify_cli(tools.out)

    assert outcome.exit_code == case.exit_code, outcome.failed
    assert outcome.report["ok"] is False
    finding = outcome.finding(case.check, case.message)
    assert finding is not None, f"expected {case.check}: {case.message!r}; got {outcome.failed}"
    if seq is not None:
        assert finding["seq"] == seq
    assert case.message in outcome.stderr
