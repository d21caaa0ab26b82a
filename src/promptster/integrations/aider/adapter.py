"""Aider's entry in the AI tool catalog (`integrations.catalog`): nothing to configure, its
files are read while it works (`tail.poll`, which the recorder runs about once a second)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from promptster.integrations.aider import tail
from promptster.integrations.catalog import ToolCheck


def setup(workspace: Path) -> list[str]:
    tail.start(workspace.resolve())
    return []  # nothing in the workspace changes


def teardown(workspace: Path) -> list[str]:
    tail.state_path(workspace.resolve()).unlink(missing_ok=True)
    return []


def is_active(workspace: Path) -> bool:
    return tail.state_path(workspace.resolve()).exists()


def checks(workspace: Path) -> list[ToolCheck]:
    found = shutil.which("aider")
    result = [
        ToolCheck(
            "aider binary",
            found is not None,
            found or "not found",
            "" if found else "install it in its own environment: pipx install aider-chat",
        )
    ]
    if not (workspace / ".git").exists():
        result.append(
            ToolCheck(
                "git repository",
                False,
                "the workspace is not a git repository",
                "Aider's commits mark its edits: run `git init` before starting Aider",
            )
        )
    return result


def poll(session_dir: Path, workspace: Path) -> list[dict[str, Any]]:
    return tail.poll(session_dir, workspace.resolve())


MAX_BACKFILL_POLLS = 10_000  # 2.5 GiB of history at 256 KiB a poll


def backfill(session_dir: Path, workspace: Path) -> list[dict[str, Any]]:
    """Whatever the polls have not read yet, to the end of both histories."""
    events: list[dict[str, Any]] = []
    for _ in range(MAX_BACKFILL_POLLS):
        found = poll(session_dir, workspace)
        if not found:
            break
        events.extend(found)
    return events
