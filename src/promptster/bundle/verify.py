"""Verify a bundle offline and explain every mismatch as a typed finding.

Checks, in order (docs/bundle-format.md, "Verification"): zip structure and member names;
manifest; DSSE signature; member hashes; the timeline's hash chain, sequence, timestamps and
head; the git snapshots and the replay of every file event onto them; then any extra checks
(the assessment pack, added by the reviewer side).
"""

from __future__ import annotations

import functools
import json
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from promptster.bundle import format as fmt
from promptster.bundle import members as streamed
from promptster.bundle.binding import BINDING_CHECK, binding_results
from promptster.bundle.reader import BundleReader
from promptster.bundle.seen import SeenIds
from promptster.bundle.spool import SpooledTimeline
from promptster.bundle.verify_authorship import CHECK as AUTHORSHIP_CHECK
from promptster.bundle.verify_authorship import check_authorship, final_counts
from promptster.errors import (
    CheckFailed,
    EnvironmentProblem,
    ExitCode,
    FormatError,
    InputError,
    NewerFormatError,
    PromptsterError,
)
from promptster.formats.crypto import Envelope, PublicKey, dsse_verify, sha256_digest
from promptster.formats.events import FILE_KINDS, KNOWN_KINDS, SCHEMA_VERSION
from promptster.formats.jsonio import MAX_DEPTH, canonical_text, json_depth, loads_limited
from promptster.formats.timeline import MAX_LINE_BYTES, genesis_hash, line_hash
from promptster.gitutil import BIG_FILE_THRESHOLD, FileStat, commit_log, run_git

if TYPE_CHECKING:
    from promptster.formats.payloads import FileChangeData

Status = Literal["ok", "warning", "failed"]
TS_PATTERN = re.compile(r"\d{4}-[01]\d-[0-3]\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z")
_decoder = json.JSONDecoder()
ED25519_SIGNATURE_BYTES = 64
# Read whole (small, or bounded by their size limit and parsed whole); the rest are streamed.
_KEPT_MEMBERS = frozenset({fmt.ASSESSMENT, fmt.AUTHORSHIP})


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    message: str
    seq: int | None = None

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "message": self.message,
            "seq": self.seq,
        }


@dataclass(frozen=True, slots=True)  # one per file event of the timeline: keep them small
class FileEventRef:
    seq: int
    kind: str
    path: str
    commit: str
    added: int
    removed: int
    binary: bool


@dataclass
class VerifyContext:
    """What the checks learned, shared with later checks and with callers (analysis, report)."""

    path: Path
    manifest: fmt.Manifest | None = None
    # Only with keep_timeline, and only if its checks passed: the caller closes it.
    timeline: SpooledTimeline | None = None
    keep_timeline: bool = False
    assessment_pack: bytes | None = None
    file_events: list[FileEventRef] = field(default_factory=list)
    snapshot_refs: list[tuple[int, str]] = field(default_factory=list)
    first_ts: str | None = None
    last_ts: str | None = None
    first_event: dict[str, Any] | None = None  # session_start, for the binding check
    # How many `warning` events carry each code (clock anomalies, capture gaps: later checks).
    warning_codes: dict[str, int] = field(default_factory=dict)
    authorship: bytes | None = None  # authorship.json, when present and its hash matched


@dataclass
class VerifyReport:
    path: Path
    findings: list[Finding]
    context: VerifyContext
    unreadable: bool = False

    @property
    def ok(self) -> bool:
        return not any(f.status == "failed" for f in self.findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "failed"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "warning"]

    @property
    def exit_code(self) -> ExitCode:
        if self.unreadable:
            return ExitCode.USAGE
        return ExitCode.OK if self.ok else ExitCode.CHECK_FAILED

    def to_json_obj(self) -> dict[str, Any]:
        manifest = self.context.manifest
        return {
            "path": str(self.path),
            "ok": self.ok,
            "sessionId": manifest.session_id if manifest else None,
            "eventCount": manifest.event_count if manifest else None,
            "findings": [f.to_json_obj() for f in self.findings],
        }


ExtraCheck = Callable[[VerifyContext, list[Finding]], None]


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
    # Its entries were made all along the stream, one in each of dozens of the allocator's
    # 1 MiB arenas, which they would keep from being freed (37 MB for a million events).
    _calendar_date.cache_clear()
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
            pool.submit(_load_snapshots, reader, manifest) if fmt.SNAPSHOTS in members else None
        )
        timeline_ok = False
        if fmt.TIMELINE in members:
            timeline_ok = _check_streamed_timeline(reader, manifest, context, findings)
        if timeline_ok:
            findings.extend(_check_binding(manifest, context))
        if loading is not None:
            history = loading.result()
            if isinstance(history, Finding):
                findings.append(history)
            elif timeline_ok:
                # Replaying file events only means something when the timeline is intact.
                _replay(history, context, findings)
                _check_authorship(history, manifest, context, findings)
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


