"""The capture banner: every warning that says the record may be incomplete, or its clock
unreliable, listed near the top of the report with what was lost and a link to its place in
the timeline (a loss may happen; the reviewer must not have to find it by scrolling).

The warnings are the recorder's: `capture_gap` (events or terminal output that could not be
recorded), `recorder_restart` (the recorder crashed and came back), `clock_jump` (the system
clock was set back or forward) and `deadline_mismatch` (session.json claimed another deadline).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promptster.report.meta import duration
from promptster.report.text import one_line
from promptster.report.timeline_data import Digest

TITLES = {
    "capture_gap": "Not recorded",
    "recorder_restart": "Recorder restarted",
    "clock_jump": "Clock changed",
    "deadline_mismatch": "Deadline edited",
}


@dataclass(frozen=True)
class CaptureRow:
    seq: int
    t: int  # milliseconds since the session start
    code: str
    title: str
    message: str
    lost: str  # what was lost or is unreliable, in words


@dataclass(frozen=True)
class CaptureBanner:
    rows: list[CaptureRow]
    total: int  # rows beyond the first ones are counted, not listed


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _kinds(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    parts = [
        f"{one_line(kind, 40)} {n}"
        for kind, n in list(value.items())[:12]
        if isinstance(n, int) and not isinstance(n, bool)
    ]
    return f" ({', '.join(parts)})" if parts else ""


def lost_text(code: str, data: dict[str, Any]) -> str:
    """What the warning says was lost, or what it makes unreliable."""
    if code == "capture_gap":
        count, size = _int(data.get("count")), _int(data.get("gapBytes"))
        if count is not None:
            return f"{count:,} event(s) lost{_kinds(data.get('kinds'))}"
        if size is not None:
            return f"{size:,} bytes of terminal output lost"
        return "an unknown amount lost"
    if code == "recorder_restart":
        gap, torn = _int(data.get("gapMs")), _int(data.get("tornBytes"))
        text = f"no recorder for up to {duration(gap)}" if gap else "no recorder for a moment"
        text += "; events sent meanwhile were spooled and ingested, if the spool could be written"
        if torn:
            text += f"; a partial line of {torn:,} bytes was set aside"
        return text
    if code == "clock_jump":
        jump = _int(data.get("jumpMs"))
        if jump is None:
            return "the system clock changed"
        direction = "forward" if jump > 0 else "back"
        return (
            f"the system clock was set {direction} by {duration(abs(jump))}; the time limit and "
            "later timestamps follow the session clock"
        )
    if code == "deadline_mismatch":
        claimed, deadline = one_line(data.get("claimed"), 40), one_line(data.get("deadline"), 40)
        claim = claimed if claimed and claimed != "none" else "no deadline"
        return f"session.json claimed {claim}; the signed deadline {deadline} applies"
    return ""


def capture_banner(digest: Digest) -> CaptureBanner:
    rows = [
        CaptureRow(
            seq,
            t,
            code,
            TITLES.get(code, code),
            one_line(data.get("message"), 300),
            lost_text(code, data),
        )
        for seq, t, code, data in digest.capture
    ]
    return CaptureBanner(rows, digest.capture_total)
