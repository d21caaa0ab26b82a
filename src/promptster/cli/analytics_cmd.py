"""`promptster analytics`: the funnel, completion, signal spreads, strategy tiers and top
candidates across every assessment of the reviewer workspace.

Thin click layer over promptster.reviewer.analytics (and report.analytics_page for -o).
An empty or missing workspace gives an empty but valid result (exit 0).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from promptster.cli.output import err_console, out_console, print_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the analytics as JSON.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a static page here (written atomically).",
)
@click.option(
    "--top",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="How many top candidates to list.",
)
def analytics(as_json: bool, output: Path | None, top: int) -> None:
    """Analytics across assessments: per assessment the funnel (keys issued → redeemed →
    submitted → reviewed → decided), completion rate, median time to submit, signal spreads
    and strategy tiers; and the top candidates across assessments."""
    from promptster.reviewer.analytics import load_analytics

    result = load_analytics(top=top)
    if output is not None:
        from promptster.report.analytics_page import write_analytics_html

        write_analytics_html(output, result)
        err_console().print(f"wrote {escape(str(output))}")
    if as_json:
        print_json(result.to_json_obj())
        return
    console = out_console()
    if not result.assessments:
        err_console().print("no assessment and no imported session in the reviewer workspace")
        return
    for a in result.assessments:
        rate = a.completion_rate
        funnel = " → ".join(f"{label} {a.funnel[label]}" for label in a.funnel)
        console.print(f"[bold]{escape(a.title or a.assessment_id or '(no assessment)')}[/]"
                      f"  [dim]{escape(a.assessment_id)}[/]")  # fmt: skip
        console.print(f"  {funnel}")
        console.print(
            f"  completion {'–' if rate is None else f'{rate * 100:.0f}%'}, median time to "
            f"submit {_minutes(a.median_submit_ms)}, tiers "
            + ", ".join(f"{t} {n}" for t, n in a.tiers.items())
        )
    if result.top:
        console.print("[bold]top candidates[/]")
        for c in result.top:
            who = c.name or c.email or c.session_id[:8]
            console.print(
                f"  {escape(who)}  {escape(c.title or c.assessment_id or '–')}  "
                f"composite {c.composite:.2f} (#{c.rank} of {c.cohort_size})  {c.tier}"
            )


def _minutes(ms: int | None) -> str:
    return "–" if ms is None else f"{ms / 60000:.1f} min"
