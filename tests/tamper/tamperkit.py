"""Tamper with `.pst` bundles the way an attacker who holds the session key would.

A bundle is taken apart into its members (name -> bytes, in zip order); a case edits them and
then, when the edit touches signed content, `resign()` recomputes the manifest's member hashes
(optionally `chainHead` and `eventCount` too) and signs it again with the session key. So the
hash check alone cannot catch the edit: the chain, sequence, timestamp and replay checks have
to. Zip-level tricks (names, links, declared sizes) are written with `write_zip` options.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptster.bundle import format as fmt
from promptster.formats.crypto import SigningKey, dsse_sign, sha256_digest
from promptster.formats.jsonio import canonical_json
from promptster.formats.timeline import chain_head, genesis_hash, line_hash, split_lines
from promptster.gitutil import SNAPSHOT_AUTHOR, run_git

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
SEED = 11  # the pristine session: `generate_bundle(seed=SEED, events=EVENTS)`
OTHER_SEED = 12  # another session, with another key
EVENTS = 150


@dataclass
class ZipEntry:
    """One zip entry with every field a hostile writer could set."""

    name: str
    data: bytes
    compress: int = zipfile.ZIP_DEFLATED
    mode: int = 0o100644
    declared_size: int | None = None  # what the central directory claims, if it lies
    flag_bits: int = 0


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_zip(path: Path, entries: list[ZipEntry]) -> None:
    """Write entries in the given order; sizes and flags may lie (set after the data)."""
    with zipfile.ZipFile(path, "w") as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=ZIP_EPOCH)
            info.create_system = 3
            info.external_attr = (entry.mode & 0xFFFF) << 16
            info.compress_type = entry.compress
            archive.writestr(info, entry.data, compresslevel=6)
            written = archive.infolist()[-1]
            written.flag_bits |= entry.flag_bits
            if entry.declared_size is not None:
                # The central directory is written from these objects at close (zip64 if big).
                written.file_size = entry.declared_size


def entries_for(members: Mapping[str, bytes], order: list[str] | None = None) -> list[ZipEntry]:
    names = order if order is not None else fmt.member_order(list(members))
    return [
        ZipEntry(
            name,
            members[name],
            zipfile.ZIP_STORED if name == fmt.SNAPSHOTS else zipfile.ZIP_DEFLATED,
        )
        for name in names
    ]


def event_lines(events: list[dict[str, Any]]) -> bytes:
    return b"".join(canonical_json(event) + b"\n" for event in events)


def rechain(events: list[dict[str, Any]], session_id: str) -> list[dict[str, Any]]:
    """Renumber `seq` from 0 and recompute every `prev`, as a key-holding forger would."""
    prev = genesis_hash(session_id)
    result = []
    for seq, event in enumerate(events):
        event = dict(event, seq=seq, prev=prev)
        result.append(event)
        prev = line_hash(canonical_json(event))
    return result


@dataclass
class Bundle:
    """A bundle's members, editable; `save()` writes them back as a zip."""

    members: dict[str, bytes]
    key: SigningKey
    order: list[str] | None = None
    extra_entries: list[ZipEntry] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, key: SigningKey) -> Bundle:
        return cls(read_zip(path), key)

    # -- reading -----------------------------------------------------------------------------

    @property
    def manifest(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.members[fmt.MANIFEST])
        return value

    @property
    def session_id(self) -> str:
        return str(self.manifest["sessionId"])

    @property
    def envelope(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.members[fmt.SIGNATURE])
        return value

    @property
    def lines(self) -> list[bytes]:
        return split_lines(self.members[fmt.TIMELINE]).lines

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    def find(self, predicate: Callable[[dict[str, Any]], bool], nth: int = 0) -> int:
        """Index of the `nth` event (after the first few) matching `predicate`."""
        hits = [i for i, e in enumerate(self.events()) if i > 2 and predicate(e)]
        return hits[nth]

    # -- editing -----------------------------------------------------------------------------

    def set_lines(self, lines: list[bytes], *, trailing_newline: bool = True) -> None:
        body = b"\n".join(lines)
        self.members[fmt.TIMELINE] = body + (b"\n" if trailing_newline and lines else b"")

    def set_events(self, events: list[dict[str, Any]], *, rechain_them: bool = False) -> None:
        if rechain_them:
            events = rechain(events, self.session_id)
        self.members[fmt.TIMELINE] = event_lines(events)

    def edit_manifest(self, edit: Callable[[dict[str, Any]], None]) -> None:
        manifest = copy.deepcopy(self.manifest)
        edit(manifest)
        self.members[fmt.MANIFEST] = canonical_json(manifest)

    def resign(
        self,
        *,
        refresh_chain: bool = False,
        edit: Callable[[dict[str, Any]], None] | None = None,
        key: SigningKey | None = None,
        payload_type: str = fmt.MANIFEST_PAYLOAD_TYPE,
        raw_manifest: bytes | None = None,
    ) -> None:
        """Recompute member hashes (and the chain fields), apply `edit`, sign again."""
        manifest = copy.deepcopy(self.manifest)
        manifest["members"] = {
            name: {"sha256": sha256_digest(data), "size": len(data)}
            for name, data in sorted(self.members.items())
            if name not in (fmt.MANIFEST, fmt.SIGNATURE)
        }
        if refresh_chain:
            lines = self.lines
            manifest["eventCount"] = len(lines)
            manifest["chainHead"] = chain_head(lines, manifest["sessionId"])
        if edit is not None:
            edit(manifest)
        payload = raw_manifest if raw_manifest is not None else canonical_json(manifest)
        self.members[fmt.MANIFEST] = payload
        self.sign_payload(payload, key=key, payload_type=payload_type)

    def sign_payload(
        self,
        payload: bytes,
        *,
        key: SigningKey | None = None,
        payload_type: str = fmt.MANIFEST_PAYLOAD_TYPE,
    ) -> None:
        envelope = dsse_sign(payload_type, payload, key or self.key)
        self.members[fmt.SIGNATURE] = canonical_json(envelope.to_json_obj())

    def add_member(self, name: str, data: bytes) -> None:
        self.members[name] = data

    def save(self, path: Path) -> Path:
        entries = entries_for(self.members, self.order) + self.extra_entries
        write_zip(path, entries)
        return path


