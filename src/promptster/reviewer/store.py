"""The reviewer's workspace: one DuckDB file with assessments, candidate keys and (for the
review side) imported sessions and events.

DuckDB locks the file for the process that opens it for writing; a second process gets a clear
EnvironmentProblem instead of a corrupted file. A file DuckDB cannot read is reported as damaged
and never overwritten. Timestamps are stored as UTC `TIMESTAMP`s and returned as aware datetimes.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from promptster import paths
from promptster.errors import EnvironmentProblem, InputError
from promptster.formats.events import format_ts
from promptster.reviewer.migrations import LATEST_VERSION, applied_migrations, migrate

KeyStatus = Literal["pending", "active", "completed", "expired", "revoked"]
KEY_STATUSES: tuple[KeyStatus, ...] = ("pending", "active", "completed", "expired", "revoked")


def _db_time(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _py_time(value: Any) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_ts(moment)


MIN_PREFIX = 4  # the shortest id prefix that names an assessment


def _too_short(ref: str) -> str:
    """Why a short reference matched nothing: prefixes start at MIN_PREFIX characters."""
    if len(ref) < MIN_PREFIX:
        return f" (a prefix needs at least {MIN_PREFIX} characters; {ref!r} has {len(ref)})"
    return ""


@dataclass(frozen=True)
class AssessmentRecord:
    id: str
    title: str
    role: str
    brief: str
    repo_url: str | None
    repo_rev: str | None
    time_limit_minutes: int | None
    expires_in_days: int
    org: str
    reviewer_public_key: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    pack: bytes | None = None
    pack_revision: int = 0
    token_budget_usd: float | None = None
    allowed_tools: tuple[str, ...] | None = None

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "role": self.role,
            "taskBrief": self.brief,
            "repoUrl": self.repo_url,
            "repoRev": self.repo_rev,
            "timeLimitMinutes": self.time_limit_minutes,
            "expiresInDays": self.expires_in_days,
            "org": self.org,
            "reviewerPublicKey": self.reviewer_public_key,
            "createdAt": _ts(self.created_at),
            "updatedAt": _ts(self.updated_at),
            "deletedAt": _ts(self.deleted_at),
            "packRevision": self.pack_revision,
            "tokenBudgetUsd": self.token_budget_usd,
            "allowedTools": None if self.allowed_tools is None else list(self.allowed_tools),
        }


@dataclass(frozen=True)
class KeyRecord:
    id: str
    assessment_id: str
    key_text: str
    salt: bytes
    scrypt_hash: bytes
    candidate_email: str | None
    candidate_name: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    redeemed_at: datetime | None = None
    completed_at: datetime | None = None
    session_id: str | None = None
    invite_status: str | None = None
    invite_detail: str | None = None
    invited_at: datetime | None = None

    def status(self, now: datetime) -> KeyStatus:
        if self.revoked_at is not None:
            return "revoked"
        if self.completed_at is not None:
            return "completed"
        if self.redeemed_at is not None:
            return "active"
        if now >= self.expires_at:
            return "expired"
        return "pending"

    def to_json_obj(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key_text,
            "assessmentId": self.assessment_id,
            "candidateEmail": self.candidate_email,
            "candidateName": self.candidate_name,
            "status": self.status(now),
            "sessionId": self.session_id,
            "createdAt": _ts(self.created_at),
            "expiresAt": _ts(self.expires_at),
            "revokedAt": _ts(self.revoked_at),
            "redeemedAt": _ts(self.redeemed_at),
            "completedAt": _ts(self.completed_at),
            "invite": {
                "status": self.invite_status,
                "detail": self.invite_detail,
                "at": _ts(self.invited_at),
            }
            if self.invite_status
            else None,
        }


_ASSESSMENT_COLUMNS = (
    "id, title, role, brief, repo_url, repo_rev, time_limit_minutes, expires_in_days, org, "
    "reviewer_public_key, created_at, updated_at, deleted_at, pack, pack_revision, "
    "token_budget_usd, allowed_tools"
)
_KEY_COLUMNS = (
    "id, assessment_id, key_text, salt, scrypt_hash, candidate_email, candidate_name, "
    "created_at, expires_at, revoked_at, redeemed_at, completed_at, session_id, "
    "invite_status, invite_detail, invited_at"
)


def _assessment(row: tuple[Any, ...]) -> AssessmentRecord:
    return AssessmentRecord(
        id=row[0],
        title=row[1],
        role=row[2],
        brief=row[3],
        repo_url=row[4],
        repo_rev=row[5],
        time_limit_minutes=row[6],
        expires_in_days=row[7],
        org=row[8],
        reviewer_public_key=row[9],
        created_at=row[10].replace(tzinfo=UTC),
        updated_at=row[11].replace(tzinfo=UTC),
        deleted_at=_py_time(row[12]),
        pack=None if row[13] is None else bytes(row[13]),
        pack_revision=row[14],
        token_budget_usd=row[15],
        allowed_tools=None if row[16] is None else tuple(row[16]),
    )


def _key(row: tuple[Any, ...]) -> KeyRecord:
    return KeyRecord(
        id=row[0],
        assessment_id=row[1],
        key_text=row[2],
        salt=bytes(row[3]),
        scrypt_hash=bytes(row[4]),
        candidate_email=row[5],
        candidate_name=row[6],
        created_at=row[7].replace(tzinfo=UTC),
        expires_at=row[8].replace(tzinfo=UTC),
        revoked_at=_py_time(row[9]),
        redeemed_at=_py_time(row[10]),
        completed_at=_py_time(row[11]),
        session_id=row[12],
        invite_status=row[13],
        invite_detail=row[14],
        invited_at=_py_time(row[15]),
    )


_LOCK_MESSAGE = re.compile(r"could not set lock|conflicting lock", re.IGNORECASE)
# What DuckDB says about a file that is not a database, or is one cut short.
_DAMAGED_MESSAGE = re.compile(
    r"not a valid DuckDB database|could not read enough bytes", re.IGNORECASE
)


def _open_error(path: Path, exc: duckdb.Error) -> EnvironmentProblem:
    text = str(exc)
    if _LOCK_MESSAGE.search(text):
        return EnvironmentProblem(
            f"the reviewer workspace {path} is in use by another promptster process",
            "wait for the other promptster command to finish (or close it), then run this one "
            "again",
        )
    if _DAMAGED_MESSAGE.search(text) or isinstance(
        exc, duckdb.SerializationException | duckdb.InternalException
    ):
        return EnvironmentProblem(
            f"the reviewer workspace {path} is damaged and cannot be opened ({text})",
            "promptster left the file as it is: move it aside and restore it from a backup",
        )
    return EnvironmentProblem(f"cannot open the reviewer workspace {path}: {text}")


class Workspace:
    """An open workspace. Use as a context manager; keep it open only for one command."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(
        cls, path: Path | None = None, *, read_only: bool = False, wait: float = 0.0
    ) -> Workspace:
        """Open (and migrate) the workspace. With `wait`, a workspace another promptster
        process holds is tried again for up to `wait` seconds before that is an error: two
        reviewers rating at the same time then take turns instead of one failing."""
        path = Path(path) if path is not None else paths.workspace_db_path()
        if read_only and not path.exists():
            raise InputError(f"there is no reviewer workspace at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot create {path.parent}: {exc.strerror}") from exc
        deadline = time.monotonic() + wait
        while True:
            try:
                conn = duckdb.connect(str(path), read_only=read_only)
                break
            except duckdb.Error as exc:
                if not _LOCK_MESSAGE.search(str(exc)) or time.monotonic() >= deadline:
                    raise _open_error(path, exc) from exc
                time.sleep(0.1)
        workspace = cls(conn, path)
        try:
            if read_only:
                workspace._check_version()
            else:
                migrate(conn)
        except duckdb.Error as exc:
            conn.close()
            raise _open_error(path, exc) from exc
        except BaseException:
            conn.close()
            raise
        return workspace

    def _check_version(self) -> None:
        try:
            applied = applied_migrations(self._conn)
        except duckdb.CatalogException:
            applied = []
        version = applied[-1][0] if applied else 0
        if version != LATEST_VERSION:
            raise EnvironmentProblem(
                f"the reviewer workspace {self.path} is at schema version {version}; this "
                f"promptster needs {LATEST_VERSION}",
                "run a reviewer command such as `promptster assessment list` to migrate it",
            )

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The workspace's DuckDB connection, for modules that keep their own tables in it
        (the analysis schema of imported sessions). Writes go through `transaction()`."""
        return self._conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen together or not at all."""
        self._conn.begin()
        try:
            yield
        except BaseException:
            self._conn.rollback()
            raise
        try:
            self._conn.commit()
        except duckdb.Error as exc:
            raise EnvironmentProblem(f"cannot save the reviewer workspace: {exc}") from exc

    def _run(self, sql: str, params: Sequence[Any] = ()) -> duckdb.DuckDBPyConnection:
        try:
            return self._conn.execute(sql, list(params))
        except duckdb.Error as exc:
            raise EnvironmentProblem(
                f"the reviewer workspace {self.path} could not run a query: {exc}",
                "if this repeats, the workspace may be damaged; restore it from a backup",
            ) from exc

    def schema_version(self) -> int:
        applied = applied_migrations(self._conn)
        return applied[-1][0] if applied else 0

    # -- assessments -------------------------------------------------------------------------

    def insert_assessment(self, record: AssessmentRecord) -> None:
        self._run(
            f"INSERT INTO assessments ({_ASSESSMENT_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                record.id, record.title, record.role, record.brief, record.repo_url,
                record.repo_rev, record.time_limit_minutes, record.expires_in_days, record.org,
                record.reviewer_public_key, _db_time(record.created_at),
                _db_time(record.updated_at), _db_time(record.deleted_at), record.pack,
                record.pack_revision, record.token_budget_usd,
                None if record.allowed_tools is None else list(record.allowed_tools),
            ],
        )  # fmt: skip

    def list_assessments(self, *, include_deleted: bool = False) -> list[AssessmentRecord]:
        where = "" if include_deleted else "WHERE deleted_at IS NULL"
        rows = self._run(
            f"SELECT {_ASSESSMENT_COLUMNS} FROM assessments {where} ORDER BY created_at, rowid"
        ).fetchall()
        return [_assessment(row) for row in rows]

    def find_assessment(self, assessment_id: str) -> AssessmentRecord | None:
        row = self._run(
            f"SELECT {_ASSESSMENT_COLUMNS} FROM assessments WHERE id = ?", [assessment_id]
        ).fetchone()
        return None if row is None else _assessment(row)

    def get_assessment(self, ref: str) -> AssessmentRecord:
        """By full id or by a unique prefix of at least 4 characters."""
        ref = ref.strip().lower()
        found = self.find_assessment(ref)
        if found is not None:
            return found
        rows = (
            self._run(
                f"SELECT {_ASSESSMENT_COLUMNS} FROM assessments WHERE starts_with(id, ?)", [ref]
            ).fetchall()
            if len(ref) >= MIN_PREFIX
            else []
        )
        if len(rows) == 1:
            return _assessment(rows[0])
        if len(rows) > 1:
            raise InputError(
                f"{ref!r} matches {len(rows)} assessments", "give more characters of the id"
            )
        raise InputError(
            f"no assessment matches {ref!r} in the reviewer workspace{_too_short(ref)}",
            "`promptster assessment list` shows the ids",
        )

    def resolve_assessment_id(self, ref: str) -> str:
        """The id of an assessment created here or of imported sessions (`promptster import`),
        by full id or by a unique prefix of at least 4 characters, as `get_assessment`."""
        ref = ref.strip()
        rows = self._run(
            "SELECT id FROM main.assessments UNION "
            "SELECT assessment_id FROM main.sessions WHERE assessment_id IS NOT NULL"
        ).fetchall()
        ids = sorted({str(row[0]) for row in rows})
        for candidate in (ref, ref.lower()):
            if candidate in ids:
                return candidate
        found = (
            [i for i in ids if i.lower().startswith(ref.lower())] if len(ref) >= MIN_PREFIX else []
        )
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise InputError(
                f"{ref!r} matches {len(found)} assessments", "give more characters of the id"
            )
        raise InputError(
            f"no assessment matches {ref!r} in the reviewer workspace{_too_short(ref)}",
            "`promptster assessment list` and `promptster sessions list` show the ids",
        )

    def set_pack(self, assessment_id: str, pack: bytes, revision: int, now: datetime) -> None:
        self._run(
            "UPDATE assessments SET pack = ?, pack_revision = ?, updated_at = ? WHERE id = ?",
            [pack, revision, _db_time(now), assessment_id],
        )

    def mark_deleted(self, assessment_id: str, now: datetime) -> None:
        self._run(
            "UPDATE assessments SET deleted_at = ?, updated_at = ? WHERE id = ?",
            [_db_time(now), _db_time(now), assessment_id],
        )

    # -- candidate keys ----------------------------------------------------------------------

    def insert_key(self, record: KeyRecord) -> None:
        self._run(
            f"INSERT INTO candidate_keys ({_KEY_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                record.id, record.assessment_id, record.key_text, record.salt,
                record.scrypt_hash, record.candidate_email, record.candidate_name,
                _db_time(record.created_at), _db_time(record.expires_at),
                _db_time(record.revoked_at), _db_time(record.redeemed_at),
                _db_time(record.completed_at), record.session_id, record.invite_status,
                record.invite_detail, _db_time(record.invited_at),
            ],
        )  # fmt: skip

    def keys_for(self, assessment_id: str) -> list[KeyRecord]:
        rows = self._run(
            f"SELECT {_KEY_COLUMNS} FROM candidate_keys WHERE assessment_id = ? "
            "ORDER BY created_at, rowid",
            [assessment_id],
        ).fetchall()
        return [_key(row) for row in rows]

    def find_key(self, key_id: str) -> KeyRecord | None:
        row = self._run(
            f"SELECT {_KEY_COLUMNS} FROM candidate_keys WHERE id = ?", [key_id]
        ).fetchone()
        return None if row is None else _key(row)

    def find_key_by_text(self, key_text: str) -> KeyRecord | None:
        row = self._run(
            f"SELECT {_KEY_COLUMNS} FROM candidate_keys WHERE key_text = ?", [key_text]
        ).fetchone()
        return None if row is None else _key(row)

    def revoke_key(self, key_id: str, now: datetime) -> None:
        self._run(
            "UPDATE candidate_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [_db_time(now), key_id],
        )

    def revoke_all(self, assessment_id: str, now: datetime) -> None:
        self._run(
            "UPDATE candidate_keys SET revoked_at = ? "
            "WHERE assessment_id = ? AND revoked_at IS NULL",
            [_db_time(now), assessment_id],
        )

    def set_invite(self, key_id: str, status: str, detail: str, at: datetime) -> None:
        self._run(
            "UPDATE candidate_keys SET invite_status = ?, invite_detail = ?, invited_at = ? "
            "WHERE id = ?",
            [status, detail, _db_time(at), key_id],
        )

    def record_key_progress(
        self,
        key_id: str,
        *,
        session_id: str,
        redeemed_at: datetime | None,
        completed_at: datetime | None,
    ) -> None:
        """What an imported bundle tells about a key (used when sessions are imported)."""
        self._run(
            "UPDATE candidate_keys SET session_id = ?, "
            "redeemed_at = coalesce(?, redeemed_at), completed_at = coalesce(?, completed_at) "
            "WHERE id = ?",
            [session_id, _db_time(redeemed_at), _db_time(completed_at), key_id],
        )
