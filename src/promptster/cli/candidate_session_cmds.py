"""Candidate session commands: start, submit (alias done), abort, reset, doctor."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from promptster.cli.candidate_cmds import print_brief
from promptster.cli.current import attach_terminal, current_session
from promptster.cli.output import err_console, out_console, print_json
from promptster.errors import EnvironmentProblem, ExitCode, InputError, StateError
from promptster.integrations.catalog import TOOLS as AI_TOOLS
from promptster.protocol import SESSION_DIR_NAME, find_session
from promptster.record.lifecycle import StartedSession, start_from_key
from promptster.record.limits import read_limits
from promptster.record.session import SUBMITTED, SessionPaths, SessionState, read_state


@click.command()
@click.argument("key")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Work in this folder (created if missing). Default: the current folder, or a new "
    "folder named after the starter repository.",
)
@click.option(
    "--assessment",
    "pack_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The assessment pack (default: the pack file in the current folder).",
)
@click.option(
    "--tools",
    "tools_opts",
    multiple=True,
    metavar="TOOLS",
    help="Set up these AI tools for the session (repeatable or comma-separated): "
    + "; ".join(f"{t.option} ({t.summary})" for t in AI_TOOLS)
    + ". Undone at submit.",
)
@click.option(
    "--proxy",
    is_flag=True,
    help="Run the session's model-API recorder on 127.0.0.1 and point the tools set up with "
    "--tools at it (Claude Code, `promptster codex`); it records every prompt, reply and token "
    "count that passes, and enforces the assessment's token budget.",
)
@click.option(
    "--proxy-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="The recorder's preferred port (another one is used when it is taken).",
)
@click.option(
    "--upstream",
    "upstreams",
    multiple=True,
    metavar="PROVIDER=URL",
    help="Where the recorder forwards (anthropic=URL, openai=URL; default the providers' own "
    "APIs, or $PROMPTSTER_UPSTREAM_ANTHROPIC / $PROMPTSTER_UPSTREAM_OPENAI).",
)
@click.option("--accept", is_flag=True, help="Accept the consent text without asking.")
@click.option("--no-shell", is_flag=True, help="Do not open the recorded shell (for scripts).")
@click.option("--json", "as_json", is_flag=True, help="Print the session as JSON on stdout.")
@click.pass_context
def start(
    ctx: click.Context,
    key: str,
    workspace: Path | None,
    pack_path: Path | None,
    tools_opts: tuple[str, ...],
    proxy: bool,
    proxy_port: int | None,
    upstreams: tuple[str, ...],
    accept: bool,
    no_shell: bool,
    as_json: bool,
) -> None:
    """Redeem KEY and start recording (resumes the live session of this workspace)."""
    from promptster.cli.redeem_cmd import consent_prompt

    started = start_from_key(
        key,
        consent_prompt(accept),
        workspace=workspace,
        pack_path=pack_path,
        tools=_parse_tools(tools_opts),
        progress=lambda text: err_console().print(escape(text)),
        proxy=_proxy_request(proxy, proxy_port, upstreams),
    )
    attach_terminal(started.paths)
    opens_shell = _shell_opens(ctx, no_shell or as_json)
    if as_json:
        print_json(_start_json(started))
    else:
        _print_started(started, opens_shell)
    if opens_shell:
        _open_shell(ctx, started)


def _proxy_request(wanted: bool, port: int | None, upstreams: tuple[str, ...]) -> Any:
    """`--proxy`, `--proxy-port` and `--upstream` → what the session's proxy is started with."""
    if not wanted:
        if port is not None or upstreams:
            raise click.UsageError("--proxy-port and --upstream go with --proxy")
        return None
    from promptster.integrations import apiproxy
    from promptster.record.proxy.control import ProxyRequest

    try:
        chosen = apiproxy.upstreams_from(list(upstreams))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--upstream") from exc
    return ProxyRequest(port=apiproxy.DEFAULT_PORT if port is None else port, upstreams=chosen)


