"""A checkpoint of the line-authorship replay, kept during the session (docs/attribution.md).

Line authorship replays every file event of the session at submit; most of that work can be
done while the candidate is still working. The recorder runs this module now and then in a
low-priority child process (`Checkpoints.tick`): it replays the journal so far, resuming the
previous checkpoint, up to a settled point (before the last 10 s, which an event still to
come may precede in time order, and before any AI tool call still waiting for its result),
and keeps the replay's state in `<session>/authorship.checkpoint`. At submit,
`compute_authorship` resumes from it when it fits the final timeline (`ReplayState.fits`) and
replays only the rest: the same `authorship.json`, byte for byte, as a replay from the start.

The file is a cache, never a record: written atomically, checked before use (format version,
a digest of the attribution code that wrote it, an HMAC with the session key, the journal's
hash chain), and ignored whenever anything does not match: submit then replays everything.
It holds a pickle, read only after the HMAC with the session's own key checks out.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from promptster import gitblobs
from promptster.bundle import authorship as member
from promptster.formats import events as event_kinds
from promptster.formats import jsonio
from promptster.fsutil import atomic_write_bytes
from promptster.integrations.claude import events as claude_events
from promptster.integrations.claude import tool_events as claude_tool_events
from promptster.integrations.claude import values as claude_values
from promptster.integrations.claude.values import parse_time
from promptster.record.attribution import (
    authorship,
    claims,
    engine,
    events,
    lines,
    model,
    paste,
    resume,
    verdict,
    windows,
)
from promptster.record.attribution.authorship import ReplayState, replay_events, replay_prefix
from promptster.record.attribution.engine import CLAIM_SKEW
from promptster.record.attribution.events import tool_results

log = logging.getLogger("promptster.recorder.attribution")

MAGIC = b"promptster-authorship-checkpoint 1\n"
FILE_NAME = "authorship.checkpoint"
# A tool call proposed this recently without a result may still get one: the checkpoint stops
# before it (a result learnt later would not fit the replay). Older ones count as never run.
OPEN_CALLS = timedelta(minutes=15)
SETTLE = 2 * CLAIM_SKEW
INTERVAL_S = 60.0  # at most one checkpoint job a minute
MIN_GROWTH = 32 * 1024  # journal bytes since the last job

Json = Mapping[str, Any]


# The code whose behaviour the replay's state and result depend on: every module of this
# package the replay imports, the authorship member's encoding (entries are kept encoded),
# which events are file events, which tools count as edits and shell commands, and how the
# snapshots' blobs are listed (tests/record/test_checkpoint_digest.py keeps this complete).
REPLAY_MODULES = (
    authorship,
    claims,
    engine,
    events,
    lines,
    model,
    paste,
    resume,
    verdict,
    windows,
    member,
    jsonio,
    event_kinds,
    claude_events,
    claude_tool_events,
    claude_values,
    gitblobs,
)


def code_digest() -> bytes:
    """The attribution code's identity: a checkpoint written by other code is not used."""
    digest = hashlib.sha256(sys.version.encode())
    for module in REPLAY_MODULES:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.digest()


def save(path: Path, state: ReplayState, secret: bytes) -> None:
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    digest = code_digest()
    mac = hmac.new(secret, digest + payload, hashlib.sha256).digest()
    atomic_write_bytes(path, MAGIC + digest + mac + payload, mode=0o600)


