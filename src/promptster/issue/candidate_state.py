"""The candidate's local state: which keys were redeemed on this machine, and their sessions.

One JSON file, `paths.candidate_state_dir()/redemptions.json`, read and rewritten atomically
under an exclusive lock; a copy of each redeemed pack is kept beside it (`packs/`) so `submit`
can put the exact pack into the bundle even when the workspace moved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from promptster import paths
from promptster.errors import EnvironmentProblem, FormatError
from promptster.formats.crypto import sha256_digest
from promptster.formats.events import format_ts, parse_ts
from promptster.formats.jsonio import canonical_json, loads_limited
from promptster.fsutil import atomic_write_bytes
from promptster.issue.assessment import RepoRef, SignedPack, open_pack

STATE_FORMAT = "promptster-candidate-state"
STATE_FILE = "redemptions.json"


@dataclass(frozen=True)
class Redemption:
    """A key redeemed on this machine. `key` is the canonical key text (PST-XXXX-XXXX)."""

    key: str
    key_id: str
    assessment_id: str
    org: str
    role: str
    time_limit_minutes: int | None
    repo: RepoRef | None
    reviewer_fingerprint: str
    expires_at: datetime
    redeemed_at: datetime
    pack_path: Path
    pack_sha256: str
    session_id: str | None = None
    completed_at: datetime | None = None
    # Set by `reset` of an aborted (never submitted) session: the key may start a new one.
    released_at: datetime | None = None

    def pack_bytes(self) -> bytes:
        try:
            data = self.pack_path.read_bytes()
        except OSError as exc:
            raise EnvironmentProblem(
                f"the saved copy of the assessment pack {self.pack_path} is missing: "
                f"{exc.strerror}",
                "save the pack from your invite into the workspace and run the command again",
            ) from exc
        if sha256_digest(data) != self.pack_sha256:
            raise EnvironmentProblem(f"the saved assessment pack {self.pack_path} was changed")
        return data

    def load_pack(self) -> SignedPack:
        return open_pack(self.pack_bytes())

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "keyId": self.key_id,
            "assessmentId": self.assessment_id,
            "org": self.org,
            "role": self.role,
            "timeLimitMinutes": self.time_limit_minutes,
            "repo": self.repo.to_json_obj() if self.repo else None,
            "reviewerFingerprint": self.reviewer_fingerprint,
            "expiresAt": format_ts(self.expires_at),
            "redeemedAt": format_ts(self.redeemed_at),
            "packPath": str(self.pack_path),
            "packSha256": self.pack_sha256,
            "sessionId": self.session_id,
            "completedAt": format_ts(self.completed_at) if self.completed_at else None,
            "releasedAt": format_ts(self.released_at) if self.released_at else None,
        }

    @classmethod
    def from_json_obj(cls, obj: Any) -> Redemption:
        if not isinstance(obj, dict):
            raise FormatError("a redemption is not an object")
        repo = obj.get("repo")
        completed = obj.get("completedAt")
        released = obj.get("releasedAt")
        try:
            return cls(
                key=str(obj["key"]),
                key_id=str(obj["keyId"]),
                assessment_id=str(obj["assessmentId"]),
                org=str(obj["org"]),
                role=str(obj["role"]),
                time_limit_minutes=obj.get("timeLimitMinutes"),
                repo=RepoRef(str(repo["url"]), repo.get("rev")) if isinstance(repo, dict) else None,
                reviewer_fingerprint=str(obj["reviewerFingerprint"]),
                expires_at=parse_ts(str(obj["expiresAt"])),
                redeemed_at=parse_ts(str(obj["redeemedAt"])),
                pack_path=Path(str(obj["packPath"])),
                pack_sha256=str(obj["packSha256"]),
                session_id=obj.get("sessionId"),
                completed_at=parse_ts(str(completed)) if completed else None,
                released_at=parse_ts(str(released)) if released else None,
            )
        except KeyError as exc:
            raise FormatError(f"a redemption lacks {exc.args[0]!r}") from exc


class CandidateState:
    """The redemptions list, open for reading and changing under the state lock."""

    def __init__(self, directory: Path, redemptions: list[Redemption]) -> None:
        self.directory = directory
        self.redemptions = redemptions
        self.changed = False

    def find(self, assessment_id: str, key_id: str) -> Redemption | None:
        return next(
            (
                r
                for r in self.redemptions
                if r.assessment_id == assessment_id and r.key_id == key_id
            ),
            None,
        )

    def find_key(self, key_text: str) -> Redemption | None:
        return next((r for r in self.redemptions if r.key == key_text), None)

    def put(self, redemption: Redemption) -> None:
        self.redemptions = [
            r
            for r in self.redemptions
            if not (r.assessment_id == redemption.assessment_id and r.key_id == redemption.key_id)
        ]
        self.redemptions.append(redemption)
        self.changed = True

    def save_pack(self, data: bytes) -> Path:
        """Keep a copy of a pack; the name is its digest, so copies are never overwritten."""
        path = self.directory / "packs" / f"{sha256_digest(data)[7:]}.json"
        if not path.exists():
            atomic_write_bytes(path, data)
        return path


def _state_dir(directory: Path | None) -> Path:
    return directory or paths.candidate_state_dir()


def _read(directory: Path) -> list[Redemption]:
    path = directory / STATE_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise EnvironmentProblem(f"cannot read {path}: {exc.strerror}") from exc
    try:
        body = loads_limited(data, what=str(path))
        if not isinstance(body, dict) or body.get("format") != STATE_FORMAT:
            raise FormatError(f"{path} is not a Promptster candidate state file")
        items = body.get("redemptions")
        if not isinstance(items, list):
            raise FormatError(f"{path} has no redemptions list")
        return [Redemption.from_json_obj(item) for item in items]
    except FormatError as exc:
        raise EnvironmentProblem(
            f"the candidate state file is damaged: {exc.message}",
            f"promptster left {path} as it is; move it aside to start over",
        ) from exc


@contextlib.contextmanager
def _lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle = open(directory / "state.lock", "a+b")  # noqa: SIM115 (held for the block)
    try:
        try:
            import fcntl
        except ImportError:  # not POSIX: a single user rarely races here
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


@contextlib.contextmanager
def open_state(directory: Path | None = None) -> Iterator[CandidateState]:
    """Lock, read, let the caller change, and write back atomically if anything changed."""
    directory = _state_dir(directory)
    try:
        with _lock(directory):
            state = CandidateState(directory, _read(directory))
            yield state
            if state.changed:
                body = {
                    "format": STATE_FORMAT,
                    "formatVersion": 1,
                    "redemptions": [r.to_json_obj() for r in state.redemptions],
                }
                atomic_write_bytes(directory / STATE_FILE, canonical_json(body) + b"\n", 0o600)
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot update the candidate state in {directory}: {exc}"
        ) from exc


def read_state(directory: Path | None = None) -> list[Redemption]:
    with open_state(directory) as state:
        return list(state.redemptions)


def update(redemption: Redemption, directory: Path | None = None, **changes: Any) -> Redemption:
    """Change fields of a stored redemption (e.g. session_id, completed_at) and save it."""
    with open_state(directory) as state:
        current = state.find(redemption.assessment_id, redemption.key_id) or redemption
        changed = replace(current, **changes)
        state.put(changed)
        return changed