def _parse_tools(values: tuple[str, ...]) -> list[str]:
    """`--tools` values (the catalog's options) → the tool names recorded in session_start."""
    from promptster.integrations import catalog

    tools = ["shell"]
    for value in values:
        for option in filter(None, (part.strip().lower() for part in value.split(","))):
            tool = catalog.by_option(option)
            if tool is None:
                accepted = ", ".join(sorted(t.option for t in catalog.TOOLS))
                raise click.BadParameter(
                    f"unknown tool {option!r} (accepted: {accepted})", param_hint="--tools"
                )
            if tool.name not in tools:
                tools.append(tool.name)
    return tools


def _start_json(started: StartedSession) -> dict[str, Any]:
    state = started.state
    return {
        "sessionId": state.session_id,
        "workspace": state.workspace,
        "resumed": started.resumed,
        "startedAt": state.started_at,
        "deadline": state.deadline,
        "timeLimitMinutes": state.time_limit_minutes,
        **read_limits(started.paths.assessment).to_json_obj(),
        "recorderPid": started.recorder.pid,
        "starterCommit": started.cloned_commit,
        "apiRecorder": _api_recorder(started),
    }


def _api_recorder(started: StartedSession) -> dict[str, Any] | None:
    from promptster.record.proxy import control as proxy_control

    return proxy_control.status(started.paths.root, started.state.workspace_path)


def _print_started(started: StartedSession, opens_shell: bool) -> None:
    console = out_console()
    state = started.state
    verb = "resumed" if started.resumed else "started"
    console.print(f"[green]✓[/] session {state.session_id} {verb}")
    console.print(f"  workspace  {escape(state.workspace)}")
    recorder = _api_recorder(started)
    if recorder is not None:
        wired = ", ".join(recorder["wiredTools"]) or "no tool yet (point yours at it)"
        state_word = "running" if recorder["running"] else "[yellow]not running[/]"
        console.print(f"  API recorder  {recorder['url']} ({state_word}; wired: {wired})")
        if recorder.get("budgetUsd") is not None:
            console.print(f"  token budget  ${recorder['budgetUsd']:.2f}")
    if started.recorder.restarted and started.resumed:
        console.print("  [yellow]the recorder was not running; restarted it (gap recorded)[/]")
    console.print("")
    text = started.paths.brief.read_text(encoding="utf-8") if started.paths.brief.exists() else ""
    print_brief(state, text, limits=read_limits(started.paths.assessment))
    console.print("\n[bold]Next steps[/]")
    if opens_shell:
        console.print("  A recorded shell opens in the workspace now; `exit` leaves it.")
    elif Path.cwd().absolute() != state.workspace_path:
        console.print(f"  cd {escape(_shell_quote(state.workspace))}")
    console.print("  Work as you usually do: editor, terminal, AI tools. Saved files are recorded.")
    if not opens_shell and _shell_available():
        console.print("  promptster shell          a recorded shell (its commands are recorded)")
    console.print('  promptster explain "…"   record a decision and why')
    console.print("  promptster status         time left and what was recorded")
    console.print("  promptster submit         when you are done (writes the signed bundle)")


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _shell_available() -> bool:
    from promptster.cli import COMMANDS

    return "shell" in COMMANDS


def _shell_opens(ctx: click.Context, skip: bool) -> bool:
    """Whether `start` opens the recorded shell: it exists and this is a terminal."""
    return (
        not skip
        and sys.stdin.isatty()
        and ctx.parent is not None
        and isinstance(ctx.parent.command, click.Group)
        and _shell_available()
    )


def _open_shell(ctx: click.Context, started: StartedSession) -> None:
    assert ctx.parent is not None and isinstance(ctx.parent.command, click.Group)
    command = ctx.parent.command.get_command(ctx.parent, "shell")
    if command is not None:
        os.chdir(started.state.workspace_path)
        ctx.invoke(command)


# -- submit ------------------------------------------------------------------------------------


