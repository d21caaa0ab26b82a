"""The console-script entry point.

AI tools run `promptster hook <tool>` on every prompt and tool call, so that path must not pay
for importing click and the CLI: it is dispatched here, before anything else is imported.
`promptster shell` starts its recording worker here too, so that the worker's start overlaps
the CLI's (record/shell/prestart.py).
"""

from __future__ import annotations

import sys


def run() -> None:
    if sys.argv[1:] == ["hook", "claude-code"]:
        from promptster.integrations.claude.hook import main as claude_hook

        sys.exit(claude_hook())
    if len(sys.argv) >= 3 and sys.argv[1] == "hook":
        # The other AI tools' hooks, just as fast: a plain dict, not the catalog (which imports
        # dataclasses, pathlib and typing).
        from promptster.integrations.hooks import HOOK_MODULES

        module = HOOK_MODULES.get(sys.argv[2])
        if module is not None:
            sys.exit(__import__(module, fromlist=["main"]).main(sys.argv[3:]))
    if sys.argv[1:] == ["shell"]:
        # The recording worker imports its modules on another core while the CLI starts.
        from promptster.record.shell.prestart import prestart

        prestart()
    from promptster.cli import run as cli_run

    cli_run()
