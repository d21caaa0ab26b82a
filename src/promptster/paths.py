"""Where Promptster keeps things. Every path comes from here and honours PROMPTSTER_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_ENV = "PROMPTSTER_HOME"


def promptster_home() -> Path:
    """The reviewer's and candidate's per-user folder (identity, workspace DB, redemptions)."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("promptster", appauthor=False))


def identity_dir() -> Path:
    return promptster_home() / "identity"


def workspace_db_path() -> Path:
    return promptster_home() / "workspace.duckdb"


def candidate_state_dir() -> Path:
    return promptster_home() / "candidate"


def outbox_dir() -> Path:
    return promptster_home() / "outbox"


def session_dir(workspace: Path) -> Path:
    """The per-session folder inside a candidate's workspace (kept out of their git)."""
    return workspace / ".promptster"