def _submit(auto: bool, yes: bool, output: Path | None, as_json: bool) -> None:
    from promptster.record.submit import SubmissionSummary, submit_session

    def confirm(summary: SubmissionSummary) -> bool:
        if not as_json:
            _print_summary(summary.to_json_obj())
        if yes or auto:
            return True
        if not sys.stdin.isatty():
            raise StateError("submit needs a confirmation", "pass --yes to submit without asking")
        if click.confirm("Submit this session now? Recording stops.", err=True):
            return True
        err_console().print("nothing submitted; still recording")
        return False

    paths, _ = current_session()
    result = submit_session(
        paths,
        "auto" if auto else "submit",
        confirm=confirm,
        output=output,
        note=lambda text: err_console().print(f"[yellow]![/] {escape(text)}"),
    )
    if result is None:
        return
    if as_json:
        print_json(
            {
                "path": str(result.path),
                "sha256": result.sha256,
                "size": result.size,
                "eventCount": result.event_count,
                "alreadySubmitted": result.already,
            }
        )
        return
    console = out_console()
    word = "already submitted" if result.already else "submitted and verified"
    console.print(f"[green]✓[/] {word}: {escape(str(result.path))}")
    console.print(f"  sha256  {result.sha256.removeprefix('sha256:')}")
    console.print(f"  {result.event_count} events, {result.size:,} bytes")
    console.print("  Send this file to the reviewer. It is signed: any change breaks `verify`.")


def _print_summary(summary: dict[str, Any]) -> None:
    console = err_console()
    console.print("[bold]What will be submitted[/]")
    counts = ", ".join(f"{kind} {n}" for kind, n in summary["counts"].items())
    console.print(f"  events      {summary['eventCount']}  [dim]{escape(counts)}[/]")
    files = summary["files"]
    shown = ", ".join(files[:8]) + (f" … (+{len(files) - 8})" if len(files) > 8 else "")
    console.print(f"  files       {len(files)}  [dim]{escape(shown)}[/]")
    console.print(f"  size        about {summary['sizeBytes']:,} bytes")
    console.print(f"  redactions  {summary['redactions']}")
    others = {k: v for k, v in summary["warnings"].items() if k != "redaction"}
    if others:
        listed = ", ".join(f"{k} {v}" for k, v in others.items())
        console.print(f"  warnings    [dim]{escape(listed)}[/]")


SUBMIT_OPTIONS: list[click.Parameter] = [
    click.Option(["--auto"], is_flag=True, help="Non-interactive (used at the time limit)."),
    click.Option(["--yes", "-y"], is_flag=True, help="Do not ask for confirmation."),
    click.Option(
        ["-o", "--output"],
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Where to write the bundle (default: submission-<id>.pst in the workspace).",
    ),
    click.Option(["--json", "as_json"], is_flag=True, help="Print the result as JSON."),
]
SUBMIT_HELP = """Finish the session: final snapshot, then the signed, verified bundle.

Shows what will be submitted and asks first (unless --yes or --auto). Running it again is
harmless: it prints the same bundle.
"""
submit = click.Command("submit", callback=_submit, params=SUBMIT_OPTIONS, help=SUBMIT_HELP)
done = click.Command(
    "done", callback=_submit, params=SUBMIT_OPTIONS, help="Same as `submit`.\n\n" + SUBMIT_HELP
)


# -- abort / reset / doctor ------------------------------------------------------------------


ABORT_OPTIONS: list[click.Parameter] = [
    click.Option(["--yes", "-y"], is_flag=True, help="Do not ask for confirmation."),
    click.Option(
        ["--reason"], default=None, metavar="TEXT", help="Why (kept in the session_end event)."
    ),
    click.Option(["--json", "as_json"], is_flag=True, help="Print the result as JSON on stdout."),
]
ABORT_HELP = """Stop recording without submitting. Nothing is deleted.

An aborted session cannot be submitted. `promptster reset` then sets it aside, after
which `promptster start` with the same key starts a new session.
"""


