"""Write a `.pst` bundle: deterministic, signed, atomic.

The same session material always gives byte-identical bundles: members are written in a fixed
order with fixed timestamps and permissions, JSON is canonical, and the git bundle is packed
single-threaded.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from promptster import __version__
from promptster.bundle import format as fmt
from promptster.errors import InputError
from promptster.formats.crypto import SigningKey, dsse_sign, sha256_digest
from promptster.formats.jsonio import canonical_json
from promptster.formats.timeline import chain_head, split_lines
from promptster.fsutil import atomic_writer
from promptster.gitutil import run_git

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Already-compressed members are stored; text members are deflated.
STORED_MEMBERS = frozenset({fmt.SNAPSHOTS})


@dataclass
class SessionMaterial:
    """Everything a bundle is made of, gathered by `submit` (or by the synthetic generator)."""

    session_id: str
    started_at: str
    ended_at: str
    timeline: bytes
    shadow_git_dir: Path
    assessment_id: str | None = None
    candidate_key: str | None = None
    assessment_pack: bytes | None = None
    casts: list[bytes] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)  # sha256 hex -> content
    authorship: bytes | None = None  # authorship.json, when computed (bundle/authorship.py)
    # create_git_bundle's result when the caller made it already (submit makes it while line
    # authorship is computed); else build_members makes it
    snapshots: tuple[bytes, str] | None = None


@dataclass(frozen=True)
class WrittenBundle:
    path: Path
    sha256: str
    size: int
    manifest: fmt.Manifest


def create_git_bundle(git_dir: Path) -> tuple[bytes, str]:
    """Pack the shadow repository's snapshot branch; return (bundle bytes, head commit)."""
    head = run_git(["rev-parse", "--verify", fmt.SNAPSHOT_REF], git_dir=git_dir, check=False)
    if head.returncode != 0:
        raise InputError(f"the snapshot repository {git_dir} has no {fmt.SNAPSHOT_REF} branch")
    with tempfile.TemporaryDirectory(prefix="promptster-bundle-") as tmp:
        out = Path(tmp) / "snapshots.bundle"
        run_git(["bundle", "create", "--quiet", str(out), fmt.SNAPSHOT_REF], git_dir=git_dir)
        return out.read_bytes(), head.text.strip()


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.create_system = 3  # unix, so the permission bits below are meaningful
    info.external_attr = (0o100644 & 0xFFFF) << 16
    info.compress_type = zipfile.ZIP_STORED if name in STORED_MEMBERS else zipfile.ZIP_DEFLATED
    return info


def build_members(
    material: SessionMaterial, key: SigningKey
) -> tuple[dict[str, bytes], fmt.Manifest]:
    split = split_lines(material.timeline)
    if split.torn_tail:
        raise InputError("the timeline ends with a partial line; recover the journal first")
    snapshots, snapshot_head = material.snapshots or create_git_bundle(material.shadow_git_dir)
    members: dict[str, bytes] = {fmt.TIMELINE: material.timeline, fmt.SNAPSHOTS: snapshots}
    if material.assessment_pack is not None:
        members[fmt.ASSESSMENT] = material.assessment_pack
    if material.authorship is not None:
        members[fmt.AUTHORSHIP] = material.authorship
    for index, cast in enumerate(material.casts):
        members[f"terminal/{index}.cast"] = cast
    for digest, blob in material.blobs.items():
        if hashlib.sha256(blob).hexdigest() != digest:
            raise InputError(f"blob {digest[:12]}… does not match its name")
        members[f"blobs/{digest}"] = blob
    manifest = fmt.Manifest(
        format_version=fmt.FORMAT_VERSION,
        tool_version=__version__,
        session_id=material.session_id,
        assessment_id=material.assessment_id,
        candidate_key=material.candidate_key,
        started_at=material.started_at,
        ended_at=material.ended_at,
        event_count=len(split.lines),
        public_key=key.public.text,
        chain_head=chain_head(split.lines, material.session_id),
        snapshot_head=snapshot_head,
        members={
            name: fmt.MemberEntry(sha256_digest(data), len(data)) for name, data in members.items()
        },
        extra={},
        candidate_key_hash=fmt.candidate_key_hash(material.candidate_key),
        pack_digest=(
            sha256_digest(material.assessment_pack)
            if material.assessment_pack is not None
            else None
        ),
    )
    manifest_bytes = canonical_json(manifest.to_json_obj())
    envelope = dsse_sign(fmt.MANIFEST_PAYLOAD_TYPE, manifest_bytes, key)
    members[fmt.MANIFEST] = manifest_bytes
    members[fmt.SIGNATURE] = canonical_json(envelope.to_json_obj())
    return members, manifest


def write_bundle(material: SessionMaterial, key: SigningKey, out_path: Path) -> WrittenBundle:
    """Write the bundle atomically to `out_path` and return its path, digest and manifest."""
    members, manifest = build_members(material, key)
    out_path = Path(out_path)
    with atomic_writer(out_path) as handle, zipfile.ZipFile(handle, "w") as archive:
        for name in fmt.member_order(list(members)):
            archive.writestr(_zip_info(name), members[name], compresslevel=6)
    data = out_path.read_bytes()
    return WrittenBundle(out_path, sha256_digest(data), len(data), manifest)
