"""The timeline, digested for the page: one compact row per event, trimmed to what is shown.

A page row is `[seq, t, kind, actor, source, attribution, body]`: `t` is milliseconds since
the session start, the next four are indexes into lookup lists (so 100,000 rows do not repeat
the same strings), and `body` holds the kind's fields the page shows, every string made
visible and bounded (promptster.report.text). Prompts are kept in full up to the journal's own
bound; replies, outputs and tool payloads are cut to budgets that shrink as a session grows,
so a 100,000-event report stays within its size budget.

No list of all rows is ever held (a million events would take over a gigabyte as Python
lists): each row goes to a sink as it is made (report.events_block.RowsFile, which writes it
to a temporary file), and the digest keeps per event only what the charts need, in compact
columns (time, kind, actor; a seq only where it is not the event's position), its file
changes in columns too, plus counts (report.digest_model). Each kind's page fields are made in
report.page_bodies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any

from promptster.bundle.spool import SpooledTimeline
from promptster.formats.events import FILE_KINDS
from promptster.formats.timeline import split_lines
from promptster.report.digest_model import (
    _INT64,
    CAPTURE_CODES,
    CAPTURE_KEPT,
    DECISIONS_KEPT,
    FIELD_MAX,
    FIELD_MIN,
    TEXT_BUDGET,
    Digest,
    FileColumns,
    FileEvent,
    RowSink,
    TestPoint,
    append_code,
)
from promptster.report.page_bodies import _Builder, _command, _dict, _int
from promptster.report.text import one_line

__all__ = [  # the digest's types live in digest_model, the kinds' fields in page_bodies
    "CAPTURE_CODES",
    "CAPTURE_KEPT",
    "DECISIONS_KEPT",
    "Digest",
    "FileColumns",
    "FileEvent",
    "TestPoint",
    "_command",
    "digest_timeline",
]


def _ms(ts: Any, t0: datetime | None) -> tuple[int, datetime | None]:
    if not isinstance(ts, str):
        return 0, t0
    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return 0, t0
    if t0 is None:
        t0 = moment
    return int((moment - t0).total_seconds() * 1000), t0


def _field_cap(lines: Iterable[bytes]) -> int:
    """Characters per long field so that all of them together stay near TEXT_BUDGET."""
    heavy = sum(1 for line in lines if len(line) > 2000)
    if heavy == 0:
        return FIELD_MAX
    return max(FIELD_MIN, min(FIELD_MAX, TEXT_BUDGET // (heavy * 2)))


def digest_timeline(
    timeline: bytes | SpooledTimeline,
    started_at: str | None,
    visit: Callable[[dict[str, Any], int, int], None] | None = None,
    *,
    rows: RowSink | None = None,
    ids: Collection[str] = (),
) -> Digest:
    """Digest the timeline's lines (an unreadable line becomes an `unreadable` row); `visit`
    sees each decoded event with its seq and ms offset (the key moments read them there),
    `rows` each page row, and `Digest.id_to_seq` maps the event `ids` asked for (a signal's
    evidence). A spooled timeline is read twice, line by line (the field budget needs the
    count of long lines first), and never held whole."""
    if isinstance(timeline, SpooledTimeline):
        digest = Digest(field_cap=_field_cap(timeline.lines()))
        lines: Iterable[bytes] = timeline.lines()
    else:
        lines = split_lines(timeline).lines
        digest = Digest(field_cap=_field_cap(lines))
    _, digest.t0 = _ms(started_at, None)
    builder = _Builder(digest)
    decoder = json.JSONDecoder()
    wanted = set(ids)
    low, high = _INT64
    for position, line in enumerate(lines):
        try:
            event = decoder.decode(line.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            event = None
        if not isinstance(event, dict):
            digest.unreadable_lines += 1
            event = {"kind": "unreadable", "seq": position, "data": {}}
        seq = _int(event.get("seq"))
        seq = position if seq is None else seq
        kind = one_line(event.get("kind"), 60) or "unknown"
        t, digest.t0 = _ms(event.get("ts"), digest.t0)
        source, actor = _dict(event.get("source")), _dict(event.get("actor"))
        provenance, data = _dict(event.get("provenance")), _dict(event.get("data"))
        integration = one_line(source.get("integration") or source.get("channel"), 60) or "unknown"
        attribution = one_line(provenance.get("attribution"), 40) or "unknown"
        if provenance.get("likelyPaste") is True and kind in FILE_KINDS:
            attribution = "likely_paste"  # shown as its own chip: a block nothing explains
        ident = event.get("id")
        if isinstance(ident, str) and ident in wanted:
            digest.id_to_seq[ident] = seq
        if kind == "session_start" and not digest.start:
            digest.start = data
        if kind == "warning" and data.get("code") in CAPTURE_CODES:
            digest.capture_total += 1
            if len(digest.capture) < CAPTURE_KEPT:
                digest.capture.append((seq, t, str(data["code"]), data))
        if integration not in ("promptster", "unknown"):
            digest.integrations.add(integration)
        codes = (
            builder.code(0, kind),
            builder.code(1, one_line(actor.get("type"), 30) or "unknown"),
            builder.code(2, integration),
            builder.code(3, attribution),
        )
        body = builder.body(kind, data, seq, t, attribution)
        if rows is not None:
            rows.append([seq, t, *codes, body])
        digest.event_count += 1
        for counter, code in zip(digest.code_counts, codes, strict=True):
            counter[code] += 1
        digest.seqs.append(min(max(seq, low), high))
        digest.times.append(min(max(t, low), high))
        digest.kind_codes = append_code(digest.kind_codes, codes[0])
        digest.actor_codes = append_code(digest.actor_codes, codes[1])
        digest.end_t = max(digest.end_t, t)
        if visit is not None and kind != "unreadable":
            visit(event, seq, t)
    return digest
