"""Secret redaction for everything the recorder writes.

Every event payload, every terminal chunk that goes into a cast, passes through here before it
touches disk (docs/security.md). A secret is replaced by a typed placeholder,
``[REDACTED:<kind>]``, and the caller turns the returned findings into a ``warning`` event
(:func:`redaction_warning`). Findings never carry secret text, only kinds and offsets.

What is recognised:

* provider token formats (``sk-ant-…``, ``ghp_…``, ``AKIA…``, JWTs, …): the whole token;
* PEM / PGP private key blocks, also when the END line has not arrived (or never does);
* URL credentials (``postgres://user:pw@host``): only the password;
* ``Authorization:`` headers and ``Bearer …``: only the credential, the scheme stays;
* ``NAME=value``, ``NAME: value``, ``"name": "value"``, ``export NAME=value``,
  ``--name=value`` and ``--name value`` where NAME looks secret (:func:`is_secret_name`):
  only the value, and not when the value is obviously not a secret (empty, a placeholder such
  as ``<your-key>`` or ``changeme``, a ``$VAR`` / ``${VAR}`` reference, a call like
  ``get_token()``, an ``os.environ[...]`` lookup, a number, fewer than 6 characters).

Overlapping matches are merged into one placeholder (the most specific kind names it), so a
secret that two rules see differently is never partly left in the output.

Every rule except PEM blocks is line-local and every match is bounded in length
(:data:`MAX_LINE_LOCAL_MATCH`), which is what lets :class:`StreamRedactor` redact terminal
output chunk by chunk with exactly the same result as :func:`redact_text` on the whole text.
Scanning is linear: each rule's regex starts with a literal (CPython scans for it at C speed),
quantifiers are bounded, and NAME=value is only examined around keyword hits. The rules live
in redact_scan.py (token formats, the scan) and redact_assignments.py (names and values).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Final, TypeAlias

from promptster.formats.jsonio import JsonValue
from promptster.record.redact.assignments import is_placeholder, is_secret_name, kind_for_name
from promptster.record.redact.scan import (
    MAX_LINE_LOCAL_MATCH,
    PEM_MAX_BODY,
    apply_placeholders,
    merge,
    placeholder,
    scan,
)

__all__ = [
    "DEFAULT_SECRET_PATH_PATTERNS",
    "MAX_LINE_LOCAL_MATCH",
    "Finding",
    "JsonPath",
    "RedactionResult",
    "StreamRedactor",
    "is_secret_name",
    "is_secret_path",
    "placeholder",
    "redact_json",
    "redact_text",
    "redaction_warning",
]

JsonPath: TypeAlias = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    """One redacted secret: its kind and its [start, end) span in the original text.

    ``path`` locates the string inside a JSON value (keys and list indices) for
    :func:`redact_json`; it is empty for plain text.
    """

    kind: str
    start: int
    end: int
    path: JsonPath = ()


@dataclass(frozen=True, slots=True)
class RedactionResult:
    text: str
    findings: tuple[Finding, ...]


def redact_text(text: str) -> RedactionResult:
    """Replace every secret in `text` by ``[REDACTED:<kind>]``; offsets refer to `text`."""
    cands, _ = scan(text)
    if not cands:
        return RedactionResult(text, ())
    spans = merge(cands)
    redacted = apply_placeholders(text, spans, 0, len(text))
    return RedactionResult(redacted, tuple(Finding(kind, s, e) for s, e, kind in spans))


# --------------------------------------------------------------------------- JSON values


def _redact_secret_string(value: str, name: str, path: JsonPath) -> tuple[str, list[Finding]]:
    """A string under a secret-looking key is replaced whole, whatever its format."""
    if is_placeholder(value):
        return value, []
    inner = redact_text(value)
    # One recognised token ("ghp_…", "Bearer eyJ…") names the value by what it is.
    kind = inner.findings[0].kind if len(inner.findings) == 1 else kind_for_name(name)
    return placeholder(kind), [Finding(kind, 0, len(value), path)]


# (source value, container to write the result into, slot in it, path, secret key name or "")
_JsonWork: TypeAlias = tuple[
    JsonValue, "list[JsonValue] | dict[str, JsonValue]", int | str, JsonPath, str
]


@lru_cache(maxsize=1024)
def _secret_key(name: str) -> bool:
    return is_secret_name(name)


def _clean_flat(value: dict[str, JsonValue]) -> bool:
    """Whether `value` is a flat object (scalars only) with no secret-looking key and no
    string any rule could match: most events' data (a shell command's, every prompt)."""
    for key, item in value.items():
        if isinstance(item, str):
            if scan(item)[0]:
                return False
        elif isinstance(item, dict | list | tuple):
            return False
        if not isinstance(key, str) or _secret_key(key):
            return False
    return True


def redact_json(value: JsonValue) -> tuple[JsonValue, tuple[Finding, ...]]:
    """Redact every string in a JSON-like value; keys stay, offsets are per string.

    A string directly under a secret-looking key (or in a list under one) is replaced whole.
    The input is not modified. Iterative, so depth is bounded by memory, not the call stack.
    """
    if isinstance(value, dict) and _clean_flat(value):
        return dict(value), ()  # nothing to replace: the general walk would copy it as is
    findings: list[Finding] = []
    root: list[JsonValue] = [None]
    stack: list[_JsonWork] = [(value, root, 0, (), "")]
    while stack:
        source, parent, slot, path, secret_key = stack.pop()
        result: JsonValue
        if isinstance(source, str):
            if secret_key:
                result, found = _redact_secret_string(source, secret_key, path)
                findings.extend(found)
            else:
                redacted = redact_text(source)
                result = redacted.text
                findings.extend(Finding(f.kind, f.start, f.end, path) for f in redacted.findings)
        elif isinstance(source, dict):
            new_dict: dict[str, JsonValue] = {}
            result = new_dict
            new_dict.update(dict.fromkeys(source))  # keeps the key order
            for key, item in reversed(list(source.items())):
                secret = key if isinstance(key, str) and is_secret_name(key) else ""
                stack.append((item, new_dict, key, (*path, key), secret))
        elif isinstance(source, list | tuple):  # a tuple comes back as a list, as JSON would
            new_list: list[JsonValue] = [None] * len(source)
            result = new_list
            for index in range(len(source) - 1, -1, -1):
                stack.append((source[index], new_list, index, (*path, index), secret_key))
        else:
            result = source
        if isinstance(parent, list):
            assert isinstance(slot, int)
            parent[slot] = result
        else:
            assert isinstance(slot, str)
            parent[slot] = result
    return root[0], tuple(findings)


def redaction_warning(findings: Iterable[Finding]) -> dict[str, JsonValue]:
    """`data` for the `warning` event that reports redactions; never contains secret text."""
    counts = Counter(f.kind for f in findings)
    total = sum(counts.values())
    kinds = ", ".join(sorted(counts))
    noun = "secret" if total == 1 else "secrets"
    return {
        "code": "redaction",
        "message": f"Redacted {total} {noun} before writing ({kinds}).",
        "count": total,
        "kinds": {kind: counts[kind] for kind in sorted(counts)},
    }


# --------------------------------------------------------------------------- streams

_STREAM_CONTEXT: Final = 256  # emitted text kept for lookbehinds, name and line-start checks
_PEM_END_MARGIN: Final = 96  # a PEM match this close to the end may still reach its END line
_PEM_START = "-----BEGIN"
_PEM_BODY_ONLY = re.compile(r"[A-Za-z0-9+/=\s\\:,]*")


class StreamRedactor:
    """Redacts a text stream, such as terminal output on its way into a cast, chunk by chunk.

    ``feed`` returns the text that is safe to write now. It holds back the last, incomplete
    line (up to ``max_hold`` characters; longer lines are cut inside, away from any match) and
    a private key block until its END line arrives or it outgrows the PEM bound. For secrets
    shorter than the hold-back window the output is exactly ``redact_text`` of the whole
    stream. Findings carry offsets into the whole stream; collect them with ``take_findings``.
    """

    def __init__(self, max_hold: int = 16_384) -> None:
        if max_hold < 2 * MAX_LINE_LOCAL_MATCH:
            raise ValueError(f"max_hold must be at least {2 * MAX_LINE_LOCAL_MATCH}")
        self._max_hold = max_hold
        # Past this much held text, cut even through a match rather than grow without bound.
        self._hard_limit = 4 * max_hold + PEM_MAX_BODY
        self._context = ""
        self._pending = ""
        self._offset = 0  # stream offset of the first pending character
        self._pem_open = False
        self._findings: list[Finding] = []

    @property
    def held(self) -> int:
        """Number of characters received but not yet emitted."""
        return len(self._pending)

    def feed(self, chunk: str) -> str:
        if not chunk:
            return ""
        self._pending += chunk
        if self._pem_open and len(self._pending) < PEM_MAX_BODY:
            if _PEM_BODY_ONLY.fullmatch(chunk):  # more key material: still inside the block
                return ""
        elif len(self._pending) <= self._max_hold and "\n" not in chunk and "\r" not in chunk:
            return ""  # nothing new can be complete before a line break
        return self._emit(final=False)

    def flush(self) -> str:
        """Emit everything still held; the stream has ended."""
        return self._emit(final=True)

    def take_findings(self) -> tuple[Finding, ...]:
        """Findings emitted since the last call, with offsets into the whole stream."""
        found, self._findings = tuple(self._findings), []
        return found

    def _emit(self, *, final: bool) -> str:
        text = self._context + self._pending
        base = len(self._context)
        cands, busy = scan(text, base)
        cut = len(text) if final else self._cut(text, base, busy)
        if cut <= base:
            return ""
        spans = [(s, min(e, cut), kind) for s, e, kind in merge(cands) if s < cut]
        out = apply_placeholders(text, spans, base, cut)
        shift = self._offset - base
        self._findings.extend(Finding(kind, s + shift, e + shift) for s, e, kind in spans)
        self._offset += cut - base
        self._context = text[max(0, cut - _STREAM_CONTEXT) : cut]
        self._pending = text[cut:]
        return out

    def _cut(self, text: str, base: int, busy: list[tuple[int, int]]) -> int:
        """The furthest position up to which the output can no longer change."""
        n = len(text)
        hold_from = n
        for start, end in busy:
            if end + _PEM_END_MARGIN > n and text.startswith(_PEM_START, start):
                # Complete once its END line matched: only that ends in "-----" after a body.
                ended = text.startswith("-----", end - 5) and "-----END" in text[start:end]
                if not ended:
                    hold_from = min(hold_from, start)
        self._pem_open = hold_from < n
        best = base
        # Every rule but PEM blocks is line-local: a line break no match spans is a safe cut.
        hi = hold_from
        while True:
            p = max(text.rfind("\n", base, hi), text.rfind("\r", base, hi)) + 1
            if p <= base:
                break
            straddling = [s for s, e in busy if s < p < e]
            if not straddling:
                best = p
                break
            hi = min(straddling)
        # A line longer than the window: cut inside it where no match can still grow across.
        if n - best > self._max_hold:
            p = min(n - MAX_LINE_LOCAL_MATCH, hold_from)
            while p > best:
                straddling = [s for s, e in busy if s < p < e]
                if not straddling:
                    best = p
                    break
                p = min(straddling)
        if best == base and n - base > self._hard_limit:
            best = n - MAX_LINE_LOCAL_MATCH  # adversarial input; spans are clipped at the cut
        return best


# --------------------------------------------------------------------------- snapshot paths

# gitignore syntax (so the snapshotter can also write them to info/exclude), matched
# case-insensitively by is_secret_path; the last matching pattern wins, "!" re-includes.
# Committed templates (.env.example, .env.sample, .env.template, .env.dist) are kept: they
# are part of the work, and any key pasted into one still goes through redact_text wherever
# its content enters the timeline.
DEFAULT_SECRET_PATH_PATTERNS: Final[tuple[str, ...]] = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "!.env.example",
    "!.env.sample",
    "!.env.template",
    "!.env.dist",
    "*.pem",
    "*.key",
    "*.p8",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.ppk",
    "*.tfstate",
    "*.tfstate.backup",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "!id_*.pub",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
    ".htpasswd",
    ".dockercfg",
    ".vault-token",
    ".s3cfg",
    ".boto",
    "credentials.json",
    "client_secret*.json",
    "secrets.json",
    "secrets.yml",
    "secrets.yaml",
    "secrets.toml",
    "**/.aws/credentials",
    "**/.docker/config.json",
    "**/.kube/config",
    ".ssh/",
    ".gnupg/",
)


def _pattern_matches(pattern: str, parts: Sequence[str]) -> bool:
    if pattern.endswith("/"):  # a directory anywhere above the file
        return any(fnmatchcase(part, pattern[:-1]) for part in parts[:-1])
    if pattern.startswith("**/"):
        tail = pattern[3:].split("/")
        return len(parts) >= len(tail) and all(
            fnmatchcase(part, want) for part, want in zip(parts[-len(tail) :], tail, strict=True)
        )
    if "/" in pattern:  # anchored at the workspace root
        return fnmatchcase("/".join(parts), pattern.lstrip("/"))
    return fnmatchcase(parts[-1], pattern)


def is_secret_path(relpath: str, patterns: Sequence[str] = DEFAULT_SECRET_PATH_PATTERNS) -> bool:
    """Whether a workspace-relative path is a secrets file that snapshots must leave out."""
    parts = [p for p in relpath.replace("\\", "/").lower().split("/") if p not in ("", ".")]
    if not parts:
        return False
    secret = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = (pattern[1:] if negated else pattern).lower()
        if _pattern_matches(body, parts):
            secret = not negated
    return secret
