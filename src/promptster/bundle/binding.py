"""The binding of a session to its candidate key and its assessment pack (format 2).

The signed manifest carries `candidateKeyHash` (sha256 of the candidate key's text) and
`packDigest` (sha256 of assessment.json), and the first event of the hash chain, written when
the session started, carries the same two values and the assessment id. A bundle relabelled
as another candidate's (another key written into the manifest, signed again with a fresh
session key) no longer agrees with its own first event; making it agree means rewriting and
re-chaining the whole timeline, which the cohort comparison (same snapshots, same chain) and
the reviewer's pack checks are there to catch.

Format 1 bundles predate the binding: they verify with a warning saying so.
"""

from __future__ import annotations

from typing import Any, Literal

from promptster.bundle import format as fmt
from promptster.formats.crypto import sha256_digest

BINDING_CHECK = "binding"

Result = tuple[Literal["ok", "warning", "failed"], str]


def binding_results(
    manifest: fmt.Manifest, first_event: dict[str, Any] | None, pack: bytes | None
) -> list[Result]:
    """What the binding check found: one failed result per disagreement, or one ok/warning."""
    if first_event is None:
        return [("failed", "the timeline has no first event to bind the session to")]
    data = first_event.get("data")
    data = data if isinstance(data, dict) else {}
    if first_event.get("kind") != "session_start":
        return [("failed", f"the first event is a {first_event.get('kind')!r}, not session_start")]
    problems: list[Result] = []

    def agree(field: str, signed: str | None, recorded: object, what: str) -> None:
        if recorded != signed:
            problems.append(
                (
                    "failed",
                    f"the signed manifest's {field} ({_short(signed)}) differs from the one the "
                    f"session started with ({_short(recorded)}): {what}",
                )
            )

    recorded_session = data.get("sessionId")
    if recorded_session is not None:
        agree("sessionId", manifest.session_id, recorded_session, "the bundle was relabelled")
    recorded_assessment = data.get("assessmentId")
    if recorded_assessment is not None or manifest.format_version >= fmt.BINDING_VERSION:
        agree(
            "assessmentId",
            manifest.assessment_id,
            recorded_assessment,
            "the bundle was moved to another assessment",
        )
    if manifest.format_version < fmt.BINDING_VERSION:
        if problems:
            return problems
        return [
            (
                "warning",
                f"format {manifest.format_version} bundle: it predates the binding of a session "
                "to its candidate key and pack, so a relabelled copy cannot be told apart",
            )
        ]
    expected_key_hash = fmt.candidate_key_hash(manifest.candidate_key)
    if manifest.candidate_key_hash != expected_key_hash:
        problems.append(
            (
                "failed",
                "the manifest's candidateKeyHash is not the hash of its candidateKey "
                "(the key was replaced)",
            )
        )
    agree(
        "candidateKeyHash",
        manifest.candidate_key_hash,
        data.get("candidateKeyHash"),
        "the bundle was relabelled as another candidate's",
    )
    pack_digest = sha256_digest(pack) if pack is not None else None
    if manifest.pack_digest != pack_digest:
        problems.append(
            (
                "failed",
                "the manifest's packDigest is not the digest of assessment.json "
                "(the pack was replaced or removed)",
            )
        )
    agree(
        "packDigest",
        manifest.pack_digest,
        data.get("packDigest"),
        "the session was started from another assessment pack",
    )
    if problems:
        return problems
    return [("ok", "the session is bound to its candidate key, assessment and pack")]


def _short(value: object) -> str:
    if value is None:
        return "none"
    text = str(value)
    return text if len(text) <= 24 else text[:19] + "…"
