"""The tamper suite: one valid bundle, one edit per case, one specific failed finding each.

Cases are named in the sigstore-conformance / transparency-dev style (`<what>-<how>_fail`).
Edits to signed content are re-signed with the session key, as a forger holding the key would;
`-rechained` cases also renumber `seq`, recompute every `prev` and refresh `chainHead` and
`eventCount`, so only the replay of file events onto the git snapshots can catch them. Every
case runs through the real CLI (`promptster verify --json` and the human output) and must exit
1 (or 2 for unreadable input) with the expected message, no traceback, and no file left behind.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tamperkit import (
    SEED,
    Bundle,
    Outcome,
    Sandbox,
    SnapshotRepo,
    ZipEntry,
    blob_name,
    entries_for,
    write_zip,
)

from promptster.bundle import format as fmt
from promptster.formats.crypto import SigningKey
from promptster.formats.events import FILE_KINDS
from promptster.formats.jsonio import canonical_json
from promptster.formats.timeline import MAX_LINE_BYTES, line_hash
from promptster.issue.keys import check_symbol
from promptster.record.synth import session_key_for_seed

OTHER_KEY = SigningKey.from_seed(bytes(range(32)))
MIDDLE = 40  # an ordinary event well inside the ~150-event session


@dataclass
class Tools:
    """What a case may use besides the bundle it edits."""

    work: Path
    other: Bundle  # another session, signed with another key
    out: Path  # where the tampered bundle goes

    def write_raw(self, data: bytes) -> None:
        self.out.write_bytes(data)


Build = Callable[[Bundle, Tools], int | None]


@dataclass(frozen=True)
class Case:
    name: str
    build: Build  # edits the bundle; returns the seq the finding must name, if any
    check: str
    message: str
    exit_code: int
    base: str
    slow: bool


CASES: list[Case] = []


def case(
    name: str, check: str, message: str, *, exit_code: int = 1, base: str = "pristine"
) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        CASES.append(Case(name, build, check, message, exit_code, base, slow=False))
        return build

    return register


def slow_case(name: str, check: str, message: str) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        CASES.append(Case(name, build, check, message, 1, "pristine", slow=True))
        return build

    return register


def is_file_event(event: dict[str, Any]) -> bool:
    return event["kind"] in FILE_KINDS


def edit_event(b: Bundle, index: int, edit: Callable[[dict[str, Any]], None]) -> None:
    events = b.events()
    edit(events[index])
    b.set_events(events)


def flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


def _relink(b: Bundle, lines: list[bytes], start: int) -> None:
    """Rewrite `prev` from line `start` on, so the chain covers hand-edited raw lines."""
    for index in range(start, len(lines)):
        event = json.loads(lines[index])
        event["prev"] = line_hash(lines[index - 1])
        lines[index] = canonical_json(event)
    b.set_lines(lines)


# -- the zip container -------------------------------------------------------------------------


@case("zip-truncated_fail", "zip", "not a complete zip file", exit_code=2)
def _zip_truncated(b: Bundle, t: Tools) -> None:
    b.save(t.out)
    t.write_raw(t.out.read_bytes()[: t.out.stat().st_size // 2])


@case("zip-end-record-cut_fail", "zip", "not a complete zip file", exit_code=2)
def _zip_end_cut(b: Bundle, t: Tools) -> None:
    b.save(t.out)
    t.write_raw(t.out.read_bytes()[:-10])


@case("zip-not-a-zip_fail", "zip", "is not a readable bundle", exit_code=2)
def _not_zip(b: Bundle, t: Tools) -> None:
    t.write_raw(b"PK\x03\x04 this is not a zip file at all\n" * 100)


@case("zip-is-a-fifo_fail", "zip", "is not a regular file, not a bundle", exit_code=2)
def _fifo(b: Bundle, t: Tools) -> None:
    os.mkfifo(t.out)  # opening it for reading would block forever


@case("zip-member-parent-path_fail", "zip", "member '../escaped.txt' contains '..'")
def _parent_path(b: Bundle, t: Tools) -> None:
    b.extra_entries.append(ZipEntry("../escaped.txt", b"written outside\n"))
    b.save(t.out)


ABSOLUTE = f"/tmp/promptster-tamper-{uuid.uuid4().hex}"


@case("zip-member-absolute-path_fail", "zip", f"member {ABSOLUTE!r} is an absolute path")
def _absolute_path(b: Bundle, t: Tools) -> None:
    b.extra_entries.append(ZipEntry(ABSOLUTE, b"written outside\n"))
    b.save(t.out)


@case("zip-member-backslash-path_fail", "zip", "contains a backslash or NUL byte")
def _backslash(b: Bundle, t: Tools) -> None:
    b.extra_entries.append(ZipEntry("..\\..\\escaped.txt", b"windows-style escape\n"))
    b.save(t.out)


@case("zip-member-symlink_fail", "zip", "member 'terminal/0.cast' is a symbolic link")
def _symlink(b: Bundle, t: Tools) -> None:
    b.extra_entries.append(ZipEntry("terminal/0.cast", b"/etc/passwd", mode=0o120777))
    b.save(t.out)


@case("zip-member-unknown-name_fail", "zip", "'run.sh' is not a member the bundle format defines")
def _unknown_name(b: Bundle, t: Tools) -> None:
    b.extra_entries.append(ZipEntry("run.sh", b"#!/bin/sh\nrm -rf ~\n", mode=0o100755))
    b.save(t.out)


@case("zip-member-duplicated_fail", "zip", "member 'timeline.jsonl' appears twice in the zip")
def _duplicate_member(b: Bundle, t: Tools) -> None:
    b.extra_entries.append(ZipEntry(fmt.TIMELINE, b"{}\n"))
    with pytest.warns(UserWarning, match="Duplicate name"):
        b.save(t.out)


@case("zip-member-encrypted_fail", "zip", "member 'terminal/0.cast' is encrypted")
def _encrypted(b: Bundle, t: Tools) -> None:
    b.extra_entries.append(ZipEntry("terminal/0.cast", b"\x00" * 64, flag_bits=0x1))
    b.save(t.out)


@case(
    "zip-member-declared-10gb_fail",
    "zip",
    "member 'timeline.jsonl' declares 10,000,000,000 bytes; the limit is 2,147,483,648 (zip bomb?)",
)
def _declared_10gb(b: Bundle, t: Tools) -> None:
    entries = entries_for(b.members)
    for entry in entries:
        if entry.name == fmt.TIMELINE:
            entry.declared_size = 10_000_000_000
    write_zip(t.out, entries)


@case(
    "zip-blob-declared-10gb_fail", "zip", "declares 10,000,000,000 bytes; the limit is 268,435,456"
)
def _blob_declared_10gb(b: Bundle, t: Tools) -> None:
    b.extra_entries.append(
        ZipEntry(blob_name(b"x"), b"x", declared_size=10_000_000_000, compress=zipfile.ZIP_STORED)
    )
    b.save(t.out)


@case("zip-total-declared-over-cap_fail", "zip", "the limit is 8,589,934,592 (zip bomb?)")
def _total_over_cap(b: Bundle, t: Tools) -> None:
    # Every member within its own cap and a believable ratio; 9 GiB declared in all.
    def big(name: str, declared: int) -> ZipEntry:
        data = os.urandom(declared // 1000)
        return ZipEntry(name, data, zipfile.ZIP_STORED, declared_size=declared)

    entries = [e for e in entries_for(b.members) if e.name not in (fmt.TIMELINE, fmt.SNAPSHOTS)]
    entries += [big(fmt.TIMELINE, 2 * 1024**3), big(fmt.SNAPSHOTS, 3 * 1024**3)]
    entries += [big(f"terminal/{n}.cast", 1024**3) for n in range(4)]
    write_zip(t.out, entries)


@case("zip-member-impossible-ratio_fail", "zip", "declares an impossible compression ratio")
def _impossible_ratio(b: Bundle, t: Tools) -> None:
    entries = entries_for(b.members)
    for entry in entries:
        if entry.name == fmt.TIMELINE:
            entry.declared_size = 2 * 1024**3 - 1  # under the member cap, but ~100,000:1
    write_zip(t.out, entries)


@case("zip-member-understated-size_fail", "hashes", "member 'timeline.jsonl' is corrupt")
def _understated(b: Bundle, t: Tools) -> None:
    entries = entries_for(b.members)
    for entry in entries:
        if entry.name == fmt.TIMELINE:
            entry.declared_size = 100  # inflates to far more than it declares
    write_zip(t.out, entries)


@case("zip-too-many-members_fail", "zip", "has 10,001 members; the limit is 10,000")
def _too_many(b: Bundle, t: Tools) -> None:
    for n in range(fmt.MAX_MEMBERS + 1 - len(b.members)):
        b.extra_entries.append(ZipEntry(blob_name(str(n).encode()), b"", zipfile.ZIP_STORED))
    b.save(t.out)


@case("zip-member-missing_fail", "zip", "missing member(s): timeline.jsonl")
def _missing_timeline(b: Bundle, t: Tools) -> None:
    del b.members[fmt.TIMELINE]
    b.save(t.out)


@case("zip-signature-missing_fail", "zip", "missing member(s): manifest.dsse.json")
def _missing_signature(b: Bundle, t: Tools) -> None:
    del b.members[fmt.SIGNATURE]
    b.save(t.out)


@case("zip-member-unlisted_fail", "hashes", "is not listed in the signed manifest")
def _unlisted(b: Bundle, t: Tools) -> None:
    payload = b"smuggled in after signing\n"
    b.add_member(blob_name(payload), payload)
    b.save(t.out)


@case("zip-timeline-crc-broken_fail", "hashes", "member 'timeline.jsonl' is corrupt")
def _crc_timeline(b: Bundle, t: Tools) -> None:
    b.save(t.out)
    data = t.out.read_bytes()
    with zipfile.ZipFile(t.out) as archive:
        info = archive.getinfo(fmt.TIMELINE)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    t.write_raw(flip(data, start + info.compress_size // 2))


@case("zip-manifest-crc-broken_fail", "manifest", "member 'manifest.json' is corrupt")
def _crc_manifest(b: Bundle, t: Tools) -> None:
    b.save(t.out)
    data = t.out.read_bytes()
    with zipfile.ZipFile(t.out) as archive:
        info = archive.getinfo(fmt.MANIFEST)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    t.write_raw(flip(data, start + info.compress_size // 2))


# -- a byte flipped in each member (the zip rewritten so its CRCs are right) -------------------

FLIPS = [
    # member, check, message
    (fmt.MANIFEST, "signature", "manifest.json differs from the signed manifest"),
    (fmt.SIGNATURE, "signature", "the DSSE signature does not verify"),
    (fmt.TIMELINE, "hashes", "member 'timeline.jsonl' was changed after signing"),
    (fmt.SNAPSHOTS, "hashes", "member 'snapshots.bundle' was changed after signing"),
    (fmt.ASSESSMENT, "hashes", "member 'assessment.json' was changed after signing"),
    ("terminal/0.cast", "hashes", "member 'terminal/0.cast' was changed after signing"),
    ("blobs/", "hashes", "was changed after signing"),
]


def _flip_member(member: str) -> Build:
    def build(b: Bundle, t: Tools) -> None:
        name = next(n for n in b.members if n.startswith(member))
        data = b.members[name]
        if name == fmt.MANIFEST:
            offset = data.index(b'"endedAt":"') + len('"endedAt":"') + 3  # a digit of the year
        elif name == fmt.SIGNATURE:  # flip a bit of the signature itself, not of its base64
            envelope = json.loads(data)
            sig = base64.b64decode(envelope["signatures"][0]["sig"])
            envelope["signatures"][0]["sig"] = base64.b64encode(flip(sig, 10)).decode()
            b.members[name] = canonical_json(envelope)
            b.save(t.out)
            return
        else:
            offset = len(data) // 2
        b.members[name] = flip(data, offset)
        b.save(t.out)

    return build


for _member, _check, _message in FLIPS:
    _slug = _member.rstrip("/").replace("/", "-").replace(".", "-")
    case(f"{_slug}-byte-flipped_fail", _check, _message, base="full")(_flip_member(_member))


# -- signature and keys ------------------------------------------------------------------------


@case("signature-swapped_fail", "signature", "the DSSE signature does not verify")
def _signature_swapped(b: Bundle, t: Tools) -> None:
    b.members[fmt.SIGNATURE] = t.other.members[fmt.SIGNATURE]
    b.save(t.out)


@case("signature-resigned-other-key_fail", "signature", "does not verify with the expected public")
def _resigned_other_key(b: Bundle, t: Tools) -> None:
    b.sign_payload(b.members[fmt.MANIFEST], key=OTHER_KEY)
    b.save(t.out)


@case("public-key-swapped_fail", "signature", "the DSSE signature does not verify")
def _public_key_swapped(b: Bundle, t: Tools) -> None:
    b.edit_manifest(lambda m: m.update(publicKey=OTHER_KEY.public.text))
    b.save(t.out)


@case("public-key-swapped-resigned-session-key_fail", "signature", "does not verify")
def _public_key_swapped_resigned(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(publicKey=OTHER_KEY.public.text))  # signed with session key
    b.save(t.out)


@case(
    "candidate-key-swapped_fail",
    "candidate-key",
    "does not match any key of its assessment pack",
    base="full",
)
def _candidate_key_swapped(b: Bundle, t: Tools) -> None:
    # The pack is genuine, but the key in the (re-signed) manifest is not one it was issued for.
    b.resign(edit=lambda m: m.update(candidateKey="PST-ZZZZ-ZZZ" + check_symbol("ZZZZZZZ")))
    b.save(t.out)


@case("public-key-not-a-key_fail", "signature", "public key is 3 bytes; an Ed25519 key is 32")
def _public_key_garbage(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(publicKey="AAAA"))
    b.save(t.out)


@case("signature-payload-type-wrong_fail", "signature", "DSSE payloadType is 'application/json'")
def _payload_type_wrong(b: Bundle, t: Tools) -> None:
    b.resign(payload_type="application/json")
    b.save(t.out)


@case("signature-payload-type-edited_fail", "signature", "the DSSE signature does not verify")
def _payload_type_edited(b: Bundle, t: Tools) -> None:
    envelope = b.envelope
    envelope["payloadType"] = "application/vnd.promptster.manifest+jsox"
    b.members[fmt.SIGNATURE] = canonical_json(envelope)
    b.save(t.out)


@case("signature-payload-differs_fail", "signature", "differs from the signed manifest")
def _payload_differs(b: Bundle, t: Tools) -> None:
    # A correctly signed envelope over a different manifest than the one in the zip.
    b.sign_payload(b.members[fmt.MANIFEST].replace(b'"toolVersion":"', b'"toolVersion":"9'))
    b.save(t.out)


@case("signature-list-empty_fail", "signature", "DSSE envelope has no signatures")
def _no_signatures(b: Bundle, t: Tools) -> None:
    envelope = b.envelope
    envelope["signatures"] = []
    b.members[fmt.SIGNATURE] = canonical_json(envelope)
    b.save(t.out)


@case("signature-not-base64_fail", "signature", "signature is not valid base64")
def _sig_not_base64(b: Bundle, t: Tools) -> None:
    envelope = b.envelope
    envelope["signatures"][0]["sig"] = "%%% not base64 %%%"
    b.members[fmt.SIGNATURE] = canonical_json(envelope)
    b.save(t.out)


@case("signature-envelope-deeply-nested_fail", "signature", "nested deeper than 64 levels")
def _envelope_nested(b: Bundle, t: Tools) -> None:
    b.members[fmt.SIGNATURE] = b"[" * 200 + b"]" * 200
    b.save(t.out)


# -- the manifest (re-signed with the session key) ---------------------------------------------


@case("manifest-chain-head-edited_fail", "timeline", "does not match chainHead")
def _chain_head(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(chainHead="sha256:" + "0" * 64))
    b.save(t.out)


@case("manifest-event-count-edited_fail", "timeline", "events were removed or added after signing")
def _event_count(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(eventCount=m["eventCount"] + 1))
    b.save(t.out)


@case("manifest-snapshot-head-edited_fail", "snapshots", "is not snapshotHead")
def _snapshot_head(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(snapshotHead="0" * 40))
    b.save(t.out)


@case("manifest-session-id-edited_fail", "timeline", "line 0 does not start the chain")
def _session_id(b: Bundle, t: Tools) -> int:
    b.resign(edit=lambda m: m.update(sessionId=str(uuid.UUID(int=1))))
    b.save(t.out)
    return 0


@case("manifest-started-at-later_fail", "timeline", "an event is dated before startedAt")
def _started_later(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(startedAt="2099-01-01T00:00:00.000Z"))
    b.save(t.out)


@case("manifest-ended-at-earlier_fail", "timeline", "an event is dated after endedAt")
def _ended_earlier(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(endedAt="2000-01-01T00:00:00.000Z"))
    b.save(t.out)


@case("manifest-ended-at-malformed_fail", "timeline", "endedAt is not an RFC 3339 UTC timestamp")
def _ended_malformed(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(endedAt="9999"))  # would sort after every event
    b.save(t.out)


@case("manifest-member-hash-wrong_fail", "hashes", "'snapshots.bundle' was changed after signing")
def _member_hash(b: Bundle, t: Tools) -> None:
    def edit(m: dict[str, Any]) -> None:
        m["members"][fmt.SNAPSHOTS]["sha256"] = "sha256:" + "0" * 64

    b.resign(edit=edit)
    b.save(t.out)


@case("manifest-member-size-wrong_fail", "hashes", "'timeline.jsonl' was changed after signing")
def _member_size(b: Bundle, t: Tools) -> None:
    def edit(m: dict[str, Any]) -> None:
        m["members"][fmt.TIMELINE]["size"] += 1

    b.resign(edit=edit)
    b.save(t.out)


@case("manifest-lists-missing-member_fail", "hashes", "member 'terminal/0.cast' is missing")
def _lists_missing(b: Bundle, t: Tools) -> None:
    def edit(m: dict[str, Any]) -> None:
        m["members"]["terminal/0.cast"] = {"sha256": "sha256:" + "0" * 64, "size": 1}

    b.resign(edit=edit)
    b.save(t.out)


@case("manifest-deeply-nested_fail", "manifest", "manifest.json is nested deeper than 64 levels")
def _manifest_nested(b: Bundle, t: Tools) -> None:
    nested: Any = "bottom"
    for _ in range(100):
        nested = {"n": nested}
    b.resign(edit=lambda m: m.update(extension=nested))
    b.save(t.out)


@case("manifest-nested-100k_fail", "manifest", "manifest.json is nested too deeply")
def _manifest_nested_100k(b: Bundle, t: Tools) -> None:
    b.resign(raw_manifest=b"[" * 100_000 + b"]" * 100_000)
    b.save(t.out)


@case("manifest-duplicate-key_fail", "manifest", "duplicate key 'chainHead'")
def _manifest_duplicate_key(b: Bundle, t: Tools) -> None:
    raw = b.members[fmt.MANIFEST]
    b.resign(raw_manifest=raw[:-1] + b',"chainHead":"sha256:' + b"1" * 64 + b'"}')
    b.save(t.out)


@case("manifest-not-json_fail", "manifest", "manifest.json is not valid JSON")
def _manifest_not_json(b: Bundle, t: Tools) -> None:
    b.resign(raw_manifest=b"format = promptster-bundle\n")
    b.save(t.out)


@case("manifest-nan_fail", "manifest", "NaN is not a JSON value")
def _manifest_nan(b: Bundle, t: Tools) -> None:
    b.resign(raw_manifest=b.members[fmt.MANIFEST][:-1] + b',"score":NaN}')
    b.save(t.out)


@case("manifest-wrong-format_fail", "manifest", "does not describe a Promptster bundle")
def _manifest_format(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(format="in-toto"))
    b.save(t.out)


@case("manifest-newer-format_fail", "manifest", "uses format version 4", exit_code=2)
def _manifest_newer(b: Bundle, t: Tools) -> None:
    b.resign(edit=lambda m: m.update(formatVersion=fmt.FORMAT_VERSION + 1))
    b.save(t.out)


# -- the timeline (re-signed; `-rechained` cases also rebuild the chain) -----------------------


@case("timeline-line-dropped_fail", "timeline", f"line {MIDDLE} has seq {MIDDLE + 1}")
def _line_dropped(b: Bundle, t: Tools) -> int:
    lines = b.lines
    del lines[MIDDLE]
    b.set_lines(lines)
    b.resign()
    b.save(t.out)
    return MIDDLE


@case("timeline-first-line-dropped_fail", "timeline", "line 0 has seq 1")
def _first_dropped(b: Bundle, t: Tools) -> int:
    b.set_lines(b.lines[1:])
    b.resign()
    b.save(t.out)
    return 0


@case("timeline-last-line-dropped_fail", "timeline", "the manifest says")
def _last_dropped(b: Bundle, t: Tools) -> None:
    b.set_lines(b.lines[:-1])
    b.resign()
    b.save(t.out)


@case("timeline-last-line-dropped-count-fixed_fail", "timeline", "does not match chainHead")
def _last_dropped_count(b: Bundle, t: Tools) -> None:
    lines = b.lines[:-1]
    b.set_lines(lines)
    b.resign(edit=lambda m: m.update(eventCount=len(lines)))
    b.save(t.out)


@case("timeline-line-dropped-rechained_fail", "replay", "but no file event records it")
def _dropped_rechained(b: Bundle, t: Tools) -> None:
    events = b.events()
    del events[b.find(is_file_event, 3)]
    b.set_events(events, rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)


@case("timeline-lines-reordered_fail", "timeline", f"line {MIDDLE} has seq {MIDDLE + 1}")
def _reordered(b: Bundle, t: Tools) -> int:
    lines = b.lines
    lines[MIDDLE], lines[MIDDLE + 1] = lines[MIDDLE + 1], lines[MIDDLE]
    b.set_lines(lines)
    b.resign()
    b.save(t.out)
    return MIDDLE


@case("timeline-lines-reordered-rechained_fail", "timeline", "ts is not monotonic")
def _reordered_rechained(b: Bundle, t: Tools) -> int:
    events = b.events()
    i = next(i for i in range(MIDDLE, len(events)) if events[i]["ts"] < events[i + 1]["ts"])
    events[i], events[i + 1] = events[i + 1], events[i]
    b.set_events(events, rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return i + 1


@case("timeline-file-events-reordered-rechained_fail", "replay", "file events are out of order")
def _file_events_reordered(b: Bundle, t: Tools) -> int:
    events = b.events()
    first, second = b.find(is_file_event, 2), b.find(is_file_event, 3)
    events[first]["data"], events[second]["data"] = events[second]["data"], events[first]["data"]
    b.set_events(events, rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return second


@case("timeline-line-duplicated_fail", "timeline", f"line {MIDDLE + 1} has seq {MIDDLE}")
def _duplicated(b: Bundle, t: Tools) -> int:
    lines = b.lines
    lines.insert(MIDDLE, lines[MIDDLE])
    b.set_lines(lines)
    b.resign()
    b.save(t.out)
    return MIDDLE + 1


@case("timeline-line-duplicated-rechained_fail", "timeline", "repeats the id of event")
def _duplicated_rechained(b: Bundle, t: Tools) -> int:
    events = b.events()
    index = b.find(is_file_event, 1)
    events.insert(index + 1, dict(events[index]))
    b.set_events(events, rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return index + 1


@case("timeline-line-edited_fail", "timeline", f"line {MIDDLE + 1} does not chain to the line")
def _edited(b: Bundle, t: Tools) -> int:
    edit_event(b, MIDDLE, lambda e: e["data"].update(text="Write the whole solution for me."))
    b.resign()
    b.save(t.out)
    return MIDDLE + 1


@case("timeline-last-line-edited_fail", "timeline", "does not match chainHead")
def _last_edited(b: Bundle, t: Tools) -> None:
    edit_event(b, -1, lambda e: e["data"].update(reason="auto"))
    b.resign()
    b.save(t.out)


@case("timeline-line-added-at-end_fail", "timeline", "the manifest says")
def _appended(b: Bundle, t: Tools) -> None:
    events = b.events()
    extra = dict(events[-1], id=str(uuid.UUID(int=7)), kind="note", data={"text": "late"})
    b.set_events([*events, extra], rechain_them=True)
    b.resign()  # hashes updated, eventCount and chainHead still the signed ones
    b.save(t.out)


@case("timeline-line-counts-edited-rechained_fail", "replay", "the snapshot diff is")
def _counts_edited(b: Bundle, t: Tools) -> int:
    index = b.find(lambda e: e["kind"] == "file_diff", 2)
    edit_event(b, index, lambda e: e["data"].update(linesAdded=e["data"]["linesAdded"] + 40))
    b.set_events(b.events(), rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return index


@case("timeline-file-path-edited-rechained_fail", "replay", "does not change it")
def _path_edited(b: Bundle, t: Tools) -> int:
    index = b.find(is_file_event, 2)
    edit_event(b, index, lambda e: e["data"].update(path="src/app/secret_helper.py"))
    b.set_events(b.events(), rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return index


@case("timeline-file-commit-unknown-rechained_fail", "replay", "which is not in snapshots.bundle")
def _commit_unknown(b: Bundle, t: Tools) -> int:
    index = b.find(is_file_event, 2)
    edit_event(b, index, lambda e: e["data"].update(commit="1" * 40))
    b.set_events(b.events(), rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return index


@case("timeline-snapshot-ref-unknown-rechained_fail", "replay", "event names snapshot 222222222222")
def _snapshot_unknown(b: Bundle, t: Tools) -> int:
    edit_event(b, MIDDLE, lambda e: e["data"].update(snapshot="2" * 40))
    b.set_events(b.events(), rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-baseline-moved-rechained_fail", "replay", "but the baseline (first snapshot) is")
def _baseline_moved(b: Bundle, t: Tools) -> int:
    later = b.events()[b.find(is_file_event, 0)]["data"]["commit"]
    edit_event(b, 0, lambda e: e["data"].update(snapshot=later))
    b.set_events(b.events(), rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return 0


@case("timeline-ts-backwards-rechained_fail", "timeline", "ts is not monotonic")
def _ts_backwards(b: Bundle, t: Tools) -> int:
    events = b.events()
    events[MIDDLE]["ts"] = events[1]["ts"]
    b.set_events(events, rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-ts-malformed-rechained_fail", "timeline", "has no valid RFC 3339 UTC timestamp")
def _ts_malformed(b: Bundle, t: Tools) -> int:
    edit_event(b, MIDDLE, lambda e: e.update(ts=e["ts"].replace("Z", "+00:00")))
    b.set_events(b.events(), rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-seq-not-integer-rechained_fail", "timeline", f"line {MIDDLE} has seq {MIDDLE}.0")
def _seq_float(b: Bundle, t: Tools) -> int:
    events = b.events()
    lines = [canonical_json(e) for e in events]
    lines[MIDDLE] = lines[MIDDLE].replace(
        f'"seq":{MIDDLE},'.encode(), f'"seq":{MIDDLE}.0,'.encode()
    )
    _relink(b, lines, MIDDLE + 1)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-not-canonical-rechained_fail", "timeline", "is not in canonical JSON form")
def _not_canonical(b: Bundle, t: Tools) -> int:
    lines = b.lines
    lines[MIDDLE] = lines[MIDDLE].replace(b'{"actor":', b'{ "actor":', 1)
    _relink(b, lines, MIDDLE + 1)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-duplicate-key-rechained_fail", "timeline", "is not in canonical JSON form")
def _duplicate_key(b: Bundle, t: Tools) -> int:
    lines = b.lines
    lines[MIDDLE] = lines[MIDDLE][:-1] + b',"kind":"note"}'
    _relink(b, lines, MIDDLE + 1)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-nan-rechained_fail", "timeline", "is not in canonical JSON form")
def _nan(b: Bundle, t: Tools) -> int:
    lines = b.lines
    lines[MIDDLE] = lines[MIDDLE].replace(b'"data":{', b'"data":{"score":NaN,', 1)
    _relink(b, lines, MIDDLE + 1)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-crlf-rechained_fail", "timeline", "is not in canonical JSON form")
def _crlf(b: Bundle, t: Tools) -> int:
    lines = b.lines
    lines[MIDDLE] += b"\r"
    _relink(b, lines, MIDDLE + 1)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-not-utf8-rechained_fail", "timeline", f"line {MIDDLE} is not valid UTF-8")
def _not_utf8(b: Bundle, t: Tools) -> int:
    lines = b.lines
    lines[MIDDLE] = lines[MIDDLE].replace(b'"data":{', '"data":{"caf\u00e9":1,'.encode("latin-1"))
    _relink(b, lines, MIDDLE + 1)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-not-object-rechained_fail", "timeline", f"line {MIDDLE} is not a JSON object")
def _not_object(b: Bundle, t: Tools) -> int:
    lines = b.lines
    lines[MIDDLE] = b'["seq",40]'
    _relink(b, lines, MIDDLE + 1)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-deeply-nested-rechained_fail", "timeline", "is nested deeper than 64 levels")
def _nested(b: Bundle, t: Tools) -> int:
    nested: Any = []
    for _ in range(100):
        nested = [nested]
    edit_event(b, MIDDLE, lambda e: e["data"].update(input=nested))
    b.set_events(b.events(), rechain_them=True)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-nested-100k_fail", "timeline", f"line {MIDDLE} is nested too deeply")
def _nested_100k(b: Bundle, t: Tools) -> int:
    lines = b.lines
    lines[MIDDLE] = b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    _relink(b, lines, MIDDLE + 1)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-line-over-cap_fail", "timeline", f"the limit is {MAX_LINE_BYTES:,}")
def _line_over_cap(b: Bundle, t: Tools) -> int:
    lines = b.lines
    lines.insert(MIDDLE, b"x" * (MAX_LINE_BYTES + 1))
    b.set_lines(lines)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@slow_case(
    "timeline-line-200mb_fail",
    "timeline",
    f"is more than {MAX_LINE_BYTES:,} bytes long; the limit is {MAX_LINE_BYTES:,}",
)
def _line_200mb(b: Bundle, t: Tools) -> int:
    # Varied enough that deflate stays far below the ratio cap; about 1 MB in the zip.
    block = bytes(range(32, 127)) * 10 + b"\x20" * 50
    huge = b"".join(b"%08d" % n + block for n in range(200_000_000 // (8 + len(block))))
    huge += b"x" * (200_000_000 - len(huge))
    lines = b.lines
    lines.insert(MIDDLE, huge)
    b.set_lines(lines)
    b.resign(refresh_chain=True)
    b.save(t.out)
    return MIDDLE


@case("timeline-empty-lines-rechained_fail", "timeline", "line 0 is not valid JSON")
def _empty_lines(b: Bundle, t: Tools) -> int:
    # 20 million empty lines: verify reads lines one at a time and stops at the first.
    b.members[fmt.TIMELINE] = b"\n" * 20_000_000
    b.resign(refresh_chain=True)
    b.save(t.out)
    return 0


@case("timeline-torn-tail_fail", "timeline", "ends with a partial line")
def _torn(b: Bundle, t: Tools) -> None:
    b.set_lines(b.lines, trailing_newline=False)
    b.resign()
    b.save(t.out)


@case("timeline-empty_fail", "timeline", "the timeline has 0")
def _empty(b: Bundle, t: Tools) -> None:
    b.set_lines([])
    b.resign()
    b.save(t.out)


@case("timeline-other-session_fail", "timeline", "line 0 does not start the chain of this session")
def _other_session(b: Bundle, t: Tools) -> int:
    b.members[fmt.TIMELINE] = t.other.members[fmt.TIMELINE]
    b.resign(refresh_chain=True)
    b.save(t.out)
    return 0


# -- the git snapshots (re-signed) --------------------------------------------------------------


@case("snapshots-unrelated-history_fail", "replay", "which is not in snapshots.bundle")
def _unrelated(b: Bundle, t: Tools) -> None:
    b.members[fmt.SNAPSHOTS] = t.other.members[fmt.SNAPSHOTS]
    other_head = t.other.manifest["snapshotHead"]
    b.resign(edit=lambda m: m.update(snapshotHead=other_head))
    b.save(t.out)


@case("snapshots-unrelated-history-head-kept_fail", "snapshots", "is not snapshotHead")
def _unrelated_head_kept(b: Bundle, t: Tools) -> None:
    b.members[fmt.SNAPSHOTS] = t.other.members[fmt.SNAPSHOTS]
    b.resign()
    b.save(t.out)


@case("snapshots-not-a-git-bundle_fail", "snapshots", "snapshots.bundle is not a valid git bundle")
def _not_git(b: Bundle, t: Tools) -> None:
    b.members[fmt.SNAPSHOTS] = b"# v2 git bundle\nnot really\n"
    b.resign()
    b.save(t.out)


@case("snapshots-pack-corrupt-resigned_fail", "snapshots", "snapshots.bundle holds broken objects")
def _pack_corrupt(b: Bundle, t: Tools) -> None:
    data = b.members[fmt.SNAPSHOTS]
    pack_start = data.index(b"\n\n") + 2
    b.members[fmt.SNAPSHOTS] = flip(data, pack_start + (len(data) - pack_start) // 2)
    b.resign()
    b.save(t.out)


@case("snapshots-thin-bundle_fail", "snapshots", "snapshots.bundle is not a valid git bundle")
def _thin(b: Bundle, t: Tools) -> None:
    repo = SnapshotRepo(b.members[fmt.SNAPSHOTS], t.work)
    b.members[fmt.SNAPSHOTS] = repo.bundle(f"{fmt.SNAPSHOT_REF}~3..{fmt.SNAPSHOT_REF}")
    b.resign()
    b.save(t.out)


@case("snapshots-wrong-branch_fail", "snapshots", "has no refs/heads/snapshots branch")
def _wrong_branch(b: Bundle, t: Tools) -> None:
    repo = SnapshotRepo(b.members[fmt.SNAPSHOTS], t.work)
    head = repo.rev(fmt.SNAPSHOT_REF)
    repo.add_commit("refs/heads/main", {}, parents=[head])
    b.members[fmt.SNAPSHOTS] = repo.bundle("refs/heads/main")
    b.resign()
    b.save(t.out)


@case("snapshots-extra-commit_fail", "replay", "changes 'src/app/backdoor.py' but no file event")
def _extra_commit(b: Bundle, t: Tools) -> None:
    repo = SnapshotRepo(b.members[fmt.SNAPSHOTS], t.work)
    head = repo.add_commit(
        fmt.SNAPSHOT_REF,
        {"src/app/backdoor.py": "print('pre-written')\n"},
        parents=[repo.rev(fmt.SNAPSHOT_REF)],
    )
    b.members[fmt.SNAPSHOTS] = repo.bundle(fmt.SNAPSHOT_REF)
    b.resign(edit=lambda m: m.update(snapshotHead=head))
    b.save(t.out)


@case("snapshots-merge-commit_fail", "snapshots", "is a merge commit")
def _merge(b: Bundle, t: Tools) -> None:
    # Content merged in from a side branch shows no diff against the first parent, so without
    # the linear-history rule it would enter the final tree unexplained.
    repo = SnapshotRepo(b.members[fmt.SNAPSHOTS], t.work)
    head = repo.rev(fmt.SNAPSHOT_REF)
    side = repo.add_commit("refs/heads/side", {"solution.py": "print('pre-written')\n"}, parents=[])
    merged = repo.add_commit(
        fmt.SNAPSHOT_REF, {"solution.py": "print('pre-written')\n"}, parents=[head, side]
    )
    b.members[fmt.SNAPSHOTS] = repo.bundle(fmt.SNAPSHOT_REF)
    b.resign(edit=lambda m: m.update(snapshotHead=merged))
    b.save(t.out)


# -- the runner ----------------------------------------------------------------------------------


def _params() -> list[Any]:
    return [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else []) for c in CASES]


def test_case_names_are_unique_and_styled() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    assert all(name.endswith("_fail") and name == name.lower() for name in names)


@pytest.mark.parametrize("case", _params())
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
    assert case.message in outcome.stderr  # the human summary says what was tampered with
    assert not Path(ABSOLUTE).exists()
    assert not (sandbox.work.parent / "escaped.txt").exists()
    assert not (sandbox.cwd.parent / "escaped.txt").exists()
