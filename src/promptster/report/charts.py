"""Charts as inline SVG, drawn on the Python side so they show with scripts off.

Colours come from CSS classes (`s-<series>`), never inline styles, so the page's
Content-Security-Policy needs no 'unsafe-inline'. Every text in an SVG is escaped; the only
candidate-controlled strings in a chart are none (series names are ours).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from promptster.report.meta import duration
from promptster.report.model import Chart
from promptster.report.timeline_data import Digest, FileEvent, TestPoint

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 10, 46
BUCKETS = 60

KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "prompts": ("prompt",),
    "replies": ("ai_response",),
    "ai-tools": ("tool_use", "tool_result", "mcp_call", "planning"),
    "commands": ("command", "git_action"),
    "checks": ("test_run", "build_run"),
    "files": ("file_create", "file_diff", "file_delete"),
    "thinking": ("decision_event", "note", "checkpoint"),
    "warnings": ("warning",),
}
GROUP_LABELS = {
    "prompts": "prompts",
    "replies": "AI replies",
    "ai-tools": "AI tool calls",
    "commands": "commands",
    "checks": "tests & builds",
    "files": "file changes",
    "thinking": "decisions & notes",
    "warnings": "warnings",
    "other": "other",
    "human": "candidate",
    "ai": "AI",
    "system": "system",
    "unknown": "unknown",
    "passed": "passed",
    "failed": "failed",
    "ai-lines": "AI lines",
    "human-lines": "candidate lines",
}


@dataclass(frozen=True)
class _Frame:
    span: int  # milliseconds on the x axis

    @property
    def plot_w(self) -> int:
        return WIDTH - LEFT - RIGHT

    @property
    def plot_h(self) -> int:
        return HEIGHT - TOP - BOTTOM

    def x(self, t: float) -> float:
        return LEFT + (t / self.span) * self.plot_w if self.span else LEFT

    def y(self, value: float, top: float) -> float:
        return TOP + self.plot_h - (value / top) * self.plot_h if top else TOP + self.plot_h


def _nice(top: float) -> float:
    if top <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000):
        if top <= step * 4:
            return step * 4
    magnitude = 10 ** (len(str(int(top))) - 1)
    return float(((int(top) // magnitude) + 1) * magnitude)


def _axes(frame: _Frame, top: float, unit: str) -> list[str]:
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP + frame.plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + frame.plot_h}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + frame.plot_h}"/>',
    ]
    for fraction in (0.5, 1.0):
        y = frame.y(top * fraction, top)
        label = f"{top * fraction:,.0f}"
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="tick" x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    parts.append(
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + frame.plot_h + 4}" text-anchor="end">0</text>'
    )
    for i in range(5):
        t = frame.span * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<text class="tick" x="{frame.x(t):.1f}" y="{TOP + frame.plot_h + 15}" '
            f'text-anchor="{anchor}">{escape(duration(t) if i else "start")}</text>'
        )
    parts.append(
        f'<text class="tick unit" x="{LEFT}" y="{TOP - 1}" text-anchor="start">'
        f"{escape(unit)}</text>"
    )
    return parts


def _legend(series: Sequence[str]) -> tuple[list[str], int]:
    """Legend entries under the plot, wrapped onto more rows when they do not fit; returns the
    parts and the extra height the rows after the first need."""
    parts, x, row = [], LEFT, 0
    for name in series:
        label = GROUP_LABELS.get(name, name)
        width = 24 + round(6.4 * len(label))
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, row = LEFT, row + 1
        y = HEIGHT - 8 + 14 * row
        parts.append(f'<rect class="s-{name}" x="{x}" y="{y - 9}" width="10" height="10" rx="2"/>')
        parts.append(f'<text class="legend" x="{x + 14}" y="{y}">{escape(label)}</text>')
        x += width
    return parts, 14 * row


def _svg(chart_id: str, title: str, desc: str, parts: list[str], extra: int = 0) -> Markup:
    body = "".join(parts)
    height = HEIGHT + extra
    return Markup(
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}'
        f"</desc>{body}</svg>"
    )


def _stacked(
    chart_id: str, title: str, digest: Digest, column: int, groups: dict[str, str]
) -> Chart:
    """Events per time bucket, stacked by the group each row's `column` value falls in."""
    span = max(digest.end_t, 1)
    names = (digest.kinds, digest.actors)[column - 2]
    series = list(dict.fromkeys(groups.values()))
    buckets = [dict.fromkeys(series, 0) for _ in range(BUCKETS)]
    codes = (digest.kind_codes, digest.actor_codes)[column - 2]
    for t, code in zip(digest.times, codes, strict=True):
        slot = min(BUCKETS - 1, max(0, t * BUCKETS // span))
        group = groups.get(names[code], "other")
        if group not in buckets[slot]:
            for b in buckets:
                b.setdefault(group, 0)
            series.append(group)
        buckets[slot][group] += 1
    series = [s for s in series if any(b[s] for b in buckets)]
    top = _nice(max((sum(b.values()) for b in buckets), default=1))
    frame = _Frame(span)
    parts = _axes(frame, top, "events")
    width = frame.plot_w / BUCKETS
    for index, bucket in enumerate(buckets):
        base = 0
        for name in series:
            count = bucket[name]
            if not count:
                continue
            y0, y1 = frame.y(base, top), frame.y(base + count, top)
            start = duration(span * index / BUCKETS)
            parts.append(
                f'<rect class="s-{name}" x="{LEFT + index * width + 0.5:.1f}" y="{y1:.1f}" '
                f'width="{max(width - 1, 0.5):.1f}" height="{max(y0 - y1, 0.5):.1f}">'
                f"<title>{escape(GROUP_LABELS.get(name, name))}: {count:,} "
                f"(from {escape(start)})</title></rect>"
            )
            base += count
    legend, extra = _legend(series)
    parts.extend(legend)
    desc = f"{digest.event_count:,} events over {duration(span)}, in {BUCKETS} intervals."
    return Chart(chart_id, title, desc, _svg(chart_id, title, desc, parts, extra))


def activity_by_kind(digest: Digest) -> Chart:
    groups = {kind: group for group, kinds in KIND_GROUPS.items() for kind in kinds}
    for kind in digest.kinds:
        groups.setdefault(kind, "other")
    return _stacked("chart-kind", "Activity over time, by kind", digest, 2, groups)


def activity_by_actor(digest: Digest) -> Chart:
    groups = {a: a if a in ("human", "ai", "system") else "unknown" for a in digest.actors}
    return _stacked("chart-actor", "Activity over time, by actor", digest, 3, groups)


def _polyline(frame: _Frame, points: list[tuple[int, int]], top: float, name: str) -> str:
    coords = [f"{frame.x(0):.1f},{frame.y(0, top):.1f}"]
    last = 0
    for t, value in points:
        coords.append(f"{frame.x(t):.1f},{frame.y(last, top):.1f}")
        coords.append(f"{frame.x(t):.1f},{frame.y(value, top):.1f}")
        last = value
    coords.append(f"{frame.x(frame.span):.1f},{frame.y(last, top):.1f}")
    return f'<polyline class="line s-{name}" points="{" ".join(coords)}"/>'


def _thin(points: Sequence[int], limit: int = 600) -> Sequence[int]:
    """At most `limit` + 1 of `points` (a line's point indexes), evenly spread, the last
    included."""
    if len(points) <= limit:
        return points
    step = len(points) / limit
    return [points[int(i * step)] for i in range(limit)] + [points[-1]]


def cumulative_lines(digest: Digest, files: Sequence[FileEvent]) -> Chart:
    span = max(digest.end_t, 1)
    # only the points `_thin` would keep are made: 150,000 changes would be 300,000 tuples
    wanted = _thin(range(len(files)))
    ai: list[tuple[int, int]] = []
    human: list[tuple[int, int]] = []
    ai_total, human_total, next_at = 0, 0, 0
    for index, change in enumerate(files):
        ai_total += change.ai_lines
        human_total += change.human_lines
        while next_at < len(wanted) and wanted[next_at] == index:
            ai.append((change.t, ai_total))
            human.append((change.t, human_total))
            next_at += 1
    top = _nice(max(ai_total, human_total, 1))
    frame = _Frame(span)
    parts = _axes(frame, top, "lines added")
    parts.append(_polyline(frame, ai, top, "ai-lines"))
    parts.append(_polyline(frame, human, top, "human-lines"))
    parts.extend(_legend(["ai-lines", "human-lines"])[0])
    noun = "line" if ai_total == 1 else "lines"
    desc = f"{ai_total:,} {noun} added by the AI and {human_total:,} by the candidate, cumulative."
    title = "Lines added over time, AI vs candidate"
    return Chart("chart-lines", title, desc, _svg("chart-lines", title, desc, parts))


def test_results(digest: Digest, tests: Sequence[TestPoint]) -> Chart:
    span = max(digest.end_t, 1)
    frame = _Frame(span)
    # One bar per interval at most: the last run in it (the state the candidate left it in).
    # A failure earlier in the same interval must not disappear behind it: such an interval
    # gets a red mark above its bar, and its tooltip counts every run.
    slots = min(len(tests), 120) or 1
    chosen: dict[int, TestPoint] = {}
    runs_in: dict[int, int] = {}
    failing_in: dict[int, int] = {}
    for point in tests:
        slot = min(slots - 1, point.t * slots // span)
        chosen[slot] = point
        runs_in[slot] = runs_in.get(slot, 0) + 1
        failing_in[slot] = failing_in.get(slot, 0) + bool(point.failed or point.errors)
    # intervals whose last run passed although an earlier one in them failed
    hidden = {s for s, p in chosen.items() if failing_in[s] and not (p.failed or p.errors)}
    top = _nice(max((p.passed + p.failed + p.errors for p in chosen.values()), default=1))
    parts = _axes(frame, top, "tests")
    width = max(min(frame.plot_w / slots - 1, 12), 1.5)
    for slot, point in chosen.items():
        x = frame.x(point.t) - width / 2
        tip = (
            f"run at {escape(duration(point.t))}: {point.passed} passed, {point.failed} failed, "
            f"{point.errors} errors, {point.skipped} skipped"
        )
        if runs_in[slot] > 1:
            tip = (
                f"{runs_in[slot]} runs in this interval, {failing_in[slot]} with failures; "
                f"the last {tip}"
            )
        base = 0
        for name, count in (("passed", point.passed), ("failed", point.failed + point.errors)):
            if not count:
                continue
            y0, y1 = frame.y(base, top), frame.y(base + count, top)
            parts.append(
                f'<rect class="s-{name}" x="{x:.1f}" y="{y1:.1f}" width="{width:.1f}" '
                f'height="{max(y0 - y1, 0.5):.1f}"><title>{tip}</title></rect>'
            )
            base += count
        if slot in hidden:
            y = frame.y(base, top) - 4
            parts.append(
                f'<rect class="s-failed hidden-failure" x="{x:.1f}" y="{y - 3:.1f}" '
                f'width="{width:.1f}" height="3"><title>{tip}</title></rect>'
            )
    parts.extend(_legend(["passed", "failed"])[0])
    shown = f" (the last of each of {slots} intervals shown)" if len(chosen) < len(tests) else ""
    runs = "test run" if len(tests) == 1 else "test runs"
    marked = "; a red mark above a bar: an earlier run in that interval failed" if hidden else ""
    desc = f"{len(tests):,} {runs}{shown}: passed and failed (with errors) per run{marked}."
    title = "Test results over time"
    return Chart("chart-tests", title, desc, _svg("chart-tests", title, desc, parts))


def all_charts(digest: Digest) -> list[Chart]:
    return [
        activity_by_kind(digest),
        activity_by_actor(digest),
        cumulative_lines(digest, digest.files),
        test_results(digest, digest.tests),
    ]
