"""The recording worker, started before `promptster shell` does anything else.

The worker (pipe.py) spends ~60 ms of CPU importing its modules, and the shell starts only
once it says it is ready, so that those imports never delay the echo of the first keys. The
console script (entry.py) starts it first thing for `promptster shell`: it then imports on
another core while this process imports the command line and finds the session, instead of
after. It waits for its configuration, the first frame on its stdin
(`PipeSink.configure`, sent by session.py); a worker whose stdin ends before that (the
command failed or was refused) exits without a word. This module imports nothing of ours.
"""

from __future__ import annotations

import os
import subprocess
import sys

RECORDED_SHELL_ENV = "PROMPTSTER_SHELL_TOKEN"  # set inside a recorded shell (session.py)

_started: subprocess.Popen[bytes] | None = None


def start_worker() -> subprocess.Popen[bytes]:
    """The worker, in its own session: a hangup of the terminal or a Ctrl-C must not stop it
    before it has finished the cast. Its stderr goes to its log once it is configured."""
    return subprocess.Popen(
        [sys.executable, "-m", "promptster.record.shell.pipe"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def prestart() -> None:
    """Start the worker now, for `run_recorded_shell` to take (`take_worker`)."""
    global _started
    if _started is not None or os.environ.get(RECORDED_SHELL_ENV):
        return  # a shell in a recorded shell is refused: no worker for it
    try:
        _started = start_worker()
    except OSError:
        _started = None  # started again, with the error reported, when it is needed


def take_worker() -> subprocess.Popen[bytes] | None:
    """The worker `prestart` started, once (None if it did not, or it has been taken)."""
    global _started
    worker, _started = _started, None
    return worker
