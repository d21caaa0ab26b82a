"""The data step: verification, signals, timeline, snapshots and casts → ReportData.

Nothing here renders HTML. Strings from the bundle are made visible and bounded on the way
in; the bulky parts become compressed data blocks the page decodes on demand.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from promptster import __version__
from promptster.analysis.aids import aids_for
from promptster.analysis.cohort import CohortMember
from promptster.analysis.fluency_judge import TextModel
from promptster.analysis.session_events import Collector
from promptster.analysis.signals import SessionSignals
from promptster.bundle.spool import SpooledTimeline
from promptster.bundle.verify import VerifyReport
from promptster.errors import PromptsterError
from promptster.formats.jsonio import loads_limited
from promptster.report.aids_view import aids_view
from promptster.report.answers import answers
from promptster.report.capture import capture_banner
from promptster.report.casts import Cast
from promptster.report.charts import all_charts
from promptster.report.cost_view import cost_view
from promptster.report.delivered import delivered
from promptster.report.events_block import RowsFile, stream_block, stream_object_block
from promptster.report.hidden_chart import hidden_over_time
from promptster.report.hidden_view import HiddenTestsView, hidden_view
from promptster.report.meta import CONFIDENCE_TEXT, format_value, spec_for
from promptster.report.model import (
    CastRow,
    CheckRow,
    DataBlock,
    DecisionRow,
    FileRow,
    Header,
    Limits,
    ReportData,
    SignalRow,
    Verification,
)
from promptster.report.snapshots import SnapshotData
from promptster.report.text import one_line, visible
from promptster.report.timeline_data import DECISIONS_KEPT, Digest, digest_timeline
from promptster.reviewer.hidden_tests.over_time import HiddenSeries
from promptster.reviewer.hidden_tests.results import HiddenResult

if TYPE_CHECKING:
    from promptster.formats.payloads import SessionStartData

DIFF_BUDGET = 16 * 1024 * 1024
DECISIONS_SHOWN = DECISIONS_KEPT
FILES_SHOWN = 3000
IDLE_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class CohortContext:
    member: CohortMember
    size: int


@dataclass(frozen=True)
class ReportInputs:
    report: VerifyReport
    timeline: bytes | SpooledTimeline | None  # a spool file for a real review: never whole
    signals: SessionSignals | None
    snapshots: SnapshotData
    casts: Sequence[Cast]
    cohort: CohortContext | None = None
    hidden: HiddenResult | None = None
    hidden_series: HiddenSeries | None = None  # with --hidden-tests-at checkpoints
    assessment_title: str | None = None
    candidate_name: str | None = None  # from the reviewer workspace, for the key
    candidate_email: str | None = None  # likewise
    bundle_sha256: str = ""
    bundle_size: int = 0
    # key moments, follow-ups, the rubric: for a verified bundle, with an optional judge
    aids: bool = False
    judge: TextModel | None = None
    # when given, gives the snapshots and casts in place of the two above, called once the
    # timeline is digested (review reads them meanwhile, after the signals: their memory is
    # never added to the signals step's)
    later: Callable[[], tuple[SnapshotData, Sequence[Cast]]] | None = None


def make_block(block_id: str, value: Any) -> DataBlock:
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    packed = gzip.compress(raw, compresslevel=6, mtime=0)
    return DataBlock(block_id, base64.b64encode(packed).decode("ascii"), len(raw))


def _pack_fields(pack: bytes | None) -> dict[str, Any]:
    """Display fields of the assessment pack (its signature is the verify step's business)."""
    if not pack:
        return {}
    try:
        envelope = loads_limited(pack, what="assessment.json")
        payload = base64.b64decode(envelope["payload"], validate=True)
        body = loads_limited(payload, what="assessment pack payload")
    except Exception:  # a broken pack is reported by verify; the header just lacks its fields
        return {}
    return body if isinstance(body, dict) else {}


def _verification(report: VerifyReport) -> Verification:
    checks = [CheckRow(f.check, f.status, visible(f.message), f.seq) for f in report.findings]
    return Verification(report.ok, checks)


def masked_key(key: str) -> str:
    """A candidate key as the checks show it, `PST-ABCD-****`: the report travels (e-mail,
    a shared drive) and the key is the candidate's credential, so the header masks it too."""
    parts = key.split("-")
    if len(parts) == 3 and parts[0].upper() == "PST" and len(parts[1]) == 4:
        return f"PST-{parts[1].upper()}-****"
    return key[:8] + "…" if len(key) > 8 else key


def _hidden(inputs: ReportInputs, digest: Digest) -> HiddenTestsView | None:
    if inputs.hidden is None:
        return None
    series = inputs.hidden_series
    if series is None or not series.points:
        return hidden_view(inputs.hidden)
    chart = hidden_over_time(digest, series)
    return hidden_view(inputs.hidden, chart, series.runs, series.left_out, series.limit)


def _header(inputs: ReportInputs, digest: Digest) -> Header:
    manifest = inputs.report.context.manifest
    pack = _pack_fields(inputs.report.context.assessment_pack)
    start = typing.cast("SessionStartData", digest.start)  # typed keys; values checked below
    session = inputs.signals.session if inputs.signals else None
    candidate = one_line(
        # the name the reviewer gave the key wins over the one the bundle carries
        inputs.candidate_name or start.get("candidateName") or (session and session.candidate_name),
        120,
    )
    key = masked_key(one_line(manifest.candidate_key if manifest else "", 40))
    limit = start.get("timeLimitMinutes") or pack.get("timeLimitMinutes")
    duration_ms = None
    if manifest is not None:
        from promptster.formats.events import parse_ts

        try:
            started, ended = parse_ts(manifest.started_at), parse_ts(manifest.ended_at)
            duration_ms = int((ended - started).total_seconds() * 1000)
        except Exception:
            duration_ms = None
    tools = [one_line(t, 60) for t in start.get("tools", []) if isinstance(t, str)]
    tools = list(dict.fromkeys([*tools, *sorted(digest.integrations)]))
    return Header(
        candidate=candidate or (f"key {key}" if key else "(unnamed candidate)"),
        candidate_key=key,
        candidate_email=one_line(inputs.candidate_email or "", 200),
        session_id=one_line(manifest.session_id if manifest else "", 80),
        assessment_id=one_line(manifest.assessment_id if manifest else "", 120) or "–",
        assessment_title=one_line(inputs.assessment_title or "", 200),
        role=one_line(pack.get("role"), 200),
        started_at=one_line(manifest.started_at if manifest else "", 40),
        ended_at=one_line(manifest.ended_at if manifest else "", 40),
        duration_ms=duration_ms,
        time_limit_minutes=limit
        if isinstance(limit, int) and not isinstance(limit, bool)
        else None,
        tools=tools,
        event_count=digest.event_count,
        bundle_name=visible(inputs.report.path.name),
        bundle_sha256=inputs.bundle_sha256,
        bundle_size=inputs.bundle_size,
        tool_version=one_line(manifest.tool_version if manifest else "", 40),
        restarted_from=one_line(_text(start.get("restartedFrom")), 80),
        key_redeemed_at=one_line(_text(start.get("keyRedeemedAt")), 40),
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _signals(inputs: ReportInputs, digest: Digest) -> tuple[list[SignalRow], dict[str, list[int]]]:
    if inputs.signals is None:
        return [], {}
    rows, evidence = [], {}
    cohort = inputs.cohort
    for name, signal in inputs.signals.signals.items():
        meta = spec_for(name)
        seqs = [digest.id_to_seq[i] for i in signal.evidence if i in digest.id_to_seq]
        evidence[name] = seqs
        percentile = cohort.member.percentiles.get(name) if cohort else None
        detail = ""
        if signal.evidence_count > len(seqs):
            detail = f"first {len(seqs):,} of {signal.evidence_count:,} events linked"
        rows.append(
            SignalRow(
                name=name,
                label=meta.label,
                meaning=meta.meaning,
                value_text=visible(format_value(name, signal.value)),
                confidence=signal.confidence,
                confidence_text=CONFIDENCE_TEXT.get(signal.confidence, signal.confidence),
                evidence_count=signal.evidence_count,
                headline=meta.headline,
                question=meta.question,
                percentile=percentile,
                orientation=None if meta.orientation == "neutral" else meta.orientation,
                detail_text=detail,
            )
        )
    return rows, evidence


def _decisions(digest: Digest) -> list[DecisionRow]:
    from promptster.report.meta import duration

    rows = []
    for seq, t, body in digest.decisions[:DECISIONS_SHOWN]:
        impact = body.get("impact")
        rows.append(
            DecisionRow(
                seq=seq,
                at=duration(t),
                title=body.get("title") or "(untitled decision)",
                chosen=body.get("chosenOption", ""),
                context=body.get("context", ""),
                tradeoffs=body.get("tradeoffs", ""),
                rationale=body.get("rationale", ""),
                impact=f"{impact}/5" if isinstance(impact, int) else "",
                via=body.get("via", ""),
                actor="",
            )
        )
    return rows


def _authors(member: bytes | None) -> dict[str, list[list[Any]]]:
    """path -> [[first line, last line, author, event seq], …] from the verified authorship.json
    (none for a bundle without it): the Files view colours lines and links them to events."""
    if member is None:
        return {}
    from promptster.bundle.authorship import decode
    from promptster.errors import FormatError

    try:
        authorship = decode(member)
    except FormatError:
        return {}
    return {
        visible(item.path): [
            [r.start, r.end, r.origin.author, r.origin.seq, r.origin.tool] for r in item.ranges
        ]
        for item in authorship.files
    }


def _files(
    digest: Digest, snaps: SnapshotData, limits: list[str], authorship: bytes | None = None
) -> tuple[list[FileRow], Any]:
    authors = _authors(authorship)
    by_path: dict[str, list[Any]] = {}
    for change in digest.files:
        by_path.setdefault(change.path, []).append(change)
    tree = {visible(f.path): f for f in snaps.tree}
    baseline = {visible(p) for p in snaps.baseline_paths}
    paths = sorted(set(tree) | set(by_path), key=lambda p: (p not in by_path, p))
    rows: list[FileRow] = []
    block: list[dict[str, Any]] = []
    for path in paths[:FILES_SHOWN]:
        changes = by_path.get(path, [])
        final = tree.get(path)
        status: Literal["added", "modified", "deleted", "unchanged"]
        if final is None:
            status = "deleted"
        elif not changes:
            status = "unchanged"
        else:
            status = "modified" if path in baseline or not snaps.tree else "added"
        index = len(block)
        rows.append(
            FileRow(
                path=path,
                status=status,
                size=final.size if final else None,
                changes=len(changes),
                added=sum(c.added for c in changes),
                removed=sum(c.removed for c in changes),
                ai_lines=sum(c.ai_lines for c in changes),
                human_lines=sum(c.human_lines for c in changes),
                attribution=changes[-1].attribution if changes else "",
                index=index,
            )
        )
        entry: dict[str, Any] = {
            "path": path,
            "status": status,
            "history": [c.seq for c in changes],
        }
        if final is not None:
            entry.update(size=final.size, bin=final.binary, cut=final.cut)
            if final.text is not None:
                entry["text"] = visible(final.text)
                if path in authors:
                    entry["authors"] = authors[path]
        block.append(entry)
    if len(paths) > FILES_SHOWN:
        limits.append(f"the file view lists {FILES_SHOWN:,} of {len(paths):,} files")
    if any(f.cut for f in snaps.tree):
        limits.append("some large files are listed without their content")
    return rows, block


def _diffs_block(digest: Digest, snaps: SnapshotData, limits: list[str]) -> DataBlock:
    """The diffs block, streamed (its 16 MB of text is not held twice over as one JSON text)
    when each file change has its own seq, as in every verified timeline."""
    previous = None
    for change in digest.files:
        if previous is not None and change.seq <= previous:  # a dict keeps the last of a seq
            return make_block("ps-diffs", dict(_diff_items(digest, snaps, limits)))
        previous = change.seq
    return stream_object_block("ps-diffs", _diff_items(digest, snaps, limits))


def _diff_items(
    digest: Digest, snaps: SnapshotData, limits: list[str]
) -> Iterator[tuple[str, Any]]:
    """(seq, [diff, lines left out]) of the changes whose diffs fit the budget, in order."""
    used = 0
    dropped = 0
    for change in digest.files:
        found = snaps.diffs.get((change.commit, change.path))
        if found is None and change.diff is not None:
            found = (change.diff, 0)
        if found is None:
            continue
        text, more = found
        if used + len(text) > DIFF_BUDGET:
            dropped += 1
            continue
        used += len(text)
        yield str(change.seq), [visible(text), more]
    if dropped:
        limits.append(
            f"{dropped:,} diffs beyond the {DIFF_BUDGET // 2**20} MB diff budget are left out"
        )


def build_report_data(inputs: ReportInputs, *, extra_notes: Sequence[str] = ()) -> ReportData:
    manifest = inputs.report.context.manifest
    collector = Collector() if inputs.aids and inputs.timeline else None
    rows = RowsFile()  # the page's rows, streamed to a file: never a list of all events
    try:
        digest = digest_timeline(
            inputs.timeline or b"",
            manifest.started_at if manifest else None,
            collector.add if collector is not None else None,
            rows=rows,
            ids=_evidence_ids(inputs.signals),
        )
        if inputs.later is not None:
            snapshots, casts = inputs.later()
            inputs = dataclasses.replace(inputs, snapshots=snapshots, casts=casts, later=None)
        return _report_data(inputs, digest, collector, rows, extra_notes)
    finally:
        rows.close()


def _evidence_ids(signals: SessionSignals | None) -> set[str]:
    """The event ids the signals cite (at most 1,000 each): the only ids the page links."""
    if signals is None:
        return set()
    return {i for signal in signals.signals.values() for i in signal.evidence}


def _report_data(
    inputs: ReportInputs,
    digest: Digest,
    collector: Collector | None,
    rows: RowsFile,
    extra_notes: Sequence[str],
) -> ReportData:
    limits: list[str] = list(extra_notes)
    aids = None
    if collector is not None:
        try:
            aids = aids_for(collector.result(), inputs.signals, inputs.judge)
        except PromptsterError as exc:  # never costs the reviewer the report
            limits.append(f"key moments could not be computed: {visible(exc.message)}")
    if digest.cut_fields:
        limits.append(
            f"{digest.cut_fields:,} long replies or outputs are cut to "
            f"{digest.field_cap:,} characters each"
        )
    if inputs.timeline is None:
        limits.append("the timeline could not be read, so no event is shown")
    if snap_problem := inputs.snapshots.problem:
        limits.append(f"diffs and the file view are unavailable: {visible(snap_problem)}")
    header = _header(inputs, digest)
    signal_rows, evidence = _signals(inputs, digest)
    file_rows, files_block = _files(
        digest, inputs.snapshots, limits, inputs.report.context.authorship
    )
    casts = []
    blocks = []
    for index, cast in enumerate(inputs.casts):
        if cast.problem:
            limits.append(f"{visible(cast.name)}: {visible(cast.problem)}")
            continue
        block_id = f"ps-cast-{index}"
        blocks.append(make_block(block_id, cast.to_json_obj()))
        casts.append(
            CastRow(
                index,
                visible(cast.name),
                cast.width,
                cast.height,
                round(cast.duration, 1),
                len(cast.frames),
                cast.truncated,
                block_id,
            )
        )
        if cast.truncated:
            limits.append(f"{visible(cast.name)} is cut short to stay within the size budget")
    events_head = {
        "v": 1,
        "t0": digest.t0.isoformat() if digest.t0 else None,
        "kinds": digest.kinds,
        "actors": digest.actors,
        "sources": digest.sources,
        "attrs": digest.attributions,
        "rows": [],  # filled from `rows` as the block is compressed
        "evidence": evidence,
        "idleMs": IDLE_MS,
    }
    blocks = [
        stream_block("ps-events", events_head, rows),
        _diffs_block(digest, inputs.snapshots, limits),
        make_block("ps-files", files_block),
        *blocks,
    ]
    return ReportData(
        title=f"{header.candidate} · {header.assessment_title or header.assessment_id}",
        header=header,
        verification=_verification(inputs.report),
        answers=answers(inputs.signals, digest),
        signals=signal_rows,
        cohort_size=inputs.cohort.size if inputs.cohort else None,
        decisions=_decisions(digest),
        decisions_total=digest.decision_count,
        files=file_rows,
        casts=casts,
        charts=all_charts(digest),
        kinds=digest.counts(2, digest.kinds),
        actors=digest.counts(3, digest.actors),
        sources=digest.counts(4, digest.sources),
        blocks=blocks,
        limits=Limits(limits),
        generator=f"promptster {__version__}",
        delivered=delivered(
            _pack_fields(inputs.report.context.assessment_pack),
            inputs.snapshots,
            digest.start.get("starterCommit"),
        ),
        hidden=_hidden(inputs, digest),
        cost=cost_view(inputs.signals),
        aids=aids_view(aids) if aids is not None else None,
        capture=capture_banner(digest),
    )
