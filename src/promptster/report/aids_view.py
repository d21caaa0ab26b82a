"""The report's view of the decision aids (analysis.aids): the key-moment strip drawn over
the timeline as inline SVG (links to `#ev-N`, no script needed), the moments list, the
follow-up questions, the `ai_fluency_v1` rubric beside a judge's placement, and the
narrative. Every string from the bundle is made visible and bounded here; the templates
escape it."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from promptster.analysis.aids import SessionAids
from promptster.analysis.fluency import BY_KEY, TIER_LABELS
from promptster.analysis.moments import Moment
from promptster.report.meta import duration
from promptster.report.text import as_text

STRIP_W, STRIP_H, PAD = 720, 56, 8
SHOWN_PER_KIND = 20  # moments of one kind listed (the first ones); the rest are counted
KIND_LABELS = {
    "first_prompt": "first prompt",
    "first_failure": "first failure",
    "fix": "fix",
    "stuck_loop": "stuck loop",
    "untested_ai_edit": "untested AI edit",
    "rewrote_ai": "AI output rewritten",
    "decision": "decision",
    "idle_gap": "idle gap",
    "last_minute_rush": "last-minute rush",
}
# Rows of the strip, so that spans and points of different kinds do not hide each other.
_ROW = {
    "idle_gap": 0, "last_minute_rush": 0, "first_prompt": 1, "decision": 1, "stuck_loop": 2,
    "first_failure": 2, "fix": 3, "untested_ai_edit": 4, "rewrote_ai": 4,
}  # fmt: skip


@dataclass(frozen=True)
class MomentRow:
    anchor: str
    kind: str
    kind_label: str
    title: str
    summary: str
    at: str
    seqs: list[int]


@dataclass(frozen=True)
class QuestionRow:
    number: int
    question: str
    context: str
    focus: str
    difficulty: str
    seqs: list[int]


@dataclass(frozen=True)
class JudgedCell:
    model: str
    tier: str
    tier_label: str
    confidence: str
    rationale: str
    passes: list[str]
    error: str


@dataclass(frozen=True)
class RubricRow:
    key: str
    label: str
    phase: str
    question: str
    tier: str
    tier_label: str
    confidence: str
    evidence: list[str]
    seqs: list[int]
    judged: JudgedCell | None


@dataclass(frozen=True)
class AidsView:
    strip: Markup
    moments: list[MomentRow]
    questions: list[QuestionRow]
    rubric: list[RubricRow]
    headline: str = ""
    body: str = ""
    model_headline: str = ""
    model_body: str = ""
    model_error: str = ""
    judge_model: str = ""
    legend: list[tuple[str, str]] = field(default_factory=list)
    moment_count: int = 0  # all moments found, shown or not
    left_out: list[tuple[str, int]] = field(default_factory=list)  # kind label, how many
    shown_per_kind: int = SHOWN_PER_KIND


def _text(value: object, limit: int = 600) -> str:
    return as_text(value, limit)


def strip_svg(moments: list[Moment], span: int) -> Markup:
    """One marker per moment on a time axis, each a link to its first event."""
    span = max(span, 1)
    inner = STRIP_W - 2 * PAD
    parts = [
        f'<svg class="km-strip" viewBox="0 0 {STRIP_W} {STRIP_H}" role="img" '
        'aria-label="Key moments over the session">',
        f'<line class="axis" x1="{PAD}" y1="{STRIP_H - 4}" x2="{STRIP_W - PAD}" '
        f'y2="{STRIP_H - 4}"/>',
    ]
    for index, m in enumerate(moments):
        if not m.seqs:
            continue
        x = PAD + inner * min(m.t, span) / span
        w = max(4.0, inner * (min(m.end, span) - min(m.t, span)) / span)
        y = 2 + _ROW.get(m.kind, 1) * 9
        title = escape(f"{m.title}: {_text(m.summary, 200)} (at {duration(m.t)})")
        parts.append(
            f'<a href="#ev-{m.seqs[0]}" class="km-mark km-{m.kind}" data-moment="km-{index}">'
            f"<title>{title}</title>"
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="8" rx="2"/></a>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _shown(found: list[Moment]) -> tuple[list[Moment], list[tuple[str, int]]]:
    """The first SHOWN_PER_KIND moments of each kind, and how many of each were left out (a
    long session can have hundreds of rewrites or decisions)."""
    shown: list[Moment] = []
    counts: dict[str, int] = {}
    for m in found:
        counts[m.kind] = counts.get(m.kind, 0) + 1
        if counts[m.kind] <= SHOWN_PER_KIND:
            shown.append(m)
    left = [(KIND_LABELS.get(k, k), n - SHOWN_PER_KIND) for k, n in counts.items()]
    return shown, [(label, n) for label, n in left if n > 0]


def aids_view(aids: SessionAids) -> AidsView:
    found, left_out = _shown(aids.moments)
    moments = [
        MomentRow(
            f"km-{i}",
            m.kind,
            KIND_LABELS.get(m.kind, m.kind),
            _text(m.title, 200),
            _text(m.summary),
            duration(m.t),
            list(m.seqs),
        )
        for i, m in enumerate(found)
    ]
    questions = [
        QuestionRow(
            i,
            _text(q.question, 800),
            _text(q.context),
            q.focus_area.replace("_", " "),
            q.difficulty,
            list(q.seqs),
        )
        for i, q in enumerate(aids.followups, 1)
    ]
    rubric = []
    for p in aids.rubric:
        dim = BY_KEY[p.dimension]
        judged = aids.judged.get(p.dimension)
        cell = None
        if judged is not None:
            cell = JudgedCell(
                judged.model,
                judged.tier or "",
                TIER_LABELS[judged.tier] if judged.tier else "no placement",
                judged.confidence or "",
                _text(judged.rationale),
                [_text(x, 240) for x in judged.passes],
                _text(judged.error or "", 300),
            )
        rubric.append(
            RubricRow(
                dim.key, dim.label, dim.phase.replace("_", "-"), dim.question, p.tier,
                TIER_LABELS[p.tier], p.confidence, [_text(x) for x in p.evidence],
                list(p.seqs), cell,
            )
        )  # fmt: skip
    narrative, written = aids.narrative, aids.model_narrative
    return AidsView(
        strip_svg(found, aids.events.time_limit_minutes * 60_000
                  if aids.events.time_limit_minutes and aids.events.end_t
                  <= aids.events.time_limit_minutes * 60_000 else aids.events.end_t),
        moments,
        questions,
        rubric,
        headline=_text(narrative.headline, 300) if narrative else "",
        body=_text(narrative.body, 2000) if narrative else "",
        model_headline=_text(written.headline, 300) if written else "",
        model_body=_text(written.body, 2000) if written else "",
        model_error=_text(written.error or "", 300) if written else "",
        judge_model=_text(aids.judge_model or "", 120),
        legend=[(kind, label) for kind, label in KIND_LABELS.items()
                if any(m.kind == kind for m in found)],
        moment_count=len(aids.moments),
        left_out=left_out,
    )  # fmt: skip
