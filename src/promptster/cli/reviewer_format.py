"""Shared pieces of the reviewer commands: plain aligned columns for listings, and the
`--reviewer-key` / `--require-issuer` options of verify, review and score, `--prices` of
review and score, and the hidden-test options of review, score and cohort."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _parse_keys(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    from promptster.reviewer.issuer import parse_reviewer_key

    return tuple(parse_reviewer_key(value) for value in values)


def reviewer_key_options(command: F) -> F:
    """`--reviewer-key FILE|FINGERPRINT` (repeatable) and `--require-issuer`."""
    command = click.option(
        "--require-issuer",
        is_flag=True,
        help="Fail a bundle whose pack issuer cannot be compared with any of your reviewer "
        "keys (for CI).",
    )(command)
    return click.option(
        "--reviewer-key",
        "reviewer_keys",
        multiple=True,
        metavar="FILE|FINGERPRINT",
        callback=_parse_keys,
        help="A reviewer key whose packs you trust: its sha256 fingerprint, or a reviewer.json "
        "/ public key file. Your own identity on this machine is always trusted.",
    )(command)


def _load_prices(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Any:
    if value is None:
        return None
    from promptster.analysis.prices import Prices

    return Prices.load(value)  # a bad file is a FormatError: exit 2, nothing scored


def prices_option(command: F) -> F:
    """`--prices FILE`: the reviewer's price table instead of the built-in one."""
    return click.option(
        "--prices",
        "prices",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        metavar="FILE",
        callback=_load_prices,
        help="Price table (JSON, USD per million tokens) for totalCostUsd instead of the "
        "built-in one; see docs/token-cost.md.",
    )(command)


def hidden_tests_options(command: F) -> F:
    """`--rerun-tests`, `--unsafe-no-sandbox` and `--hidden-tests-at final|checkpoints`."""
    command = click.option(
        "--hidden-tests-at",
        "hidden_at",
        type=click.Choice(["final", "checkpoints"]),
        default="final",
        show_default=True,
        help="Run the hidden tests on the final snapshot only, or also at every checkpoint and "
        "where the candidate's own tests went green (at most 20 runs per bundle).",
    )(command)
    command = click.option(
        "--unsafe-no-sandbox",
        is_flag=True,
        help="Run hidden tests without bubblewrap: the candidate's code runs with your rights.",
    )(command)
    return click.option(
        "--rerun-tests", is_flag=True, help="Run the hidden tests again, even with a stored result."
    )(command)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is never padded."""
    widths = [len(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = []
    for row in [list(headers), *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
