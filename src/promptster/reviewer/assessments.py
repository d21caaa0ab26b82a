"""Reviewer operations over the workspace: assessments, candidate keys and their signed pack.

Every change to an assessment's keys re-signs its pack and stores it in the same transaction,
so the workspace always holds the pack that matches its keys. Field rules follow the hosted
product's API: title and role 1-255 characters, a brief is required, a time limit is a positive
number of minutes, 1-50 keys per request, names pair with emails by position.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from promptster import paths
from promptster.errors import EnvironmentProblem, InputError, StateError
from promptster.formats.tools import tool_name
from promptster.fsutil import atomic_write_bytes
from promptster.issue.assessment import (
    AssessmentPack,
    PackKey,
    RepoRef,
    check_allowed_tools,
    check_token_budget,
    new_key_hash,
    sign_pack,
)
from promptster.issue.identity import Signer
from promptster.issue.keys import ALPHABET, MalformedKey, generate_key, is_key_like, parse_key
from promptster.reviewer.store import AssessmentRecord, KeyRecord, Workspace

MAX_KEYS_PER_REQUEST = 50
MAX_BRIEF_CHARS = 1_000_000
MAX_EXPIRES_IN_DAYS = 365
_REV = re.compile(r"[0-9a-f]{7,64}")
_EMAIL = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_SCP_URL = re.compile(r"[\w.-]+@[\w.-]+:[^\s]+")
_URL_SCHEMES = {"https", "http", "ssh", "git", "file"}


@dataclass(frozen=True)
class AssessmentSpec:
    title: str
    role: str
    brief: str
    repo_url: str | None = None
    repo_rev: str | None = None
    time_limit_minutes: int | None = None
    expires_in_days: int = 7
    token_budget_usd: float | None = None
    allowed_tools: tuple[str, ...] | None = None


@dataclass(frozen=True)
class KeyBatch:
    assessment: AssessmentRecord
    keys: list[KeyRecord]
    pack: bytes


def _one_line(value: str, what: str, limit: int = 255) -> str:
    value = value.strip()
    if not 1 <= len(value) <= limit:
        raise InputError(f"{what} must be 1 to {limit} characters (got {len(value)})")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InputError(f"{what} must be one line without control characters")
    return value


def validate_spec(
    *,
    title: str,
    role: str,
    brief: str,
    repo_url: str | None = None,
    repo_rev: str | None = None,
    time_limit_minutes: int | None = None,
    expires_in_days: int = 7,
    token_budget_usd: float | None = None,
    allowed_tools: Sequence[str] | None = None,
) -> AssessmentSpec:
    """Check the fields as the hosted product does; raise InputError naming the bad one."""
    if not brief.strip():
        raise InputError("the brief is empty; a brief is required", "pass --brief FILE or -")
    if len(brief) > MAX_BRIEF_CHARS:
        raise InputError(f"the brief has {len(brief):,} characters; the limit is 1,000,000")
    if time_limit_minutes is not None and time_limit_minutes <= 0:
        raise InputError("--time-limit must be a positive number of minutes")
    if not 1 <= expires_in_days <= MAX_EXPIRES_IN_DAYS:
        raise InputError(f"--expires-in-days must be between 1 and {MAX_EXPIRES_IN_DAYS}")
    if repo_rev is not None and repo_url is None:
        raise InputError("--rev needs --repo")
    if repo_url is not None:
        repo_url = _check_repo_url(repo_url.strip())
    if repo_rev is not None:
        repo_rev = repo_rev.strip().lower()
        if not _REV.fullmatch(repo_rev):
            raise InputError(f"--rev {repo_rev!r} is not a commit id (7 to 64 hex digits)")
    if token_budget_usd is not None:
        try:
            token_budget_usd = check_token_budget(token_budget_usd)
        except ValueError as exc:
            raise InputError(f"--token-budget-usd: {exc}", "e.g. --token-budget-usd 5") from None
    return AssessmentSpec(
        title=_one_line(title, "the title"),
        role=_one_line(role, "the role"),
        brief=brief,
        repo_url=repo_url,
        repo_rev=repo_rev,
        time_limit_minutes=time_limit_minutes,
        expires_in_days=expires_in_days,
        token_budget_usd=token_budget_usd,
        allowed_tools=None if allowed_tools is None else _tools(allowed_tools),
    )


def _tools(values: Sequence[str]) -> tuple[str, ...]:
    """Catalog names for tools given by name or `start --tools` option (`claude`)."""
    names = [tool_name(value) or value.strip() for value in values if value.strip()]
    try:
        return check_allowed_tools(names)
    except ValueError as exc:
        raise InputError(f"--allowed-tools: {exc}", "e.g. --allowed-tools claude,codex") from None


def _check_repo_url(url: str) -> str:
    bad = InputError(
        f"--repo {url!r} is not a repository URL",
        "use https://host/owner/repo.git, ssh://..., git@host:owner/repo.git or file:///path",
    )
    if not url or len(url) > 2048 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise bad
    if _SCP_URL.fullmatch(url) and "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise bad from exc
    if parts.scheme not in _URL_SCHEMES or (parts.scheme != "file" and not parts.hostname):
        raise bad
    return url


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(12)).lower()


def _now(now: datetime | None) -> datetime:
    """UTC, truncated to the milliseconds that packs carry, so workspace and pack agree."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def create_assessment(
    workspace: Workspace, signer: Signer, spec: AssessmentSpec, now: datetime | None = None
) -> AssessmentRecord:
    import uuid

    moment = _now(now)
    record = AssessmentRecord(
        id=str(uuid.uuid4()),
        title=spec.title,
        role=spec.role,
        brief=spec.brief,
        repo_url=spec.repo_url,
        repo_rev=spec.repo_rev,
        time_limit_minutes=spec.time_limit_minutes,
        expires_in_days=spec.expires_in_days,
        token_budget_usd=spec.token_budget_usd,
        allowed_tools=spec.allowed_tools,
        org=signer.identity.org,
        reviewer_public_key=signer.identity.public_key.text,
        created_at=moment,
        updated_at=moment,
    )
    with workspace.transaction():
        workspace.insert_assessment(record)
        _resign(workspace, signer, record, moment)
    return _saved(workspace, record.id)


