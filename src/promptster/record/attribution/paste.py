"""Likely pastes: a large block of new lines that nothing recorded explains (issue 14).

A change is a likely paste when all of these hold (docs/attribution.md):

- it adds at least `PASTE_MIN_LINES` meaningful lines (not blank, not bare punctuation), none
  of them matched to the AI;
- no AI event (a prompt, a reply, a tool call or result, anything an AI tool's hook or
  transcript reported) in the `AI_QUIET` before it;
- no command of the candidate's recorded shell ran in the `TYPING_WINDOW` before it (typing in
  an editor in the recorded shell, `git pull`, `cp` are the candidate's own doing).

Such a change is `provenance.attribution = "unknown"` with `provenance.likelyPaste = true`
rather than counted as hand-written, and its lines are `unknown` in `authorship.json`. A
candidate who types a long block in an editor outside the recorded shell and saves it once is
flagged too: the flag says "unexplained", not "cheated".
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from promptster.integrations.claude.values import parse_time
from promptster.record.attribution.claims import is_trivial
from promptster.record.attribution.model import ChangeVerdict

PASTE_MIN_LINES = 20
AI_QUIET = timedelta(seconds=120)
TYPING_WINDOW = timedelta(seconds=30)
PASTE_CONFIDENCE = 0.6
AI_KINDS = frozenset({"prompt", "ai_response", "tool_use", "tool_result", "planning", "mcp_call"})


class PasteDetector:
    def __init__(self, shell_windows: Iterable[tuple[datetime, datetime]] = ()) -> None:
        self._windows = list(shell_windows)
        self._ai_times: list[datetime] = []  # sorted: at submit, events may be seen early
        # The spans in which the shell windows were looked at (see Attributor's).
        self.windows_consulted: list[tuple[datetime, datetime]] = []

    def add_window(self, start: datetime, end: datetime) -> None:
        self._windows.append((start, end))

    def observe(self, event: Mapping[str, Any]) -> None:
        time = parse_time(event.get("ts"))
        if time is None:
            return
        actor, source = event.get("actor"), event.get("source")
        is_ai = event.get("kind") in AI_KINDS or (
            isinstance(actor, Mapping) and actor.get("type") == "ai"
        )
        if is_ai:
            bisect.insort(self._ai_times, time)
        data = event.get("data")
        channel = source.get("channel") if isinstance(source, Mapping) else None
        if event.get("kind") == "command" and channel == "terminal" and isinstance(data, Mapping):
            duration = data.get("durationMs")
            if isinstance(duration, int) and duration >= 0:
                self._windows.append((time - timedelta(milliseconds=duration), time))

    def is_paste(self, time: datetime, verdict: ChangeVerdict, added: Iterable[str]) -> bool:
        if verdict.ai_lines:
            return False
        meaningful = sum(1 for line in added if not is_trivial(line))
        if meaningful < PASTE_MIN_LINES:
            return False
        at = bisect.bisect_right(self._ai_times, time)  # the AI events up to `time` only
        if at and time - self._ai_times[at - 1] <= AI_QUIET:
            return False
        since = time - TYPING_WINDOW
        self.windows_consulted.append((since, time))
        return not any(start <= time and end >= since for start, end in self._windows)
