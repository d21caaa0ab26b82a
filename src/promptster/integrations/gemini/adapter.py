"""Gemini CLI's entry in the AI tool catalog (`integrations.catalog`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptster.integrations import wiring
from promptster.integrations.catalog import ToolCheck
from promptster.integrations.gemini import setup as gemini_setup
from promptster.integrations.gemini.events import INTEGRATION


def setup(workspace: Path) -> list[str]:
    return gemini_setup.setup(workspace)


def teardown(workspace: Path) -> list[str]:
    return gemini_setup.teardown(workspace).notes


def is_active(workspace: Path) -> bool:
    return wiring.is_wired(workspace, INTEGRATION)


def checks(workspace: Path) -> list[ToolCheck]:
    return gemini_setup.checks(workspace)


def backfill(session_dir: Path, workspace: Path) -> list[dict[str, Any]]:
    return []  # the hooks carry everything; AfterAgent reads the session file for tokens
