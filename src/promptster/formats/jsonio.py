"""Canonical JSON and JSON parsing with limits, for everything Promptster signs or reads.

Canonical form (the contract every writer and verifier relies on):
- UTF-8, no byte-order mark;
- object keys sorted by their Unicode code points, no duplicate keys;
- no whitespace outside strings (`,` and `:` separators);
- strings escaped as Python's `json` does with `ensure_ascii=False`: `"` `\\` and control
  characters escaped, everything else literal; lone surrogates are rejected;
- numbers: integers in decimal, floats in their shortest round-trip repr; NaN and infinity
  are rejected.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from promptster.errors import FormatError

# JSON values as they come out of `json.loads`.
JsonValue = Any
JsonObject = dict[str, Any]

MAX_DEPTH = 64
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def _fast_encoder() -> Callable[[JsonValue], str]:
    """`_encoder.encode`, minus its per-call set-up: CPython's C encoder, built once.

    JSONEncoder.encode builds exactly this encoder on every call (plus a cycle check that
    parsed JSON does not need); at 100,000 lines per bundle the set-up is worth saving.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (e.g. PyPy): the same output, the slow way
        return _encoder.encode
    chunks = make(
        None, _encoder.default, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    return lambda value: "".join(chunks(value, 0))


canonical_text: Callable[[JsonValue], str] = _fast_encoder()
"""The canonical form as text, for values parsed from JSON (no cycle check; raises ValueError
or TypeError where `canonical_json` raises FormatError). `verify` compares every line with it."""


def canonical_json(value: JsonValue) -> bytes:
    """Encode `value` in canonical form. Raises FormatError for values JSON cannot carry."""
    try:
        return _encoder.encode(value).encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError) as exc:
        raise FormatError(f"cannot encode as canonical JSON: {exc}") from exc


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise FormatError(f"duplicate key {key!r} in JSON object")
            seen.add(key)
    return result


def _reject_constant(name: str) -> None:
    raise FormatError(f"{name} is not a JSON value")


def json_depth(value: JsonValue) -> int:
    """Nesting depth, computed iteratively (a level at a time) so hostile input cannot exhaust
    the stack; only containers are queued, so a big flat document is cheap."""
    depth = 0
    level = [value] if isinstance(value, dict | list) else []
    while level:
        depth += 1
        below: list[JsonValue] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            below.extend(child for child in children if isinstance(child, dict | list))
        level = below
    return depth


def loads_limited(
    data: bytes | str,
    *,
    what: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    shape: Callable[[JsonValue], int] | None = None,
) -> JsonValue:
    """Parse untrusted JSON with a size cap, a nesting cap and duplicate-key rejection.

    `shape(value)`: how many containers of the value the caller's expected shape accounts
    for, all within `max_depth` levels (count only what is there). Each container of the value
    is one bracket of the text, outside strings: when the text holds no more brackets than
    that, there is no other container, so the nesting walk is skipped (same outcome)."""
    if len(data) > max_bytes:
        raise FormatError(f"{what} is {len(data):,} bytes; the limit is {max_bytes:,}")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"{what} is not valid UTF-8 (byte {exc.start})") from exc
    else:
        text = data
    try:
        value = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except RecursionError as exc:
        raise FormatError(f"{what} is nested too deeply") from exc
    except FormatError as exc:
        raise FormatError(f"{what} is not valid JSON: {exc.message}") from exc
    except json.JSONDecodeError as exc:
        raise FormatError(f"{what} is not valid JSON: {exc.msg} at char {exc.pos}") from exc
    # Counting brackets is cheap (C speed); only walk the value when it could be too deep.
    brackets = text.count("{") + text.count("[")
    if (
        brackets > max_depth
        and (shape is None or shape(value) < brackets)
        and json_depth(value) > max_depth
    ):
        raise FormatError(f"{what} is nested deeper than {max_depth} levels")
    return value
