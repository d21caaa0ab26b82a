"""`verify`'s timeline check: the hash chain, sequence, timestamps and head, line by line.

The timeline is checked as it is inflated (streamed, never held whole); what the later checks
need (the file events, the named snapshots, the first and last timestamps, warning codes) is
gathered into the `VerifyContext` on the way.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from promptster.bundle import format as fmt
from promptster.bundle import members as streamed
from promptster.bundle.reader import BundleReader
from promptster.bundle.seen import SeenIds
from promptster.bundle.spool import SpooledTimeline
from promptster.bundle.verify_report import FileEventRef, Finding, VerifyContext
from promptster.errors import FormatError
from promptster.formats.events import FILE_KINDS, KNOWN_KINDS, SCHEMA_VERSION
from promptster.formats.jsonio import MAX_DEPTH, canonical_text, json_depth
from promptster.formats.timeline import MAX_LINE_BYTES, genesis_hash, line_hash

if TYPE_CHECKING:
    from promptster.formats.payloads import FileChangeData

TS_PATTERN = re.compile(r"\d{4}-[01]\d-[0-3]\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z")
_decoder = json.JSONDecoder()


def check_streamed_timeline(
    reader: BundleReader, manifest: fmt.Manifest, context: VerifyContext, findings: list[Finding]
) -> bool:
    """Check the timeline as it is inflated, line by line; with keep_timeline its lines go to
    a spool file, kept for the caller only if every check passed: nothing holds the timeline
    in memory, and a hostile timeline costs one line."""
    spool, kept = SpooledTimeline.create() if context.keep_timeline else (None, None)
    ok = False
    try:
        ok = _check_timeline(
            streamed.timeline_lines(reader, MAX_LINE_BYTES, kept), manifest, context, findings
        )
    except FormatError as exc:
        findings.append(Finding("timeline", "failed", exc.message))
    finally:
        if kept is not None:
            kept.close()
        if spool is not None and not ok:
            spool.close()
        # Its entries were made all along the stream, one in each of dozens of the allocator's
        # 1 MiB arenas, which they would keep from being freed (37 MB for a million events).
        _calendar_date.cache_clear()
    if ok:
        context.timeline = spool
    return ok


def _check_timeline(
    lines: Iterable[bytes | str],
    manifest: fmt.Manifest,
    context: VerifyContext,
    findings: list[Finding],
) -> bool:
    """`lines`: the timeline's lines without newlines; a str in their place says what is
    wrong with the line there (streamed.timeline_lines)."""
    expected_prev = genesis_hash(manifest.session_id)
    last_ts = ""
    seen_ids = SeenIds()
    unknown_kinds: dict[str, int] = {}
    newer_versions = 0
    count = 0
    for seq, line in enumerate(lines):
        if isinstance(line, str):
            findings.append(Finding("timeline", "failed", line, seq))
            return False
        count = seq + 1
        event = _parse_line(seq, line, expected_prev, last_ts)
        if isinstance(event, str):
            findings.append(Finding("timeline", "failed", event, seq))
            return False
        earlier = seen_ids.add(event["id"], seq)
        if earlier is not None:
            findings.append(
                Finding(
                    "timeline",
                    "failed",
                    f"line {seq} repeats the id of event {earlier} (an event was duplicated)",
                    seq,
                )
            )
            return False
        last_ts = event["ts"]
        if seq == 0:
            context.first_ts = last_ts
            context.first_event = event
        kind = event["kind"]
        if kind == "warning":
            _count_warning(event["data"], context.warning_codes)
        if kind not in KNOWN_KINDS:
            unknown_kinds[kind] = unknown_kinds.get(kind, 0) + 1
        if event["v"] > SCHEMA_VERSION:
            newer_versions += 1
        data = event["data"]
        if kind in FILE_KINDS:
            ref = _file_ref(seq, kind, data)
            if isinstance(ref, str):
                findings.append(Finding("timeline", "failed", ref, seq))
                return False
            context.file_events.append(ref)
        snapshot = data.get("snapshot")
        if isinstance(snapshot, str):
            context.snapshot_refs.append((seq, snapshot))
        expected_prev = line_hash(line)
    context.last_ts = last_ts or None
    if count != manifest.event_count:
        findings.append(
            Finding(
                "timeline",
                "failed",
                f"the manifest says {manifest.event_count} events; the timeline has {count} "
                "(events were removed or added after signing)",
            )
        )
        return False
    head = expected_prev
    if head != manifest.chain_head:
        findings.append(
            Finding(
                "timeline",
                "failed",
                "the timeline's last hash does not match chainHead "
                "(the last event was edited, or the timeline was cut short)",
                count - 1 if count else None,
            )
        )
        return False
    for name, value in (("startedAt", manifest.started_at), ("endedAt", manifest.ended_at)):
        if not TS_PATTERN.fullmatch(value) or not _calendar_date(value[:10]):
            findings.append(
                Finding("timeline", "failed", f"manifest {name} is not an RFC 3339 UTC timestamp")
            )
            return False
    if context.first_ts and context.first_ts < manifest.started_at:
        findings.append(Finding("timeline", "failed", "an event is dated before startedAt", 0))
        return False
    if last_ts and last_ts > manifest.ended_at:
        findings.append(Finding("timeline", "failed", "an event is dated after endedAt", count - 1))
        return False
    findings.append(Finding("timeline", "ok", f"{count} events, hash chain and sequence unbroken"))
    for kind, n in sorted(unknown_kinds.items()):
        findings.append(
            Finding("timeline", "warning", f"{n} event(s) of kind {kind!r} unknown to this version")
        )
    if newer_versions:
        findings.append(
            Finding(
                "timeline",
                "warning",
                f"{newer_versions} event(s) use a newer envelope version; upgrade promptster",
            )
        )
    return True


def _parse_line(seq: int, line: bytes, expected_prev: str, last_ts: str) -> dict[str, Any] | str:
    """The parsed event, or a message saying what is wrong with this line.

    This runs once per event, so it works on the decoded text and compares the canonical
    re-encoding as text (a bundle of 100,000 events spends most of `verify` here).
    """
    if len(line) > MAX_LINE_BYTES:
        return f"line {seq} is {len(line):,} bytes; the limit is {MAX_LINE_BYTES:,}"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"line {seq} is not valid UTF-8 (byte {exc.start} of the line)"
    try:
        event = _decoder.decode(text)
    except RecursionError:
        return f"line {seq} is nested too deeply"
    except ValueError as exc:
        return f"line {seq} is not valid JSON ({exc})"
    if line.count(b"{") + line.count(b"[") > MAX_DEPTH and json_depth(event) > MAX_DEPTH:
        return f"line {seq} is nested deeper than {MAX_DEPTH} levels"
    if type(event) is not dict:
        return f"line {seq} is not a JSON object"
    try:
        canonical = canonical_text(event) == text
    except (ValueError, RecursionError):  # NaN or Infinity
        canonical = False
    if not canonical:
        return f"line {seq} is not in canonical JSON form (edited, or duplicate keys)"
    number = event.get("seq")
    if type(number) is not int or number != seq:
        return f"line {seq} has seq {number!r}: events are missing, repeated or reordered"
    if event.get("prev") != expected_prev:
        if seq == 0:
            return (
                "line 0 does not start the chain of this session (its prev is not the hash of "
                "the session id: the first event was removed, or it is another session's)"
            )
        return f"line {seq} does not chain to the line before it (an event was edited or removed)"
    ts = event.get("ts")
    if type(ts) is not str or not TS_PATTERN.fullmatch(ts):
        return f"line {seq} has no valid RFC 3339 UTC timestamp"
    if not _calendar_date(ts[:10]):
        return f"line {seq} is dated {ts[:10]}, which is not a calendar date"
    if ts < last_ts:
        return f"line {seq} is dated before the event before it (ts is not monotonic)"
    if type(event.get("kind")) is not str or type(event.get("data")) is not dict:
        return f"line {seq} lacks a kind or a data object"
    if type(event.get("v")) is not int or type(event.get("id")) is not str:
        return f"line {seq} lacks a version or an id"
    return cast(dict[str, Any], event)


def _count_warning(data: dict[str, Any], counts: dict[str, int]) -> None:
    code = data.get("code")
    if isinstance(code, str) and len(counts) < 256:
        counts[code] = counts.get(code, 0) + 1
    elif isinstance(code, str) and code in counts:
        counts[code] += 1


@functools.lru_cache(maxsize=256)
def _calendar_date(text: str) -> bool:
    """True when YYYY-MM-DD names a real day (no 2026-02-30); cached, as days repeat."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _file_ref(seq: int, kind: str, data: FileChangeData) -> FileEventRef | str:
    # the keys are typed; the values come from the bundle and are checked here
    path: object = data.get("path")
    commit: object = data.get("commit")
    added: object = data.get("linesAdded", 0)
    removed: object = data.get("linesRemoved", 0)
    if not isinstance(path, str) or not isinstance(commit, str):
        return f"{kind} event {seq} lacks a path or a snapshot commit"
    if not isinstance(added, int) or not isinstance(removed, int):
        return f"{kind} event {seq} has non-integer line counts"
    # the commit's text is shared with the snapshot history's (gitutil.commit_log interns it)
    return FileEventRef(
        seq, sys.intern(kind), path, sys.intern(commit), added, removed, bool(data.get("binary"))
    )
