"""The price table the cost signals use, as a DuckDB table.

The SQL of the `cost` family (sql/signals_cost.sql) cannot read a Python object, so
`install_prices` writes the table into the temporary table `_prices` (one row per model
prefix, USD per million tokens) and sets the variables the family reads: where the table came
from, its date, and the catalog's AI tool names (for `toolsNotAllowed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from promptster.errors import FormatError
from promptster.formats.pricing import PriceTable, default_price_table, load_price_table
from promptster.formats.tools import TOOL_NAMES


@dataclass(frozen=True)
class Prices:
    """A price table and where it came from (`built-in` or the reviewer's file)."""

    table: PriceTable
    source: str = "built-in"

    @classmethod
    def load(cls, path: Path | None = None) -> Prices:
        """The reviewer's table at `path`, or the built-in one; FormatError (exit 2) when the
        file cannot be read or is not a price table."""
        if path is None:
            return cls(default_price_table())
        try:
            return cls(load_price_table(path), str(path))
        except FormatError as exc:
            raise FormatError(
                exc.message,
                'a price table is {"version": 1, "models": {"<model prefix>": {"input": USD, '
                '"output": USD, "cacheWrite": USD, "cacheRead": USD}}} per million tokens '
                "(docs/token-cost.md)",
            ) from None


def install_prices(con: duckdb.DuckDBPyConnection, prices: Prices | None = None) -> None:
    chosen = prices or Prices.load()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _prices (prefix VARCHAR, input DOUBLE, output DOUBLE, "
        "cache_write DOUBLE, cache_read DOUBLE)"
    )
    models = chosen.table.models
    if models:  # one statement: executemany pays a round trip per row
        con.execute(
            "INSERT INTO _prices SELECT unnest(?::VARCHAR[]), unnest(?::DOUBLE[]), "
            "unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[])",
            [
                list(models),
                [p.input for p in models.values()],
                [p.output for p in models.values()],
                [p.cache_write for p in models.values()],
                [p.cache_read for p in models.values()],
            ],
        )
    con.execute("SET VARIABLE ps_prices_as_of = ?", [chosen.table.as_of or None])
    con.execute("SET VARIABLE ps_prices_source = ?", [chosen.source])
    con.execute("SET VARIABLE ps_ai_tools = ?::VARCHAR[]", [list(TOOL_NAMES)])