def _abort(yes: bool, reason: str | None, as_json: bool) -> None:
    from promptster.record.lifecycle import abort_session

    paths, _ = current_session()
    if not yes and sys.stdin.isatty():
        click.confirm("Stop recording without submitting?", err=True, abort=True)
    state = abort_session(paths, reason)
    if as_json:
        print_json(
            {"sessionId": state.session_id, "status": state.status, "folder": str(paths.root)}
        )
        return
    out_console().print(
        f"[green]✓[/] session {state.session_id} aborted; the recording stays in "
        f"{escape(str(paths.root))}"
    )


abort = click.Command("abort", callback=_abort, params=ABORT_OPTIONS, help=ABORT_HELP)
cleanup = click.Command(
    "cleanup", callback=_abort, params=ABORT_OPTIONS, help="Same as `abort`.\n\n" + ABORT_HELP
)


@click.command()
@click.option("--purge", is_flag=True, help="Delete the session folder instead of keeping it.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
def reset(purge: bool, yes: bool, as_json: bool) -> None:
    """Abort the session if it runs and set its folder aside (or delete it with --purge)."""
    from promptster.record.lifecycle import reset_session

    workspace = _session_workspace()
    if not yes:
        if not sys.stdin.isatty():
            raise StateError("reset needs a confirmation", "pass --yes")
        what = "DELETE the recording in" if purge else "set aside the session in"
        click.confirm(f"Abort and {what} {workspace}?", err=True, abort=True)
    before = _readable_state(workspace)
    moved = reset_session(workspace, purge=purge)
    released = _release_key(before)
    if as_json:
        print_json(
            {"purged": moved is None, "movedTo": None if moved is None else str(moved),
             "keyReleased": released}
        )  # fmt: skip
    elif moved is None:
        out_console().print("[green]✓[/] session folder deleted")
    else:
        out_console().print(f"[green]✓[/] session set aside in {escape(str(moved))}")


def _release_key(before: SessionState | None) -> bool:
    """Free the candidate key of a session that was not submitted; say what happened."""
    released = False
    if before is not None and before.candidate_key:
        from promptster.issue import redeem

        key = before.candidate_key
        try:
            released = before.status != SUBMITTED and redeem.release_session(key, before.session_id)
        except (EnvironmentProblem, InputError) as exc:
            err_console().print(f"[yellow]![/] the key was not released: {escape(exc.message)}")
            released = False
        if released:
            err_console().print(f"  `promptster start {key}` starts a new session with it")
        elif before.status == SUBMITTED:
            err_console().print(f"  {key} was used by the submitted session; it starts no other")
    return released


def _readable_state(workspace: Path) -> SessionState | None:
    try:
        return read_state(SessionPaths.for_workspace(workspace))
    except StateError:
        return None


def _session_workspace() -> Path:
    """The nearest folder holding `.promptster/`, even when its session.json is damaged."""
    handle = find_session()
    if handle is not None:
        return handle.workspace
    here = Path.cwd().absolute()
    for folder in (here, *here.parents):
        if (folder / SESSION_DIR_NAME).is_dir():
            return folder
    raise StateError(f"no Promptster session in {here} or its parent folders")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON on stdout.")
def doctor(as_json: bool) -> None:
    """Check that recording works here: ✓ or ✗, with a fix for each problem."""
    from promptster.record.doctor import run_checks

    handle = find_session()
    checks = run_checks(SessionPaths(handle.session_dir) if handle else None)
    failed = [c for c in checks if not c.ok]
    if as_json:
        print_json({"ok": not failed, "checks": [c.to_json_obj() for c in checks]})
    else:
        console = out_console()
        for check in checks:
            mark = "[yellow]![/]" if check.warning else ("[green]✓[/]" if check.ok else "[red]✗[/]")
            console.print(f"{mark} {check.name:<11} {escape(check.detail)}")
            if check.fix and not check.ok:
                console.print(f"    fix: {escape(check.fix)}")
    if failed:
        raise click.exceptions.Exit(ExitCode.ENVIRONMENT)
