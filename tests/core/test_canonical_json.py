"""Canonical JSON (the bytes Promptster hashes and signs) and JSON parsing with limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptster.errors import FormatError
from promptster.formats.jsonio import MAX_DEPTH, canonical_json, loads_limited

# Every JSON value canonical JSON can carry: no NaN/infinity, no lone surrogates.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"]))
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), children, max_size=5)
    ),
    max_leaves=30,
)


@given(json_values)
def test_round_trip(value: Any) -> None:
    encoded = canonical_json(value)
    decoded = loads_limited(encoded, what="value")
    assert canonical_json(decoded) == encoded  # stable: decode + encode is the identity
    assert decoded == value or encoded == canonical_json(value)  # -0.0 == 0.0 etc.


@given(json_values)
def test_form(value: Any) -> None:
    encoded = canonical_json(value)
    text = encoded.decode("utf-8")  # UTF-8, no BOM
    assert not text.startswith("\ufeff")
    assert "\n" not in text  # one line: newlines inside strings are escaped
    assert json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == text


@given(st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), st.integers()))
def test_keys_sorted_by_code_point(value: dict[str, int]) -> None:
    decoded = json.loads(canonical_json(value))
    assert list(decoded) == sorted(value)


def test_exact_bytes() -> None:
    value = {"b": [1, 2.5, None, True], "a": 'é\n"\\\u0001', "\U0001f600": {}, "\uffff": 0}
    assert (
        canonical_json(value)
        == ('{"a":"é\\n\\"\\\\\\u0001","b":[1,2.5,null,true],"\uffff":0,"\U0001f600":{}}').encode()
    )


def test_key_order_is_code_point_not_utf16() -> None:
    # RFC 8785 (JCS) sorts by UTF-16 code units and would put U+1F600 first; we do not.
    assert canonical_json({"\U0001f600": 1, "\uffff": 2}).index("\uffff".encode()) == 2


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), -float("inf"), {"a": float("nan")}, "\ud800", {1j: 1}]
)
def test_values_json_cannot_carry_are_rejected(value: Any) -> None:
    with pytest.raises(FormatError, match="cannot encode as canonical JSON"):
        canonical_json(value)


def test_integers_and_floats() -> None:
    assert (
        canonical_json([10**30, -1, 0.1, 1e16, 1.0, -0.0])
        == b"[1000000000000000000000000000000,-1,0.1,1e+16,1.0,-0.0]"
    )


class TestLoadsLimited:
    def test_size_cap(self) -> None:
        with pytest.raises(FormatError, match="x is 11 bytes; the limit is 10"):
            loads_limited(b'"123456789"', what="x", max_bytes=10)

    def test_depth_cap(self) -> None:
        ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
        assert loads_limited(ok, what="x") is not None
        too_deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
        with pytest.raises(FormatError, match="nested deeper than 64 levels"):
            loads_limited(too_deep, what="x")

    def test_depth_counts_objects_too(self) -> None:
        nested = '{"a":' * 70 + "1" + "}" * 70
        with pytest.raises(FormatError, match="nested deeper"):
            loads_limited(nested, what="x")

    def test_brackets_inside_strings_do_not_count(self) -> None:
        assert loads_limited('["' + "[" * 500 + '"]', what="x") == ["[" * 500]

    def test_stack_exhaustion_is_a_format_error(self) -> None:
        with pytest.raises(FormatError, match="nested too deeply"):
            loads_limited(b"[" * 200_000 + b"]" * 200_000, what="x", max_bytes=10**6)

    def test_duplicate_keys(self) -> None:
        with pytest.raises(FormatError, match="duplicate key 'a'"):
            loads_limited('{"a":1,"b":{"a":2},"a":3}', what="x")
        assert loads_limited('{"a":{"a":1}}', what="x") == {"a": {"a": 1}}

    @pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
    def test_non_json_constants(self, constant: str) -> None:
        with pytest.raises(FormatError, match=f"{constant} is not a JSON value"):
            loads_limited(f"[{constant}]", what="x")

    def test_not_utf8(self) -> None:
        with pytest.raises(FormatError, match=r"x is not valid UTF-8 \(byte 2\)"):
            loads_limited(b'["\xff"]', what="x")

    def test_invalid_json_names_the_input(self) -> None:
        with pytest.raises(FormatError, match=r"manifest\.json is not valid JSON"):
            loads_limited(b"{", what="manifest.json")

    @given(json_values)
    def test_accepts_every_canonical_value(self, value: Any) -> None:
        assert canonical_json(loads_limited(canonical_json(value), what="x")) == canonical_json(
            value
        )


@given(json_values)
def test_the_fast_text_form_is_the_canonical_form(value: Any) -> None:
    """`canonical_text` (what verify compares every line with) writes what canonical_json does."""
    from promptster.formats.jsonio import canonical_text

    assert canonical_text(value).encode("utf-8") == canonical_json(value)
