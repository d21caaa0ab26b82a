"""Where command output goes: the one convention every command follows.

A command's result, for people or for machines, goes to stdout (`out_console()` for tables and
lines, `print_json()` for `--json`); progress, prompts, warnings and errors go to stderr
(`err_console()`). So `promptster keys list A | grep Ada` and `promptster score … > rows.csv`
get the result and nothing else, as with git, gh or coverage. docs/cli.md says the same.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich would exit 1 here; the CLI's main() ends a closed stdout with 141 instead
        self.quiet = True
        raise BrokenPipeError


_stderr: Console | None = None
_stdout: Console | None = None


def err_console() -> Console:
    """Progress, warnings, hints. Created lazily so commands that never print stay fast."""
    global _stderr
    if _stderr is None:
        _stderr = _Console(stderr=True, highlight=False, soft_wrap=True)
    return _stderr


def out_console() -> Console:
    """A command's human-readable result (tables, summaries): stdout, styled on a terminal."""
    global _stdout
    if _stdout is None:
        _stdout = _Console(highlight=False, soft_wrap=True)
    return _stdout


def print_json(value: Any) -> None:
    """Machine output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    sys.stdout.flush()
