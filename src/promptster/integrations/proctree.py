"""Linux process facts read from /proc: a process's parent and start time, and the AI client a
hook runs under (docs/attribution.md, "Hand saves during an AI command").

Standard library only (the hooks import it on every call). Every function returns None where
/proc is missing (macOS) or the process is gone: the callers then record no evidence.

A process is named by (pid, start time in clock ticks since boot), so a reused pid is never
taken for the process it replaced.
"""

from __future__ import annotations

import os

# Programs a hook command line goes through on its way from the AI client (`sh -c …`): the
# client is the first ancestor that is none of these.
SHELLS = frozenset(
    {"sh", "dash", "bash", "zsh", "ksh", "mksh", "fish", "busybox", "env", "nohup", "timeout"}
)

ProcId = tuple[int, int]  # (pid, start time in clock ticks since boot)


def stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            raw = file.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields after the last ")".
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def ident(pid: int) -> ProcId | None:
    found = stat(pid)
    return None if found is None else (pid, found[1])


def alive(proc: ProcId) -> bool:
    found = stat(proc[0])
    return found is not None and found[1] == proc[1]


def _program(pid: int) -> str:
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as file:
                return file.read().strip()
        except OSError:
            return ""


def client_of(pid: int) -> ProcId | None:
    """The AI client process that started `pid` (a hook): its nearest ancestor that is not a
    shell. None without /proc or when the chain reaches init first."""
    found = stat(pid)
    hops = 0
    while found is not None and found[0] > 1 and hops < 16:
        parent = found[0]
        found = stat(parent)
        if found is None:
            return None
        if _program(parent) not in SHELLS:
            return parent, found[1]
        hops += 1
    return None
