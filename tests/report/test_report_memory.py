"""The report's data step holds no row per event (issue 17): its rows go to a file as they are
made, and what the digest keeps per event is a few compact columns. Measured with the
process's own accounting (tracemalloc), never the wall clock: four times the events must not
cost the digest more than a few dozen bytes per event more."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from promptster.bundle.spool import SpooledTimeline
from promptster.report.events_block import RowsFile, stream_block
from promptster.report.timeline_data import digest_timeline

KINDS = ("prompt", "ai_response", "tool_use", "tool_result", "command", "note")
PER_EVENT_BYTES = 64  # the columns take 24; a Python row took ~760


def _timeline(path: Path, events: int) -> SpooledTimeline:
    with path.open("w", encoding="utf-8") as out:
        for seq in range(events):
            kind = KINDS[seq % len(KINDS)]
            data = {"text": f"line {seq} " * 8, "command": "pytest -q", "exitCode": seq % 2}
            event = {
                "seq": seq,
                "id": f"{seq:08x}-0000-4000-8000-000000000000",
                "ts": f"2026-01-01T{seq // 3600 % 24:02d}:{seq // 60 % 60:02d}:{seq % 60:02d}Z",
                "kind": kind,
                "actor": {"type": "human"},
                "source": {"integration": "shell"},
                "data": data,
            }
            out.write(json.dumps(event) + "\n")
    return SpooledTimeline(path)


def _digest_peak(tmp_path: Path, events: int) -> tuple[int, int]:
    """(peak bytes allocated while digesting `events` events, rows in the page block)."""
    timeline = _timeline(tmp_path / f"t{events}.jsonl", events)
    rows = RowsFile()
    tracemalloc.start()
    try:
        digest = digest_timeline(timeline, None, rows=rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    block = stream_block("ps-events", {"rows": []}, rows)
    assert block.file is not None and digest.event_count == events
    rows.close()
    block.file.close()
    timeline.close()
    return peak, events


def test_the_digest_keeps_no_row_per_event(tmp_path: Path) -> None:
    small, small_n = _digest_peak(tmp_path, 5_000)
    large, large_n = _digest_peak(tmp_path, 20_000)
    per_event = (large - small) / (large_n - small_n)
    assert per_event < PER_EVENT_BYTES, f"{per_event:.0f} bytes per event"


def test_a_streamed_block_is_the_block_made_at_once(tmp_path: Path) -> None:
    """The same bytes as data.make_block of the whole value: an ordinary report is unchanged."""
    from promptster.report.data import make_block

    rows = RowsFile()
    value = [[i, i * 7, 0, 1, 2, 3, {"text": f"é {i} " * (i % 50)}] for i in range(10_000)]
    for row in value:
        rows.append(row)
    head = {"v": 1, "kinds": ["prompt", '"rows":[]'], "rows": [], "idleMs": 5}
    block = stream_block("ps-events", head, rows)
    assert block.file is not None
    whole = make_block("ps-events", {**head, "rows": value})
    assert b"".join(block.file.chunks()).decode("ascii") == whole.payload
    assert block.raw_bytes == whole.raw_bytes
    rows.close()
    block.file.close()