def _check_streamed_timeline(
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
    if ok:
        context.timeline = spool
    return ok


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


@dataclass(frozen=True)
class _History:
    """The snapshot branch as unpacked from snapshots.bundle."""

    order: list[str]  # commits oldest first; order[0] is the baseline
    stats: dict[str, dict[str, FileStat]]  # commit -> path -> lines added/removed
    # path -> (lines, binary) of the final snapshot; read only when authorship.json is there
    final: dict[str, tuple[int, bool]] | None = None


def _load_snapshots(reader: BundleReader, manifest: fmt.Manifest) -> _History | Finding:
    """Unpack the git bundle in a temporary repository (always removed) and read its history.

    Returns the history, or the failed finding that says why it cannot be used.
    """
    with tempfile.TemporaryDirectory(prefix="promptster-verify-") as tmp:
        repo, bundle_file = Path(tmp) / "repo.git", Path(tmp) / "snapshots.bundle"
        try:
            streamed.copy_member(reader, fmt.SNAPSHOTS, bundle_file)
        except FormatError as exc:
            return Finding("snapshots", "failed", exc.message)
        run_git(["init", "--quiet", "--bare", "--template=", str(repo)])
        checked = run_git(["bundle", "verify", str(bundle_file)], git_dir=repo, check=False)
        if checked.returncode != 0:
            return Finding(
                "snapshots",
                "failed",
                f"snapshots.bundle is not a valid git bundle: {_git_reason(checked.error_text)}",
            )
        # What `git fetch` from the bundle does with transfer.fsckObjects, in one process:
        # index the pack, checking every object and that every object it links to is there.
        # The pack goes to git as a file: fed through a pipe, Python's writes would contend
        # for the GIL with the timeline check running beside this.
        pack_file = repo / "objects" / "pack" / "snapshots.pack"
        tip, problem = streamed.split_git_bundle(bundle_file, pack_file)
        if tip is None:
            return Finding("snapshots", "failed", problem or "snapshots.bundle is unreadable")
        indexed = run_git(
            [*BIG_FILE_THRESHOLD, "index-pack", "--strict", str(pack_file)],
            git_dir=repo,
            check=False,
        )
        if indexed.returncode != 0:
            return Finding(
                "snapshots",
                "failed",
                f"snapshots.bundle holds broken objects: {_git_reason(indexed.error_text)}",
            )
        try:
            log = commit_log(repo, tip)
            final = final_counts(repo, tip) if fmt.AUTHORSHIP in manifest.members else None
        except EnvironmentProblem as exc:
            return Finding("snapshots", "failed", f"cannot read the snapshot history: {exc}")
    head = log[0].commit if log else ""
    if head != manifest.snapshot_head:
        return Finding(
            "snapshots",
            "failed",
            f"the snapshot branch head {head[:12]} is not snapshotHead "
            f"{manifest.snapshot_head[:12]}",
        )
    merges = [logged.commit for logged in log if len(logged.parents) > 1]
    if merges:
        return Finding(
            "snapshots",
            "failed",
            f"snapshot {merges[0][:12]} is a merge commit; the snapshot history must be a "
            "single line of commits",
        )
    order = [logged.commit for logged in reversed(log)]
    stats = {logged.commit: logged.stats for logged in log}
    return _History(order, stats, final)


def _check_authorship(
    history: _History, manifest: fmt.Manifest, context: VerifyContext, findings: list[Finding]
) -> None:
    # A bundle without the member (older, or it could not be computed) adds no finding.
    if context.authorship is None or history.final is None:
        return  # its hash failed: already a finding
    status, message = check_authorship(context.authorship, manifest.snapshot_head, history.final)
    findings.append(Finding(AUTHORSHIP_CHECK, status, message))


def _git_reason(error_text: str) -> str:
    """git's complaint in one line, without its `error:` / `fatal:` prefixes."""
    parts = [
        line.split(": ", 1)[-1] if line.startswith(("error:", "fatal:")) else line
        for line in error_text.splitlines()
        if line.strip()
    ]
    return " ".join(parts)[:300] or "git gave no reason"


def _replay(history: _History, context: VerifyContext, findings: list[Finding]) -> None:
    """Every file event must match its commit's diff, in history order; every commit after the
    baseline must be explained by file events; every named snapshot must exist."""
    stats, order = history.stats, history.order
    position = {commit: index for index, commit in enumerate(order)}
    explained: dict[str, set[str]] = {}
    last_position = 0
    for ref in context.file_events:
        if ref.commit not in position:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"{ref.kind} {ref.path!r} names snapshot {ref.commit[:12]}, which is not in "
                    "snapshots.bundle",
                    ref.seq,
                )
            )
            return
        stat = stats.get(ref.commit, {}).get(ref.path)
        if stat is None:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"{ref.kind} {ref.path!r}: snapshot {ref.commit[:12]} does not change it",
                    ref.seq,
                )
            )
            return
        if (stat.added, stat.removed) != (ref.added, ref.removed) and not stat.binary:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"{ref.kind} {ref.path!r} claims +{ref.added}/-{ref.removed} lines; the "
                    f"snapshot diff is +{stat.added}/-{stat.removed}",
                    ref.seq,
                )
            )
            return
        if position[ref.commit] < last_position:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"{ref.kind} {ref.path!r} names snapshot {ref.commit[:12]}, which is older "
                    "than the snapshot of an earlier file event (file events are out of order)",
                    ref.seq,
                )
            )
            return
        last_position = position[ref.commit]
        explained.setdefault(ref.commit, set()).add(ref.path)
    for seq, commit in context.snapshot_refs:
        if commit not in position:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"event names snapshot {commit[:12]}, which is not in snapshots.bundle",
                    seq,
                )
            )
            return
    baseline = next((c for s, c in context.snapshot_refs if s == 0), None)
    if baseline is not None and order and baseline != order[0]:
        findings.append(
            Finding(
                "replay",
                "failed",
                f"the first event names snapshot {baseline[:12]} but the baseline (first "
                f"snapshot) is {order[0][:12]}",
                0,
            )
        )
        return
    for commit in order[1:]:  # the first commit is the baseline taken at session start
        unexplained = sorted(set(stats.get(commit, {})) - explained.get(commit, set()))
        if unexplained:
            findings.append(
                Finding(
                    "replay",
                    "failed",
                    f"snapshot {commit[:12]} changes {unexplained[0]!r} but no file event "
                    "records it (an event was removed?)",
                )
            )
            return
    findings.append(
        Finding(
            "replay",
            "ok",
            f"{len(context.file_events)} file events replay onto {len(order)} snapshots",
        )
    )
