"""`promptster identity init|show`: the reviewer's signing identity."""

from __future__ import annotations

import click
from rich.markup import escape

from promptster.cli.output import err_console, out_console, print_json
from promptster.issue.identity import DEFAULT_ORG, init_identity, passphrase_from_env, read_identity


@click.group()
def identity() -> None:
    """The reviewer identity (an Ed25519 key) that signs assessment packs."""


@identity.command("init")
@click.option(
    "--org", default=DEFAULT_ORG, show_default=True, help="Organisation name shown to candidates."
)
@click.option(
    "--passphrase-env",
    metavar="VAR",
    default=None,
    help="Encrypt the key with the passphrase in environment variable VAR (never on argv).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the identity as JSON on stdout.")
def init(org: str, passphrase_env: str | None, as_json: bool) -> None:
    """Create the reviewer identity in PROMPTSTER_HOME (key file mode 0600).

    Later commands that sign read the passphrase from the variable named by their own
    --passphrase-env (default PROMPTSTER_PASSPHRASE).
    """
    passphrase = passphrase_from_env(passphrase_env) if passphrase_env else None
    created = init_identity(org, passphrase)
    if as_json:
        print_json(created.to_json_obj())
        return
    console = out_console()
    console.print(f"[green]✓[/] reviewer identity created for {escape(created.org)}")
    console.print(f"  fingerprint  {created.fingerprint}")
    console.print(f"  key file     {escape(str(created.key_path))}")
    console.print(f"  encrypted    {'yes' if created.encrypted else 'no'}")
    err_console().print(
        "[dim]back this folder up: packs you issue can only be re-signed with it[/]"
    )


@identity.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the identity as JSON on stdout.")
def show(as_json: bool) -> None:
    """Print the reviewer's public key and fingerprint (no passphrase needed)."""
    current = read_identity()
    if as_json:
        print_json(current.to_json_obj())
        return
    console = out_console()
    console.print(f"org          {escape(current.org)}")
    console.print(f"public key   {current.public_key.text}")
    console.print(f"fingerprint  {current.fingerprint}")
    console.print(f"encrypted    {'yes' if current.encrypted else 'no'}")
    console.print(f"created      {current.created_at}")
    console.print(f"key file     {escape(str(current.key_path))}")
