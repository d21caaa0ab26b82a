"""Fixtures for the recorded-shell tests: a live session in a temp workspace, a temp HOME."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from shellkit import Workspace

from promptster.record.lifecycle import StartedSession
from recorder_helpers import recorder_env, start_recording

__all__ = ["recorder_env", "start_recording", "workspace"]


@pytest.fixture
def workspace(tmp_path: Path, start_recording: Callable[..., StartedSession]) -> Workspace:
    """A live session (its recorder running) and an empty HOME with a plain prompt."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("PS1='cand$ '\n")
    (home / ".zshrc").write_text("PS1='cand%% '\nunsetopt PROMPT_SP\n")
    folder = tmp_path / "work"
    started = start_recording(folder)
    return Workspace(folder, home, started.paths)
