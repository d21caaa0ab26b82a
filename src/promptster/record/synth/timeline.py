"""The mechanics of a synthetic session: its clock, seeded event ids and fresh lines, and
commits as placeholders (`@commit:N`) until git has written them."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from promptster.formats.events import Event, Kind, make_event
from promptster.formats.payloads import Payload
from promptster.record.synth.vocabulary import BASE_TIME


@dataclass
class Plan:
    """Events with snapshot placeholders, and the commits they need, before git runs."""

    events: list[tuple[datetime, Event]] = field(default_factory=list)
    commits: list[tuple[datetime, dict[str, list[str] | None]]] = field(default_factory=list)


class Timeline:
    """The events planned so far, at a clock that only moves forward by seeded steps."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.clock = BASE_TIME + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        self.started = self.clock
        self.files: dict[str, list[str]] = {}
        self.counter = 0
        self.plan = Plan()

    def tick(self, low: float, high: float) -> datetime:
        self.clock += timedelta(milliseconds=int(self.rng.uniform(low, high) * 1000))
        return self.clock

    def emit(self, kind: Kind | str, data: Payload, **envelope: Any) -> None:
        event = make_event(kind, data, **envelope)
        event.id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.plan.events.append((self.clock, event))

    def fresh_lines(self, count: int, path: str) -> list[str]:
        lines = []
        for _ in range(count):
            self.counter += 1
            lines.append(f"# {path} line {self.counter} {self.rng.getrandbits(32):08x}")
        return lines

    def commit(self, changes: dict[str, list[str] | None]) -> str:
        self.plan.commits.append((self.clock, changes))
        return f"@commit:{len(self.plan.commits) - 1}"
