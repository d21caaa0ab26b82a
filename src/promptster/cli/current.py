"""The session of the folder a command runs in (`current_session`), for the commands that
need a live session. Apart from candidate_cmds.py so that `promptster shell` imports only this,
not every candidate command's modules, before the shell's first prompt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from promptster.cli.output import err_console
from promptster.errors import StateError
from promptster.protocol import find_session
from promptster.record.control import ask, ensure_recorder
from promptster.record.session import SessionPaths, SessionState, read_state


def current_session() -> tuple[SessionPaths, SessionState]:
    """The session of this folder; its recorder is restarted if it was not running."""
    handle = find_session()
    if handle is None:
        raise StateError(
            f"no Promptster session in {Path.cwd()} or its parent folders",
            "cd into the workspace that `promptster start` prepared, or start a session",
        )
    paths = SessionPaths(handle.session_dir)
    state = read_state(paths)
    if state.active:
        check = ensure_recorder(paths)
        if check.restarted:
            err_console().print(
                "[yellow]![/] the recorder was not running; restarted it "
                "(the gap is recorded in the timeline)"
            )
        attach_terminal(paths)
    return paths, state


def attach_terminal(paths: SessionPaths) -> None:
    """Ask the recorder to write time warnings to this terminal too (best effort)."""
    for stream in (sys.stderr, sys.stdin, sys.stdout):
        try:
            if stream.isatty():
                ask(paths, {"op": "attach", "tty": os.ttyname(stream.fileno())}, timeout=2.0)
                return
        except (OSError, ValueError, StateError):
            return
        except Exception:  # the terminal notice is a convenience, never a failure
            return
