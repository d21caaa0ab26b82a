"""The recorder's part in time: the gap a crash left, clock jumps, the countdown's warnings.

A mixin of `Recorder` (record/recorder.py), which owns the attributes declared below. At the
time limit it gives the last notice and submits the session itself (`auto_submit`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from promptster.errors import PromptsterError
from promptster.formats.events import format_ts, parse_ts
from promptster.record.pipeline import warning

if TYPE_CHECKING:
    from promptster.record.pipeline import EventPipeline
    from promptster.record.session import SessionPaths
    from promptster.record.timelimit import SessionClock, SignedDeadline
    from promptster.record.timer import Countdown, TimeNotice

log = logging.getLogger("promptster.recorder")


def parsed_ts(ts: str | None) -> datetime | None:
    try:
        return parse_ts(ts) if ts else None
    except PromptsterError:
        return None


class TimeKeeping:
    """`Recorder`'s keeping of time; it sets these attributes."""

    paths: SessionPaths
    pipeline: EventPipeline
    signed: SignedDeadline
    deadline: datetime | None
    clock: SessionClock
    countdown: Countdown | None
    ttys: set[str]
    stopped: threading.Event
    down_since: datetime | None

    if TYPE_CHECKING:  # Recorder's own: auto_submit ends the session with it

        def end(
            self, reason: str, *, stop: bool = True, detail: str | None = None
        ) -> dict[str, Any]: ...

    def record_gap(self, previous: dict[str, Any] | None, torn: int) -> None:
        last_seen = self.pipeline.stats.last_ts
        with contextlib.suppress(OSError, ValueError):
            heartbeat = self.paths.recorder_info.stat().st_mtime
            moment = format_ts(datetime.fromtimestamp(heartbeat, UTC))
            last_seen = max(last_seen or moment, moment)
        gap_ms = 0
        self.down_since = parsed_ts(last_seen)
        if last_seen:
            with contextlib.suppress(PromptsterError):
                gap_ms = int((datetime.now(UTC) - parse_ts(last_seen)).total_seconds() * 1000)
        message = "the recorder stopped unexpectedly and was restarted"
        if torn:
            message += f"; a partial last line ({torn} bytes) was set aside"
        self.pipeline.append_system(
            [
                warning(
                    "recorder_restart",
                    message,
                    gapMs=max(gap_ms, 0),
                    previousPid=(previous or {}).get("pid"),
                    tornBytes=torn,
                )
            ]
        )

    def record_time_anomalies(self) -> None:
        """What the recorder found wrong with time when it started (timelimit.py)."""
        events = []
        if self.signed.mismatch is not None and self.deadline is not None:
            events.append(
                warning(
                    "deadline_mismatch",
                    "session.json's deadline differs from the signed time limit; the signed "
                    "limit is used",
                    claimed=self.signed.mismatch,
                    deadline=format_ts(self.deadline),
                    source=self.signed.source,
                )
            )
        back = self.clock.set_back_at_start
        if back is not None:
            events.append(
                warning(
                    "clock_jump",
                    "the system clock is behind the session's last event: it was set back",
                    jumpMs=-int(back.total_seconds() * 1000),
                )
            )
        if events:
            self.pipeline.append_system(events)

    def check_clock(self) -> None:
        jump = self.clock.jump()
        if jump is None or self.pipeline.closed:
            return
        direction = "forward" if jump.total_seconds() > 0 else "back"
        self.pipeline.append_system(
            [
                warning(
                    "clock_jump",
                    f"the system clock was set {direction} by {abs(jump.total_seconds()):.0f} s; "
                    "the time limit is measured without it",
                    jumpMs=int(jump.total_seconds() * 1000),
                    sessionClock=format_ts(self.clock.now()),
                )
            ]
        )

    def restore_countdown(self) -> None:
        if self.countdown is None:
            return
        now = self.clock.now()
        # Warnings already given before a restart are not repeated.
        for minutes in self.countdown.thresholds:
            if self.countdown.remaining(now).total_seconds() <= minutes * 60:
                self.countdown.given.add(minutes)

    def check_time(self) -> None:
        if self.countdown is None or self.pipeline.closed:
            return
        notice = self.countdown.due(self.clock.now())
        if notice is None:
            return
        self._give_notice(notice)
        if notice.code == "time_expired":
            threading.Thread(target=self.auto_submit, name="auto-submit", daemon=True).start()

    def _give_notice(self, notice: TimeNotice) -> None:
        data: dict[str, Any] = {"minutesLeft": notice.minutes_left}
        if self.deadline is not None:
            data["deadline"] = format_ts(self.deadline)
        self.pipeline.append_system([warning(notice.code, notice.message, **data)])
        self.notify(notice.message)

    def notify(self, message: str) -> None:
        """Write a line to every terminal that asked for notices (best effort)."""
        log.info("notice: %s", message)
        line = f"\r\n\x1b[1;33m[promptster] {message}\x1b[0m\r\n".encode()
        for tty in sorted(self.ttys):
            try:
                fd = os.open(tty, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
            except OSError:
                self.ttys.discard(tty)

    def attach_tty(self, tty: str) -> bool:
        if not tty.startswith(("/dev/pts/", "/dev/tty")):
            return False
        try:
            if os.stat(tty).st_uid != os.getuid():
                return False
        except OSError:
            return False
        self.ttys.add(tty)
        return True

    def auto_submit(self) -> None:
        """At the time limit: the `submit --auto` flow, run by the recorder itself."""
        from promptster.record.submit import submit_session

        try:
            result = submit_session(self.paths, "auto", end=lambda r: self.end(r, stop=False))
            assert result is not None  # no confirmation asked
            self.notify(f"submitted automatically: {result.path} (sha256 {result.sha256[7:19]}…)")
        except PromptsterError as exc:
            log.error("automatic submission failed: %s", exc.message)
            self.notify(f"automatic submission failed: {exc.message}; run `promptster submit`")
        finally:
            self.stopped.set()
