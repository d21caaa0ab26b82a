"""`promptster assessment orientation`: which way each metric ranks in one assessment's cohort.

Thin click layer over promptster.reviewer.orientation (a reviewer-workspace setting).
"""

from __future__ import annotations

import click
from rich.markup import escape

from promptster.cli.output import out_console, print_json


@click.command("orientation")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@click.argument("items", nargs=-1, metavar="[METRIC=higher|lower|neutral]...")
@click.option("--reset", is_flag=True, help="Back to the catalog's orientation first.")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def orientation(assessment_ref: str, items: tuple[str, ...], reset: bool, as_json: bool) -> None:
    """Show or set which way each metric ranks in ASSESSMENT's cohort.

    With no METRIC=... it shows the table. `neutral` stops ranking a metric; `higher` or
    `lower` sets which value ranks higher, for any numeric signal. The setting is kept in the
    reviewer workspace and used by `cohort`, the cohort page, reports and `analytics`.
    """
    from promptster.reviewer.orientation import set_orientation
    from promptster.reviewer.store import Workspace

    with Workspace.open(wait=30.0) as workspace:
        assessment, rows = set_orientation(workspace, assessment_ref, items, reset=reset)
    if as_json:
        print_json({"assessmentId": assessment, "orientation": [r.to_json_obj() for r in rows]})
        return
    console = out_console()
    console.print(f"assessment {escape(assessment)}")
    for row in rows:
        mark = f"  (default {row.default})" if row.overridden else ""
        console.print(f"  {row.metric:<30}{row.orientation}{mark}")
