"""Copilot CLI's entry in the AI tool catalog (`integrations.catalog`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptster.integrations import wiring
from promptster.integrations.catalog import ToolCheck
from promptster.integrations.copilot import setup as copilot_setup
from promptster.integrations.copilot.events import INTEGRATION


def setup(workspace: Path) -> list[str]:
    return copilot_setup.setup(workspace)


def teardown(workspace: Path) -> list[str]:
    return copilot_setup.teardown(workspace).notes


def is_active(workspace: Path) -> bool:
    return wiring.is_wired(workspace, INTEGRATION)


def checks(workspace: Path) -> list[ToolCheck]:
    return copilot_setup.checks(workspace)


def backfill(session_dir: Path, workspace: Path) -> list[dict[str, Any]]:
    return []  # the hooks carry everything; agentStop reads the session event log for tokens
