"""Verify a bundle offline and explain every mismatch as a typed finding.

Checks, in order (docs/bundle-format.md, "Verification"): zip structure and member names;
manifest; DSSE signature; member hashes; the timeline's hash chain, sequence, timestamps and
head (verify_timeline.py); the git snapshots and the replay of every file event onto them
(verify_history.py); then any extra checks (the assessment pack, added by the reviewer side).
The findings and what the checks learned are verify_report.py's types, importable from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from promptster.bundle import format as fmt
from promptster.bundle import members as streamed
from promptster.bundle.binding import BINDING_CHECK, binding_results
from promptster.bundle.reader import BundleReader
from promptster.bundle.verify_history import check_authorship_member, load_snapshots, replay
from promptster.bundle.verify_report import (
    ExtraCheck,
    FileEventRef,
    Finding,
    Status,
    VerifyContext,
    VerifyReport,
)
from promptster.bundle.verify_timeline import check_streamed_timeline
from promptster.errors import (
    CheckFailed,
    FormatError,
    InputError,
    NewerFormatError,
    PromptsterError,
)
from promptster.formats.crypto import Envelope, PublicKey, dsse_verify, sha256_digest
from promptster.formats.jsonio import loads_limited

# The report types live in verify_report.py; callers import them from here.
__all__ = [
    "ED25519_SIGNATURE_BYTES",
    "ExtraCheck",
    "FileEventRef",
    "Finding",
    "Status",
    "VerifyContext",
    "VerifyReport",
    "verify_bundle",
]

ED25519_SIGNATURE_BYTES = 64
# Read whole (small, or bounded by their size limit and parsed whole); the rest are streamed.
_KEPT_MEMBERS = frozenset({fmt.ASSESSMENT, fmt.AUTHORSHIP})


def verify_bundle(
    path: Path, *, extra_checks: Sequence[ExtraCheck] = (), keep_timeline: bool = False
) -> VerifyReport:
    """Run every check on the bundle at `path`. Never raises for bad input."""
    context = VerifyContext(Path(path), keep_timeline=keep_timeline)
    findings: list[Finding] = []
    try:
        reader = BundleReader(context.path)
    except PromptsterError as exc:
        findings.append(Finding("zip", "failed", exc.message))
        return VerifyReport(context.path, findings, context, unreadable=True)
    unreadable = False
    with reader:
        try:
            _run_checks(reader, context, findings, extra_checks)
        except NewerFormatError as exc:
            findings.append(Finding("manifest", "failed", f"{exc.message}; {exc.hint}"))
            unreadable = True
        except PromptsterError as exc:
            findings.append(Finding("bundle", "failed", exc.message))
    if not keep_timeline and context.timeline is not None:
        context.timeline.close()
        context.timeline = None
    return VerifyReport(context.path, findings, context, unreadable=unreadable)


def _run_checks(
    reader: BundleReader,
    context: VerifyContext,
    findings: list[Finding],
    extra_checks: Sequence[ExtraCheck],
) -> None:
    _zip_findings(reader, findings)
    if any(problem.name == "*" for problem in reader.problems):
        return  # a limit on the whole zip: nothing in it is read
    missing = [name for name in fmt.REQUIRED if name not in reader.infos]
    if missing:
        findings.append(Finding("zip", "failed", f"missing member(s): {', '.join(missing)}"))
        return
    try:
        manifest_bytes = reader.read(fmt.MANIFEST)
        manifest = fmt.Manifest.from_json_obj(loads_limited(manifest_bytes, what="manifest.json"))
    except NewerFormatError:
        raise
    except InputError as exc:
        findings.append(Finding("manifest", "failed", exc.message))
        return
    context.manifest = manifest
    findings.append(Finding("manifest", "ok", f"session {manifest.session_id}"))
    if not _check_signature(reader, manifest, manifest_bytes, findings):
        return
    members = _check_member_hashes(reader, manifest, findings)
    if fmt.ASSESSMENT in members:
        context.assessment_pack = members[fmt.ASSESSMENT]
    context.authorship = members.get(fmt.AUTHORSHIP)
    # Unpacking the snapshots is mostly git's work in subprocesses: run it beside the
    # timeline check, which is Python's work, and join the two for the replay.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-git") as pool:
        loading = (
            pool.submit(load_snapshots, reader, manifest) if fmt.SNAPSHOTS in members else None
        )
        timeline_ok = False
        if fmt.TIMELINE in members:
            timeline_ok = check_streamed_timeline(reader, manifest, context, findings)
        if timeline_ok:
            findings.extend(_check_binding(manifest, context))
        if loading is not None:
            history = loading.result()
            if isinstance(history, Finding):
                findings.append(history)
            elif timeline_ok:
                # Replaying file events only means something when the timeline is intact.
                replay(history, context, findings)
                check_authorship_member(history, manifest, context, findings)
            else:
                findings.append(
                    Finding(
                        "snapshots",
                        "ok",
                        f"{len(history.order)} snapshots (replay skipped: timeline broken)",
                    )
                )
    for check in extra_checks:
        check(context, findings)


def _check_binding(manifest: fmt.Manifest, context: VerifyContext) -> list[Finding]:
    """The manifest agrees with the first event on key, assessment and pack (binding.py)."""
    results = binding_results(manifest, context.first_event, context.assessment_pack)
    return [
        Finding(BINDING_CHECK, status, message, None if status == "ok" else 0)
        for status, message in results
    ]


def _check_signature(
    reader: BundleReader, manifest: fmt.Manifest, manifest_bytes: bytes, findings: list[Finding]
) -> bool:
    try:
        envelope = Envelope.from_json_obj(
            loads_limited(reader.read(fmt.SIGNATURE), what="manifest.dsse.json")
        )
        key = PublicKey.from_text(manifest.public_key)
        _one_signature(envelope)
        payload = dsse_verify(envelope, fmt.MANIFEST_PAYLOAD_TYPE, key)
    except (FormatError, CheckFailed) as exc:
        findings.append(Finding("signature", "failed", f"manifest signature: {exc.message}"))
        return False
    if payload != manifest_bytes:
        findings.append(
            Finding(
                "signature",
                "failed",
                "manifest.json differs from the signed manifest in manifest.dsse.json",
            )
        )
        return False
    findings.append(Finding("signature", "ok", f"signed by session key {key.fingerprint[:19]}…"))
    return True


def _zip_findings(reader: BundleReader, findings: list[Finding]) -> None:
    """The zip's structure: member names and sizes, and the writer's layout (no comment, no
    data in front of, between or after the members)."""
    problems = [p.message for p in reader.problems] + reader.layout_problems
    if problems:
        findings.extend(Finding("zip", "failed", message) for message in problems)
    else:
        findings.append(Finding("zip", "ok", f"{len(reader.names)} members, names and sizes ok"))


def _one_signature(envelope: Envelope) -> None:
    """A bundle's manifest is signed once, by its session key: a second signature is room for
    a claim nobody checks, a truncated one a broken signature."""
    if len(envelope.signatures) != 1:
        raise CheckFailed(
            f"manifest.dsse.json holds {len(envelope.signatures)} signatures; a bundle's "
            "manifest has exactly one, by its session key"
        )
    if len(envelope.signatures[0][1]) != ED25519_SIGNATURE_BYTES:
        raise CheckFailed(
            f"the signature is {len(envelope.signatures[0][1])} bytes; an Ed25519 signature "
            f"is {ED25519_SIGNATURE_BYTES}"
        )


def _check_member_hashes(
    reader: BundleReader, manifest: fmt.Manifest, findings: list[Finding]
) -> dict[str, bytes | None]:
    """The members whose bytes match the manifest, each with its bytes if later checks read
    it whole (the pack) or None (streamed again when needed); report every member that does
    not. Sizes are compared before anything is inflated, and hashing streams."""
    good: dict[str, bytes | None] = {}
    matched = 0
    failed_before = len(findings)
    for name in reader.names:
        if name not in (fmt.MANIFEST, fmt.SIGNATURE) and name not in manifest.members:
            findings.append(
                Finding("hashes", "failed", f"member {name!r} is not listed in the signed manifest")
            )
    for name, entry in manifest.members.items():
        if name not in reader.infos:
            findings.append(Finding("hashes", "failed", f"member {name!r} is missing"))
            continue
        problem = streamed.size_problem(reader, name, entry)
        if problem is not None:
            findings.append(Finding("hashes", "failed", problem))
            continue
        try:
            data = reader.read(name) if name in _KEPT_MEMBERS else None
            digest, size = (
                (sha256_digest(data), len(data))
                if data is not None
                else streamed.stream_sha256(reader, name)
            )
        except FormatError as exc:
            findings.append(Finding("hashes", "failed", exc.message))
            continue
        if size != entry.size or digest != entry.sha256:
            findings.append(
                Finding("hashes", "failed", f"member {name!r} was changed after signing")
            )
            continue
        matched += 1
        good[name] = data
    if len(findings) == failed_before:
        findings.append(Finding("hashes", "ok", f"{matched} members match the manifest"))
    return good
