"""Secret redaction for everything the recorder writes.

Every event payload, every terminal chunk that goes into a cast, passes through here before it
touches disk (DESIGN.md, "Capture" → Privacy). A secret is replaced by a typed placeholder,
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
quantifiers are bounded, and NAME=value is only examined around keyword hits.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Final, TypeAlias

from promptster.jsonio import JsonValue

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


# (start, end, priority, kind) of a span to replace, before overlapping ones are merged.
_Candidate: TypeAlias = tuple[int, int, int, str]


def placeholder(kind: str) -> str:
    return f"[REDACTED:{kind}]"


# --------------------------------------------------------------------------- token formats

# A token must not continue a word: "task-…" is not an "sk-…" key. The check is written as a
# lookbehind *after* the literal prefix so that each regex starts with a literal, which CPython
# finds at memchr speed; one such pass per rule is faster than one alternation of all of them.
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
    return not _is_placeholder(match["pw"]) and "[REDACTED:" not in match["pw"]


def _authorization_kind(match: re.Match[str]) -> str:
    scheme = (match["scheme"] or "").strip().lower()
    return "basic_auth_credentials" if scheme == "basic" else "generic_bearer_token"


def _authorization_is_real(match: re.Match[str]) -> bool:
    value = match["val"]
    if _is_placeholder(value):
        return False
    if (match["scheme"] or "").strip().lower() != "basic":
        return True
    try:  # Basic credentials are base64("user:password"); anything else is not worth hiding
        return b":" in b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return True


_PEM_MAX_BODY: Final = 65_536
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
            f"-----BEGIN{_PEM_LABEL}{_PEM_BODY}{{0,{_PEM_MAX_BODY}}}(?:-----END{_PEM_LABEL})?"
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


# --------------------------------------------------------------------------- secret names

# Any of these inside one word part of a name makes it secret ("dbPassword", "CLIENT_SECRET").
_SECRET_WORD_PARTS: Final = ("secret", "password", "passwd", "passphrase", "credential")
# Whole word parts that are secret ("DB_PASS", "_auth", "X-Auth-Token"), plus the suffix forms
# ("accessToken" → "accesstoken", "oauth", "dbpwd"). "tokens" (counts) and "author" are not.
_SECRET_PARTS: Final = frozenset({"pwd", "pass", "creds", "auth", "authorization", "token"})
_SECRET_PART_SUFFIXES: Final = ("token", "pwd", "auth")
# Compounds that only mean a secret together ("API_KEY", "apiKey", "MYAPIKEY").
_SECRET_COMPOUNDS: Final = (
    "apikey",
    "privatekey",
    "accesskey",
    "accountkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "authkey",
)
# A last part that names metadata *about* a secret: PASSWORD_FILE=/run/secrets/db,
# TOKEN_URL=https://…, AUTH_TIMEOUT=30, max_tokens… are not secrets themselves.
_METADATA_SUFFIXES: Final = frozenset(
    """
    id ids url uri urls endpoint host hostname port file files path dir directory type types
    name names user username usr expiry expires expiration exp ttl length len count limit
    timeout enabled disabled enable mode policy provider method version format prefix env
    region scope scopes issuer audience algorithm alg field label hint prompt min max size
    required pattern regex rules strength date time at seconds ms minutes hours days
    lifetime age duration retries template class kind style text help message msg
    description desc error title placeholder
    """.split()  # noqa: SIM905 (a word list reads better than 90 quoted items)
)
# The shell's working-directory variables contain "PWD" but are paths.
_NOT_SECRET_NAMES: Final = frozenset({"pwd", "oldpwd"})
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NAME_SEPARATORS = re.compile(r"[^a-z0-9]+")


def _name_parts(name: str) -> list[str]:
    return [p for p in _NAME_SEPARATORS.split(_CAMEL_BOUNDARY.sub("_", name).lower()) if p]


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a variable, key, header or flag name says its value is a secret."""
    parts = _name_parts(name)
    if not parts or parts[-1] in _METADATA_SUFFIXES:
        return False
    joined = "".join(parts)
    if joined in _NOT_SECRET_NAMES:
        return False
    for part in parts:
        if part in _SECRET_PARTS or part.endswith(_SECRET_PART_SUFFIXES):
            return True
        if any(word in part for word in _SECRET_WORD_PARTS):
            return True
    return any(compound in joined for compound in _SECRET_COMPOUNDS)


