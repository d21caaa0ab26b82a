"""The render step: ReportData → one self-contained HTML file, through jinja2 with autoescape.

The page inlines one stylesheet and one script (the package's static files) and allows exactly
those by their SHA-256 in a Content-Security-Policy <meta>: no other script, style, request,
frame, form or inline event handler can run, whatever a bundle contains. Data blocks are
`<script type="application/json">` elements, which browsers never execute.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from promptster.fsutil import atomic_writer
from promptster.report.meta import duration, number, percent_text
from promptster.report.model import DataBlock, ReportData

_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")
_UNSAFE_CSS = re.compile(r"[^A-Za-z0-9_-]")
_ISO = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)")
SCRIPTS = {
    "report": (
        "report_core.js",
        "castplayer.js",
        "diff.js",
        "events.js",
        "timeline.js",
        "report.js",
        "rating.js",
    ),
    "cohort": ("cohort.js",),
    "analytics": ("cohort.js",),
}


def static_text(name: str) -> str:
    return resources.files("promptster.report").joinpath("static", name).read_text("utf-8")


def csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(script: str, style: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {csp_hash(script)}",
            f"style-src {csp_hash(style)}",
            "connect-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _data_block(block: DataBlock) -> Markup:
    if block.file is not None:  # copied in by _pieces, as the page is written
        return Markup(
            f'<script type="application/json" id="{block.id}" data-bytes="{block.raw_bytes}">'
            f'"{block.file.marker}"</script>'
        )
    if not _BASE64.fullmatch(block.payload):  # never happens: the payload is our base64
        raise ValueError("a data block is not base64")
    return Markup(
        f'<script type="application/json" id="{block.id}" data-bytes="{block.raw_bytes}">'
        f'"{block.payload}"</script>'
    )


def css_token(name: str) -> str:
    """A candidate-controlled name as a safe CSS class fragment."""
    return _UNSAFE_CSS.sub("_", name)[:40] or "_"


def when(iso: str) -> str:
    """An RFC 3339 UTC timestamp as `2026-01-05 09:00:00 UTC` (as given when unparseable)."""
    match = _ISO.match(iso or "")
    return f"{match.group(1)} {match.group(2)} UTC" if match else (iso or "–")


def _pct_width(fraction: float | None) -> str:
    return "0" if fraction is None else f"{max(0.0, min(1.0, fraction)) * 100:.0f}"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("promptster.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        duration=duration,
        number=number,
        pct=percent_text,
        pct_width=_pct_width,
        data_block=_data_block,
        css_token=css_token,
        when=when,
    )
    return env


def _assets(page: str) -> tuple[str, str]:
    script = "\n".join(static_text(name) for name in SCRIPTS[page])
    style = static_text("report.css")
    return script, style


def render_page(template: str, page: str, **context: Any) -> str:
    script, style = _assets(page)
    if "</script" in script.lower() or "</style" in style.lower():
        raise ValueError("an inline asset closes its own element")
    return (
        environment()
        .get_template(template)
        .render(
            csp=content_security_policy(script, style),
            inline_script=Markup(script),
            inline_style=Markup(style),
            **context,
        )
    )


def render_report(data: ReportData, *, generated_at: str) -> str:
    """The report page for one session (whole, in memory: `write_report` streams it)."""
    page = report_template(data, generated_at=generated_at)
    return b"".join(_pieces(page, data.blocks)).decode("utf-8")


def write_report(path: Path, page: str, blocks: list[DataBlock]) -> int:
    """Write a page of `report_template` to `path` (atomically), copying the blocks kept in
    files into it piece by piece; return its size in bytes."""
    size = 0
    with atomic_writer(path) as out:
        for piece in _pieces(page, blocks):
            out.write(piece)
            size += len(piece)
    return size


def _pieces(page: str, blocks: list[DataBlock]) -> Iterator[bytes]:
    """The rendered `page` in UTF-8, with each file block's payload where its marker is."""
    for block in blocks:
        if block.file is None:
            continue
        before, found, page = page.partition(block.file.marker)
        if not found:
            raise ValueError(f"the page has no place for data block {block.id}")
        yield before.encode("utf-8")
        yield from block.file.chunks()
    yield page.encode("utf-8")


def report_template(data: ReportData, *, generated_at: str) -> str:
    """The report page with a marker in place of each block kept in a file (see _pieces)."""
    from promptster.reviewer.ratings import DECISIONS, DIMENSION_LABELS

    return render_page(
        "report.html.j2",
        "report",
        r=data,
        generated_at=generated_at,
        generator=data.generator,
        rating_dimensions=list(DIMENSION_LABELS.items()),
        rating_decisions=DECISIONS,
    )
