"""Locating a session: its `.promptster` folder and what a client needs from session.json.

The session folder's file names are here too: the recorder (record.session) and the clients
agree on them through this module.
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False  # typing costs ~2 ms at import; mypy still reads the block below
if TYPE_CHECKING:
    from pathlib import Path

SESSION_DIR_ENV = "PROMPTSTER_SESSION_DIR"
SESSION_DIR_NAME = ".promptster"
SESSION_FILE = "session.json"
SPOOL_FILE = "spool.jsonl"
JOURNAL_FILE = "timeline.jsonl"
# session.json `status` values; only an active session accepts events.
ACTIVE = "active"


class SessionHandle:
    """A located session: its `.promptster` folder and what a client needs from session.json.

    The paths are kept as text (`dir`, `workspace_dir`, `socket_file`); `session_dir`,
    `workspace`, `socket_path` and `spool_path` give them as `Path` for callers off the hook
    path (pathlib is imported on first use)."""

    __slots__ = ("deadline", "dir", "session_id", "socket_file", "status", "workspace_dir")

    def __init__(
        self,
        session_dir: str | os.PathLike[str],
        session_id: str,
        workspace: str | os.PathLike[str],
        socket_path: str | os.PathLike[str],
        status: str,
        deadline: str | None = None,
    ) -> None:
        self.dir = os.fspath(session_dir)
        self.session_id = session_id
        self.workspace_dir = os.fspath(workspace)
        self.socket_file = os.fspath(socket_path)
        self.status = status
        self.deadline = deadline

    def _key(self) -> tuple[str, str, str, str, str, str | None]:
        return (
            self.dir,
            self.session_id,
            self.workspace_dir,
            self.socket_file,
            self.status,
            self.deadline,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SessionHandle) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"SessionHandle(session_dir={self.dir!r}, session_id={self.session_id!r}, "
            f"workspace={self.workspace_dir!r}, socket_path={self.socket_file!r}, "
            f"status={self.status!r}, deadline={self.deadline!r})"
        )

    @property
    def session_dir(self) -> Path:
        from pathlib import Path

        return Path(self.dir)

    @property
    def workspace(self) -> Path:
        from pathlib import Path

        return Path(self.workspace_dir)

    @property
    def socket_path(self) -> Path:
        from pathlib import Path

        return Path(self.socket_file)

    @property
    def spool_file(self) -> str:
        return os.path.join(self.dir, SPOOL_FILE)

    @property
    def spool_path(self) -> Path:
        from pathlib import Path

        return Path(self.spool_file)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


def load_handle(session_dir: str | os.PathLike[str]) -> SessionHandle | None:
    """Read `session_dir/session.json`; None when it is missing or unreadable."""
    folder = os.fspath(session_dir)
    try:
        with open(os.path.join(folder, SESSION_FILE), "rb") as file:
            raw = file.read()
        state = json.loads(raw)
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    session_id, socket_path = state.get("sessionId"), state.get("socket")
    if not isinstance(session_id, str) or not isinstance(socket_path, str):
        return None
    workspace = state.get("workspace")
    deadline = state.get("deadline")
    return SessionHandle(
        session_dir=folder,
        session_id=session_id,
        workspace=workspace if isinstance(workspace, str) else os.path.dirname(folder),
        socket_path=socket_path,
        status=str(state.get("status", "")),
        deadline=deadline if isinstance(deadline, str) else None,
    )


def find_session(start: str | os.PathLike[str] | None = None) -> SessionHandle | None:
    """Locate the session: $PROMPTSTER_SESSION_DIR, else the nearest `.promptster/session.json`
    in `start` (default: the current folder) or one of its parents. Ended sessions are returned
    too; check `handle.active` before sending."""
    configured = os.environ.get(SESSION_DIR_ENV)
    if configured:
        return load_handle(os.path.expanduser(configured))
    try:
        here = os.path.abspath(os.fspath(start) if start is not None else os.getcwd())
    except OSError:  # the current folder was deleted
        return None
    while True:
        candidate = os.path.join(here, SESSION_DIR_NAME)
        if os.path.isfile(os.path.join(candidate, SESSION_FILE)):
            return load_handle(candidate)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
