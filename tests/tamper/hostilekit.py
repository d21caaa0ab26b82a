"""Hostile bundles built by hand, as an attacker who wants to hurt the reviewer's machine would,
and a way to run promptster on them with its peak memory measured.

Each `HostileCase` edits a copy of a valid synthetic bundle (signed again with the session
key when the edit is to pass the hash check, so the reader, not the signature, must stop it)
and names the exit code and finding `promptster verify` must give. The same corpus feeds
tests/tamper/test_hostile.py and benchmarks/bench_hostile.py.

Peak memory is the child's own accounting: `measure` runs the command under a small Python
parent that waits for it and reports `getrusage(RUSAGE_CHILDREN).ru_maxrss`, the largest
resident set of the command or any process it waited for (git included).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tamperkit import Bundle, SnapshotRepo

from promptster.bundle import format as fmt
from promptster.formats.crypto import SigningKey, sha256_digest
from promptster.gitutil import run_git
from promptster.issue.assessment import AssessmentPack, KdfParams, PackKey, sign_pack
from promptster.issue.keys import CandidateKey, check_symbol
from promptster.record.synth import generate_bundle, session_key_for_seed

SEED = 21
EVENTS = 120
BIG = 384 * 1024 * 1024  # inflated size of each bomb: more than the 300 MB budget
MEMORY_BUDGET_MB = 300

_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "wb") as err:
    code = subprocess.run(sys.argv[3:], stdout=out, stderr=err, stdin=subprocess.DEVNULL).returncode
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "seconds": elapsed, "peakKb": peak}))
"""


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def measure(command: list[str], *, env: dict[str, str], cwd: Path, logs: Path) -> Run:
    """Run `command` and report its exit code, output, wall time and peak memory (see above)."""
    out, err = logs / "stdout.txt", logs / "stderr.txt"
    parent = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(out), str(err), *command],
        env=env,
        cwd=cwd,
        capture_output=True,
        check=True,
    )
    result = json.loads(parent.stdout)
    run = Run(
        result["code"],
        out.read_text("utf-8", "replace"),
        err.read_text("utf-8", "replace"),
        result["seconds"],
        result["peakKb"] / 1024,
    )
    out.unlink()
    err.unlink()
    return run


def base_bundle(folder: Path, events: int = EVENTS) -> Path:
    path = folder / f"base-{events}.pst"
    if not path.exists():
        generate_bundle(path, events=events, seed=SEED)
    return path


def load(base: Path) -> Bundle:
    return Bundle.load(base, session_key_for_seed(SEED))


# -- the cases ---------------------------------------------------------------------------------


def _timeline_zero_bomb(b: Bundle, out: Path) -> None:
    b.members[fmt.TIMELINE] = b"\0" * BIG  # one line of 384 MiB, signed
    b.resign()
    b.save(out)


def _timeline_size_lie(b: Bundle, out: Path) -> None:
    b.members[fmt.TIMELINE] = b"\n" * BIG  # the zip declares 384 MiB; the manifest is unchanged
    b.save(out)


def _timeline_empty_lines(b: Bundle, out: Path) -> None:
    b.members[fmt.TIMELINE] = b"\n" * 50_000_000
    b.resign()
    b.save(out)


