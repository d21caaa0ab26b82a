"""The console-script entry point.

AI tools run `promptster hook claude-code` on every prompt and tool call, so that path must not
pay for importing click and the CLI: it is dispatched here, before anything else is imported.
"""

from __future__ import annotations

import sys


def run() -> None:
    if sys.argv[1:] == ["hook", "claude-code"]:
        from promptster.integrations.claude.hook import main as claude_hook

        sys.exit(claude_hook())
    from promptster.cli import run as cli_run

    cli_run()
