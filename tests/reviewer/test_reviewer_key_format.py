"""Candidate keys: PST-XXXX-XXXX, Crockford base32, a check character that catches typos."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptster.issue.keys import (
    ALPHABET,
    CandidateKey,
    KeyTypo,
    MalformedKey,
    check_symbol,
    generate_key,
    parse_key,
)

KEY_SHAPE = re.compile(r"PST-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
data_symbols = st.text(alphabet=ALPHABET, min_size=7, max_size=7)


def make(data: str) -> CandidateKey:
    return CandidateKey(data + check_symbol(data))


def test_generated_keys_have_the_documented_shape_and_parse_back() -> None:
    keys = {generate_key() for _ in range(200)}
    assert len(keys) == 200  # from a CSPRNG: no repeats in a small sample
    for key in keys:
        assert KEY_SHAPE.fullmatch(key.text)
        assert parse_key(key.text) == key


def test_input_is_case_insensitive_and_folds_look_alikes() -> None:
    key = make("0A1B0C1")
    assert key.text.startswith("PST-0A1B-0C1")
    spelled = key.text.lower().replace("0", "o").replace("1", "l")
    assert parse_key(spelled) == key
    assert parse_key(key.text.replace("1", "I")) == key
    assert parse_key("  " + key.text.replace("-", " ") + "\n") == key
    assert parse_key("pst" + key.body) == key


@given(data_symbols, st.integers(0, 7), st.sampled_from(ALPHABET))
def test_every_single_symbol_typo_is_caught(data: str, position: int, symbol: str) -> None:
    key = make(data)
    if key.body[position] == symbol:
        return
    typo = key.body[:position] + symbol + key.body[position + 1 :]
    with pytest.raises(KeyTypo, match="this key has a typo"):
        parse_key("PST-" + typo)


@given(data_symbols, st.integers(0, 6), st.integers(1, 2))
def test_swapped_symbols_are_caught(data: str, position: int, distance: int) -> None:
    body = make(data).body
    other = min(position + distance, 7)
    if body[position] == body[other]:
        return
    swapped = list(body)
    swapped[position], swapped[other] = swapped[other], swapped[position]
    with pytest.raises(KeyTypo):
        parse_key("PST" + "".join(swapped))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a Promptster candidate key"),
        ("hello", "not a Promptster candidate key"),
        ("PSE-A3BZ-Q7NP", "not a Promptster candidate key"),  # a Teams key, not ours
        ("PST-A3BZ-Q7N", "it has 7 symbols after PST"),
        ("PST-A3BZ-Q7NPX", "it has 9 symbols after PST"),
        ("PST-A3BZ-Q7U!", "'!', 'U' cannot appear in a key"),
    ],
)
def test_malformed_keys_are_rejected_with_a_specific_message(text: str, message: str) -> None:
    with pytest.raises(MalformedKey, match=re.escape(message)) as caught:
        parse_key(text)
    assert caught.value.exit_code == 2


def test_masked_form_hides_the_second_group() -> None:
    key = make("ABCDEFG")
    assert key.masked == "PST-ABCD-****"
    assert key.secret() == key.text.encode()
