"""The AI tool names an assessment's `allowedTools` may list.

The integrations catalog (integrations/catalog.py) is the source of these names, but the layers
below it (issue, reviewer, analysis) read packs and sessions without importing it; this table
is its copy, and tests/reviewer/test_reviewer_token_budget.py keeps the two equal. Each entry is the
name recorded in events' `source.integration` and the `start --tools` option that selects it.
"""

from __future__ import annotations

AI_TOOLS: tuple[tuple[str, str], ...] = (
    ("claude-code", "claude"),
    ("gemini-cli", "gemini"),
    ("cursor", "cursor"),
    ("copilot-cli", "copilot"),
    ("aider", "aider"),
    ("codex", "codex"),
)

TOOL_NAMES: tuple[str, ...] = tuple(name for name, _ in AI_TOOLS)


def tool_name(value: str) -> str | None:
    """The catalog name for a tool given by name (`claude-code`) or option (`claude`)."""
    wanted = value.strip().lower()
    return next((name for name, option in AI_TOOLS if wanted in (name, option)), None)
