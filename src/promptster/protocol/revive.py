"""Bringing a session's recorder back: a client that finds it gone starts one in the background."""

from __future__ import annotations

import fcntl
import os
import sys
import time

from promptster.protocol.session import JOURNAL_FILE

TYPE_CHECKING = False  # typing costs ~2 ms at import; mypy still reads the block below
if TYPE_CHECKING:
    from promptster.protocol.session import SessionHandle

RECORDER_MODULE = "promptster.record.recorder"
STARTING_FILE = "recorder.starting"
REVIVE_WINDOW_S = 10.0


def revive_recorder(handle: SessionHandle) -> bool:
    """Start the session's recorder in the background if none runs (it then ingests the spool).

    Does not wait for it. Returns whether this call started one. A burst of hooks that all find
    the recorder gone starts exactly one: the first to create `recorder.starting` (O_EXCL)
    spawns it, the others see the marker and leave it be; the recorder removes the marker once
    it holds its lock, and a marker older than REVIVE_WINDOW_S (a start that failed) is taken
    over by one caller (rename: only one succeeds).
    """
    if not os.path.exists(os.path.join(handle.dir, JOURNAL_FILE)):
        return False  # not a session `promptster start` made (a test's stand-in, a half start)
    lock = os.path.join(handle.dir, "recorder.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # held: a recorder runs (or is starting)
    finally:
        os.close(fd)
    if not _claim_start(os.path.join(handle.dir, STARTING_FILE)):
        return False  # another caller is starting it
    import subprocess

    try:
        subprocess.Popen(
            [sys.executable, "-m", RECORDER_MODULE, "--daemon", handle.dir],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=handle.dir,
            start_new_session=True,
        )
    except OSError:
        _unlink_quietly(os.path.join(handle.dir, STARTING_FILE))
        return False
    return True


def _unlink_quietly(path: str) -> None:
    try:  # noqa: SIM105 (contextlib: ~1 ms more per hook call)
        os.unlink(path)
    except OSError:
        pass


def _claim_start(marker: str) -> bool:
    """True for the one caller that may start the recorder now."""
    for _ in range(2):
        try:
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return True
        except FileExistsError:
            pass
        except OSError:
            return False
        try:
            age = time.time() - os.stat(marker).st_mtime
        except OSError:
            continue  # removed meanwhile: try to create it again
        if age < REVIVE_WINDOW_S:
            return False
        stale = f"{marker}.stale-{os.urandom(16).hex()}"
        try:  # stale: exactly one caller wins the rename and tries again
            os.rename(marker, stale)
        except OSError:
            return False
        _unlink_quietly(stale)
    return False
