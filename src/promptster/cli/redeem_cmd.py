"""`promptster redeem PST-XXXX-XXXX`: check a candidate key and accept the consent text."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from promptster.cli.output import err_console, out_console, print_json
from promptster.issue.redeem import ConsentCallback, ConsentDeclined, ConsentInfo, redeem_key


def consent_prompt(accept: bool) -> ConsentCallback:
    """A consent callback that shows the text on stderr and wants `yes` (or --accept)."""

    def ask(info: ConsentInfo) -> bool:
        console = err_console()
        console.print("")
        console.print(escape(info.text()))
        console.print("")
        if accept:
            console.print("[dim]accepted with --accept[/]")
            return True
        try:
            answer = click.prompt(
                "Type yes to accept and continue", default="", show_default=False, err=True
            )
        except click.exceptions.Abort:
            if sys.stdin is None or not sys.stdin.isatty():  # no answer to read, no terminal
                raise ConsentDeclined(
                    "consent was not given; nothing was recorded",
                    "pass --accept to accept the consent text non-interactively",
                ) from None
            return False
        return str(answer).strip().lower() == "yes"

    return ask


@click.command()
@click.argument("key")
@click.option(
    "--assessment",
    "pack_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The assessment pack (default: the pack file in the current folder).",
)
@click.option("--accept", is_flag=True, help="Accept the consent text without asking.")
@click.option("--json", "as_json", is_flag=True, help="Print the redemption as JSON on stdout.")
def redeem(key: str, pack_path: Path | None, accept: bool, as_json: bool) -> None:
    """Check a candidate key against the assessment pack and accept the consent text.

    Offline: the pack's signature, that it lists the key, that the key is not revoked,
    expired, or already used on this machine. `promptster start KEY` then begins recording.
    """
    redemption = redeem_key(key, pack_path, consent_prompt(accept))
    if as_json:
        print_json(redemption.to_json_obj())
        return
    out_console().print(
        f"[green]✓[/] {redemption.key} accepted for {escape(redemption.role)} "
        f"at {escape(redemption.org)}"
    )
    err_console().print(f"  next: promptster start {redemption.key}")
