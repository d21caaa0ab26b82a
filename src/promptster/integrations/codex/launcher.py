"""`promptster codex [ARGS]`: run Codex CLI wired to this workspace's session.

It finds the session, sets Codex up for it when `setup codex` has not, notes the CODEX_HOME in
use (so the recorder reads that home's rollouts too), and replaces itself with
`codex <overrides> ARGS` — the same terminal, exit code and signals as plain `codex`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from promptster.errors import EnvironmentProblem, StateError
from promptster.integrations.codex import setup as codex_setup
from promptster.integrations.codex.rollout import default_home, note_home
from promptster.protocol import find_session


def command(user_args: list[str], start: Path | None = None) -> list[str]:
    """The argv to run (and the session noted); raises when there is nothing to record into."""
    handle = find_session(start)
    if handle is None or not handle.active:
        raise StateError(
            "no active Promptster session here, so Codex would not be recorded",
            "run `promptster start --tools codex` in your workspace first "
            "(plain `codex` runs unrecorded)",
        )
    codex = shutil.which("codex")
    if codex is None:
        raise EnvironmentProblem(
            "Codex CLI is not installed",
            f"npm install -g @openai/codex@{codex_setup.TESTED_VERSION}",
        )
    setup = codex_setup.read_setup(handle.workspace) or codex_setup.setup_codex(handle.workspace)
    note_home(handle.session_dir, default_home())
    return codex_setup.launcher_argv(codex, setup, user_args)


def run(user_args: list[str]) -> None:
    argv = command(user_args)
    os.execv(argv[0], argv)
