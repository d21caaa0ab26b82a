"""`promptster version` and `promptster help [COMMAND…]`: the hosted product's verbs."""

from __future__ import annotations

import click

from promptster import __version__
from promptster.cli.output import out_console, print_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the version as JSON on stdout.")
def version(as_json: bool) -> None:
    """Print the installed version (the same as `promptster --version`)."""
    if as_json:
        print_json({"version": __version__})
    else:
        click.echo(__version__)


@click.command("help")
@click.argument("names", nargs=-1, metavar="[COMMAND]...")
@click.pass_context
def help_cmd(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Show the help of promptster, or of a command: `promptster help keys create`."""
    root = ctx.find_root()
    command: click.Command = root.command
    context = root
    for name in names:
        if not isinstance(command, click.Group):
            raise click.UsageError(f"{context.command_path} has no subcommand {name!r}")
        found = command.get_command(context, name)
        if found is None:
            # the group's own resolution gives the "did you mean" message
            command.resolve_command(context, [name])
            raise click.UsageError(f"no command {name!r}")
        context = click.Context(found, info_name=name, parent=context)
        command = found
    out_console().print(command.get_help(context), markup=False, highlight=False)