@lru_cache(maxsize=4096)
def _kind_for_name(name: str) -> str:
    joined = "".join(_name_parts(name))
    if "secretaccesskey" in joined or "awssecret" in joined:
        return "aws_secret_access_key"
    return "secret_assignment"


# --------------------------------------------------------------------------- placeholders

_PLACEHOLDER_WORDS: Final = frozenset(
    """
    changeme change_me change-me changeit password passwd secret token example sample dummy
    placeholder redacted test testing todo fixme tbd none null nil undefined true false yes
    no on off empty default bearer basic digest token required optional string str
    """.split()  # noqa: SIM905 (a word list reads better than 90 quoted items)
)
# Templates and references: ${VAR}, {{ secrets.X }}, {token}, %(name)s, %s, #{ruby}.
_TEMPLATE = re.compile(r"\$\{|\{\{|\{%|#\{|\{[A-Za-z_][\w.]*\}|%\(\w*\)[sd]|%[sd]\b")
_ENV_LOOKUP_PREFIXES: Final = ("process.env", "os.environ", "os.getenv", "getenv", "env(")


def _is_placeholder(value: str) -> bool:
    """Obvious non-secrets: empty, already redacted, references, templates, filler."""
    v = value.strip()
    if not v or v.startswith(("[REDACTED:", "$", "<", "%")):
        return True
    low = v.lower()
    if low in _PLACEHOLDER_WORDS or len(set(low)) == 1:  # "xxxx", "****", "...."
        return True
    if low.startswith(("your", *_ENV_LOOKUP_PREFIXES)):
        return True
    if any(word in low for word in ("example", "placeholder", "xxxx", "****", "<your")):
        return True
    return _TEMPLATE.search(v) is not None


# --------------------------------------------------------------------------- NAME=value

_MIN_GENERIC_VALUE = 6
_MAX_NAME = 128
_NAME_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_NAME_START: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NON_NAME_CHAR = re.compile(r"[^A-Za-z0-9_.\-]")
# Lowercase words that every secret name contains (see is_secret_name); only the names
# around these are examined, which keeps NAME=value off the hot path.
_NAME_KEYWORDS: Final = ("secret", "token", "pass", "pwd", "cred", "auth", "key")

_VALUE = (
    r"(?:\"(?P<dq>(?:[^\"\\\r\n]|\\[^\r\n]){0,1024})\""
    r"|'(?P<sq>(?:[^'\\\r\n]|\\[^\r\n]){0,1024})'"
    r"|`(?P<bq>[^`\r\n]{0,1024})`"
    r"|(?P<bare>[^\s\"'`,;&(){}\[\]<>]{1,1024}))"
)
# A type: identifiers joined by ", " or " | " ("dict[str, str] | None"), never prose.
_TYPE_WORD = r"[A-Za-z_][A-Za-z0-9_.\[\]]{0,32}"
_ANNOTATION = f"{_TYPE_WORD}(?:(?:, ?| ?\\| ?){_TYPE_WORD}){{0,4}}"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}")
_ASSIGNMENT = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,127})(?P<close>[\"']?)"
    # a type annotation before "=": `token: str = "…"`
    r"(?:[ \t]{0,16}:[ \t]{0,16}" + _ANNOTATION + r"(?=[ \t]{0,16}=[^=>]))?"
    r"(?P<space>[ \t]{0,16})(?P<op>:=|=>|=(?!=)|:(?![:/]))[ \t]{0,16}" + _VALUE
)
# `--password hunter22`: a flag followed by its value; the value must not be another flag.
_FLAG_VALUE = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,127})[ \t]{1,16}(?=[^\s-])" + _VALUE)
# What may precede a NAME=value at the start of its line (.env, YAML, Dockerfile, shell).
# ("+" / "-" / " ": a line of a unified diff)
_LINE_PREFIX = re.compile(r"[+\- ]?[ \t]*(?:(?:export|set|declare[ \t]+-x|ENV|ARG|-)[ \t]+)?[\"']?")
_NUMERIC = re.compile(r"[0-9][0-9._:\-]*")
# /run/secrets/db, ./creds.json, ~/.config/x: where a secret lives, not the secret. Lowercase
# segments only, since base64 keys can contain "/" too.
_FILE_PATH = re.compile(r"(?:~|\.{1,2})?(?:/[a-z0-9_.\-]+)+/?")
_CODE_REFERENCE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")


