"""`promptster shell`'s own process (the pty loop) imports none of the recording worker's
modules: the worker imports them in a process of its own before the shell starts, and the
loop importing them too would only delay the first prompt (docs/performance.md, start-up)."""

from __future__ import annotations

import json
import subprocess
import sys

WORKER_ONLY = [
    "promptster.record.shell.cast",
    "promptster.record.shell.recording",
    "promptster.record.shell.events",
    "promptster.record.shell.osc",
    "promptster.record.shell.commands",
    "promptster.record.redact.redactor",
    "promptster.runs.events",
    "promptster.cli.candidate_cmds",
]

_LOOP_SIDE = """
import json, sys
import promptster.cli, promptster.cli.shell_cmds, promptster.cli.current
import promptster.record.shell.session
print(json.dumps([m for m in {names!r} if m in sys.modules]))
"""


def test_the_shell_command_imports_none_of_the_worker_modules() -> None:
    code = _LOOP_SIDE.format(names=WORKER_ONLY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
