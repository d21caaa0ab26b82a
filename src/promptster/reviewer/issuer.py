"""Whose assessment packs a reviewer trusts: `--reviewer-key FILE|FINGERPRINT` and the identity.

A pack is only as good as the key that signed it: anyone can make a key and sign a pack (a
"self-made assessment"). So the reviewer commands compare the pack's signer with the keys
this reviewer owns: the reviewer identity on this machine (`promptster identity init`), the
keys the reviewer workspace recorded for its assessments, and any `--reviewer-key` given. With
none of them, the issuer cannot be checked and the result says so first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from promptster import paths
from promptster.errors import FormatError, InputError, PromptsterError
from promptster.formats.crypto import PublicKey
from promptster.formats.jsonio import loads_limited

ISSUER_CHECK = "issuer"
UNCHECKED_PREFIX = "issuer not checked"
_FINGERPRINT = re.compile(r"(sha256:)?([0-9a-fA-F]{64})")
_MAX_KEY_FILE = 64 * 1024


def parse_reviewer_key(value: str) -> str:
    """The fingerprint (`sha256:<hex>`) named by `--reviewer-key`: a fingerprint, or a file
    holding a reviewer identity (reviewer.json), an assessment pack, or a base64 public key."""
    match = _FINGERPRINT.fullmatch(value.strip())
    if match:
        return "sha256:" + match.group(2).lower()
    path = Path(value).expanduser()
    hint = "give the reviewer's key fingerprint (sha256:…) or their reviewer.json file"
    try:
        data = path.read_bytes()[: _MAX_KEY_FILE + 1]
    except FileNotFoundError as exc:
        raise InputError(
            f"--reviewer-key {value!r} is neither a key fingerprint nor a file", hint
        ) from exc
    except OSError as exc:
        raise InputError(f"cannot read --reviewer-key file {path}: {exc.strerror}", hint) from exc
    if len(data) > _MAX_KEY_FILE:
        raise InputError(f"--reviewer-key file {path} is too large to be a key", hint)
    try:
        return _fingerprint_from_file(data, path)
    except FormatError as exc:
        raise InputError(f"--reviewer-key file {path}: {exc.message}", hint) from exc


def _fingerprint_from_file(data: bytes, path: Path) -> str:
    text = data.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        body = loads_limited(data, what=str(path), max_bytes=_MAX_KEY_FILE)
        if isinstance(body, dict) and isinstance(body.get("publicKey"), str):
            return PublicKey.from_text(body["publicKey"]).fingerprint
        raise FormatError("it holds JSON without a publicKey (a reviewer.json has one)")
    match = _FINGERPRINT.fullmatch(text)
    if match:
        return "sha256:" + match.group(2).lower()
    return PublicKey.from_text(text).fingerprint


def own_reviewer_keys(explicit: Iterable[str] = ()) -> tuple[str, ...]:
    """Fingerprints of the keys this reviewer owns: `explicit` (parsed --reviewer-key values)
    and the reviewer identity of this machine, when there is one."""
    keys = list(dict.fromkeys(explicit))
    if (paths.identity_dir() / "reviewer.json").exists():
        from promptster.issue.identity import read_identity

        try:
            fingerprint = read_identity().fingerprint
        except PromptsterError:
            fingerprint = None  # a damaged identity trusts nothing; `identity show` says why
        if fingerprint and fingerprint not in keys:
            keys.append(fingerprint)
    return tuple(keys)
