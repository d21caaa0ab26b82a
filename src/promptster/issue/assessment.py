"""Assessment packs: the signed JSON a reviewer gives candidates (docs/assessment-pack.md).

A pack file is a DSSE envelope (payloadType `application/vnd.promptster.issue.assessment-pack+json`)
whose payload is the canonical JSON of the pack: format name and version, assessment id, org,
brief, role, time limit, starter repository, the reviewer's public key, and per candidate key an
id, a salted scrypt hash, the expiry and whether it was revoked. The title is never in a pack.

`open_pack` parses untrusted bytes and checks the signature against the public key the pack
names; whether that key is the expected reviewer's is for the caller to decide (the reviewer's
`verify` compares it with the workspace, the candidate sees its fingerprint at consent).

This module imports nothing heavy: the candidate's `start` path uses it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeGuard

from promptster.errors import CheckFailed, FormatError, NewerFormatError
from promptster.formats.crypto import (
    Envelope,
    PublicKey,
    SigningKey,
    b64decode,
    b64encode,
    dsse_sign,
    dsse_verify,
    sha256_digest,
)
from promptster.formats.events import format_ts, parse_ts
from promptster.formats.jsonio import canonical_json, loads_limited
from promptster.formats.tools import TOOL_NAMES
from promptster.issue.keys import CandidateKey

PACK_FORMAT = "promptster-assessment-pack"
PACK_FORMAT_VERSION = 1
PACK_PAYLOAD_TYPE = "application/vnd.promptster.issue.assessment-pack+json"
MAX_PACK_BYTES = 16 * 1024 * 1024
SALT_BYTES = 16
MAX_KEY_TRIALS = 24  # scrypt derivations a reviewer's check spends on one bundle's key
_TOOL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@dataclass(frozen=True)
class KdfParams:
    """scrypt parameters. n=2^14, r=8, p=1 costs 16 MiB and about 30 ms per hash."""

    n: int = 2**14
    r: int = 8
    p: int = 1
    dklen: int = 32

    # Bounds for packs we read, so a hostile pack cannot make us burn memory or time: no more
    # than the cost `keys create` uses (16 MiB and about 30 ms per derivation).
    MAX_N: ClassVar[int] = 2**14
    MAX_R: ClassVar[int] = 8
    MAX_P: ClassVar[int] = 1

    def to_json_obj(self) -> dict[str, Any]:
        return {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p, "dklen": self.dklen}

    @classmethod
    def from_json_obj(cls, obj: Any) -> KdfParams:
        if not isinstance(obj, dict) or obj.get("name") != "scrypt":
            raise FormatError("the assessment pack's kdf is not scrypt")
        n, r, p, dklen = (obj.get(name) for name in ("n", "r", "p", "dklen"))
        if not (_is_int(n) and _is_int(r) and _is_int(p) and _is_int(dklen)):
            raise FormatError("the assessment pack's scrypt parameters are not integers")
        if not (
            2 <= n <= cls.MAX_N
            and n & (n - 1) == 0
            and 1 <= r <= cls.MAX_R
            and 1 <= p <= cls.MAX_P
            and 16 <= dklen <= 64
        ):
            raise FormatError("the assessment pack's scrypt parameters are out of range")
        return cls(n, r, p, dklen)


DEFAULT_KDF = KdfParams()


def hash_key(key: CandidateKey, salt: bytes, kdf: KdfParams = DEFAULT_KDF) -> bytes:
    maxmem = 128 * kdf.r * kdf.n * kdf.p + 128 * kdf.r * (kdf.n + 2) + 1024 * 1024
    return hashlib.scrypt(
        key.secret(), salt=salt, n=kdf.n, r=kdf.r, p=kdf.p, dklen=kdf.dklen, maxmem=maxmem
    )


def new_key_hash(key: CandidateKey, kdf: KdfParams = DEFAULT_KDF) -> tuple[bytes, bytes]:
    """A fresh random salt and the key's scrypt hash under it."""
    salt = secrets.token_bytes(SALT_BYTES)
    return salt, hash_key(key, salt, kdf)


@dataclass(frozen=True)
class PackKey:
    id: str
    salt: bytes
    scrypt_hash: bytes
    expires_at: datetime
    revoked: bool

    def matches(self, key: CandidateKey, kdf: KdfParams) -> bool:
        return hmac.compare_digest(hash_key(key, self.salt, kdf), self.scrypt_hash)

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "salt": b64encode(self.salt),
            "scryptHash": b64encode(self.scrypt_hash),
            "expiresAt": format_ts(self.expires_at),
            "revoked": self.revoked,
        }

    @classmethod
    def from_json_obj(cls, obj: Any) -> PackKey:
        if not isinstance(obj, dict):
            raise FormatError("an assessment pack key entry is not an object")
        key_id, revoked = obj.get("id"), obj.get("revoked")
        if not isinstance(key_id, str) or not key_id or not isinstance(revoked, bool):
            raise FormatError("an assessment pack key entry lacks an id or revoked flag")
        return cls(
            id=key_id,
            salt=b64decode(obj.get("salt"), what=f"salt of key {key_id}"),
            scrypt_hash=b64decode(obj.get("scryptHash"), what=f"scryptHash of key {key_id}"),
            expires_at=parse_ts(_text(obj, "expiresAt", f"key {key_id}")),
            revoked=revoked,
        )


