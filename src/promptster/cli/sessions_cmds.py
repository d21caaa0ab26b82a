"""`promptster import` and `promptster sessions ...`: sessions in the reviewer workspace.

Thin click layer over promptster.reviewer.imports and promptster.analysis.queries.
People get plain columns, machines `--json`; both on stdout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from promptster.cli.output import err_console, out_console, print_json
from promptster.errors import ExitCode, InputError

if TYPE_CHECKING:
    import duckdb


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--allow-invalid", is_flag=True, help="Import bundles that fail verification.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON on stdout.")
def import_cmd(paths: tuple[Path, ...], allow_invalid: bool, as_json: bool) -> None:
    """Verify bundles and import them into the reviewer workspace.

    Importing the same bundle again changes nothing. A different bundle for a session or a
    candidate key already imported is reported as a duplicate and not imported. Exit status:
    0 all imported, 1 a bundle failed verification or was a duplicate, 2 usage error,
    3 the workspace is busy or damaged.
    """
    from promptster.analysis.verified import find_bundles
    from promptster.reviewer.imports import ImportStatus, import_bundles
    from promptster.reviewer.store import Workspace

    bundles = find_bundles(paths)
    if not bundles:
        raise InputError("no bundles found", "name .pst files or folders that contain them")
    with Workspace.open() as workspace:
        results = import_bundles(workspace, bundles, allow_invalid=allow_invalid)
    if as_json:
        print_json({"imports": [r.to_json_obj() for r in results]})
    else:
        console = out_console()
        marks = {"imported": "[green]✓[/]", "unchanged": "[dim]=[/]"}
        for result in results:
            mark = marks.get(result.status.value, "[red]✗[/]")
            console.print(
                f"{mark} {escape(str(result.path))}  {result.status.value}: "
                f"{escape(result.message)}"
            )
    bad = {ImportStatus.FAILED, ImportStatus.DUPLICATE}
    if any(r.status in bad or not r.verified for r in results):
        raise click.exceptions.Exit(ExitCode.CHECK_FAILED)


@click.group()
def sessions() -> None:
    """Sessions imported into the reviewer workspace (promptster import)."""


@contextlib.contextmanager
def _opened() -> Iterator[duckdb.DuckDBPyConnection]:
    """The workspace, read-only, with the analysis tables on the search path."""
    from promptster.reviewer.imports import attach
    from promptster.reviewer.store import Workspace

    with Workspace.open(read_only=True) as workspace:
        yield attach(workspace, writable=False)


@sessions.command("list")
@click.option("--assessment", "assessment_id", help="Only the sessions of this assessment.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
def list_cmd(assessment_id: str | None, as_json: bool) -> None:
    """List imported sessions, most recent first, by candidate (from the keys you issued)."""
    from promptster.cli.reviewer_format import plain_table
    from promptster.reviewer.people import listed_sessions

    with _opened() as con:
        listed = listed_sessions(con, assessment_id)
    if as_json:
        print_json({"sessions": [s.to_json_obj() for s in listed], "total": len(listed)})
        return
    if not listed:
        err_console().print(
            "no imported sessions" + (f" of {assessment_id}" if assessment_id else "")
        )
        return
    lines = []
    for entry in listed:
        r, person, found = entry.row, entry.person, entry.ratings
        mean = found.mean if found is not None else None
        lines.append(
            (
                ("" if r.verified else "UNVERIFIED ") + (person.name or "–"),
                person.email or "–",
                person.assessment_title or (r.assessment_id or "–")[:8],
                r.session_id[:8],
                r.started_at or "–",
                str(r.event_count),
                str(r.decision_flag_count),
                "–" if r.ai_attribution_pct is None else f"{r.ai_attribution_pct:.1f}",
                ",".join(r.source_service) or "–",
                "–" if mean is None else f"{mean:.1f} ({found.reviewers if found else 0})",
                (found.decisions_text() if found is not None else "") or "–",
            )
        )
    headers = (
        "candidate", "email", "assessment", "id", "startedAt", "events", "decisions", "ai%",
        "source", "rating", "verdicts",
    )  # fmt: skip
    out_console().print(escape(plain_table(headers, lines)))


@sessions.command("show")
@click.argument("session_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
def show_cmd(session_id: str, as_json: bool) -> None:
    """Show one session (an id or a unique prefix of it)."""
    from promptster.analysis.queries import get_session
    from promptster.reviewer.people import described

    with _opened() as con:
        row = get_session(con, session_id)
        body = {**row.to_json_obj(), **described(con, row)}
    if as_json:
        print_json({"session": body})
        return
    console = out_console()
    ratings = body.pop("ratings", None)
    for name, value in body.items():
        shown = ",".join(map(str, value)) if isinstance(value, list) else value
        console.print(f"{name:<18}{escape('–' if shown is None else str(shown))}")
    if isinstance(ratings, dict):
        for card in ratings.get("scorecards") or []:
            scores = ", ".join(f"{d} {n}" for d, n in card["scores"].items())
            decision = f"; {card['decision']}" if card.get("decision") else ""
            note = f"; “{card['note']}”" if card.get("note") else ""
            console.print(escape(f"rated by {card['reviewer']}: {scores or '–'}{decision}{note}"))


@sessions.command("timeline")
@click.argument("session_id")
@click.option("--after", "after", metavar="EVENT_ID", help="Start after this event (cursor).")
@click.option(
    "--limit", type=click.IntRange(1, 2000), default=500, show_default=True, help="Events."
)
@click.option("--kind", help="Only events of this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print {events, hasMore} on stdout.")
def timeline_cmd(
    session_id: str, after: str | None, limit: int, kind: str | None, as_json: bool
) -> None:
    """A page of a session's timeline; continue with --after the last event's id."""
    from promptster.analysis.queries import get_session, timeline_page

    with _opened() as con:
        full_id = get_session(con, session_id).session_id
        page = timeline_page(con, full_id, after=after, limit=limit, kind=kind)
    if as_json:
        print_json(page.to_json_obj())
        return
    console = out_console()
    for event in page.events:
        console.print(f"{event['ts']}  {event['seq']:>6}  {event['kind']:<15} {event['id']}")
    if page.has_more:
        err_console().print(f"[dim]more: --after {page.events[-1]['id']}[/]")


@sessions.command("decisions")
@click.argument("session_id")
@click.option("--json", "as_json", is_flag=True, help="Print {decisions} on stdout.")
def decisions_cmd(session_id: str, as_json: bool) -> None:
    """The decisions the candidate recorded, oldest first."""
    from promptster.analysis.queries import decisions, get_session

    with _opened() as con:
        full_id = get_session(con, session_id).session_id
        found = decisions(con, full_id)
    if as_json:
        print_json({"decisions": found})
        return
    console = out_console()
    if not found:
        err_console().print("no decisions recorded (decisions are optional)")
    for event in found:
        data = event["data"] if isinstance(event["data"], dict) else {}
        console.print(
            f"{event['ts']}  [bold]{escape(str(data.get('title', '')))}[/] "
            f"(impact {data.get('impactScore', '–')}): {escape(str(data.get('chosenOption', '')))}"
        )
        if data.get("rationale"):
            console.print(f"    {escape(str(data['rationale']))}")
