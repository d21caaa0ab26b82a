"""The assessment's token budget: what the proxy has priced so far, and the refusal past it.

The spend is the sum of `costUsd` over the session's proxy `ai_response` events: read from the
journal and the spool when the proxy starts (so a restarted proxy remembers), then added as
replies finish. Only replies that passed through the proxy count: they are the ones it can
refuse. A request is refused once the spend has reached the budget; the refusal is shaped
like the provider's own errors, so the tool shows its message, with HTTP 402 (no client
retries it).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from promptster.protocol import JOURNAL_FILE, SPOOL_FILE
from promptster.record.proxy.apis import ANTHROPIC

REFUSED_STATUS = 402


class Budget:
    def __init__(self, limit_usd: float | None, spent_usd: float = 0.0) -> None:
        self.limit_usd = limit_usd
        self.spent_usd = spent_usd
        self.lock = threading.Lock()

    def add(self, cost: float | None) -> None:
        if cost:
            with self.lock:
                self.spent_usd += cost

    @property
    def exhausted(self) -> bool:
        return self.limit_usd is not None and self.spent_usd >= self.limit_usd

    def message(self) -> str:
        return (
            f"Promptster: this assessment's token budget of ${self.limit_usd:.2f} is spent "
            f"(${self.spent_usd:.4f} used through the session's API recorder); requests to "
            "the model are refused from now on. Finish without the assistant, or ask the "
            "reviewer."
        )

    def refusal(self, provider: str) -> dict[str, Any]:
        """The error body a client of `provider` shows as it is."""
        if provider == ANTHROPIC:
            return {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": self.message()},
            }
        return {
            "error": {
                "message": self.message(),
                "type": "insufficient_quota",
                "code": "budget_exceeded",
                "param": None,
            }
        }


def spent_so_far(session_dir: Path) -> float:
    """The cost of the proxy's replies already in the journal or the spool."""
    total = 0.0
    seen: set[str] = set()
    for name in (JOURNAL_FILE, SPOOL_FILE):
        try:
            with (session_dir / name).open("rb") as lines:
                for line in lines:
                    if b'"proxy"' not in line or b'"costUsd"' not in line:
                        continue  # cheap: most lines are not the proxy's priced replies
                    total += _cost(line, seen)
        except OSError:
            continue
    return total


def _cost(line: bytes, seen: set[str]) -> float:
    try:
        event = json.loads(line)
    except ValueError:
        return 0.0
    if not isinstance(event, dict) or event.get("kind") != "ai_response":
        return 0.0
    source, data = event.get("source"), event.get("data")
    if not isinstance(source, dict) or source.get("channel") != "proxy":
        return 0.0
    if not isinstance(data, dict) or event.get("id") in seen:
        return 0.0
    seen.add(str(event.get("id")))
    cost = data.get("costUsd")
    return float(cost) if isinstance(cost, int | float) else 0.0
