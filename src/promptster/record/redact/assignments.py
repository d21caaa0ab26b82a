"""Secret names, obvious non-secret values, and NAME=value assignments (see redact.py).

A name is secret when its words say so (``DB_PASSWORD``, ``apiKey``, ``X-Auth-Token``); only
the value is replaced, and not when it is plainly not a secret: a placeholder, a reference to
an environment variable, a call, a number, a path, or code such as ``password = user_password``.
Only names around keyword hits are examined, which keeps this off the hot path.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final, TypeAlias

# (start, end, priority, kind) of a span to replace, before overlapping ones are merged.
Candidate: TypeAlias = tuple[int, int, int, str]


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
def kind_for_name(name: str) -> str:
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


def is_placeholder(value: str) -> bool:
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
NAME_KEYWORDS: Final = ("secret", "token", "pass", "pwd", "cred", "auth", "key")

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
    text: str, start: int, cands: list[Candidate], busy: list[tuple[int, int]]
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
    if len(value.strip()) < _MIN_GENERIC_VALUE or is_placeholder(value):
        return
    if not quoted:
        # Values on a command line (`--password x`) and in .env / YAML lines are literals.
        env_style = flag or after_dashes
        if not env_style and not match["space"] and match["op"] in ("=", ":"):
            env_style = _at_line_start(text, start)
        if not _bare_value_is_secret(value, text[hi : hi + 1], env_style=env_style):
            return
    cands.append((lo, hi, 2, kind_for_name(match["name"])))


def _keyword_hits(lowered: str, pos: int) -> list[int]:
    hits: list[int] = []
    for word in NAME_KEYWORDS:
        i = lowered.find(word, pos)
        while i >= 0:
            hits.append(i)
            i = lowered.find(word, i + 1)
    hits.sort()
    return hits


def scan_assignments(
    text: str, lowered: str, pos: int, cands: list[Candidate], busy: list[tuple[int, int]]
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
