"""Token prices: what a model's tokens cost, from one data file (`data/prices.json`).

The recorder uses it to enforce an assessment's `tokenBudgetUsd`; the analysis uses it for
`totalCostUsd`. A model name matches the table's longest prefix (`claude-sonnet-4-5-20250929`
→ `claude-sonnet-4`); an unknown model costs nothing and is reported as unpriced, never guessed.
A reviewer overrides the table with a file of the same shape (`load_price_table(path)`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from promptster.errors import FormatError

PRICE_TABLE_VERSION = 1
_PER = 1_000_000  # prices are per million tokens


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens; cache prices default to the input price when a provider has none."""

    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0


@dataclass(frozen=True, slots=True)
class PriceTable:
    as_of: str
    models: dict[str, ModelPrice]

    def price_for(self, model: str) -> ModelPrice | None:
        """The entry whose name is the longest prefix of `model` (case-insensitive), if any."""
        name = model.strip().lower()
        best: str | None = None
        for prefix in self.models:
            if name.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        return self.models[best] if best is not None else None

    def cost_usd(self, model: str, usage: TokenUsage) -> float | None:
        """The cost of `usage` on `model`, or None when the model is not in the table."""
        price = self.price_for(model)
        if price is None:
            return None
        cache_write = price.cache_write if price.cache_write is not None else price.input
        cache_read = price.cache_read if price.cache_read is not None else price.input
        return (
            usage.input_tokens * price.input
            + usage.output_tokens * price.output
            + usage.cache_write_tokens * cache_write
            + usage.cache_read_tokens * cache_read
        ) / _PER


def parse_price_table(document: Any, *, origin: str = "price table") -> PriceTable:
    """Check and read a price table document; FormatError says what is wrong and where."""
    if not isinstance(document, dict):
        raise FormatError(f"{origin}: expected a JSON object")
    version = document.get("version")
    if version != PRICE_TABLE_VERSION:
        raise FormatError(
            f"{origin}: unsupported version {version!r} (this Promptster reads version "
            f"{PRICE_TABLE_VERSION})"
        )
    models = document.get("models")
    if not isinstance(models, dict) or not models:
        raise FormatError(f"{origin}: 'models' must be a non-empty object of model → prices")
    table: dict[str, ModelPrice] = {}
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise FormatError(f"{origin}: model {name!r}: expected an object of prices")
        table[str(name).lower()] = ModelPrice(
            input=_price(entry, "input", name, origin, required=True) or 0.0,
            output=_price(entry, "output", name, origin, required=True) or 0.0,
            cache_write=_price(entry, "cacheWrite", name, origin, required=False),
            cache_read=_price(entry, "cacheRead", name, origin, required=False),
        )
    as_of = document.get("asOf")
    return PriceTable(as_of=as_of if isinstance(as_of, str) else "", models=table)


def _price(
    entry: dict[str, Any], key: str, model: str, origin: str, *, required: bool
) -> float | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FormatError(
            f"{origin}: model {model!r}: {key!r} must be a non-negative number (USD per "
            "million tokens)"
        )
    return float(value)


def default_price_table() -> PriceTable:
    """The table shipped with this Promptster."""
    text = resources.files("promptster.formats").joinpath("data/prices.json").read_text("utf-8")
    return parse_price_table(json.loads(text), origin="built-in price table")


def load_price_table(path: Path | None = None) -> PriceTable:
    """The reviewer's table at `path`, or the built-in one; FormatError on a bad file."""
    if path is None:
        return default_price_table()
    try:
        raw = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot read price table {path}: {exc}") from exc
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FormatError(f"price table {path} is not valid JSON: {exc}") from exc
    return parse_price_table(document, origin=f"price table {path}")
