"""What synthetic sessions are made of: names, files, prompts, commands, the CLI's envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

BASE_TIME = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SYNTH_ASSESSMENT = "synthetic"
SYNTH_TIME_LIMIT_MINUTES = 120
CANDIDATES = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov")
FILES = (
    "src/app/service.py",
    "src/app/models.py",
    "src/app/api.py",
    "tests/test_service.py",
    "tests/test_api.py",
    "README.md",
    "src/app/util.py",
    "docs/design.md",
)
PROMPTS = (
    "Add input validation to {f} so that negative quantities are rejected with a 400.",
    "Why does the test in {f} fail with a KeyError? Don't change the public API.",
    "Refactor {f} to remove the global state; keep behaviour identical and keep it under 200 "
    "lines.",
    "Write tests for the edge cases in {f}: empty input, unicode, and very large values.",
    "Explain what {f} does.",
    "fix it",
    "Use a dict instead of a list in {f}, we must stay O(1) for lookups. Must not break the "
    "existing tests.",
)
COMMANDS = (
    "ls -la",
    "git status",
    "cat {f}",
    "python -m pytest -q",
    "ruff check .",
    "mypy src",
    "git diff",
    "python -m app",
    "grep -rn TODO src",
)


# The envelope of what the CLI writes on its own behalf (as record.pipeline.system_event).
SYSTEM: dict[str, Any] = {
    "channel": "cli",
    "integration": "promptster",
    "emitter": "promptster-cli",
    "actor": "system",
    "attribution": "system_generated",
    "confidence": 1.0,
    "observability": "high",
}
