"""The hidden tests' pass rate over the session (`--hidden-tests-at checkpoints`), as inline SVG.

One point per snapshot the tests ran on (checkpoints, where the candidate's own tests went
green, the final snapshot), on the session's time axis; each point is a link to its timeline
event. Drawn with the frame and axes of promptster.report.charts, coloured by CSS class. A
checkpoint's label is the candidate's text: made one visible line and escaped.
"""

from __future__ import annotations

from markupsafe import escape

from promptster.report.charts import _axes, _Frame, _legend, _svg
from promptster.report.meta import duration
from promptster.report.model import Chart
from promptster.report.text import one_line
from promptster.report.timeline_data import Digest
from promptster.reviewer.hidden_tests.over_time import HiddenSeries

CHART_ID = "chart-hidden"
REASONS = {
    "checkpoint": "checkpoint",
    "tests_passed": "own tests went green",
    "final": "final snapshot",
}


def hidden_over_time(digest: Digest, series: HiddenSeries) -> Chart:
    span = max(digest.end_t, 1)
    wanted = {item.point.seq for item in series.points}
    at = {seq: t for seq, t in zip(digest.seqs, digest.times, strict=True) if seq in wanted}
    frame = _Frame(span)
    parts = _axes(frame, 100, "hidden tests passing, %")
    coords: list[str] = []
    dots: list[str] = []
    for index, item in enumerate(series.points):
        rate = item.result.pass_rate
        t = min(max(at.get(item.point.seq, span), 0), span)
        if rate is None:
            continue
        x, y = frame.x(t), frame.y(rate * 100, 100)
        if coords:  # a step: the rate holds until the next snapshot the tests ran on
            coords.append(f"{x:.1f},{coords[-1].split(',')[1]}")
        coords.append(f"{x:.1f},{y:.1f}")
        name = "passed" if item.result.outcome == "passed" else "failed"
        label = REASONS.get(item.point.reason, item.point.reason)
        if item.point.reason == "checkpoint":
            label = f"checkpoint “{one_line(item.point.label, 120)}”"
        tip = (
            f"{label} at {duration(t)}, snapshot {item.point.commit[:12]}: "
            f"{item.result.passed}/{item.result.total} hidden tests passed "
            f"({item.result.outcome.replace('_', ' ')}); event {item.point.seq}"
        )
        dots.append(
            f'<a class="hidden-point" href="#ev-{item.point.seq}" data-seq="{item.point.seq}" '
            f'data-index="{index}"><circle class="s-{name}" cx="{x:.1f}" cy="{y:.1f}" r="5">'
            f"<title>{escape(tip)}</title></circle></a>"
        )
    if len(coords) > 1:
        parts.append(f'<polyline class="line s-hidden" points="{" ".join(coords)}"/>')
    parts.extend(dots)
    parts.extend(_legend(["passed", "failed"])[0])
    runs = "run" if series.runs == 1 else "runs"
    desc = (
        f"{len(series.points)} points, {series.runs} {runs} of the hidden tests: at each "
        "checkpoint, where the candidate's own tests went green, and on the final snapshot; "
        "green when every hidden test passed. Each point links to its event."
    )
    if series.left_out:
        desc += (
            f" {series.left_out} earlier point(s) not run: at most {series.limit} runs per "
            "bundle, the latest kept."
        )
    title = "Hidden tests over time"
    return Chart(CHART_ID, title, desc, _svg(CHART_ID, title, desc, parts))