def _cast_bomb(b: Bundle, out: Path) -> None:
    header = json.dumps({"version": 2, "width": 80, "height": 24}).encode() + b"\n"
    line = b'[0.1, "o", "' + b"x" * 1000 + b'\\r\\n"]\n'
    b.add_member("terminal/0.cast", header + line * (BIG // len(line)))
    b.resign()
    b.save(out)


def _cast_deep_nesting(b: Bundle, out: Path) -> None:
    header = json.dumps({"version": 2, "width": 80, "height": 24}).encode() + b"\n"
    deep = b"[" * 200_000 + b"]" * 200_000 + b"\n"
    b.add_member("terminal/0.cast", header + deep + b'[0.5, "o", "after the deep line"]\n')
    b.resign()
    b.save(out)


def _snapshot_diff_bomb(b: Bundle, out: Path) -> None:
    """A last snapshot adding a 384 MiB file of short lines (it packs to a few hundred KB),
    explained by a file event, so the bundle verifies and the report has to show its diff."""
    repo = SnapshotRepo(b.members[fmt.SNAPSHOTS], out.parent)
    head = repo.rev(fmt.SNAPSHOT_REF)
    data = b"a\n" * (BIG // 2)
    stream = (
        f"commit {fmt.SNAPSHOT_REF}\ncommitter promptster <snapshots@promptster.invalid> "
        f"1767600000 +0000\ndata 6\nforged\nfrom {head}\nM 100644 inline bomb.txt\n"
        f"data {len(data)}\n"
    ).encode()
    run_git(
        ["fast-import", "--quiet", "--force"], git_dir=repo.git_dir, stdin=stream + data + b"\n"
    )
    bomb_head = repo.rev(fmt.SNAPSHOT_REF)
    b.members[fmt.SNAPSHOTS] = repo.bundle(fmt.SNAPSHOT_REF)
    events = b.events()
    template = next(e for e in events if e["kind"] == "file_diff")
    last = events[-1]
    event = dict(
        template,
        id="00000000-0000-4000-8000-00000000b0b0",
        kind="file_create",
        ts=last["ts"],
        data={"path": "bomb.txt", "commit": bomb_head, "linesAdded": BIG // 2, "linesRemoved": 0},
    )
    events.insert(len(events) - 1, event)
    b.set_events(events, rechain_them=True)
    b.resign(refresh_chain=True, edit=lambda m: m.update(snapshotHead=bomb_head))
    b.save(out)


def _pack_with_many_keys(b: Bundle, out: Path, kdf: KdfParams | None = None) -> None:
    """An assessment pack listing 400 key hashes at the highest scrypt cost accepted, none of
    them the bundle's key."""
    reviewer = SigningKey.from_seed(b"\x33" * 32)
    kdf = kdf or KdfParams(n=KdfParams.MAX_N, r=KdfParams.MAX_R, p=KdfParams.MAX_P)
    keys = tuple(
        PackKey(f"key-{i}", os.urandom(16), os.urandom(32), datetime(2030, 1, 1, tzinfo=UTC), False)
        for i in range(400)
    )
    pack = AssessmentPack(
        assessment_id=b.manifest["assessmentId"],
        org="Hostile Ltd",
        role="Attacker",
        brief="Burn the reviewer's CPU.",
        time_limit_minutes=120,
        repo=None,
        reviewer_public_key=reviewer.public,
        keys=keys,
        issued_at=datetime(2026, 1, 1, tzinfo=UTC),
        kdf=kdf,
    )
    signed = sign_pack(pack, reviewer)
    b.add_member(fmt.ASSESSMENT, signed)
    key = CandidateKey("ZZZZ999" + check_symbol("ZZZZ999"))
    # Bound like a recorded session (format 2): the first event names this key and pack.
    binding = {
        "candidateKeyHash": fmt.candidate_key_hash(key.text),
        "packDigest": sha256_digest(signed),
    }
    events = b.events()
    events[0]["data"].update(binding)
    b.set_events(events, rechain_them=True)
    b.resign(refresh_chain=True, edit=lambda m: m.update(candidateKey=key.text, **binding))
    b.save(out)


def _pack_scrypt_over_cap(b: Bundle, out: Path) -> None:
    """A pack asking for scrypt at n=2^20, r=16 (2 GiB and seconds per derivation)."""
    _pack_with_many_keys(b, out, KdfParams(n=2**20, r=16, p=1))


def _zip_comment(b: Bundle, out: Path) -> None:
    b.save(out)
    with zipfile.ZipFile(out, "a") as archive:
        archive.comment = b"<script>alert(1)</script>"


def _zip_prepended_html(b: Bundle, out: Path) -> None:
    b.save(out)
    out.write_bytes(
        b"<html><body><script>alert('polyglot')</script></body></html>\n" + out.read_bytes()
    )


def _zip_trailing_data(b: Bundle, out: Path) -> None:
    b.save(out)
    with open(out, "ab") as handle:
        handle.write(b"#!/bin/sh\necho appended\n")


def _git_bundle_extra_ref(b: Bundle, out: Path) -> None:
    data = b.members[fmt.SNAPSHOTS]
    end = data.index(b"\n\n")
    header = data[:end].split(b"\n")
    tip = next(
        line.split(b" ")[0] for line in header[1:] if line.endswith(fmt.SNAPSHOT_REF.encode())
    )
    extra = tip + b" refs/heads/--upload-pack=touch-pwned"
    b.members[fmt.SNAPSHOTS] = b"\n".join([*header, extra]) + data[end:]
    b.resign()
    b.save(out)


@dataclass(frozen=True)
class HostileCase:
    name: str
    build: Callable[[Bundle, Path], None]
    exit_code: int  # of `promptster verify`
    check: str  # the finding's check ...
    message: str  # ... and a part of its message
    status: str = "failed"


CASES = [
    HostileCase(
        "timeline-zero-bomb", _timeline_zero_bomb, 1, "timeline",
        "line 0 is more than 4,194,304 bytes long",
    ),
    HostileCase(
        "timeline-size-lie", _timeline_size_lie, 1, "hashes",
        f"its zip entry declares {BIG:,} bytes",
    ),
    HostileCase(
        "timeline-50m-empty-lines", _timeline_empty_lines, 1, "timeline",
        "line 0 is not valid JSON",
    ),
    HostileCase("cast-bomb", _cast_bomb, 0, "hashes", "match the manifest", "ok"),
    HostileCase("cast-deep-nesting", _cast_deep_nesting, 0, "hashes", "match the manifest", "ok"),
    HostileCase(
        "snapshot-diff-bomb", _snapshot_diff_bomb, 0, "replay", "file events replay onto", "ok"
    ),
    HostileCase(
        "pack-400-keys", _pack_with_many_keys, 0, "candidate-key", "of 400", "warning"
    ),
    HostileCase(
        "pack-scrypt-over-cap", _pack_scrypt_over_cap, 1, "assessment",
        "scrypt parameters are out of range",
    ),
    HostileCase("zip-comment", _zip_comment, 1, "zip", "comment"),
    HostileCase(
        "zip-prepended-html", _zip_prepended_html, 1, "zip", "in front of the first member"
    ),
    HostileCase("zip-trailing-data", _zip_trailing_data, 1, "zip", "data after its end record"),
    HostileCase(
        "git-bundle-extra-ref", _git_bundle_extra_ref, 1, "snapshots",
        "the writer makes exactly one ref",
    ),
]  # fmt: skip


def build_case(case: HostileCase, base: Path, folder: Path) -> Path:
    out = folder / f"{case.name}.pst"
    if not out.exists():
        case.build(load(base), out)
    return out


def finding(report: dict[str, Any], check: str, text: str, status: str) -> bool:
    return any(
        f["check"] == check and f["status"] == status and text in f["message"]
        for f in report["findings"]
    )


def padded_ordinary(base: Path, folder: Path, size: int) -> Path:
    """An ordinary, verifying bundle padded with incompressible blob members to about `size`
    bytes on disk: the benchmark's honest peer of a hostile bundle of that compressed size."""
    out = folder / f"ordinary-{size}.pst"
    if out.exists():
        return out
    bundle = load(base)
    need = size - base.stat().st_size
    while need > 4096:
        blob = os.urandom(min(need, 64 * 1024 * 1024))
        bundle.add_member(f"blobs/{hashlib.sha256(blob).hexdigest()}", blob)
        need -= len(blob)
    bundle.resign()
    bundle.save(out)
    return out