def load(path: Path, secret: bytes) -> ReplayState | None:
    """The checkpoint, or None when there is none or it cannot be trusted to fit this code."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC)
    digest, mac = data[head : head + 32], data[head + 32 : head + 64]
    payload = memoryview(data)[head + 64 :]  # megabytes: not copied
    if not data.startswith(MAGIC) or digest != code_digest():
        return None
    check = hmac.new(secret, digest, hashlib.sha256)
    check.update(payload)
    if not hmac.compare_digest(mac, check.digest()):
        return None
    try:
        state = pickle.loads(payload)
    except Exception:  # a cache: anything wrong means a replay from the start
        return None
    return state if isinstance(state, ReplayState) else None


def settled_count(
    timeline: Sequence[Json], settle: timedelta = SETTLE, now: datetime | None = None
) -> int:
    """How many events to replay now: all but the last, none of the `settle` before `now`
    (default: the last event's time; an event still to come may be read before them, as
    attribution reads in time order), and none from the first AI tool call proposed in the
    OPEN_CALLS before it that has no result yet."""
    count = len(timeline) - 1
    newest = parse_time(timeline[-1].get("ts")) if timeline else None
    if count <= 0 or newest is None:
        return 0
    last = max(newest, now) if now is not None else newest
    while count > 0 and (parse_time(timeline[count - 1].get("ts")) or last) > last - settle:
        count -= 1
    ran = tool_results(timeline)
    for index, event in enumerate(timeline[:count]):
        data = event.get("data")
        if event.get("kind") != "tool_use" or not isinstance(data, Mapping):
            continue
        when = parse_time(event.get("ts"))
        if data.get("toolUseId") in ran or when is None:
            continue
        if last - when <= OPEN_CALLS:
            return index
    return count


def checkpoint_session(root: Path, settle: timedelta = SETTLE) -> int:
    """Replay the session's journal so far (resuming the previous checkpoint) and keep the
    state; the number of events it covers (0: nothing kept)."""
    from promptster.bundle.format import SNAPSHOT_REF
    from promptster.gitutil import run_git
    from promptster.record.journal import read_journal
    from promptster.record.session import SessionPaths, read_state

    paths = SessionPaths(root)
    state = read_state(paths)
    secret = paths.key.read_bytes()
    timeline = replay_events(read_journal(paths.journal, state.session_id).events)
    head = run_git(["rev-parse", "--verify", SNAPSHOT_REF], git_dir=paths.shadow_git, check=False)
    count = settled_count(timeline, settle, datetime.now(UTC))
    target = root / FILE_NAME
    previous = load(target, secret)
    if head.returncode != 0 or count == 0 or (previous and previous.count >= count):
        return previous.count if previous else 0
    replayed = replay_prefix(
        timeline, count, paths.shadow_git, head.text.strip(), state.workspace, previous
    )
    save(target, replayed, secret)
    return replayed.count


class Checkpoints:
    """The recorder's side: a checkpoint job in a child process when the journal has grown,
    one at a time, at most one per `interval` seconds and at most 5 % of the time (a job
    reads the whole journal)."""

    def __init__(
        self, root: Path, interval: float = INTERVAL_S, min_growth: int = MIN_GROWTH
    ) -> None:
        self.root = root
        self.interval = interval
        self.min_growth = min_growth
        self._lock = threading.Lock()
        self._job: subprocess.Popen[bytes] | None = None
        self._started = self._last = time.monotonic()
        self._pause = interval
        self._size = 0
        self._closed = False

    def tick(self) -> None:
        with self._lock:
            if self._closed:
                return
            now = time.monotonic()
            if self._job is not None:
                if self._job.poll() is None:
                    return
                self._job = None
                self._pause = max(self.interval, 20 * (now - self._started))
                self._last = now
            if now - self._last < self._pause:
                return
            try:
                size = (self.root / "timeline.jsonl").stat().st_size
            except OSError:
                return
            if size - self._size < self.min_growth:
                return
            self._started, self._size = now, size
            self._job = subprocess.Popen(
                [sys.executable, "-m", "promptster.record.attribution.checkpoint", str(self.root)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait(self) -> int | None:
        """Wait for the running job, if any; its exit status."""
        with self._lock:
            job = self._job
        return None if job is None else job.wait()

    def stop(self) -> None:
        """End a running job, and start no other (the session is ending: the CPU is
        submit's)."""
        with self._lock:
            self._closed = True
            job, self._job = self._job, None
        if job is not None and job.poll() is None:
            job.terminate()
            try:
                job.wait(timeout=5)
            except subprocess.TimeoutExpired:
                job.kill()
                job.wait()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m promptster.record.attribution.checkpoint SESSION_DIR")
        return 2
    with contextlib.suppress(OSError):
        os.nice(10)  # background work: the candidate's tools come first
    try:
        checkpoint_session(Path(args[0]))
    except Exception:  # a cache: submit replays everything without it
        log.exception("authorship checkpoint failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
