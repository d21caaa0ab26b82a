"""`promptster followups BUNDLE`: interview questions from a session's own evidence.

Thin click layer over promptster.analysis.aids: the bundle is verified first, as `review`
and `score` do (exit 1 when it fails verification, 2 when it cannot be read).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from promptster.cli.output import print_json
from promptster.cli.reviewer_format import reviewer_key_options
from promptster.errors import InputError


def _seqs(item: dict[str, Any]) -> str:
    seqs = item.get("seqs") or []
    return ", ".join(f"#{seq}" for seq in seqs)


@click.command()
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print questions and key moments as JSON.")
@reviewer_key_options
def followups(
    bundle: Path, as_json: bool, reviewer_keys: tuple[str, ...], require_issuer: bool
) -> None:
    """Five to eight follow-up interview questions, each citing the events it rests on.

    The questions come from the session's key moments (a decision's trade-offs, an AI edit
    kept untested, a command that failed again and again, AI output rewritten by hand…);
    the events are the timeline's seq numbers, as the report links them (#ev-N). Exit
    status: 0 ok, 1 the bundle failed verification, 2 unreadable.
    """
    from promptster.analysis.aids import bundle_followups
    from promptster.reviewer.checks import default_checks

    bundle = Path(os.path.normpath(bundle))
    if not bundle.exists():
        raise InputError(f"{bundle}: no such file")
    result = bundle_followups(
        bundle, default_checks(reviewer_keys=reviewer_keys, require_issuer=require_issuer)
    )
    if as_json:
        print_json(result)
        return
    questions: list[Any] = list(result["questions"] or [])
    moments: list[Any] = list(result["keyMoments"] or [])
    if not questions:
        click.echo("no follow-up question: the session has too little evidence to ask about")
    for number, q in enumerate(questions, 1):
        click.echo(f"{number}. {q['question']}")
        click.echo(f"   [{q['focusArea']}, {q['difficulty']}] events {_seqs(q)}: {q['context']}")
    click.echo("")
    click.echo(f"key moments ({len(moments)}):")
    for m in moments:
        click.echo(f"  {m['title']}: {m['summary']} (events {_seqs(m)})")