def _at_line_start(text: str, start: int) -> bool:
    # At most 64 characters back; the stream redactor keeps more context than that.
    lo = max(0, start - 64)
    breaks = max(text.rfind("\n", lo, start), text.rfind("\r", lo, start))
    if breaks < 0 and lo > 0:
        return False
    return _LINE_PREFIX.fullmatch(text, breaks + 1, start) is not None


def _looks_random(value: str) -> bool:
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    if len(value) >= 12 and has_digit and has_alpha and "_" not in value:
        return True
    return len(value) >= 20 and has_digit and value.lower() != value and value.upper() != value


def _bare_value_is_secret(value: str, followed_by: str, *, env_style: bool) -> bool:
    if followed_by in ("(", "["):  # get_token(), os.environ["X"], params[:password]
        return False
    if _NUMERIC.fullmatch(value) or _FILE_PATH.fullmatch(value):  # timeouts, dates, paths
        return False
    if _CODE_REFERENCE.fullmatch(value) and not _looks_random(value):
        # `password = user_password` is code; `DB_PASSWORD=hunter22` in a .env is not.
        return env_style
    return True


def _value_span(match: re.Match[str]) -> tuple[int, int, bool]:
    for group in ("dq", "sq", "bq"):
        if match[group] is not None:
            return match.start(group), match.end(group), True
    return match.start("bare"), match.end("bare"), False


def _assignment_at(
    text: str, start: int, cands: list[_Candidate], busy: list[tuple[int, int]]
) -> None:
    """Examine the name that starts at `start` (a keyword hit lies inside it)."""
    name = _NAME.match(text, start)
    if name is None or not is_secret_name(name[0]):
        return  # decided before the value is matched: "key=key=…" stays cheap
    opening = text[start - 1] if start > 0 and text[start - 1] in "\"'" else ""
    after_dashes = start >= 2 and text.startswith("--", start - 2)  # a command-line flag
    match = _ASSIGNMENT.match(text, start)
    flag = False
    if match is None or (match["close"] and match["close"] != opening):
        match = _FLAG_VALUE.match(text, start) if after_dashes else None
        flag = True
    if match is None or match["name"] != name[0]:
        return
    busy.append((start - len(opening), match.end()))
    lo, hi, quoted = _value_span(match)
    value = text[lo:hi]
    if len(value.strip()) < _MIN_GENERIC_VALUE or _is_placeholder(value):
        return
    if not quoted:
        # Values on a command line (`--password x`) and in .env / YAML lines are literals.
        env_style = flag or after_dashes
        if not env_style and not match["space"] and match["op"] in ("=", ":"):
            env_style = _at_line_start(text, start)
        if not _bare_value_is_secret(value, text[hi : hi + 1], env_style=env_style):
            return
    cands.append((lo, hi, 2, _kind_for_name(match["name"])))


def _keyword_hits(lowered: str, pos: int) -> list[int]:
    hits: list[int] = []
    for word in _NAME_KEYWORDS:
        i = lowered.find(word, pos)
        while i >= 0:
            hits.append(i)
            i = lowered.find(word, i + 1)
    hits.sort()
    return hits


def _scan_assignments(
    text: str, lowered: str, pos: int, cands: list[_Candidate], busy: list[tuple[int, int]]
) -> None:
    previous_hit = -1
    redacted_until = -1
    for hit in _keyword_hits(lowered, pos):
        # Later hits inside the same run of name characters share its start, and hits inside a
        # value already being redacted change nothing: skipping both keeps inputs such as
        # "passwordpassword…" or "password=password=…" linear.
        if hit < redacted_until:
            continue
        same_run = previous_hit >= 0 and _NON_NAME_CHAR.search(text, previous_hit, hit) is None
        previous_hit = hit
        if same_run:
            continue
        start = hit
        limit = max(0, hit - _MAX_NAME)
        while start > limit and text[start - 1] in _NAME_CHARS:
            start -= 1
        if start == limit and start > 0 and text[start - 1] in _NAME_CHARS:
            continue  # a name longer than any real one
        while start < hit and text[start] not in _NAME_START:
            start += 1  # "--password": the name starts after the dashes
        if start >= pos and text[start] in _NAME_START:
            found = len(cands)
            _assignment_at(text, start, cands, busy)
            if len(cands) > found:
                redacted_until = cands[-1][1]


