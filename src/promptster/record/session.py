"""A session's files and its state (`.promptster/session.json`).

Everything a session owns lives in the workspace's `.promptster/` folder (mode 0700), which is
kept out of the candidate's git; only the recorder's socket lives elsewhere, under a short
runtime path, because Unix socket paths are limited to about 100 bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from promptster.errors import EnvironmentProblem, FormatError, StateError
from promptster.formats.jsonio import loads_limited
from promptster.fsutil import atomic_write_text
from promptster.protocol import SESSION_DIR_NAME, SESSION_FILE, SPOOL_FILE

STATE_VERSION = 1

# session.json `status`
ACTIVE = "active"  # recording
ENDED = "ended"  # session_end written, bundle not written yet
SUBMITTED = "submitted"  # bundle written and verified
ABORTED = "aborted"  # stopped without submitting


@dataclass(frozen=True)
class SessionPaths:
    """Where each piece of a session lives, from its `.promptster` folder."""

    root: Path

    @classmethod
    def for_workspace(cls, workspace: Path) -> SessionPaths:
        return cls(workspace / SESSION_DIR_NAME)

    @property
    def state(self) -> Path:
        return self.root / SESSION_FILE

    @property
    def state_lock(self) -> Path:
        return self.root / "session.lock"

    @property
    def start_lock(self) -> Path:
        return self.root / "start.lock"

    @property
    def key(self) -> Path:
        return self.root / "session.key"

    @property
    def journal(self) -> Path:
        return self.root / "timeline.jsonl"

    @property
    def spool(self) -> Path:
        return self.root / SPOOL_FILE

    @property
    def spool_rejected(self) -> Path:
        return self.root / "spool.rejected.jsonl"

    @property
    def shadow_git(self) -> Path:
        return self.root / "shadow.git"

    @property
    def shadow_index(self) -> Path:
        return self.root / "shadow.index"

    @property
    def recorder_lock(self) -> Path:
        return self.root / "recorder.lock"

    @property
    def recorder_info(self) -> Path:
        """Written by a running recorder, removed when it stops cleanly: left behind = crash."""
        return self.root / "recorder.json"

    @property
    def log(self) -> Path:
        return self.root / "recorder.log"

    @property
    def brief(self) -> Path:
        return self.root / "brief.md"

    @property
    def assessment(self) -> Path:
        return self.root / "assessment.json"

    @property
    def gitwatch(self) -> Path:
        return self.root / "gitwatch.json"


@dataclass
class SessionState:
    """The contents of session.json. Unknown keys from a newer version are kept in `extra`."""

    session_id: str
    workspace: str
    socket: str
    started_at: str
    status: str = ACTIVE
    deadline: str | None = None
    time_limit_minutes: float | None = None
    assessment_id: str | None = None
    candidate_key: str | None = None
    title: str | None = None
    auto_submit: bool = True
    tools: list[str] = field(default_factory=lambda: ["shell"])
    candidate_git_dir: str | None = None
    debounce_ms: int = 150
    rescan_seconds: float = 10.0
    max_file_bytes: int = 5 * 1024 * 1024
    ended_at: str | None = None
    end_reason: str | None = None
    bundle: dict[str, Any] | None = None
    version: int = STATE_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    _KEYS: ClassVar[dict[str, str]] = {
        "session_id": "sessionId",
        "workspace": "workspace",
        "socket": "socket",
        "started_at": "startedAt",
        "status": "status",
        "deadline": "deadline",
        "time_limit_minutes": "timeLimitMinutes",
        "assessment_id": "assessmentId",
        "candidate_key": "candidateKey",
        "title": "title",
        "auto_submit": "autoSubmit",
        "tools": "tools",
        "candidate_git_dir": "candidateGitDir",
        "debounce_ms": "debounceMs",
        "rescan_seconds": "rescanSeconds",
        "max_file_bytes": "maxFileBytes",
        "ended_at": "endedAt",
        "end_reason": "endReason",
        "bundle": "bundle",
        "version": "version",
    }

    @property
    def workspace_path(self) -> Path:
        return Path(self.workspace)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def to_json_obj(self) -> dict[str, Any]:
        body = dict(self.extra)
        values = asdict(self)
        for name, key in self._KEYS.items():
            body[key] = values[name]
        return body

    @classmethod
    def from_json_obj(cls, body: Any) -> SessionState:
        if not isinstance(body, dict):
            raise FormatError("session.json is not a JSON object")
        for key in ("sessionId", "workspace", "socket", "startedAt"):
            if not isinstance(body.get(key), str):
                raise FormatError(f"session.json lacks {key!r}")
        known = {key: name for name, key in cls._KEYS.items()}
        values = {known[key]: value for key, value in body.items() if key in known}
        extra = {key: value for key, value in body.items() if key not in known}
        return cls(**values, extra=extra)


def read_state(paths: SessionPaths) -> SessionState:
    try:
        data = paths.state.read_bytes()
    except FileNotFoundError as exc:
        raise StateError(
            f"no Promptster session in {paths.root.parent}",
            "run `promptster start PST-XXXX-XXXX` first, or cd into the session's workspace",
        ) from exc
    except OSError as exc:
        raise EnvironmentProblem(f"cannot read {paths.state}: {exc.strerror}") from exc
    try:
        return SessionState.from_json_obj(loads_limited(data, what=str(paths.state)))
    except FormatError as exc:
        raise StateError(
            f"the session file {paths.state} is damaged: {exc.message}",
            "run `promptster reset` to set the session aside and start again",
        ) from exc


def write_state(paths: SessionPaths, state: SessionState) -> None:
    import json

    text = json.dumps(state.to_json_obj(), indent=2, sort_keys=True, ensure_ascii=False)
    atomic_write_text(paths.state, text + "\n", mode=0o600)


@contextlib.contextmanager
def locked(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive flock on `path` (created 0600); yields False if non-blocking failed."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def update_state(paths: SessionPaths, change: Callable[[SessionState], None]) -> SessionState:
    """Read, change and write session.json under its lock (several processes update it)."""
    with locked(paths.state_lock):
        state = read_state(paths)
        change(state)
        write_state(paths, state)
        return state


def runtime_dir() -> Path:
    """A private folder (0700) for sockets: $XDG_RUNTIME_DIR/promptster or /tmp/promptster-UID."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = (
        Path(base) / "promptster"
        if base and Path(base).is_dir() and os.access(base, os.W_OK)
        else Path("/tmp") / f"promptster-{os.getuid()}"
    )
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise EnvironmentProblem(
            f"{folder} is not a folder owned by you",
            "remove it, or set XDG_RUNTIME_DIR to a private folder",
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(folder, 0o700)
    return folder


def socket_path_for(session_id: str) -> Path:
    return runtime_dir() / f"{session_id.replace('-', '')[:16]}.sock"
