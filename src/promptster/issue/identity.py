"""The reviewer's identity: an Ed25519 key that signs assessment packs.

Two files in `paths.identity_dir()`:
- `reviewer.key`: the private key, PKCS#8 PEM, mode 0600, encrypted when a passphrase is given
  (the passphrase comes from an environment variable, never from the command line);
- `reviewer.json`: the public part (public key, fingerprint, org name, whether the key is
  encrypted), so `identity show` needs no passphrase.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promptster import paths
from promptster.errors import EnvironmentProblem, FormatError, InputError, StateError
from promptster.formats.crypto import PublicKey, SigningKey
from promptster.formats.events import format_ts
from promptster.formats.jsonio import canonical_json, loads_limited
from promptster.fsutil import atomic_write_bytes

IDENTITY_FORMAT = "promptster-reviewer-identity"
DEFAULT_ORG = "Promptster reviewer"
DEFAULT_PASSPHRASE_ENV = "PROMPTSTER_PASSPHRASE"
KEY_FILE = "reviewer.key"
INFO_FILE = "reviewer.json"


@dataclass(frozen=True)
class Identity:
    public_key: PublicKey
    org: str
    encrypted: bool
    created_at: str
    directory: Path

    @property
    def fingerprint(self) -> str:
        return self.public_key.fingerprint

    @property
    def key_path(self) -> Path:
        return self.directory / KEY_FILE

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "publicKey": self.public_key.text,
            "fingerprint": self.fingerprint,
            "org": self.org,
            "encrypted": self.encrypted,
            "createdAt": self.created_at,
            "keyPath": str(self.key_path),
        }


@dataclass(frozen=True)
class Signer:
    """An unlocked identity, ready to sign packs."""

    identity: Identity
    key: SigningKey


def passphrase_from_env(variable: str) -> bytes:
    value = os.environ.get(variable)
    if not value:
        raise InputError(
            f"the environment variable {variable} is not set or empty",
            f"export {variable}=... before running the command (the passphrase is never "
            "taken from the command line)",
        )
    return value.encode("utf-8")


def init_identity(org: str, passphrase: bytes | None, *, directory: Path | None = None) -> Identity:
    """Create a new identity. Refuses to replace an existing one (that would orphan packs)."""
    directory = directory or paths.identity_dir()
    org = org.strip()
    if not 1 <= len(org) <= 255 or "\n" in org or "\r" in org:
        raise InputError("the org name must be one line of 1 to 255 characters")
    key_path, info_path = directory / KEY_FILE, directory / INFO_FILE
    if key_path.exists() or info_path.exists():
        raise StateError(
            f"a reviewer identity already exists in {directory}",
            "packs you issued are signed with it; move the folder away yourself if you really "
            "want a new identity",
        )
    key = SigningKey.generate()
    identity = Identity(
        public_key=key.public,
        org=org,
        encrypted=passphrase is not None,
        created_at=format_ts(datetime.now(UTC)),
        directory=directory,
    )
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key.save(key_path, passphrase)
        body = {"format": IDENTITY_FORMAT, "formatVersion": 1, **identity.to_json_obj()}
        del body["keyPath"]
        atomic_write_bytes(info_path, canonical_json(body) + b"\n")
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write the reviewer identity: {exc}") from exc
    return identity


def read_identity(directory: Path | None = None) -> Identity:
    """The public part of the identity (no passphrase needed)."""
    directory = directory or paths.identity_dir()
    info_path = directory / INFO_FILE
    try:
        data = info_path.read_bytes()
    except FileNotFoundError as exc:
        raise StateError(
            f"no reviewer identity in {directory}", "run `promptster identity init` first"
        ) from exc
    except OSError as exc:
        raise EnvironmentProblem(f"cannot read {info_path}: {exc.strerror}") from exc
    try:
        body = loads_limited(data, what=str(info_path), max_bytes=64 * 1024)
        if not isinstance(body, dict) or body.get("format") != IDENTITY_FORMAT:
            raise FormatError(f"{info_path} is not a Promptster reviewer identity")
        org, created, encrypted = body.get("org"), body.get("createdAt"), body.get("encrypted")
        if not (isinstance(org, str) and isinstance(created, str) and isinstance(encrypted, bool)):
            raise FormatError(f"{info_path} lacks org, createdAt or encrypted")
        public_key = PublicKey.from_text(str(body.get("publicKey")))
    except FormatError as exc:
        raise InputError(
            f"the reviewer identity file is damaged: {exc.message}",
            f"restore {directory} from a backup",
        ) from exc
    return Identity(public_key, org, encrypted, created, directory)


def unlock_identity(passphrase_env: str | None = None, directory: Path | None = None) -> Signer:
    """Load the private key. The passphrase, when the key has one, comes from the environment."""
    identity = read_identity(directory)
    key_path = identity.key_path
    _check_permissions(key_path)
    passphrase = (
        passphrase_from_env(passphrase_env or DEFAULT_PASSPHRASE_ENV)
        if identity.encrypted
        else None
    )
    try:
        key = SigningKey.load(key_path, passphrase)
    except InputError as exc:
        raise InputError(
            f"cannot use the reviewer identity: {exc.message}",
            exc.hint or f"restore {identity.directory} from a backup",
        ) from exc
    if key.public != identity.public_key:
        raise InputError(
            f"{key_path} does not hold the key described in {identity.directory / INFO_FILE}",
            f"restore {identity.directory} from a backup",
        )
    return Signer(identity, key)


def _check_permissions(key_path: Path) -> None:
    if os.name != "posix":
        return
    try:
        mode = key_path.stat().st_mode
    except FileNotFoundError as exc:
        raise InputError(
            f"the reviewer key file {key_path} is missing",
            f"restore {key_path.parent} from a backup",
        ) from exc
    except OSError as exc:
        raise EnvironmentProblem(f"cannot read {key_path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise EnvironmentProblem(
            f"the reviewer key file {key_path} can be read by other users "
            f"(mode {stat.S_IMODE(mode):04o})",
            f"run: chmod 600 {key_path}",
        )
