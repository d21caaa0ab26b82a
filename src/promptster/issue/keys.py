"""Candidate keys: `PST-XXXX-XXXX`, Crockford base32 with a check character.

A key is 8 symbols of Crockford's base32 alphabet (0-9 and A-Z without I, L, O and U): 7 random
symbols (35 bits from the operating system's CSPRNG) and 1 check symbol. Input is
case-insensitive, hyphens and spaces are ignored, and the look-alikes O→0 and I/L→1 are folded,
as Crockford's decoding rules say.

The check symbol makes the 8 symbol values v1..v8, read as elements of GF(32), satisfy
    sum(v_i * x^(8 - i)) = 0        (arithmetic modulo x^5 + x^2 + 1)
so every single mistyped symbol, every swap of two adjacent symbols and every swap of two
symbols one apart is detected (x, x + 1 and x^2 + 1 are all non-zero). The check is computed
Horner-style: h = h * x + v for each symbol.

This module imports nothing heavy: the candidate's `start` path uses it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from promptster.errors import InputError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "PST"
DATA_SYMBOLS = 7
BODY_SYMBOLS = DATA_SYMBOLS + 1
_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}
_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1"})
_POLY = 0b100101  # x^5 + x^2 + 1, irreducible over GF(2)


class MalformedKey(InputError):
    """The text is not shaped like a candidate key at all."""


class KeyTypo(InputError):
    """The text is shaped like a key but its check character does not match."""


def _times_x(value: int) -> int:
    value <<= 1
    if value & 0b100000:
        value ^= _POLY
    return value


def _horner(values: list[int]) -> int:
    acc = 0
    for value in values:
        acc = _times_x(acc) ^ value
    return acc


def check_symbol(data: str) -> str:
    """The symbol that completes the 7 data symbols `data` into a valid key body."""
    return ALPHABET[_times_x(_horner([_VALUES[s] for s in data]))]


@dataclass(frozen=True, order=True)
class CandidateKey:
    """A well-formed key. `body` is the 8 canonical symbols (data + check), no prefix."""

    body: str

    @property
    def text(self) -> str:
        return f"{PREFIX}-{self.body[:4]}-{self.body[4:]}"

    @property
    def masked(self) -> str:
        """For logs and lists that should not show the whole key."""
        return f"{PREFIX}-{self.body[:4]}-****"

    def secret(self) -> bytes:
        """The bytes that are hashed: the canonical text, so every spelling hashes the same."""
        return self.text.encode("ascii")

    def __str__(self) -> str:
        return self.text


def generate_key() -> CandidateKey:
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_SYMBOLS))
    return CandidateKey(data + check_symbol(data))


def parse_key(text: str) -> CandidateKey:
    """Parse what a person typed. Raises MalformedKey or KeyTypo with a message to show."""
    shown = text.strip()
    if len(shown) > 64:
        shown = shown[:64] + "…"
    compact = "".join(text.split()).replace("-", "").upper()
    example = "keys look like PST-XXXX-XXXX (letters and digits)"
    if not compact.startswith(PREFIX):
        raise MalformedKey(f"{shown!r} is not a Promptster candidate key", example)
    body = compact[len(PREFIX) :].translate(_FOLD)
    if len(body) != BODY_SYMBOLS:
        raise MalformedKey(
            f"{shown!r} is not a Promptster candidate key: it has {len(body)} symbols after "
            f"PST, a key has {BODY_SYMBOLS}",
            example,
        )
    bad = sorted({symbol for symbol in body if symbol not in _VALUES})
    if bad:
        raise MalformedKey(
            f"{shown!r} is not a Promptster candidate key: {', '.join(map(repr, bad))} "
            "cannot appear in a key",
            "keys use the digits 0-9 and the letters A-Z except I, L, O and U",
        )
    if _horner([_VALUES[s] for s in body]) != 0:
        raise KeyTypo(
            f"this key has a typo: {PREFIX}-{body[:4]}-{body[4:]} is not a key that was issued",
            "compare it with your invite symbol by symbol (0 and O, 1 and I are the same)",
        )
    return CandidateKey(body)


def is_key_like(text: str) -> bool:
    """True when `text` looks meant as a key (starts with PST-), typo or not."""
    return text.strip().upper().startswith(PREFIX + "-")
