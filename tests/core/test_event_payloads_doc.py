"""docs/event-kinds.md and the payload types (formats/payloads.py) say the same: every typed key
is documented, every documented key is typed, and *opt* marks exactly the optional ones."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from promptster.formats.events import KNOWN_KINDS
from promptster.formats.payloads import COMMON, NESTED, PAYLOADS

DOC = Path(__file__).resolve().parents[2] / "docs" / "event-kinds.md"
# A key is a backticked name outside parentheses; `*opt*` right after it marks it optional.
_KEY = re.compile(r"`([A-Za-z][A-Za-z0-9]*)`( \*opt\*)?")
_PARENS = re.compile(r"\([^()]*\)")


def _rows() -> dict[str, dict[str, bool]]:
    """{first cell: {key: optional}} of every table row in the document."""
    rows: dict[str, dict[str, bool]] = {}
    for line in DOC.read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 2 or set(cells[1]) <= {"-"}:
            continue
        text = cells[1]
        while _PARENS.search(text):  # explanations and example values are not keys
            text = _PARENS.sub("", text)
        rows[cells[0]] = {name: bool(opt) for name, opt in _KEY.findall(text)}
    return rows


def _typed(payload: type[Any], *, common: bool = False) -> dict[str, bool]:
    keys = dict.fromkeys(payload.__required_keys__, False)
    keys |= dict.fromkeys(payload.__optional_keys__, True)
    if not common:
        for key in COMMON.__optional_keys__ | COMMON.__required_keys__:
            keys.pop(key, None)
    return keys


def _documented(kind: str) -> dict[str, bool]:
    for cell, keys in _rows().items():
        if f"`{kind}`" in cell.split(" / ") or cell == f"`{kind}`":
            return keys
    raise AssertionError(f"docs/event-kinds.md has no row for {kind!r}")


def test_every_known_kind_has_a_payload_type() -> None:
    assert set(PAYLOADS) == KNOWN_KINDS


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_the_documented_keys_are_the_typed_keys(kind: str) -> None:
    documented, typed = _documented(kind), _typed(PAYLOADS[kind])
    assert sorted(set(typed) - set(documented)) == [], "typed but not documented"
    assert sorted(set(documented) - set(typed)) == [], "documented but not typed"
    assert {k for k, opt in documented.items() if opt} == {k for k, opt in typed.items() if opt}


def test_the_keys_any_event_may_carry_are_documented() -> None:
    assert _rows()["*any kind*"] == _typed(COMMON, common=True)


@pytest.mark.parametrize("where", sorted(NESTED))
def test_nested_objects_are_documented(where: tuple[str, str]) -> None:
    kind, field = where
    documented = _rows()[f"`{kind}.{field}`"]
    assert documented == _typed(NESTED[where], common=True)


def test_the_parser_sees_keys_and_skips_explanations() -> None:
    keys = _rows()["`session_end`"]
    assert keys == {"reason": False, "snapshot": True, "detail": True}  # not `submit`, `auto`…