@dataclass(frozen=True)
class RepoRef:
    url: str
    rev: str | None = None

    def to_json_obj(self) -> dict[str, Any]:
        return {"url": self.url, "rev": self.rev}


@dataclass(frozen=True)
class AssessmentPack:
    assessment_id: str
    org: str
    role: str
    brief: str
    time_limit_minutes: int | None
    repo: RepoRef | None
    reviewer_public_key: PublicKey
    keys: tuple[PackKey, ...]
    issued_at: datetime
    kdf: KdfParams = DEFAULT_KDF
    extra: dict[str, Any] = field(default_factory=dict)
    # Optional limits (docs/assessment-pack.md): written only when set, so a pack without them
    # is byte-identical to one made before they existed, and a reader that predates them keeps
    # them in `extra` and ignores them (which is why the format version stays 1).
    token_budget_usd: float | None = None
    allowed_tools: tuple[str, ...] | None = None

    def to_json_obj(self) -> dict[str, Any]:
        body = dict(self.extra)
        if self.token_budget_usd is not None:
            body["tokenBudgetUsd"] = self.token_budget_usd
        if self.allowed_tools is not None:
            body["allowedTools"] = list(self.allowed_tools)
        body.update(
            format=PACK_FORMAT,
            formatVersion=PACK_FORMAT_VERSION,
            assessmentId=self.assessment_id,
            org=self.org,
            role=self.role,
            brief=self.brief,
            timeLimitMinutes=self.time_limit_minutes,
            repo=self.repo.to_json_obj() if self.repo else None,
            reviewerPublicKey=self.reviewer_public_key.text,
            kdf=self.kdf.to_json_obj(),
            keys=[k.to_json_obj() for k in self.keys],
            issuedAt=format_ts(self.issued_at),
        )
        return body

    @classmethod
    def from_json_obj(cls, body: Any) -> AssessmentPack:
        if not isinstance(body, dict) or body.get("format") != PACK_FORMAT:
            raise FormatError("this is not a Promptster assessment pack")
        version = body.get("formatVersion")
        if not _is_int(version) or version < 1:
            raise FormatError("the assessment pack has no valid formatVersion")
        if version > PACK_FORMAT_VERSION:
            raise NewerFormatError(
                f"the assessment pack uses format version {version}; this promptster reads up "
                f"to {PACK_FORMAT_VERSION}",
                "upgrade promptster (pip install -U promptster)",
            )
        limit = body.get("timeLimitMinutes")
        if limit is not None and (not _is_int(limit) or limit <= 0):
            raise FormatError("the assessment pack's timeLimitMinutes is not a positive integer")
        raw_keys = body.get("keys")
        if not isinstance(raw_keys, list):
            raise FormatError("the assessment pack has no keys list")
        known = {
            "format", "formatVersion", "assessmentId", "org", "role", "brief",
            "timeLimitMinutes", "repo", "reviewerPublicKey", "kdf", "keys", "issuedAt",
            "tokenBudgetUsd", "allowedTools",
        }  # fmt: skip
        return cls(
            assessment_id=_text(body, "assessmentId", "assessment pack"),
            org=_text(body, "org", "assessment pack"),
            role=_text(body, "role", "assessment pack"),
            brief=_text(body, "brief", "assessment pack"),
            time_limit_minutes=limit,
            repo=_repo(body.get("repo")),
            reviewer_public_key=PublicKey.from_text(
                _text(body, "reviewerPublicKey", "assessment pack")
            ),
            keys=tuple(PackKey.from_json_obj(k) for k in raw_keys),
            issued_at=parse_ts(_text(body, "issuedAt", "assessment pack")),
            kdf=KdfParams.from_json_obj(body.get("kdf")),
            extra={k: v for k, v in body.items() if k not in known},
            token_budget_usd=_budget(body.get("tokenBudgetUsd")),
            allowed_tools=_allowed_tools(body.get("allowedTools")),
        )

    def key_by_id(self, key_id: str) -> PackKey | None:
        return next((k for k in self.keys if k.id == key_id), None)

    def find_key_bounded(
        self, key: CandidateKey, hint_id: str | None = None, *, max_trials: int = MAX_KEY_TRIALS
    ) -> tuple[PackKey | None, int]:
        """The entry whose hash `key` matches, deriving at most `max_trials` scrypt hashes (the
        hinted entry first), and how many entries were left untried: a pack of a stranger's
        can list thousands of keys to make a reviewer's machine derive them all."""
        hinted = self.key_by_id(hint_id) if hint_id else None
        order = ([hinted] if hinted is not None else []) + [k for k in self.keys if k is not hinted]
        for entry in order[:max_trials]:
            if entry.matches(key, self.kdf):
                return entry, 0
        return None, max(len(order) - max_trials, 0)

    def find_key(self, key: CandidateKey, hint_id: str | None = None) -> PackKey | None:
        """The entry whose hash `key` matches. Tries `hint_id` first (one scrypt), then all."""
        hinted = self.key_by_id(hint_id) if hint_id else None
        if hinted is not None and hinted.matches(key, self.kdf):
            return hinted
        return next((k for k in self.keys if k is not hinted and k.matches(key, self.kdf)), None)


