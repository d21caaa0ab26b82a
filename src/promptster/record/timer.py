"""The time limit: which warning is due, and when expiry comes. Pure logic, clock injected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

WARNING_MINUTES = (30, 15, 10, 5, 2, 1)


@dataclass(frozen=True)
class TimeNotice:
    code: str  # "time_warning" | "time_expired"
    minutes_left: int
    message: str


@dataclass
class Countdown:
    """Tracks which notices were given. Thresholds at or above the limit itself are skipped
    (a 10-minute session does not start with a "10 minutes left" warning)."""

    started: datetime
    deadline: datetime
    given: set[int] = field(default_factory=set)
    expired_given: bool = False

    @property
    def thresholds(self) -> list[int]:
        limit_minutes = (self.deadline - self.started).total_seconds() / 60
        return [m for m in WARNING_MINUTES if m < limit_minutes - 1e-9]

    def remaining(self, now: datetime) -> timedelta:
        return self.deadline - now

    def due(self, now: datetime) -> TimeNotice | None:
        """The notice to give now, if any. After a pause (laptop asleep) only the most
        urgent passed threshold is reported; the ones skipped are marked as given."""
        left = self.remaining(now)
        if left <= timedelta(0):
            if self.expired_given:
                return None
            self.expired_given = True
            self.given.update(self.thresholds)
            return TimeNotice("time_expired", 0, "time is up: the session is being submitted")
        reached = [m for m in self.thresholds if left <= timedelta(minutes=m)]
        passed = [m for m in reached if m not in self.given]
        if not passed:
            return None
        self.given.update(reached)
        minutes = min(passed)
        unit = "minute" if minutes == 1 else "minutes"
        return TimeNotice("time_warning", minutes, f"{minutes} {unit} left")

    def next_wakeup(self, now: datetime) -> datetime:
        """When the next notice could become due."""
        moments = [
            self.deadline - timedelta(minutes=m) for m in self.thresholds if m not in self.given
        ]
        if not self.expired_given:
            moments.append(self.deadline)
        upcoming = [moment for moment in moments if moment > now]
        return min(upcoming) if upcoming else now + timedelta(hours=1)


def format_remaining(left: timedelta) -> str:
    seconds = int(left.total_seconds())
    if seconds <= 0:
        return "time is up"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
