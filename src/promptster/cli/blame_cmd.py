"""`promptster blame`: who wrote each line of a bundle's final code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from promptster.cli.output import err_console, print_json


@click.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.argument("file", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the authorship as JSON on stdout.")
def blame(bundle: Path, file: str | None, as_json: bool) -> None:
    """Show each line of the final code with its author (AI, human, AI then human, starter,
    unknown), the AI tool and the event that wrote it, like `git blame`. With FILE, that
    file only (a path of the final snapshot).

    Exit status: 0 shown, 1 the bundle failed verification, 2 no such or unreadable
    bundle, or no such FILE.
    """
    from promptster.analysis.blame import blame_bundle, format_text

    result = blame_bundle(bundle, file)
    if not result.available:
        err_console().print(
            "[yellow]this bundle has no line authorship[/] (authorship.json): it was written "
            "before promptster recorded it, or it could not be computed at submit"
        )
    if as_json:
        print_json(result.to_json_obj())
    else:
        sys.stdout.write(format_text(result))
