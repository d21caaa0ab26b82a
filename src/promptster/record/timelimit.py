"""The recorder's time limit: where the deadline comes from, and a clock the candidate cannot
wind back.

The deadline is the session's start (its first journal event, pinned by the hash chain) plus
the time limit of the signed assessment pack it was started from. session.json also holds a
deadline, for the shell prompt and `status`; it is a convenience copy the candidate can edit,
so the recorder never takes it as the limit and records a `deadline_mismatch` warning when it
disagrees. Without a pack (a practice session) the session_start event's own deadline is used.

`SessionClock` measures time on the boot clock (monotonic, counting suspend where the system
has one), anchored at the wall clock when the recorder started: setting the system clock back
or forward changes nothing it says, and `jump()` reports each change of the wall clock against
it once, for a `clock_jump` warning.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from promptster.errors import CheckFailed, FormatError
from promptster.formats.events import parse_ts

# A wall clock that moves this far from the boot clock has been set (NTP slews far less).
JUMP_THRESHOLD = timedelta(seconds=2)
_BOOT_CLOCK = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def boot_seconds() -> float:
    return time.clock_gettime(_BOOT_CLOCK)


@dataclass(frozen=True)
class SignedDeadline:
    deadline: datetime | None
    source: str  # "pack", "session_start" or "none"
    mismatch: str | None = None  # what session.json claims instead, when it differs


def first_event(journal: Path) -> dict[str, object] | None:
    """The journal's first line, parsed (only the first line is read)."""
    try:
        with journal.open("rb") as handle:
            line = handle.readline(4 * 1024 * 1024)
        body = json.loads(line)
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def signed_deadline(journal: Path, pack_file: Path, state_deadline: str | None) -> SignedDeadline:
    """The deadline from the signed pack and the session's first event (see module doc)."""
    start = first_event(journal)
    data = start.get("data") if start else None
    data = data if isinstance(data, dict) else {}
    try:
        started = parse_ts(str(start.get("ts"))) if start else None
    except FormatError:
        started = None
    deadline, source = None, "none"
    limit = _pack_limit(pack_file)
    if limit is not None and started is not None:
        deadline, source = started + timedelta(minutes=limit), "pack"
    elif isinstance(data.get("deadline"), str):
        with contextlib.suppress(FormatError):
            deadline, source = parse_ts(str(data["deadline"])), "session_start"
    mismatch = None
    if deadline is not None:
        try:
            claimed = parse_ts(state_deadline) if state_deadline else None
        except FormatError:
            claimed = None
        if claimed is None or abs(claimed - deadline) > timedelta(seconds=1):
            mismatch = state_deadline or "none"  # edited, or removed
    return SignedDeadline(deadline, source, mismatch)


def _pack_limit(pack_file: Path) -> int | None:
    try:
        data = pack_file.read_bytes()
    except OSError:
        return None  # no pack (a practice session): no need for the pack reader's imports
    from promptster.issue.assessment import open_pack

    try:
        return open_pack(data).pack.time_limit_minutes
    except (FormatError, CheckFailed):
        return None


class SessionClock:
    """Wall time as the boot clock measures it since the recorder started."""

    def __init__(
        self,
        *,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        boot: Callable[[], float] = boot_seconds,
        not_before: datetime | None = None,
    ) -> None:
        self._wall, self._boot = wall, boot
        anchor = wall()
        # A recorder restarted after the clock was set back starts from the journal's last
        # timestamp, not from the wall clock it was given.
        self.set_back_at_start = (
            not_before - anchor if not_before is not None and not_before > anchor else None
        )
        if self.set_back_at_start is not None and self.set_back_at_start < JUMP_THRESHOLD:
            self.set_back_at_start = None
        self._anchor = max(anchor, not_before) if not_before is not None else anchor
        self._boot0 = boot()
        self._offset = timedelta(0)  # wall clock minus this clock, as last reported

    def now(self) -> datetime:
        return self._anchor + timedelta(seconds=self._boot() - self._boot0)

    def offset(self) -> timedelta:
        """How far the wall clock is from this clock now (negative: set back)."""
        return self._wall() - self.now()

    def jump(self) -> timedelta | None:
        """A change of the wall clock since the last report, once per change."""
        offset = self.offset()
        change = offset - self._offset
        if abs(change) < JUMP_THRESHOLD:
            return None
        self._offset = offset
        return change
