"""The data step: verification, signals, timeline, snapshots and casts → ReportData.

Nothing here renders HTML. Strings from the bundle are made visible and bounded on the way
in; the bulky parts become compressed data blocks the page decodes on demand.
"""

from __future__ import annotations

import base64
import dataclasses
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
from promptster.report.events_block import RowsFile, make_block, stream_block
from promptster.report.files_view import diffs_block, files_view
from promptster.report.hidden_chart import hidden_over_time
from promptster.report.hidden_view import HiddenTestsView, hidden_view
from promptster.report.meta import CONFIDENCE_TEXT, format_value, spec_for
from promptster.report.model import (
    CastRow,
    CheckRow,
    DecisionRow,
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

DECISIONS_SHOWN = DECISIONS_KEPT
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
    file_rows, files_block = files_view(
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
        diffs_block(digest, inputs.snapshots, limits),
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
