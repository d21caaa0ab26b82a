"""Human-readable views of analysis results (rich, on stdout: they are the result)."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from promptster.analysis.catalog import COHORT
from promptster.analysis.cohort import AVERAGES, HIDDEN_METRIC, Cohort
from promptster.cli.output import err_console, out_console
from promptster.reviewer.people import Directory


def _number(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.{digits}f}"


def print_cohort(cohort: Cohort, directory: Directory | None = None) -> None:
    directory = directory or Directory()
    console = out_console()
    title = cohort.assessment_id or "(no assessment)"
    if cohort.assessment_id in directory.titles:
        title = f"{directory.titles[cohort.assessment_id]} ({cohort.assessment_id})"
    console.print(f"\n[bold]Assessment {escape(title)}[/]  {cohort.session_count} session(s)")
    averages = ", ".join(
        f"{name} {_number(cohort.averages[name])}" for name in AVERAGES if name in cohort.averages
    )
    console.print(f"  {averages}, testPassRate {_number(cohort.test_pass_rate)}")
    if cohort.session_count < 2:
        err_console().print("  [yellow]percentiles need at least 2 sessions[/]")
    weights = ", ".join(f"{m} {w:g}" for m, w in cohort.weights.items())
    console.print(f"  [dim]composite weights: {escape(weights)}[/]")
    table = Table(box=None, header_style="bold", padding=(0, 1))
    table.add_column("#", justify="right")
    table.add_column("session", overflow="fold")
    table.add_column("score", justify="right")
    placed = HIDDEN_METRIC in cohort.metrics
    for metric in cohort.metrics:
        arrow = "↓" if cohort.orientation[metric] == "lower" else "↑"
        short = (
            "hidden" if metric == HIDDEN_METRIC else getattr(COHORT.get(metric), "short", metric)
        )
        table.add_column(f"{short}{arrow}", justify="right", no_wrap=True)
    if placed:
        table.add_column("placed by")
    for member in cohort.members:
        info = member.session
        person = directory.person(info.assessment_id, info.candidate_key, info.candidate_name)
        name = escape(person.label(info.session_id))
        if not member.session.verified:
            name += " [red](UNVERIFIED)[/]"
        cells = [str(member.rank or "–"), name, _number(member.composite)]
        cells.extend(_number(member.percentiles[m], 2) for m in cohort.metrics)
        if HIDDEN_METRIC in cohort.metrics:
            cells.append(escape(member.placed_by or "–"))
        table.add_row(*cells)
    console.print(table)
    console.print(
        "  [dim]percentiles 0–1 (1 = beat every other session); ↑ a higher value ranks higher, "
        "↓ a lower one; --json gives the values[/]"
    )
