"""Ed25519 identities, DSSE envelopes and `sha256:` digests.

DSSE (github.com/secure-systems-lab/dsse, protocol.md) signs
PAE(payloadType, payload) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, where LEN is
the decimal byte length. Envelopes are written with standard base64 and both standard and
URL-safe base64 are accepted when reading, as the spec requires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

if TYPE_CHECKING:
    # Imported where keys are written or read as PEM: it costs more than the rest of this
    # module (its SSH key support), and checking a signature does not need it.
    from cryptography.hazmat.primitives import serialization

from promptster.errors import CheckFailed, FormatError, InputError
from promptster.fsutil import atomic_write_bytes

DSSE_PAE_PREFIX = b"DSSEv1"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: object, *, what: str) -> bytes:
    """Decode standard or URL-safe base64, with or without padding."""
    if not isinstance(text, str):
        raise FormatError(f"{what} is not a base64 string")
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FormatError(f"{what} is not valid base64") from exc


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding."""
    type_bytes = payload_type.encode("utf-8")
    return b" ".join(
        [
            DSSE_PAE_PREFIX,
            str(len(type_bytes)).encode("ascii"),
            type_bytes,
            str(len(payload)).encode("ascii"),
            payload,
        ]
    )


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key; `text` is its raw 32 bytes in standard base64."""

    raw: bytes

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        raw = b64decode(text, what="public key")
        if len(raw) != 32:
            raise FormatError(f"public key is {len(raw)} bytes; an Ed25519 key is 32")
        return cls(raw)

    @property
    def text(self) -> str:
        return b64encode(self.raw)

    @property
    def fingerprint(self) -> str:
        """Short, stable id for people and DSSE keyid hints: sha256 of the raw key."""
        return sha256_digest(self.raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


class SigningKey:
    """An Ed25519 private key with the operations Promptster needs."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """Deterministic key from 32 bytes: for tests and reproducible synthetic bundles."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public(self) -> PublicKey:
        from cryptography.hazmat.primitives import serialization

        raw = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return PublicKey(raw)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        from cryptography.hazmat.primitives import serialization

        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | None = None, *, what: str) -> SigningKey:
        from cryptography.hazmat.primitives import serialization

        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError as exc:
            # cryptography raises TypeError when a passphrase is missing or superfluous.
            if passphrase is None:
                raise InputError(
                    f"{what} is encrypted with a passphrase",
                    "set the passphrase in the environment variable named by --passphrase-env",
                ) from exc
            raise InputError(f"{what} is not encrypted; do not pass a passphrase") from exc
        except ValueError as exc:
            if passphrase is not None:
                raise InputError(
                    f"cannot unlock {what}: wrong passphrase or damaged file",
                    "check the passphrase variable; restore the key file from a backup",
                ) from exc
            raise InputError(f"{what} is not a readable private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise InputError(f"{what} is not an Ed25519 key")
        return cls(key)

    def save(self, path: Path, passphrase: bytes | None = None) -> None:
        atomic_write_bytes(path, self.to_pem(passphrase), mode=0o600)

    @classmethod
    def load(cls, path: Path, passphrase: bytes | None = None) -> SigningKey:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read key file {path}: {exc.strerror}") from exc
        if len(data) > 64 * 1024:
            raise InputError(f"{path} is too large to be a key file")
        return cls.from_pem(data, passphrase, what=f"key file {path}")


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope as parsed from JSON (signatures not yet verified)."""

    payload_type: str
    payload: bytes
    signatures: tuple[tuple[str, bytes], ...]  # (keyid, sig)

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "payload": b64encode(self.payload),
            "payloadType": self.payload_type,
            "signatures": [{"keyid": kid, "sig": b64encode(sig)} for kid, sig in self.signatures],
        }

    @classmethod
    def from_json_obj(cls, obj: Any) -> Envelope:
        if not isinstance(obj, dict):
            raise FormatError("DSSE envelope is not a JSON object")
        payload_type = obj.get("payloadType")
        if not isinstance(payload_type, str):
            raise FormatError("DSSE envelope has no payloadType")
        payload = b64decode(obj.get("payload", None), what="DSSE payload")
        raw_sigs = obj.get("signatures")
        if not isinstance(raw_sigs, list) or not raw_sigs:
            raise FormatError("DSSE envelope has no signatures")
        signatures: list[tuple[str, bytes]] = []
        for entry in raw_sigs:
            if not isinstance(entry, dict) or "sig" not in entry:
                raise FormatError("DSSE signature entry has no sig")
            keyid = entry.get("keyid", "")
            signatures.append(
                (keyid if isinstance(keyid, str) else "", b64decode(entry["sig"], what="signature"))
            )
        return cls(payload_type, payload, tuple(signatures))


def dsse_sign(payload_type: str, payload: bytes, key: SigningKey) -> Envelope:
    signature = key.sign(pae(payload_type, payload))
    return Envelope(payload_type, payload, ((key.public.fingerprint, signature),))


def dsse_verify(envelope: Envelope, expected_type: str, key: PublicKey) -> bytes:
    """Verify in the spec's order (signature over PAE, then type); return the payload.

    The keyid is only a hint and is not trusted: every signature is tried against `key`.
    """
    message = pae(envelope.payload_type, envelope.payload)
    if not any(key.verify(sig, message) for _, sig in envelope.signatures):
        raise CheckFailed(
            "the DSSE signature does not verify with the expected public key",
            "the signed content was changed, or it was signed with a different key",
        )
    if envelope.payload_type != expected_type:
        raise CheckFailed(
            f"DSSE payloadType is {envelope.payload_type!r}, expected {expected_type!r}"
        )
    return envelope.payload
