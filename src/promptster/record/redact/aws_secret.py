"""Bare AWS secret access keys: 40 characters of base64 with no label and no prefix.

The format has no literal to anchor on, so the rule is stricter than the others (the
approach of TruffleHog's AWS detector, which pairs any 40-character base64 token with an
access key id in the same chunk; gitleaks has no unlabelled rule at all). A token of exactly
40 characters from ``[A-Za-z0-9/+]`` is a secret when

* an access key id (``AKIA…``/``ASIA…``) stands within :data:`NEAR` characters on the same
  line, and the token is not plain hexadecimal; or
* on its own, it looks random: upper case, lower case and digits all occur, it is not a path
  (no leading ``/``), its character entropy is at least :data:`MIN_ENTROPY` bits, and it has
  a ``/`` or ``+`` or digits scattered through it (identifiers such as
  ``AbstractSingletonProxyFactoryBean1234567`` have their digits at the end).

Git object ids (40 hexadecimal characters) never match either branch. Labelled keys
(``aws_secret_access_key = …``) are found by the assignment rules already.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Final

from promptster.record.redact.assignments import Candidate

KIND: Final = "aws_secret_access_key"
NEAR: Final = 200  # within the stream redactor's kept context (256) before the token
MIN_ENTROPY: Final = 4.0  # random base64 of 40 characters: ≥ 4.19 in 10,000 samples
MIN_LENGTH: Final = 40

# Not part of a longer token: "task-<40 chars>" is an identifier, "<40 chars>==" longer base64.
_TOKEN = re.compile(r"(?<![A-Za-z0-9/+_\-])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=_\-])")
_KEY_ID = re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")
_HEX = re.compile(r"[0-9a-f]{40}|[0-9A-F]{40}")
_DIGIT_RUN = re.compile(r"[0-9]+")


def _entropy(token: str) -> float:
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


def looks_random(token: str) -> bool:
    """Whether a 40-character token is random enough to be a secret without any context."""
    if token.startswith("/"):
        return False
    if not (any(c.isupper() for c in token) and any(c.islower() for c in token)):
        return False
    if not any(c.isdigit() for c in token) or _entropy(token) < MIN_ENTROPY:
        return False
    return "/" in token or "+" in token or len(_DIGIT_RUN.findall(token)) >= 2


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    """Up to NEAR characters either side of a token, not past its line."""
    lo = max(start - NEAR, text.rfind("\n", 0, start) + 1, text.rfind("\r", 0, start) + 1)
    hi = min(end + NEAR, len(text))
    for brk in ("\n", "\r"):
        at = text.find(brk, end, hi)
        if at >= 0:
            hi = at
    return lo, hi


def scan_aws_secrets(
    text: str, pos: int, cands: list[Candidate], busy: list[tuple[int, int]]
) -> None:
    """Append a candidate for every bare AWS secret access key in text[pos:]."""
    if len(text) - pos < MIN_LENGTH:
        return
    for match in _TOKEN.finditer(text, pos):
        start, end = match.span()
        token = match[0]
        # The key id may follow the secret on the line: hold the stream until it could be seen.
        lo, hi = _window(text, start, end)
        busy.append((start, hi))
        if _HEX.fullmatch(token):
            continue
        if looks_random(token) or _KEY_ID.search(text, lo, hi) is not None:
            cands.append((start, end, 0, KIND))
