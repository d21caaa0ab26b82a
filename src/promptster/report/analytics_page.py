"""The analytics page (`promptster analytics -o page.html`): one static page in the report's
style, with per assessment the funnel and the strategy tiers as bar charts and each ranked
signal's spread as a box (min, quartiles, max), and the top candidates across assessments.

The charts are inline SVG drawn here with the report's chart frame (report/charts.py), so they
show with scripts off and need no 'unsafe-inline' style; the page's only script sorts tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup, escape

from promptster import __version__
from promptster.fsutil import atomic_write_text
from promptster.report.charts import WIDTH, _svg
from promptster.report.meta import duration, format_value
from promptster.report.model import Chart
from promptster.report.render import render_page
from promptster.report.text import one_line
from promptster.reviewer.analytics import (
    FUNNEL,
    TIERS,
    Analytics,
    AssessmentAnalytics,
    Distribution,
)

_LABEL_W, _BAR_H, _GAP, _TOP = 150, 18, 8, 10
_SERIES = {"strong": "passed", "adequate": "checks", "developing": "files", "insufficient": "other"}


def bars(chart_id: str, title: str, items: list[tuple[str, int, str]]) -> Chart:
    """Horizontal bars, one per (label, count, series), scaled to the largest count."""
    top = max((n for _, n, _ in items), default=0) or 1
    plot = WIDTH - _LABEL_W - 70
    parts = []
    for index, (label, count, series) in enumerate(items):
        y = _TOP + index * (_BAR_H + _GAP)
        width = plot * count / top
        parts.append(
            f'<text class="tick" x="{_LABEL_W - 6}" y="{y + _BAR_H - 5}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="s-{series}" x="{_LABEL_W}" y="{y}" width="{max(width, 0.5):.1f}" '
            f'height="{_BAR_H}" rx="2"><title>{escape(label)}: {count:,}</title></rect>'
            f'<text class="tick" x="{_LABEL_W + width + 6:.1f}" y="{y + _BAR_H - 5}">'
            f"{count:,}</text>"
        )
    height = _TOP * 2 + len(items) * (_BAR_H + _GAP)
    desc = ", ".join(f"{label} {count:,}" for label, count, _ in items) or "no data"
    svg = _svg(chart_id, title, desc, parts, extra=height - 200)
    return Chart(chart_id, title, desc, Markup(svg))


def box(chart_id: str, dist: Distribution) -> Markup | None:
    """A small box plot of one signal over a cohort: whiskers min–max, box p25–p75, median."""
    q = dist.quartiles()
    if q is None:
        return None
    low, high = dist.values[0], dist.values[-1]
    span = (high - low) or 1.0
    w, h, pad = 240, 22, 6

    def x(v: float) -> float:
        return pad + (w - 2 * pad) * (v - low) / span

    text = ", ".join(
        f"{name} {format_value(dist.metric, v)}"
        for name, v in (("min", low), ("p25", q[0]), ("median", q[1]), ("p75", q[2]), ("max", high))
    )
    return Markup(
        f'<svg class="box" id="{chart_id}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="{escape(dist.label)}: {escape(text)}">'
        f'<line class="whisker" x1="{x(low):.1f}" x2="{x(high):.1f}" y1="{h / 2}" y2="{h / 2}"/>'
        f'<rect class="s-prompts" x="{x(q[0]):.1f}" y="4" width="{max(x(q[2]) - x(q[0]), 1):.1f}" '
        f'height="{h - 8}" rx="2"/>'
        f'<line class="median" x1="{x(q[1]):.1f}" x2="{x(q[1]):.1f}" y1="2" y2="{h - 2}"/></svg>'
    )


@dataclass(frozen=True)
class SignalView:
    label: str
    metric: str
    orientation: str
    count: int
    text: str
    chart: Markup | None


@dataclass(frozen=True)
class AssessmentView:
    anchor: str
    title: str
    assessment_id: str
    completion: str
    median_submit: str
    funnel: Chart
    tiers: Chart
    signals: list[SignalView]
    submitted: int


def _view(index: int, a: AssessmentAnalytics) -> AssessmentView:
    funnel = bars(
        f"funnel-{index}",
        "Funnel",
        [(label, a.funnel[label], "prompts") for label in FUNNEL],
    )
    tiers = bars(
        f"tiers-{index}",
        "Strategy tiers",
        [(tier, a.tiers.get(tier, 0), _SERIES[tier]) for tier in TIERS],
    )
    signals = []
    for n, d in enumerate(a.distributions):
        q = d.quartiles()
        text = (
            "no value"
            if q is None
            else f"median {format_value(d.metric, q[1])} (from "
            f"{format_value(d.metric, d.values[0])} to {format_value(d.metric, d.values[-1])})"
        )
        signals.append(
            SignalView(
                d.label, d.metric, d.orientation, len(d.values), text, box(f"box-{index}-{n}", d)
            )
        )
    rate = a.completion_rate
    return AssessmentView(
        anchor=f"assessment-{index}",
        title=one_line(a.title, 200) or one_line(a.assessment_id, 200) or "(no assessment)",
        assessment_id=one_line(a.assessment_id, 200) or "–",
        completion="–" if rate is None else f"{rate * 100:.0f}%",
        median_submit=duration(a.median_submit_ms),
        funnel=funnel,
        tiers=tiers,
        signals=signals,
        submitted=a.funnel["submitted"],
    )


def render_analytics(analytics: Analytics, *, generated_at: str) -> str:
    views = [_view(i + 1, a) for i, a in enumerate(analytics.assessments)]
    overall = bars(
        "tiers-all",
        "Strategy tiers, all assessments",
        [(tier, analytics.tiers.get(tier, 0), _SERIES[tier]) for tier in TIERS],
    )
    return render_page(
        "analytics.html.j2",
        "analytics",
        views=views,
        top=analytics.top,
        overall=overall,
        generated_at=generated_at,
        generator=f"promptster {__version__}",
    )


def write_analytics_html(path: Path, analytics: Analytics) -> Path:
    moment = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    atomic_write_text(Path(path), render_analytics(analytics, generated_at=moment))
    return Path(path)
