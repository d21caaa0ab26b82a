"""Codex CLI's entry in the AI tool catalog (`integrations.catalog`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptster.integrations.catalog import ToolCheck
from promptster.integrations.codex import setup as codex_setup


def setup(workspace: Path) -> list[str]:
    codex_setup.setup_codex(workspace)
    return []  # nothing in the workspace changes: `promptster codex` passes overrides


def teardown(workspace: Path) -> list[str]:
    codex_setup.teardown_codex(workspace)
    return []


def is_active(workspace: Path) -> bool:
    return codex_setup.read_setup(workspace) is not None


def checks(workspace: Path) -> list[ToolCheck]:
    return codex_setup.check_codex(workspace)


def backfill(session_dir: Path, workspace: Path) -> list[dict[str, Any]]:
    from promptster.integrations.codex.rollout import backfill as rollout_backfill

    return rollout_backfill(session_dir, workspace)


def watcher(session_dir: Path, workspace: Path) -> Any:
    from promptster.integrations.codex.rollout import RolloutWatcher

    return RolloutWatcher(session_dir, workspace)


def proxy_wired(workspace: Path) -> bool:
    return codex_setup.proxy_wired(workspace)