def _saved(workspace: Workspace, assessment_id: str) -> AssessmentRecord:
    """The committed record; its pack is also written to the reviewer home."""
    stored = workspace.find_assessment(assessment_id)
    assert stored is not None and stored.pack is not None
    write_pack_copy(stored, stored.pack)
    return stored


def _active_assessment(workspace: Workspace, ref: str) -> AssessmentRecord:
    record = workspace.get_assessment(ref)
    if record.deleted_at is not None:
        raise StateError(f"assessment {record.id} was deleted")
    return record


def delete_assessment(
    workspace: Workspace, signer: Signer, ref: str, now: datetime | None = None
) -> AssessmentRecord:
    """Soft delete: every key is revoked (and the pack says so); sessions stay."""
    moment = _now(now)
    record = _active_assessment(workspace, ref)
    with workspace.transaction():
        workspace.revoke_all(record.id, moment)
        workspace.mark_deleted(record.id, moment)
        _resign(workspace, signer, record, moment)
    return _saved(workspace, record.id)


def build_pack(
    record: AssessmentRecord, keys: Sequence[KeyRecord], now: datetime
) -> AssessmentPack:
    from promptster.formats.crypto import PublicKey

    return AssessmentPack(
        assessment_id=record.id,
        org=record.org,
        role=record.role,
        brief=record.brief,
        time_limit_minutes=record.time_limit_minutes,
        repo=RepoRef(record.repo_url, record.repo_rev) if record.repo_url else None,
        reviewer_public_key=PublicKey.from_text(record.reviewer_public_key),
        keys=tuple(
            PackKey(
                id=k.id,
                salt=k.salt,
                scrypt_hash=k.scrypt_hash,
                expires_at=k.expires_at,
                revoked=k.revoked_at is not None,
            )
            for k in keys
        ),
        issued_at=now,
        token_budget_usd=record.token_budget_usd,
        allowed_tools=record.allowed_tools,
    )


def _resign(workspace: Workspace, signer: Signer, record: AssessmentRecord, now: datetime) -> bytes:
    if signer.identity.public_key.text != record.reviewer_public_key:
        raise StateError(
            f"assessment {record.id} was created with another reviewer identity "
            f"({record.reviewer_public_key}); the current one cannot sign its pack",
            "restore the identity that created it",
        )
    pack = sign_pack(build_pack(record, workspace.keys_for(record.id), now), signer.key)
    workspace.set_pack(record.id, pack, record.pack_revision + 1, now)
    return pack


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InputError(f"{email!r} is not an email address")
    return email


