"""`promptster setup|teardown claude-code|codex`, `promptster hook claude-code|codex`,
`promptster codex`, `promptster mcp`.

`hook` normally never gets here: `promptster.entry.run` (the console script) sends
`hook claude-code` straight to the handler without click, so that the hook starts fast. This
command is the documented entry and the fallback when it is called with extra arguments.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from promptster.cli.output import out_console, print_json

JSON = click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
WORKSPACE = click.option(
    "-w",
    "--workspace",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=".",
    show_default=True,
    help="The workspace (the folder Claude Code is opened in).",
)


@click.group()
def setup() -> None:
    """Connect an AI tool to the recording session of this workspace."""


@setup.command("claude-code")
@WORKSPACE
@JSON
def setup_claude_code(workspace: Path, as_json: bool) -> None:
    """Add Promptster's hooks, MCP server and /explain to this workspace's Claude Code config.

    Only files inside the workspace change (.claude/settings.local.json, .mcp.json,
    .claude/commands/explain.md); `promptster teardown claude-code` restores them exactly.
    """
    from promptster.integrations.claude.setup import setup_claude

    result = setup_claude(workspace)
    if as_json:
        print_json({"tool": "claude-code", "files": result.files, "executable": result.executable})
        return
    console = out_console()
    for name in result.files:
        console.print(f"wrote {escape(name)}")
    console.print(f"hooks and MCP server call [bold]{escape(result.executable)}[/]")


@setup.command("codex")
@WORKSPACE
@click.option("--no-hooks", is_flag=True, help="Run Codex without Promptster's hooks.")
@JSON
def setup_codex(workspace: Path, no_hooks: bool, as_json: bool) -> None:
    """Have `promptster codex` give Codex the MCP server and hooks for this session.

    Nothing in the workspace or in ~/.codex changes: the launcher passes `-c` overrides to
    each run, and the recorder reads Codex's rollout files whichever way Codex was started.
    """
    from promptster.integrations.codex.setup import setup_codex as do_setup

    result = do_setup(workspace, hooks=not no_hooks)
    if as_json:
        print_json({"tool": "codex", "files": [], "hooks": result.hooks})
        return
    console = out_console()
    wired = "MCP server and hooks" if result.hooks else "MCP server"
    console.print(f"run Codex as [bold]promptster codex[/] to add the {wired} to it")


@click.group()
def teardown() -> None:
    """Remove what `promptster setup` added, restoring the files as they were."""


@teardown.command("claude-code")
@WORKSPACE
@JSON
def teardown_claude_code(workspace: Path, as_json: bool) -> None:
    """Restore the workspace's Claude Code files to what they held before setup."""
    from promptster.integrations.claude.setup import teardown_claude

    result = teardown_claude(workspace)
    if as_json:
        print_json(
            {
                "tool": "claude-code",
                "restored": result.restored,
                "merged": result.merged,
                "notes": result.notes,
            }
        )
        return
    console = out_console()
    for name in result.restored:
        console.print(f"restored {escape(name)}")
    for name in result.merged:
        console.print(f"removed Promptster's entries from {escape(name)} (it changed meanwhile)")
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    if not (result.restored or result.merged or result.notes):
        console.print("nothing to restore: Claude Code was not set up here")


@teardown.command("codex")
@WORKSPACE
@JSON
def teardown_codex(workspace: Path, as_json: bool) -> None:
    """Stop wiring `promptster codex` runs (Codex's own files were never changed)."""
    from promptster.integrations.codex.setup import teardown_codex as do_teardown

    removed = do_teardown(workspace)
    if as_json:
        print_json({"tool": "codex", "removed": bool(removed)})
        return
    console = out_console()
    console.print("Codex is no longer wired" if removed else "Codex was not set up here")


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def codex(args: tuple[str, ...]) -> None:
    """Run Codex CLI recorded: `promptster codex [CODEX ARGS]` (e.g. `exec "fix the bug"`).

    Adds the MCP server (capture_decision) and Promptster's hooks to this run with `-c`
    overrides; everything else is passed to `codex` unchanged.
    """
    from promptster.integrations.codex.launcher import run

    run(list(args))


@click.group()
def hook() -> None:
    """Entry points that AI tools call (configured by `promptster setup`)."""


@hook.command("claude-code", context_settings={"ignore_unknown_options": True})
@click.argument("ignored", nargs=-1, type=click.UNPROCESSED)
def hook_claude_code(ignored: tuple[str, ...]) -> None:
    """Read one Claude Code hook payload on stdin and send it to the recorder. Always exits 0."""
    from promptster.integrations.claude.hook import main

    main()


@hook.command("codex", context_settings={"ignore_unknown_options": True})
@click.argument("ignored", nargs=-1, type=click.UNPROCESSED)
def hook_codex(ignored: tuple[str, ...]) -> None:
    """Read one Codex hook payload on stdin and ask the recorder for a snapshot. Exits 0."""
    from promptster.integrations.codex.hook import main

    main()


@click.command()
def mcp() -> None:
    """Serve the capture_decision MCP tool on stdin/stdout (started by the AI tool)."""
    from promptster.integrations.mcp_server import main

    main()


# --- the other AI tools: one setup, teardown and hook command each, from the catalog ---------


def _tool_commands(name: str) -> None:
    from promptster.integrations.catalog import by_name

    tool = by_name(name)
    assert tool is not None

    @setup.command(name, help=f"Wire {tool.label} to the recording session: {tool.summary}.")
    @WORKSPACE
    @JSON
    def _setup(workspace: Path, as_json: bool) -> None:
        files = tool.adapter().setup(workspace)
        if as_json:
            print_json({"tool": name, "files": files})
            return
        console = out_console()
        for path in files:
            console.print(f"wrote {escape(path)}")
        if not files:
            console.print(f"{escape(tool.label)} needs no configuration: it is read as it works")

    @teardown.command(name, help=f"Restore the workspace's {tool.label} files as they were.")
    @WORKSPACE
    @JSON
    def _teardown(workspace: Path, as_json: bool) -> None:
        adapter = tool.adapter()
        active = adapter.is_active(workspace)
        notes = adapter.teardown(workspace) if active else []
        if as_json:
            print_json({"tool": name, "restored": active, "notes": notes})
            return
        console = out_console()
        if not active:
            console.print(f"nothing to restore: {escape(tool.label)} was not set up here")
            return
        for note in notes:
            console.print(f"[yellow]note:[/] {escape(note)}")
        console.print(f"restored the {escape(tool.label)} configuration")

    if tool.hook is not None:
        module = tool.hook

        @hook.command(name, context_settings={"ignore_unknown_options": True})
        @click.argument("args", nargs=-1, type=click.UNPROCESSED)
        def _hook(args: tuple[str, ...]) -> None:
            import importlib

            importlib.import_module(module).main(list(args))

        _hook.help = f"Read one {tool.label} hook payload on stdin for the recorder. Exits 0."


for _name in ("gemini-cli", "cursor", "copilot-cli", "aider"):
    _tool_commands(_name)