def blob_name(data: bytes) -> str:
    return f"blobs/{hashlib.sha256(data).hexdigest()}"


@dataclass
class Sandbox:
    """Where a case may write (`work`), and the temp dir and cwd verify runs with."""

    work: Path
    temp: Path
    cwd: Path

    def listing(self) -> dict[str, list[str]]:
        return {
            "work": sorted(os.listdir(self.work)),
            "temp": sorted(os.listdir(self.temp)),
            "cwd": sorted(os.listdir(self.cwd)),
            "parent": sorted(os.listdir(self.work.parent)),
        }


@dataclass
class Outcome:
    exit_code: int
    report: dict[str, Any]  # the bundle's entry in `verify --json`
    stderr: str  # the human output of the same verification (on stdout since issue 20)

    @property
    def failed(self) -> list[tuple[str, str]]:
        return [
            (f["check"], f["message"]) for f in self.report["findings"] if f["status"] == "failed"
        ]

    def finding(self, check: str, text: str) -> dict[str, Any] | None:
        for f in self.report["findings"]:
            if f["status"] == "failed" and f["check"] == check and text in f["message"]:
                return dict(f)
        return None


# -- git snapshot surgery ----------------------------------------------------------------------


class SnapshotRepo:
    """snapshots.bundle unpacked into a temporary bare repository, to rewrite its history."""

    def __init__(self, bundle_bytes: bytes, workdir: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="snapshots-", dir=workdir))
        self.git_dir = self.dir / "repo.git"
        source = self.dir / "in.bundle"
        source.write_bytes(bundle_bytes)
        run_git(["init", "--quiet", "--bare", str(self.git_dir)])
        run_git(
            ["fetch", "--quiet", str(source), f"{fmt.SNAPSHOT_REF}:{fmt.SNAPSHOT_REF}"],
            git_dir=self.git_dir,
        )

    def rev(self, spec: str) -> str:
        return run_git(["rev-parse", spec], git_dir=self.git_dir).text.strip()

    def commits(self) -> list[str]:
        return run_git(
            ["rev-list", "--reverse", fmt.SNAPSHOT_REF], git_dir=self.git_dir
        ).text.split()

    def fast_import(self, stream: str) -> None:
        run_git(["fast-import", "--quiet", "--force"], git_dir=self.git_dir, stdin=stream.encode())

    def add_commit(self, ref: str, files: dict[str, str], *, parents: list[str]) -> str:
        """Commit `files` on `ref` with the given parents (first parent first)."""
        name, email = SNAPSHOT_AUTHOR
        parts = [
            f"commit {ref}",
            f"committer {name} <{email}> 1767600000 +0000",
            "data 6",
            "forged",
        ]
        if parents:
            parts.append(f"from {parents[0]}")
        parts.extend(f"merge {parent}" for parent in parents[1:])
        for path, content in files.items():
            data = content.encode()
            parts.append(f"M 100644 inline {path}")
            parts.append(f"data {len(data)}")
            parts.append(content)
        self.fast_import("\n".join(parts) + "\n\n")
        return self.rev(ref)

    def bundle(self, *refs: str) -> bytes:
        out = self.dir / "out.bundle"
        out.unlink(missing_ok=True)
        run_git(["bundle", "create", "--quiet", str(out), *refs], git_dir=self.git_dir)
        return out.read_bytes()
