"""The `promptster` command line: a thin click layer over the typed core.

`main()` is the one place that turns errors into messages and exit codes:
0 ok, 1 a check failed, 2 usage or input error, 3 environment problem; a reader that closed
stdout early (`| head`) ends the command quietly with 141, as a shell reports SIGPIPE.
Results go to stdout, everything else to stderr (see promptster.cli.output).
Command groups live in their own modules and are imported only when used. The hook that AI
tools run on every tool call never gets here: `promptster.entry` dispatches it before click.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from typing import Any

import click

from promptster import __version__
from promptster.errors import ExitCode, PromptsterError

# command name -> "module:attribute"; imported on first use.
COMMANDS: dict[str, str] = {
    "verify": "promptster.cli.bundle_cmds:verify",
    "synth": "promptster.cli.bundle_cmds:synth",
    "start": "promptster.cli.candidate_session_cmds:start",
    "status": "promptster.cli.candidate_cmds:status",
    "brief": "promptster.cli.candidate_cmds:brief",
    "note": "promptster.cli.candidate_cmds:note",
    "explain": "promptster.cli.candidate_cmds:explain",
    "checkpoint": "promptster.cli.candidate_cmds:checkpoint",
    "doctor": "promptster.cli.candidate_session_cmds:doctor",
    "abort": "promptster.cli.candidate_session_cmds:abort",
    "cleanup": "promptster.cli.candidate_session_cmds:cleanup",
    "reset": "promptster.cli.candidate_session_cmds:reset",
    "submit": "promptster.cli.candidate_session_cmds:submit",
    "done": "promptster.cli.candidate_session_cmds:done",
    "shell": "promptster.cli.shell_cmds:shell",
    "replay": "promptster.cli.shell_cmds:replay",
    "setup": "promptster.cli.integrate_cmds:setup",
    "teardown": "promptster.cli.integrate_cmds:teardown",
    "hook": "promptster.cli.integrate_cmds:hook",
    "mcp": "promptster.cli.integrate_cmds:mcp",
    "codex": "promptster.cli.integrate_cmds:codex",
    "proxy": "promptster.cli.proxy_cmds:proxy",
    "score": "promptster.cli.analysis_cmds:score",
    "cohort": "promptster.cli.analysis_cmds:cohort",
    "import": "promptster.cli.sessions_cmds:import_cmd",
    "sessions": "promptster.cli.sessions_cmds:sessions",
    "rate": "promptster.cli.rating_cmds:rate",
    "analytics": "promptster.cli.analytics_cmd:analytics",
    "identity": "promptster.cli.identity_cmds:identity",
    "assessment": "promptster.cli.assessment_cmds:assessment",
    "keys": "promptster.cli.keys_cmds:keys",
    "redeem": "promptster.cli.redeem_cmd:redeem",
    "review": "promptster.cli.review_cmds:review",
    "blame": "promptster.cli.blame_cmd:blame",
    "followups": "promptster.cli.followups_cmd:followups",
    "demo": "promptster.cli.review_cmds:demo",
    "version": "promptster.cli.meta_cmds:version",
    "help": "promptster.cli.meta_cmds:help_cmd",
}
# 128 + SIGPIPE: what a shell reports for a writer whose reader went away
CLOSED_STDOUT_STATUS = 128 + int(getattr(signal, "SIGPIPE", 13))


class ClosedStdout(Exception):
    """stdout's reader went away (`promptster … | head`): not an error of the command."""


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked or listed."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name.upper().startswith("PST-"):  # `promptster PST-XXXX-XXXX`: the hosted shortcut
            start = self.get_command(ctx, "start")
            return "start", start, list(args)
        if self.get_command(ctx, name) is None and not name.startswith("-"):
            raise click.exceptions.NoSuchCommand(
                name, possibilities=self.list_commands(ctx), ctx=ctx
            )
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:  # `promptster --help | head`: the help is printed while parsing
            return super().parse_args(ctx, args)
        except BrokenPipeError as closed:
            raise ClosedStdout from closed

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as closed:  # before click turns it into a silent exit 1
            raise ClosedStdout from closed


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="promptster")
def cli() -> None:
    """Record how a candidate works with AI coding tools; verify and review the result.

    \b
    Candidate:  promptster start PST-XXXX-XXXX   ...work...   promptster submit
    Reviewer:   promptster verify bundle.pst     promptster review bundle.pst
    CI:         promptster score bundles/ --format json
    """


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # Without standalone mode click returns the code of a `click.exceptions.Exit`.
        returned = cli.main(args=args, prog_name="promptster", standalone_mode=False)
    except PromptsterError as error:
        report_error(error)
        return int(error.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return ExitCode.USAGE
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except (BrokenPipeError, ClosedStdout):
        _quiet_stdout()
        return CLOSED_STDOUT_STATUS
    except Exception as bug:  # a bug in Promptster, not the user's fault: say so plainly
        if os.environ.get("PROMPTSTER_DEBUG"):
            raise
        click.echo(f"internal error: {type(bug).__name__}: {bug}", err=True)
        click.echo(
            "hint: this is a bug in promptster; "
            "rerun with PROMPTSTER_DEBUG=1 and report the traceback",
            err=True,
        )
        return ExitCode.ENVIRONMENT
    return returned if isinstance(returned, int) else ExitCode.OK


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def report_error(error: PromptsterError) -> None:
    click.echo(f"error: {error.message}", err=True)
    if error.hint:
        click.echo(f"hint: {error.hint}", err=True)


def run() -> None:
    sys.exit(main())
