"""Aider's entry in the AI tool catalog (`integrations.catalog`): nothing to configure, its
files are read while it works (`HistoryWatcher`, which the recorder polls every tick)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptster.integrations.aider import shims, tail
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
    found = real_aider()
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


def real_aider(path: str | None = None) -> str | None:
    """The `aider` in PATH, passing over the recorded shell's shim (shims.py), which is found
    even where Aider is not installed."""
    folders = (path if path is not None else os.environ.get("PATH", os.defpath)).split(os.pathsep)
    real = [f for f in folders if f and not os.path.exists(os.path.join(f, shims.WRAPPER))]
    return shutil.which("aider", path=os.pathsep.join(real))


def poll(session_dir: Path, workspace: Path) -> list[dict[str, Any]]:
    return tail.poll(session_dir, workspace.resolve())


@dataclass
class HistoryWatcher:
    """The catalog's live watcher for Aider: each poll reads what its histories and commits
    gained (at most 256 KiB per history), from read positions kept in the session folder."""

    session_dir: Path
    workspace: Path
    events: int = 0
    last_seen: str | None = None

    def poll(self) -> list[dict[str, Any]]:
        found = poll(self.session_dir, self.workspace)
        if found:
            self.events += len(found)
            self.last_seen = str(found[-1].get("ts") or self.last_seen)
        return found

    def status(self) -> dict[str, Any]:
        detail = f"{self.events} event(s) from Aider's histories and commits"
        return {"alive": True, "detail": detail, "lastSeen": self.last_seen}


def watcher(session_dir: Path, workspace: Path) -> HistoryWatcher:
    return HistoryWatcher(session_dir, workspace.resolve())


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
