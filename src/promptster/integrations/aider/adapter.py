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


def backfill(session_dir: Path, workspace: Path) -> list[dict[str, Any]]:
    return poll(session_dir, workspace)  # whatever the last poll has not read yet
