"""Writing the rows of `promptster score`: table, json, jsonl, csv or parquet, streamed
where the format allows (table and parquet are built at the end)."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from promptster.analysis.catalog import CATALOG
from promptster.analysis.score_columns import COLUMN_TYPES, COLUMNS, PRIVATE_PREFIX

Format = Literal["table", "json", "jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("table", "json", "jsonl", "csv", "parquet")
# The columns `--format table` shows after the bundle's name.
_TABLE = ("verified", *(s.name for s in CATALOG if s.score_table))


@dataclass
class ScoreSummary:
    total: int = 0
    failed: int = 0


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_rows(
    rows: Iterator[dict[str, Any]],
    fmt: Format,
    out: IO[bytes],
    *,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> ScoreSummary:
    """Stream rows to `out` in format `fmt` (table and parquet are built at the end)."""
    summary = ScoreSummary()

    def counted() -> Iterator[dict[str, Any]]:
        for row in rows:
            summary.total += 1
            summary.failed += 0 if row["verified"] else 1
            if on_row is not None:
                on_row(row)
            yield row

    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        if fmt == "jsonl":
            for row in counted():
                text.write(json.dumps(_public(row), ensure_ascii=False, allow_nan=False) + "\n")
        elif fmt == "json":
            text.write("[")
            for index, row in enumerate(counted()):
                text.write(
                    ("," if index else "")
                    + "\n  "
                    + json.dumps(_public(row), ensure_ascii=False, allow_nan=False)
                )
            text.write("\n]\n")
        elif fmt == "csv":
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(COLUMNS)
            for row in counted():
                writer.writerow([_csv_value(row[c]) for c in COLUMNS])
        elif fmt == "table":
            _write_table(list(counted()), text)
        else:
            _write_parquet(counted(), out)
    finally:
        text.detach()
    return summary


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith(PRIVATE_PREFIX)}


def _write_table(rows: list[dict[str, Any]], text: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    table.add_column("bundle")
    table.add_column("candidate")
    for column in _TABLE:
        table.add_column(column, justify="right")
    for row in rows:
        cells = [Path(row["path"]).name, row.get("candidateName") or "–"]
        for column in _TABLE:
            value = row[column]
            if column == "verified":
                cells.append("yes" if value else f"NO: {row['error']}")
            elif isinstance(value, float):
                cells.append(f"{value:.3f}")
            else:
                cells.append("–" if value is None else str(value))
        table.add_row(*cells)
    Console(file=text, width=200, highlight=False, color_system=None).print(table)


def _write_parquet(rows: Iterator[dict[str, Any]], out: IO[bytes]) -> None:
    import duckdb

    with tempfile.TemporaryDirectory(prefix="promptster-score-") as tmp:
        staged, result = Path(tmp) / "rows.jsonl", Path(tmp) / "rows.parquet"
        with staged.open("w", encoding="utf-8") as handle:
            for row in rows:
                body = {c: row[c] for c in COLUMNS}
                handle.write(json.dumps(body, ensure_ascii=False, allow_nan=False) + "\n")
        spec = ", ".join(f"{c!r}: '{COLUMN_TYPES[c]}'" for c in COLUMNS)
        con = duckdb.connect()
        try:
            source, target = (str(p).replace("'", "''") for p in (staged, result))
            con.execute(
                f"COPY (SELECT * FROM read_json('{source}', format = 'newline_delimited', "
                f"columns = {{{spec}}})) TO '{target}' (FORMAT parquet)"
            )
        finally:
            con.close()
        with result.open("rb") as handle:
            while block := handle.read(1 << 20):
                out.write(block)
