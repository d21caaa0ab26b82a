"""`promptster rate`: a reviewer's human scorecard of an imported session.

Thin click layer over promptster.reviewer.ratings: the rating is checked whole before the
workspace is opened, then written in one transaction. Exit status: 0 saved, 2 bad input
(unknown session, dimension or decision, a score outside 1–5, a malformed rating file),
3 the workspace stayed busy for longer than --wait.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from promptster.cli.output import err_console, out_console, print_json
from promptster.errors import InputError


@click.command()
@click.argument("session", required=False)
@click.option(
    "-d",
    "--dimension",
    "dimensions",
    multiple=True,
    metavar="NAME=SCORE",
    help="A score 1–5 on one dimension: problem_decomposition, ai_orchestration, "
    "code_quality, debugging_process, communication (repeat the option).",
)
@click.option("--note", help="A note for the hiring team.")
@click.option("--decision", help="advance, hold or reject.")
@click.option("--reviewer", help="Who rates (default: $PROMPTSTER_REVIEWER, else your login).")
@click.option(
    "--from",
    "from_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Import a rating file made by the rating form of the report page.",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds to wait while another promptster command holds the workspace.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the session's scorecards as JSON.")
def rate(
    session: str | None,
    dimensions: tuple[str, ...],
    note: str | None,
    decision: str | None,
    reviewer: str | None,
    from_file: Path | None,
    wait: float,
    as_json: bool,
) -> None:
    """Rate an imported SESSION (an id or a unique prefix) on the five rubric dimensions.

    For example: promptster rate 3f2a --dimension problem_decomposition=4
    --dimension code_quality=3 --decision advance --note "clear plan". Several reviewers may
    rate one session; rating it again updates your own scores. Nothing is written unless the
    whole rating is valid.
    """
    from promptster.reviewer.imports import attach
    from promptster.reviewer.people import directory_of
    from promptster.reviewer.ratings import (
        Rating,
        check_rating,
        default_reviewer,
        load_ratings,
        parse_dimension,
        read_rating_file,
        save_rating,
    )
    from promptster.reviewer.store import Workspace

    if from_file is not None:
        if dimensions or note or decision:
            raise InputError(
                "--from takes the whole rating from the file",
                "give either --from FILE or --dimension/--note/--decision, not both",
            )
        given = read_rating_file(from_file)
        if session is not None and session != given.session_id:
            raise InputError(
                f"the rating file is for session {given.session_id}, not {session}",
                "leave out SESSION with --from, or use the file of this session",
            )
        rating = Rating(
            given.session_id,
            reviewer or given.reviewer or default_reviewer(),
            given.scores,
            given.decision,
            given.note,
        )
    else:
        if session is None:
            raise InputError(
                "name the SESSION to rate, or give --from FILE",
                "`promptster sessions list` shows the imported sessions",
            )
        scores: dict[str, int] = {}
        for item in dimensions:
            name, score = parse_dimension(item)
            if name in scores:
                raise InputError(f"{name} is given twice", "give each dimension once")
            scores[name] = score
        rating = Rating(session, reviewer or default_reviewer(), scores, decision, note)
    rating = check_rating(rating)  # before the workspace is opened: a bad rating waits for none
    with Workspace.open(wait=wait) as workspace:
        saved = save_rating(workspace, rating)
        stored = load_ratings(workspace.connection, [saved.session_id]).get(saved.session_id)
        attach(workspace, writable=True)
        row = workspace.connection.execute(
            "SELECT assessment_id, candidate_name FROM analysis.sessions WHERE session_id = ?",
            [saved.session_id],
        ).fetchone()
        person = directory_of(workspace).of_session(
            saved.session_id, row[0] if row else None, row[1] if row else None
        )
    if as_json:
        print_json(
            {
                "sessionId": saved.session_id,
                **person.to_json_obj(),
                "saved": saved.to_json_obj(),
                "ratings": stored.to_json_obj() if stored is not None else None,
            }
        )
        return
    parts = [f"{d} {s}" for d, s in saved.scores.items()]
    if saved.decision:
        parts.append(f"decision {saved.decision}")
    if saved.note:
        parts.append("a note")
    out_console().print(
        f"rated {escape(person.label(saved.session_id))} ({saved.session_id[:8]}) as "
        f"{escape(saved.reviewer)}: {escape(', '.join(parts))}"
    )
    if stored is not None and stored.reviewers > 1:
        mean = stored.mean
        err_console().print(
            f"[dim]{stored.reviewers} reviewers have rated this session"
            + (f"; mean score {mean:.2f}" if mean is not None else "")
            + "[/]"
        )
