"""The AI shell commands the recorder is measuring, by tool_use_id (procio.py reads /proc).

`start` takes the baseline when a command's hook asks (the command has not started); `poll`,
called about ten times a second while any command is measured (`Sampler`), keeps a short
series of each command's counters; `sample`, at each snapshot, gives what each command has
written since it began, and `idle_around` whether its processes wrote anything (a byte or a
page) around a moment: a file whose last modification falls in a stretch where they wrote
nothing was not written by them.

Where it can, the measure is the command's own process (the client's child whose command line
holds the command, started after the hook) and its descendants: precise, without the client's
other children (Claude Code runs `git` and other helpers of its own while a command runs). Once
that process is gone — or was never found — it is the whole client tree's count since the
baseline, which holds everything the command wrote, reaped or not, and more.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from promptster.integrations.proctree import ProcId
from promptster.record.attribution.procio import (
    Written,
    descends,
    find_command,
    subtree_written,
    tree_written,
)

# Counters kept this long after the command's result arrived (its writes may show up in the
# next snapshot; the engine's settle window is shorter).
KEEP_AFTER_END_S = 10.0
# A command whose result never arrives (the client was killed) stops being measured after this.
MAX_OPEN_S = 3600.0
# Samples kept per command (about ten minutes at the fastest pace).
MAX_SAMPLES = 6000
# How far on each side of a file's modification time its writers must have been idle (the
# kernel's file times may lag the clock by a tick; the reads of /proc take a moment).
IDLE_MARGIN_S = 0.05


class Probe:
    """How /proc is read (tests give their own)."""

    def tree(self, client: ProcId) -> Written | None:
        return tree_written(client)

    def subtree(self, proc: ProcId) -> Written | None:
        return subtree_written(proc)

    def find(self, client: ProcId, since: int, command: str) -> ProcId | None:
        return find_command(client, since, command)

    def descends(self, proc: ProcId, ancestor: ProcId) -> bool:
        return descends(proc, ancestor)


@dataclass(frozen=True)
class _Sample:
    before: float  # wall-clock time (the clock of file times) before /proc was read
    after: float  # ... and after
    tree: Written  # the client's whole tree (what the command wrote and more)
    own: tuple[ProcId, Written] | None = None  # the command's own process tree, while it runs


@dataclass
class _Command:
    client: ProcId
    hook: ProcId
    base: Written
    started: float
    command: str = ""
    shell: ProcId | None = None  # the command's own process, once found
    ended: float | None = None
    series: deque[_Sample] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))


class CommandWrites:
    """Thread-safe: the socket threads start commands, the snapshot thread samples them."""

    def __init__(
        self,
        probe: Probe | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        pages: bool = False,
        wall: Callable[[], float] = time.time,
    ):
        self._probe = probe or Probe()
        self._wall = wall
        self._pages = pages  # the workspace's file system counts dirtied pages
        self._clock = clock
        self._commands: dict[str, _Command] = {}
        self._lock = threading.Lock()

    def start(self, tool_use_id: str, client: ProcId, hook: ProcId, command: str = "") -> bool:
        """Take the baseline, while the hook (so the command has not started) is alive."""
        probe = self._probe
        if not tool_use_id or not probe.descends(hook, client):
            return False
        before = self._wall()
        base = probe.tree(client)
        if base is None or not probe.descends(hook, client):  # the hook lived all along
            return False
        first = _Sample(before, self._wall(), base)
        with self._lock:
            entry = _Command(client, hook, base, self._clock(), command)
            entry.series.append(first)
            self._commands[tool_use_id] = entry
        return True

    def ended(self, tool_use_id: str) -> None:
        with self._lock:
            command = self._commands.get(tool_use_id)
            if command is not None and command.ended is None:
                command.ended = self._clock()

    def active(self) -> bool:
        with self._lock:
            return bool(self._commands)

    def poll(self) -> dict[str, _Sample]:
        """Read every measured command's counters once (dropping those no longer measured)."""
        now = self._clock()
        with self._lock:
            for key, command in list(self._commands.items()):
                done = command.ended is not None and now - command.ended > KEEP_AFTER_END_S
                if done or now - command.started > MAX_OPEN_S:
                    del self._commands[key]
            commands = dict(self._commands)
        trees: dict[ProcId, tuple[float, Written | None]] = {}
        taken: dict[str, _Sample] = {}
        for key, command in commands.items():
            own = self._own(command)  # first: its writes are then in the tree's count too
            if command.client not in trees:
                before = self._wall()
                trees[command.client] = (before, self._probe.tree(command.client))
            before, tree = trees[command.client]
            if tree is None:  # the client is gone: its reaped children's counts went with it
                with self._lock:
                    self._commands.pop(key, None)
                continue
            reading = _Sample(min(before, own[0]) if own else before, self._wall(), tree)
            if own is not None:
                reading = dataclasses.replace(reading, own=own[1])
            with self._lock:
                command.series.append(reading)
            taken[key] = reading
        return taken

    def sample(self) -> dict[str, dict[str, int]]:
        """What each measured command has written since it began, `{"written": wchar,
        "dirtied": write_bytes}` (no `dirtied` where it is not counted); {}: none measured."""
        result: dict[str, dict[str, int]] = {}
        with self._lock:
            bases = {key: c.base for key, c in self._commands.items()}
        for key, reading in self.poll().items():
            if reading.own is not None:  # its own processes, since they started
                counts = reading.own[1]
            else:  # the whole tree, since the baseline
                base = bases.get(key, (0, 0))
                counts = (reading.tree[0] - base[0], reading.tree[1] - base[1])
            entry = {"written": max(counts[0], 0)}
            if self._pages:
                entry["dirtied"] = max(counts[1], 0)
            result[key] = entry
        return result

    def idle_around(self, tool_use_id: str, when: float) -> bool | None:
        """Whether the command's processes wrote nothing (no byte, no page) from IDLE_MARGIN_S
        before `when` (wall-clock seconds) to as long after; None: the samples do not say."""
        with self._lock:
            command = self._commands.get(tool_use_id)
            series = list(command.series) if command is not None else []
        earlier = [s for s in series if s.after <= when - IDLE_MARGIN_S]
        later = [s for s in series if s.before >= when + IDLE_MARGIN_S]
        if not earlier or not later:
            return None
        first, last = earlier[-1], later[0]
        a, b = first.tree, last.tree
        if first.own is not None and last.own is not None and first.own[0] == last.own[0]:
            a, b = first.own[1], last.own[1]  # the command's own: not its client's helpers
        return a[0] == b[0] and (not self._pages or a[1] == b[1])

    def _own(self, command: _Command) -> tuple[float, tuple[ProcId, Written]] | None:
        """(when the read began, (the command's own process, its tree's counts)) while that
        process runs."""
        if command.shell is None and command.command and command.ended is None:
            command.shell = self._probe.find(command.client, command.hook[1], command.command)
        if command.shell is None:
            return None
        before = self._wall()
        counts = self._probe.subtree(command.shell)
        return None if counts is None else (before, (command.shell, counts))


class Sampler:
    """Polls the measured commands while there are any (a daemon thread that ends when the
    last one is dropped); the pace slows down where reading /proc is slow (many processes), so
    that it takes at most about 5 % of a core."""

    def __init__(self, commands: CommandWrites, interval: float = 0.1) -> None:
        self.commands = commands
        self.interval = interval
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="command-io", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            began = time.monotonic()
            try:
                self.commands.poll()
            except Exception:  # best effort, like all attribution evidence
                return
            with self._lock:
                if not self.commands.active():
                    self._thread = None
                    return
            took = time.monotonic() - began
            time.sleep(max(self.interval, 20 * took))


def evidence(needed: int, written: Mapping[str, Mapping[str, int]]) -> dict[str, object]:
    """The `commandWrites` object of a file event (docs/event-kinds.md)."""
    return {
        "bytesNeeded": needed,
        "commands": {key: dict(written[key]) for key in sorted(written)},
    }