# --------------------------------------------------------------------------- scanning


def _lowercase_same_length(text: str) -> str:
    # Offsets in the lowered text must match the original; only a few characters ("İ") grow.
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _scan(text: str, pos: int = 0) -> tuple[list[_Candidate], list[tuple[int, int]]]:
    """Candidates to replace in text[pos:], and the raw span of every regex match.

    Text before `pos` is context only (lookbehinds see it). The raw spans tell the stream
    redactor where it must not cut: a match that was rejected still moves the regex on.
    """
    cands: list[_Candidate] = []
    busy: list[tuple[int, int]] = []
    # Every candidate starts at or after `pos` with a trigger or contains a keyword there.
    if len(text) - pos <= _PRECHECK_MAX and text.isascii() and not _PRECHECK.search(text, pos):
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
    _scan_assignments(text, lowered, pos, cands, busy)
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


# For short ASCII text one search decides whether any rule can match at all: it looks for
# every rule's triggers and, case-insensitively, its anchors and the keywords of secret names.
_PRECHECK_MAX: Final = 4096
_PRECHECK = re.compile(
    "|".join(re.escape(t) for rule in _TOKEN_RULES for t in rule.triggers)
    + "|(?i:"
    + "|".join([*_NAME_KEYWORDS, *(rule.anchor for rule in _TOKEN_RULES if rule.anchor)])
    + ")"
)


def _merge(cands: list[_Candidate]) -> list[tuple[int, int, str]]:
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


def _apply(
    text: str, spans: Sequence[tuple[int, int, str]], lo: int, hi: int
) -> tuple[str, list[tuple[int, int, str]]]:
    """text[lo:hi] with `spans` (disjoint, sorted, inside [lo, hi]) replaced by placeholders."""
    pieces: list[str] = []
    at = lo
    for start, end, kind in spans:
        pieces.append(text[at:start])
        pieces.append(placeholder(kind))
        at = end
    pieces.append(text[at:hi])
    return "".join(pieces), list(spans)


def redact_text(text: str) -> RedactionResult:
    """Replace every secret in `text` by ``[REDACTED:<kind>]``; offsets refer to `text`."""
    cands, _ = _scan(text)
    if not cands:
        return RedactionResult(text, ())
    spans = _merge(cands)
    redacted, _ = _apply(text, spans, 0, len(text))
    return RedactionResult(redacted, tuple(Finding(kind, s, e) for s, e, kind in spans))


# --------------------------------------------------------------------------- JSON values


def _redact_secret_string(value: str, name: str, path: JsonPath) -> tuple[str, list[Finding]]:
    """A string under a secret-looking key is replaced whole, whatever its format."""
    if _is_placeholder(value):
        return value, []
    inner = redact_text(value)
    # One recognised token ("ghp_…", "Bearer eyJ…") names the value by what it is.
    kind = inner.findings[0].kind if len(inner.findings) == 1 else _kind_for_name(name)
    return placeholder(kind), [Finding(kind, 0, len(value), path)]


# (source value, container to write the result into, slot in it, path, secret key name or "")
_JsonWork: TypeAlias = tuple[
    JsonValue, "list[JsonValue] | dict[str, JsonValue]", int | str, JsonPath, str
]


def redact_json(value: JsonValue) -> tuple[JsonValue, tuple[Finding, ...]]:
    """Redact every string in a JSON-like value; keys stay, offsets are per string.

    A string directly under a secret-looking key (or in a list under one) is replaced whole.
    The input is not modified. Iterative, so depth is bounded by memory, not the call stack.
    """
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
        self._hard_limit = 4 * max_hold + _PEM_MAX_BODY
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
        if self._pem_open and len(self._pending) < _PEM_MAX_BODY:
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
        cands, busy = _scan(text, base)
        cut = len(text) if final else self._cut(text, base, busy)
        if cut <= base:
            return ""
        spans = [(s, min(e, cut), kind) for s, e, kind in _merge(cands) if s < cut]
        out, _ = _apply(text, spans, base, cut)
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
