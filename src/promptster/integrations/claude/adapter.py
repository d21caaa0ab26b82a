"""Claude Code's entry in the AI tool catalog (`integrations.catalog`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptster.integrations.catalog import ToolCheck
from promptster.integrations.claude import setup as claude_setup


def setup(workspace: Path) -> list[str]:
    return claude_setup.setup_claude(workspace).files


def teardown(workspace: Path) -> list[str]:
    return claude_setup.teardown_claude(workspace).notes


def is_active(workspace: Path) -> bool:
    return claude_setup.setup_active(workspace)


def checks(workspace: Path) -> list[ToolCheck]:
    return claude_setup.check_claude(workspace)


def backfill(session_dir: Path, workspace: Path) -> list[dict[str, Any]]:
    from promptster.integrations.claude.transcript import backfill_transcripts

    return backfill_transcripts(session_dir, workspace=workspace)


def proxy_wired(workspace: Path) -> bool:
    return claude_setup.proxy_wired(workspace)