@dataclass(frozen=True)
class SignedPack:
    """A pack whose signature verified against its own reviewerPublicKey."""

    pack: AssessmentPack
    raw: bytes

    @property
    def sha256(self) -> str:
        return sha256_digest(self.raw)

    @property
    def reviewer_fingerprint(self) -> str:
        return self.pack.reviewer_public_key.fingerprint


def sign_pack(pack: AssessmentPack, key: SigningKey) -> bytes:
    """The pack file's bytes: a DSSE envelope over the pack's canonical JSON."""
    if key.public != pack.reviewer_public_key:
        raise ValueError("the signing key is not the pack's reviewerPublicKey")
    envelope = dsse_sign(PACK_PAYLOAD_TYPE, canonical_json(pack.to_json_obj()), key)
    return canonical_json(envelope.to_json_obj()) + b"\n"


def _envelope_and_body(data: bytes, what: str) -> tuple[Envelope, Any]:
    envelope = Envelope.from_json_obj(loads_limited(data, what=what, max_bytes=MAX_PACK_BYTES))
    if envelope.payload_type != PACK_PAYLOAD_TYPE:
        raise FormatError(f"{what} is a signed file of type {envelope.payload_type!r}, not a pack")
    return envelope, loads_limited(envelope.payload, what=f"{what} payload")


def looks_like_pack(data: bytes) -> bool:
    """True when `data` is a pack by its payloadType and format field (signature not checked)."""
    try:
        _, body = _envelope_and_body(data, "file")
    except FormatError:
        return False
    return isinstance(body, dict) and body.get("format") == PACK_FORMAT


def open_pack(data: bytes, *, what: str = "the assessment pack") -> SignedPack:
    """Parse and verify a pack file. FormatError when malformed, CheckFailed when tampered."""
    envelope, body = _envelope_and_body(data, what)
    if not isinstance(body, dict) or body.get("format") != PACK_FORMAT:
        raise FormatError(f"{what} is not a Promptster assessment pack (no format field)")
    public_key = PublicKey.from_text(_text(body, "reviewerPublicKey", what))
    try:
        dsse_verify(envelope, PACK_PAYLOAD_TYPE, public_key)
    except CheckFailed as exc:
        raise CheckFailed(
            f"{what} is not signed by the reviewer key it names: it was changed after the "
            "reviewer signed it, or someone else signed it",
            "ask the reviewer for a fresh copy of the pack",
        ) from exc
    return SignedPack(AssessmentPack.from_json_obj(body), data)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(body: dict[str, Any], name: str, what: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise FormatError(f"{what} field {name!r} is missing or not a string")
    return value


def _repo(value: Any) -> RepoRef | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("url"), str):
        raise FormatError("the assessment pack's repo has no url")
    rev = value.get("rev")
    if rev is not None and not isinstance(rev, str):
        raise FormatError("the assessment pack's repo rev is not a string")
    return RepoRef(value["url"], rev)


def check_token_budget(value: Any) -> float:
    """A budget in USD: a finite number above zero. ValueError says why not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"the token budget must be a number of US dollars, not {value!r}")
    budget = float(value)
    if not math.isfinite(budget) or budget <= 0:
        raise ValueError(f"the token budget must be a positive number of US dollars (got {value})")
    return budget


def check_allowed_tools(values: Any, *, known_only: bool = True) -> tuple[str, ...]:
    """Tool names, each once, in the given order; ValueError says what is wrong.

    With `known_only` (what `assessment create` uses) each must be in the integrations catalog.
    A pack's reader passes False: a newer Promptster may know a tool this one does not, and its
    pack must still open here (a tool this version cannot record is never seen in use anyway).
    """
    if not isinstance(values, list | tuple) or not values:
        raise ValueError("the allowed tools must be a non-empty list of tool names")
    names: list[str] = []
    for value in values:
        if not isinstance(value, str) or not _TOOL_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a tool name")
        if known_only and value not in TOOL_NAMES:
            raise ValueError(
                f"{value!r} is not a tool Promptster knows; allowed tool names are "
                + ", ".join(TOOL_NAMES)
            )
        if value not in names:
            names.append(value)
    return tuple(names)


def _budget(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return check_token_budget(value)
    except ValueError as exc:
        raise FormatError(f"the assessment pack's tokenBudgetUsd is invalid: {exc}") from None


def _allowed_tools(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    try:
        return check_allowed_tools(value, known_only=False)
    except ValueError as exc:
        raise FormatError(f"the assessment pack's allowedTools is invalid: {exc}") from None
