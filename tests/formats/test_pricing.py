"""The price table: longest-prefix match, costs, and clear errors for a bad override file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptster.errors import FormatError
from promptster.formats.pricing import TokenUsage, default_price_table, load_price_table


def test_longest_prefix_wins() -> None:
    table = default_price_table()
    assert table.price_for("gpt-5-mini-2025-08-07") == table.models["gpt-5-mini"]
    assert table.price_for("GPT-5") == table.models["gpt-5"]
    assert table.price_for("claude-sonnet-4-5-20250929") == table.models["claude-sonnet-4"]


def test_cost_counts_every_kind_of_token() -> None:
    table = default_price_table()
    usage = TokenUsage(
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cache_write_tokens=1_000_000,
        cache_read_tokens=1_000_000,
    )
    assert table.cost_usd("claude-sonnet-4", usage) == pytest.approx(3 + 15 + 3.75 + 0.3)
    # No cache-write price: cache writes cost the input price.
    assert table.cost_usd("gpt-4o", usage) == pytest.approx(2.5 + 10 + 2.5 + 1.25)


def test_unknown_model_is_unpriced_not_guessed() -> None:
    assert default_price_table().cost_usd("my-local-llama", TokenUsage(10, 10)) is None


def test_override_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"version": 1, "models": {"m": {"input": 1, "output": 2}}}))
    table = load_price_table(path)
    assert table.cost_usd("m-1", TokenUsage(1_000_000, 1_000_000)) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"version": 9, "models": {"m": {"input": 1, "output": 1}}}', "unsupported version"),
        ('{"version": 1, "models": {}}', "non-empty"),
        ('{"version": 1, "models": {"m": {"input": -1, "output": 1}}}', "non-negative"),
        ('{"version": 1, "models": {"m": {"input": true, "output": 1}}}', "non-negative"),
        ('{"version": 1, "models": {"m": 3}}', "expected an object"),
    ],
)
def test_bad_override_file_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(FormatError, match=message):
        load_price_table(path)


def test_missing_override_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="cannot read price table"):
        load_price_table(tmp_path / "absent.json")
