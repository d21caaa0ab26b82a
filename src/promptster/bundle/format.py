"""Names, versions and limits of the `.pst` bundle format (docs/bundle-format.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from promptster.errors import FormatError, NewerFormatError
from promptster.formats.crypto import sha256_digest

FORMAT_NAME = "promptster-bundle"
# 2: the manifest binds the session to its candidate key and pack (candidateKeyHash,
# packDigest); version 1 bundles stay readable and verify with a warning.
# 3: the optional member authorship.json (a verifier of format 2 would refuse its name);
# version 2 bundles (without it) stay readable and verify as before.
FORMAT_VERSION = 3
BINDING_VERSION = 2
MANIFEST_PAYLOAD_TYPE = "application/vnd.promptster.manifest+json"

MANIFEST = "manifest.json"
SIGNATURE = "manifest.dsse.json"
TIMELINE = "timeline.jsonl"
SNAPSHOTS = "snapshots.bundle"
ASSESSMENT = "assessment.json"
AUTHORSHIP = "authorship.json"  # optional: bundles before it stay valid (bundle/authorship.py)
CAST_PATTERN = re.compile(r"terminal/[0-9]{1,4}\.cast")
BLOB_PATTERN = re.compile(r"blobs/[0-9a-f]{64}")

# Fixed order of the zip members; casts and blobs follow in sorted order.
FIXED_ORDER = (MANIFEST, SIGNATURE, TIMELINE, SNAPSHOTS, ASSESSMENT, AUTHORSHIP)
REQUIRED = (MANIFEST, SIGNATURE, TIMELINE, SNAPSHOTS)

# The shadow repository's branch that holds the snapshots.
SNAPSHOT_REF = "refs/heads/snapshots"

# Limits applied before anything is inflated (zip bombs) or parsed.
MAX_MEMBERS = 10_000
MAX_TOTAL_UNCOMPRESSED = 8 * 1024**3
MAX_MEMBER_SIZE = {
    MANIFEST: 4 * 1024**2,
    SIGNATURE: 1024**2,
    ASSESSMENT: 16 * 1024**2,
    TIMELINE: 2 * 1024**3,
    SNAPSHOTS: 4 * 1024**3,
    AUTHORSHIP: 256 * 1024**2,
}
MAX_CAST_SIZE = 1024**3
MAX_BLOB_SIZE = 256 * 1024**2
# Deflate cannot do better than about 1032:1; anything claiming more is lying about sizes.
MAX_COMPRESSION_RATIO = 1100


def member_size_limit(name: str) -> int:
    if name in MAX_MEMBER_SIZE:
        return MAX_MEMBER_SIZE[name]
    if CAST_PATTERN.fullmatch(name):
        return MAX_CAST_SIZE
    return MAX_BLOB_SIZE


def is_allowed_name(name: str) -> bool:
    return (
        name in FIXED_ORDER
        or CAST_PATTERN.fullmatch(name) is not None
        or BLOB_PATTERN.fullmatch(name) is not None
    )


def member_order(names: list[str]) -> list[str]:
    fixed = [n for n in FIXED_ORDER if n in names]
    return fixed + sorted(n for n in names if n not in FIXED_ORDER)


@dataclass(frozen=True)
class MemberEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """The signed description of a bundle. Unknown fields are kept in `extra`."""

    format_version: int
    tool_version: str
    session_id: str
    assessment_id: str | None
    candidate_key: str | None
    started_at: str
    ended_at: str
    event_count: int
    public_key: str
    chain_head: str
    snapshot_head: str
    members: dict[str, MemberEntry]
    extra: dict[str, Any]
    # Format 2: "sha256:<hex>" of the candidate key's text and of assessment.json (or None).
    candidate_key_hash: str | None = None
    pack_digest: str | None = None

    def to_json_obj(self) -> dict[str, Any]:
        body = dict(self.extra)
        body.update(
            format=FORMAT_NAME,
            formatVersion=self.format_version,
            toolVersion=self.tool_version,
            sessionId=self.session_id,
            assessmentId=self.assessment_id,
            candidateKey=self.candidate_key,
            startedAt=self.started_at,
            endedAt=self.ended_at,
            eventCount=self.event_count,
            publicKey=self.public_key,
            chainHead=self.chain_head,
            snapshotHead=self.snapshot_head,
            members={
                name: {"sha256": entry.sha256, "size": entry.size}
                for name, entry in sorted(self.members.items())
            },
        )
        if self.format_version >= BINDING_VERSION:
            body.update(candidateKeyHash=self.candidate_key_hash, packDigest=self.pack_digest)
        return body

    @classmethod
    def from_json_obj(cls, body: Any) -> Manifest:
        if not isinstance(body, dict):
            raise FormatError("manifest.json is not a JSON object")
        if body.get("format") != FORMAT_NAME:
            raise FormatError(
                "manifest.json does not describe a Promptster bundle "
                f"(format is {body.get('format')!r})"
            )
        version = body.get("formatVersion")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise FormatError("manifest.json has no valid formatVersion")
        if version > FORMAT_VERSION:
            raise NewerFormatError(
                f"this bundle uses format version {version}; this promptster reads up to "
                f"{FORMAT_VERSION}",
                "upgrade promptster (pip install -U promptster) to read it",
            )

        def text(name: str, optional: bool = False) -> Any:
            value = body.get(name)
            if value is None and optional:
                return None
            if not isinstance(value, str):
                raise FormatError(f"manifest.json field {name!r} is missing or not a string")
            return value

        count = body.get("eventCount")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise FormatError("manifest.json field 'eventCount' is not a count")
        raw_members = body.get("members")
        if not isinstance(raw_members, dict):
            raise FormatError("manifest.json field 'members' is not an object")
        members: dict[str, MemberEntry] = {}
        for name, entry in raw_members.items():
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("sha256"), str)
                or not isinstance(entry.get("size"), int)
            ):
                raise FormatError(f"manifest.json entry for {name!r} is malformed")
            members[name] = MemberEntry(entry["sha256"], entry["size"])
        known = {
            "format", "formatVersion", "toolVersion", "sessionId", "assessmentId",
            "candidateKey", "startedAt", "endedAt", "eventCount", "publicKey", "chainHead",
            "snapshotHead", "members", "candidateKeyHash", "packDigest",
        }  # fmt: skip
        return cls(
            format_version=version,
            tool_version=text("toolVersion"),
            session_id=text("sessionId"),
            assessment_id=text("assessmentId", optional=True),
            candidate_key=text("candidateKey", optional=True),
            started_at=text("startedAt"),
            ended_at=text("endedAt"),
            event_count=count,
            public_key=text("publicKey"),
            chain_head=text("chainHead"),
            snapshot_head=text("snapshotHead"),
            members=members,
            extra={k: v for k, v in body.items() if k not in known},
            candidate_key_hash=text("candidateKeyHash", optional=True),
            pack_digest=text("packDigest", optional=True),
        )


def candidate_key_hash(key_text: str | None) -> str | None:
    """What the manifest and the first event carry instead of repeating the key: its digest."""
    return sha256_digest(key_text.encode("utf-8")) if key_text else None
