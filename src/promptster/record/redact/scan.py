"""The detection engine behind redact.py: token formats, and one scan over a text.

Each rule's regex starts with a literal (CPython finds it at memchr speed; one pass per rule
beats one alternation of all of them), every quantifier is bounded, and every rule except PEM
blocks is line-local, which is what lets the stream redactor cut at line breaks.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from promptster.record.redact.assignments import (
    NAME_KEYWORDS,
    Candidate,
    is_placeholder,
    scan_assignments,
)
from promptster.record.redact.aws_secret import scan_aws_secrets


def placeholder(kind: str) -> str:
    return f"[REDACTED:{kind}]"


# A token must not continue a word: "task-…" is not an "sk-…" key. The check is a lookbehind
# written *after* the literal prefix, so that the regex still starts with that literal.
_WORD = r"[A-Za-z0-9_\-]"


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    # Literal strings one of which every match starts with (for the short-text precheck).
    triggers: tuple[str, ...]
    group: int | str = 0  # the part of the match that is secret and gets replaced
    accept: Callable[[re.Match[str]], bool] | None = None
    priority: int = 0  # lower wins when overlapping matches are merged into one placeholder
    kind_of: Callable[[re.Match[str]], str] | None = None
    # Case-insensitive rules: the pattern is tried where this lowercase word occurs.
    anchor: str | None = None


def _token(
    kind: str,
    prefix: str,
    body: str,
    *,
    triggers: tuple[str, ...] = (),
    accept: Callable[[re.Match[str]], bool] | None = None,
    kind_of: Callable[[re.Match[str]], str] | None = None,
) -> _Rule:
    """A token that starts with the literal `prefix` and does not continue a word."""
    escaped = re.escape(prefix)
    pattern = re.compile(f"{escaped}(?<!{_WORD}{escaped}){body}")
    return _Rule(kind, pattern, triggers or (prefix,), accept=accept, kind_of=kind_of)


def _openai_or_anthropic(match: re.Match[str]) -> str:
    # Both start with "sk-"; one pass over the text finds both.
    return "anthropic_api_key" if match["anthropic"] else "openai_api_key"


def _mixed_case(match: re.Match[str]) -> bool:
    # Hugging Face tokens mix cases; `hf_` followed by a long lowercase identifier is code.
    token = match[0]
    return any(c.isupper() for c in token[3:]) and any(c.islower() for c in token[3:])


def _not_a_word(match: re.Match[str]) -> bool:
    # "Bearer authenticationtokens" in prose is not a credential; real ones have digits/symbols.
    value = match["val"]
    return not (value.isalpha() and value.islower())


def _url_password_is_real(match: re.Match[str]) -> bool:
    return not is_placeholder(match["pw"]) and "[REDACTED:" not in match["pw"]


def _authorization_kind(match: re.Match[str]) -> str:
    scheme = (match["scheme"] or "").strip().lower()
    return "basic_auth_credentials" if scheme == "basic" else "generic_bearer_token"


def _authorization_is_real(match: re.Match[str]) -> bool:
    value = match["val"]
    if is_placeholder(value):
        return False
    if (match["scheme"] or "").strip().lower() != "basic":
        return True
    try:  # Basic credentials are base64("user:password"); anything else is not worth hiding
        return b":" in b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return True


PEM_MAX_BODY: Final = 65_536
# Body of a PEM block: base64, whitespace (also JSON-escaped "\n"), RFC 1421 headers
# ("Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,…") and terminal colour codes.
_PEM_BODY = r"(?:[A-Za-z0-9+/=\s\\:,]|-(?!----)|\x1b\[[0-9;?]*[A-Za-z])"
_PEM_LABEL = r"[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
_GITLAB_PREFIXES: Final = (
    "pat",
    "dt",
    "rt",
    "ptt",
    "cbt",
    "soat",
    "ffct",
    "imt",
    "oas",
    "agent",
    "ft",
)
_BEARER_VALUE = r"[ \t]{1,16}(?P<val>[A-Za-z0-9._~+/\-]{16,2048}={0,2})"

_TOKEN_RULES: Final[tuple[_Rule, ...]] = (
    _token(
        "openai_api_key",
        "sk-",
        r"(?:(?P<anthropic>ant-[a-z0-9]{2,12}-[A-Za-z0-9_\-]{20,1024})"
        r"|(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,1024}"
        r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{32,1024})",
        kind_of=_openai_or_anthropic,
    ),
    _token(
        "aws_access_key_id",
        "A",
        r"(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        triggers=("AKIA", "ASIA", "ABIA", "ACCA"),
    ),
    _token(
        "github_token",
        "gh",
        r"[pousr]_[A-Za-z0-9]{36,255}",
        triggers=("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    _token("github_token", "github_pat_", r"[A-Za-z0-9_]{22,255}"),
    _token(
        "gitlab_token",
        "gl",
        f"(?:{'|'.join(_GITLAB_PREFIXES)})-[A-Za-z0-9_\\-]{{20,255}}",
        triggers=tuple(f"gl{prefix}-" for prefix in _GITLAB_PREFIXES),
    ),
    _token("slack_token", "xox", r"[abposre]-[A-Za-z0-9\-]{10,255}"),
    _token("slack_token", "xapp-", r"\d-[A-Za-z0-9\-]{10,255}"),
    _token(
        "slack_webhook_url",
        "https://hooks.slack.com/",
        r"(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{16,256}",
    ),
    _token("stripe_key", "sk_", r"(?:live|test)_[A-Za-z0-9]{16,255}"),
    _token("stripe_key", "rk_", r"(?:live|test)_[A-Za-z0-9]{16,255}"),
    _token("stripe_webhook_secret", "whsec_", r"[A-Za-z0-9+/=]{24,255}"),
    _token("google_api_key", "AIza", r"[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"),
    _token("google_oauth_client_secret", "GOCSPX-", r"[A-Za-z0-9_\-]{24,64}"),
    _token("google_oauth_token", "ya29.", r"[0-9A-Za-z_\-]{20,2048}"),
    _token(
        "jwt", "eyJ", r"[A-Za-z0-9_\-]{8,1024}\.eyJ[A-Za-z0-9_\-]{8,4096}\.[A-Za-z0-9_\-]{0,1024}"
    ),
    _token("npm_token", "npm_", r"[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
    _token("hf_token", "hf_", r"[A-Za-z0-9]{30,64}(?![A-Za-z0-9_])", accept=_mixed_case),
    _token("pypi_token", "pypi-AgE", r"[A-Za-z0-9_\-]{50,1024}"),
    _token("sendgrid_api_key", "SG.", r"[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    _token(
        "digitalocean_token",
        "do",
        r"[opr]_v1_[a-f0-9]{64}",
        triggers=("dop_v1_", "doo_v1_", "dor_v1_"),
    ),
    _token("shopify_token", "shp", r"(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    _token("groq_api_key", "gsk_", r"[A-Za-z0-9]{48,64}"),
    _token("xai_api_key", "xai-", r"[A-Za-z0-9]{70,100}"),
    _token("databricks_token", "dapi", r"[a-f0-9]{32}(?:-\d)?(?![A-Za-z0-9])"),
    _token("linear_api_key", "lin_api_", r"[A-Za-z0-9]{40}"),
    _token("age_secret_key", "AGE-SECRET-KEY-1", r"[0-9A-Z]{58}"),
    _Rule(
        "pem_private_key",
        re.compile(
            f"-----BEGIN{_PEM_LABEL}{_PEM_BODY}{{0,{PEM_MAX_BODY}}}(?:-----END{_PEM_LABEL})?"
        ),
        triggers=("-----BEGIN",),
    ),
    # Credentials in a URL: keep scheme, user and host, hide the password. The password may
    # contain "@" (the last "@" before the host wins, as in browsers) but not "/".
    _Rule(
        "connection_string_password",
        re.compile(
            r"://(?<=[A-Za-z0-9]://)[^\s:/?#@\"'`<>\\\[\]]{0,256}:(?P<pw>[^\s/?#\"'`<>\\]{1,256})@"
        ),
        triggers=("://",),
        group="pw",
        accept=_url_password_is_real,
        priority=1,
    ),
    _Rule(
        "generic_bearer_token",
        re.compile(r"(?<![A-Za-z0-9_\-])(?i:bearer)" + _BEARER_VALUE),
        triggers=(),
        group="val",
        accept=_not_a_word,
        priority=1,
        anchor="bearer",
    ),
    # "Authorization: <scheme> <credentials>" (also Proxy-Authorization), any letter case.
    _Rule(
        "generic_bearer_token",
        re.compile(
            r"(?<![A-Za-z0-9_])(?i:authorization)[\"']?[ \t]{0,16}[:=][ \t]{0,16}[\"']?"
            r"(?P<scheme>[A-Za-z][A-Za-z0-9_\-]{0,24}[ \t]{1,16})?(?P<val>[^\s\"'`,;]{8,2048})"
        ),
        triggers=(),
        group="val",
        accept=_authorization_is_real,
        priority=1,
        kind_of=_authorization_kind,
        anchor="authorization",
    ),
)

# Longest span any line-local rule (everything but PEM blocks) can match, with margin; the
# stream redactor never cuts closer than this to the end of what it holds.
MAX_LINE_LOCAL_MATCH: Final = 8192


def _lowercase_same_length(text: str) -> str:
    # Offsets in the lowered text must match the original; only a few characters ("İ") grow.
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def scan(text: str, pos: int = 0) -> tuple[list[Candidate], list[tuple[int, int]]]:
    """Candidates to replace in text[pos:], and the raw span of every regex match.

    Text before `pos` is context only (lookbehinds see it). The raw spans tell the stream
    redactor where it must not cut: a match that was rejected still moves the regex on.
    """
    cands: list[Candidate] = []
    busy: list[tuple[int, int]] = []
    # Bare AWS secrets have no literal to precheck for; their own scan skips short text.
    scan_aws_secrets(text, pos, cands, busy)
    # Every candidate starts at or after `pos` with a trigger or contains a keyword there.
    if len(text) - pos <= _PRECHECK_MAX and text.isascii() and not _may_match(text, pos):
        return cands, busy  # most event strings: nothing any rule could start with
    lowered = _lowercase_same_length(text)
    for rule in _TOKEN_RULES:
        for match in _matches(rule, text, lowered, pos):
            busy.append(match.span())
            if rule.accept is not None and not rule.accept(match):
                continue
            kind = rule.kind if rule.kind_of is None else rule.kind_of(match)
            start, end = match.span(rule.group)
            cands.append((start, end, rule.priority, kind))
    scan_assignments(text, lowered, pos, cands, busy)
    return cands, busy


def _matches(rule: _Rule, text: str, lowered: str, pos: int) -> Iterator[re.Match[str]]:
    if rule.anchor is None:
        yield from rule.pattern.finditer(text, pos)
        return
    at = lowered.find(rule.anchor, pos)
    while at >= 0:
        match = rule.pattern.match(text, at)
        if match is not None:
            yield match
        at = lowered.find(rule.anchor, at + 1)


# For short ASCII text a few substring tests decide whether any rule can match at all: every
# rule's triggers and, case-insensitively (the text is ASCII, so lowering it is exact), its
# anchors and the keywords of secret names. `in` on a str is a fast search per literal; one
# regex alternation of all of them (as before) tried every branch at every offset: 4-6x slower
# (~20 µs for a prompt's worth of output, the worker's largest cost per command).
_PRECHECK_MAX: Final = 4096
_TRIGGERS: Final = tuple(dict.fromkeys(t for rule in _TOKEN_RULES for t in rule.triggers))
_KEYWORDS: Final = tuple(
    dict.fromkeys([*NAME_KEYWORDS, *(rule.anchor for rule in _TOKEN_RULES if rule.anchor)])
)


def _may_match(text: str, pos: int) -> bool:
    """Whether text[pos:] (short, ASCII) holds a trigger, an anchor or a name keyword."""
    if pos:
        text = text[pos:]
    lowered = text.lower()
    for word in _KEYWORDS:
        if word in lowered:
            return True
    for trigger in _TRIGGERS:  # noqa: SIM110 (a loop: any() over a generator is slower here)
        if trigger in text:
            return True
    return False


def merge(cands: list[Candidate]) -> list[tuple[int, int, str]]:
    """Merge overlapping candidates into disjoint spans, named by the most specific kind."""
    merged: list[tuple[int, int, str]] = []
    best = 0
    for start, end, priority, kind in sorted(cands, key=lambda c: (c[0], c[2], -c[1])):
        if merged and start < merged[-1][1]:
            last_start, last_end, last_kind = merged[-1]
            if priority < best:
                best, last_kind = priority, kind
            merged[-1] = (last_start, max(last_end, end), last_kind)
        else:
            merged.append((start, end, kind))
            best = priority
    return merged


def apply_placeholders(text: str, spans: Sequence[tuple[int, int, str]], lo: int, hi: int) -> str:
    """text[lo:hi] with `spans` (disjoint, sorted, inside [lo, hi]) replaced by placeholders."""
    pieces: list[str] = []
    at = lo
    for start, end, kind in spans:
        pieces.append(text[at:start])
        pieces.append(placeholder(kind))
        at = end
    pieces.append(text[at:hi])
    return "".join(pieces)
