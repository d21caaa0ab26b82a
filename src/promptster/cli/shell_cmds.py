"""The recorded shell and its playback: `promptster shell`, `promptster replay`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from promptster.cli.output import err_console
from promptster.errors import StateError


@click.command()
@click.pass_context
def shell(ctx: click.Context) -> None:
    """Open a recorded shell: your $SHELL, with its commands and terminal recorded.

    \b
    Each command becomes a `command` event (exit code, duration, output excerpt); test runs,
    linters and builds are counted; the terminal is kept as a cast for `promptster replay`.
    `exit` leaves the shell; the session keeps recording until `promptster submit`.
    """
    from promptster.cli.current import current_session
    from promptster.record.shell.integration import ShellLaunch
    from promptster.record.shell.session import (
        recorded_shell_session,
        run_recorded_shell,
        user_shell,
    )

    console = err_console()
    from_start = ctx.parent is not None and ctx.parent.info_name == "start"
    if recorded_shell_session() is not None:
        if from_start:
            console.print("[dim]already in a recorded shell: carry on here[/]")
            return
        raise StateError(
            "this is already a recorded shell; a shell inside it is recorded with it",
            "carry on here, or `exit` first and run `promptster shell` again",
        )
    paths, state = current_session()
    if not state.active:
        raise StateError(
            f"the session is {state.status}; there is nothing to record",
            "start a new session with `promptster start`",
        )
    if not sys.stdin.isatty():
        console.print("[yellow]![/] stdin is not a terminal; the shell reads it as typed input")

    def announce(launch: ShellLaunch) -> None:
        if not launch.integrated:
            console.print(
                f"[yellow]![/] {escape(launch.note)}: the terminal is recorded, but commands "
                "are not listed one by one (bash and zsh are fully supported)"
            )
        console.print(
            f"[green]●[/] recording this {escape(launch.shell)} shell "
            f"(session {state.session_id[:8]}); `exit` leaves it, the session keeps recording"
        )

    outcome = run_recorded_shell(paths, shell_path=user_shell(), cwd=Path.cwd(), announce=announce)
    if outcome.recording.error:
        console.print(
            f"[yellow]![/] part of this shell was not recorded: {escape(outcome.recording.error)}"
        )
    delivery = outcome.delivery
    if delivery.dropped and outcome.session_active:
        console.print(f"[yellow]![/] {delivery.dropped} shell events could not be recorded")
    if outcome.session_active:
        where = escape(state.workspace)
        console.print(
            f"left the recorded shell (exit {outcome.exit_code}). The session is still "
            f"recording:\n  promptster shell    opens a recorded shell again (in {where})\n"
            "  promptster submit   finishes the session"
        )
    else:
        console.print(f"left the recorded shell (exit {outcome.exit_code}); the session has ended")
    if outcome.exit_code:
        ctx.exit(outcome.exit_code)


@click.command()
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--speed", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
    help="Playback speed: 2 plays twice as fast.",
)  # fmt: skip
@click.option(
    "--idle-limit", type=click.FloatRange(min=0.0), default=None, metavar="S",
    help="Shorten every pause to at most S seconds (default: the recording's own limit).",
)  # fmt: skip
@click.option(
    "--cast", "index", type=click.IntRange(min=0), default=0, show_default=True, metavar="N",
    help="Which terminal recording of the bundle (terminal/N.cast).",
)  # fmt: skip
def replay(bundle: Path, speed: float, idle_limit: float | None, index: int) -> None:
    """Play a bundle's terminal recording back in this terminal (or a .cast file).

    Space pauses and resumes, `.` steps while paused, q or Ctrl-C stops. The bundle is not
    verified here: `promptster verify` does that.
    """
    from promptster.record.shell.pty_shell import terminal_size
    from promptster.record.shell.replay import Keys, default_idle_limit, load_recording, play

    loaded = load_recording(bundle, index)
    recording = loaded.recording
    console = err_console()
    others = len(loaded.available) - 1
    more = f"; {others} more: --cast N" if others > 0 else ""
    console.print(
        f"[dim]{escape(loaded.name)}: {recording.width}x{recording.height}, "
        f"{_duration(recording.duration)}{more}. space pauses, q stops[/]"
    )
    size = terminal_size(sys.stdout.fileno()) if sys.stdout.isatty() else None
    if size is not None and (size[0] < recording.width or size[1] < recording.height):
        console.print(
            f"[yellow]![/] this terminal is {size[0]}x{size[1]}; the recording is "
            f"{recording.width}x{recording.height}: lines may wrap"
        )
    out = sys.stdout.buffer

    def write(text: str) -> None:
        out.write(text.encode("utf-8", "replace"))
        out.flush()

    limit = idle_limit if idle_limit is not None else default_idle_limit(recording)
    stdin = sys.stdin.fileno() if sys.stdin is not None and sys.stdin.isatty() else None
    with Keys(stdin) as keys:
        finished = play(recording, write, keys, speed=speed, idle_limit=limit)
    write("\x1b[0m\r\n")
    console.print("[dim]end of the recording[/]" if finished else "[dim]stopped[/]")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"