def packs_dir() -> Path:
    return paths.promptster_home() / "packs"


def write_pack_copy(record: AssessmentRecord, pack: bytes) -> Path:
    """Keep the current pack as a file in the reviewer home (the workspace holds it too)."""
    path = packs_dir() / f"{record.id}.json"
    try:
        atomic_write_bytes(path, pack)
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot write the assessment pack {path}: {exc.strerror}"
        ) from exc
    return path


def check_recipients(
    count: int | None, emails: Sequence[str], names: Sequence[str]
) -> tuple[int, list[str], list[str]]:
    """The hosted product's rules: 1-50 keys, one email per key, names paired by position."""
    if names and not emails:
        raise InputError("--name needs --email: names pair with emails by position")
    if names and len(names) != len(emails):
        raise InputError(
            f"{len(names)} --name for {len(emails)} --email: give one name per email, in order"
        )
    if count is None:
        count = len(emails)
        if count == 0:
            raise InputError("give --count N, or --email for each candidate")
    if emails and count != len(emails):
        raise InputError(f"--count {count} with {len(emails)} --email: give one email per key")
    if not 1 <= count <= MAX_KEYS_PER_REQUEST:
        raise InputError(f"--count must be between 1 and {MAX_KEYS_PER_REQUEST} per request")
    clean_emails = [check_email(email) for email in emails]
    clean_names = [_one_line(name, f"the name {name!r}") for name in names]
    return count, clean_emails, clean_names


def create_keys(
    workspace: Workspace,
    signer: Signer,
    ref: str,
    *,
    count: int | None,
    emails: Sequence[str] = (),
    names: Sequence[str] = (),
    now: datetime | None = None,
) -> KeyBatch:
    moment = _now(now)
    count, emails, names = check_recipients(count, emails, names)
    record = _active_assessment(workspace, ref)
    expires_at = moment + timedelta(days=record.expires_in_days)
    created: list[KeyRecord] = []
    for index in range(count):
        key = generate_key()
        salt, digest = new_key_hash(key)
        created.append(
            KeyRecord(
                id=_new_id("ck_"),
                assessment_id=record.id,
                key_text=key.text,
                salt=salt,
                scrypt_hash=digest,
                candidate_email=emails[index] if emails else None,
                candidate_name=names[index] if names else None,
                created_at=moment,
                expires_at=expires_at,
            )
        )
    with workspace.transaction():
        for key_record in created:
            workspace.insert_key(key_record)
        pack = _resign(workspace, signer, record, moment)
    return KeyBatch(_saved(workspace, record.id), created, pack)


def resolve_key(workspace: Workspace, ref: str) -> KeyRecord:
    """A key by its id (ck_...) or by the key itself (PST-XXXX-XXXX, any spelling)."""
    ref = ref.strip()
    if is_key_like(ref) or ref.upper().startswith("PST"):
        try:
            key = parse_key(ref)
        except MalformedKey:
            key = None
        found = workspace.find_key_by_text(key.text) if key else None
    else:
        found = workspace.find_key(ref.lower())
    if found is None:
        raise InputError(
            f"no candidate key {ref!r} in the reviewer workspace",
            "`promptster keys list ASSESSMENT` shows the key ids",
        )
    return found


def revoke_keys(
    workspace: Workspace, signer: Signer, refs: Sequence[str], now: datetime | None = None
) -> list[KeyRecord]:
    """Revoke keys (soft delete) and re-sign the packs of the assessments they belong to."""
    moment = _now(now)
    records = [resolve_key(workspace, ref) for ref in refs]
    for record in records:
        if record.revoked_at is not None:
            raise StateError(f"key {record.id} is already revoked")
    assessments = {r.assessment_id: workspace.get_assessment(r.assessment_id) for r in records}
    with workspace.transaction():
        for record in records:
            workspace.revoke_key(record.id, moment)
        for assessment in assessments.values():
            _resign(workspace, signer, assessment, moment)
    for assessment_id in assessments:
        _saved(workspace, assessment_id)
    revoked = [workspace.find_key(r.id) for r in records]
    return [r for r in revoked if r is not None]


def current_pack(workspace: Workspace, ref: str) -> tuple[AssessmentRecord, bytes]:
    record = workspace.get_assessment(ref)
    if record.pack is None:
        raise StateError(f"assessment {record.id} has no signed pack yet")
    return record, record.pack
