"""File and git capture inside the recorder: watcher → debounced snapshots → file events.

The watcher only says "something changed"; the snapshot worker waits for a short quiet period
(or at most MAX_DELAY_S after the first trigger), then snapshots. It also snapshots every
`rescanSeconds` without a trigger, which catches whatever the watcher missed (an inotify
queue overflow, a watch limit, a network file system). The candidate's reflogs are polled on
every recorder tick.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from promptster.errors import PromptsterError
from promptster.formats.events import Kind, make_event, now_ts, parse_ts
from promptster.record.files.events import mark_gap_writes, snapshot_events
from promptster.record.files.gitwatch import GitWatcher, candidate_git_dir
from promptster.record.files.snapshots import ShadowRepo
from promptster.record.files.watcher import WorkspaceWatcher
from promptster.record.session import SessionPaths, SessionState

if TYPE_CHECKING:
    from promptster.record.recorder import Recorder

log = logging.getLogger("promptster.recorder.capture")
MAX_DELAY_S = 0.8
# git_action attribution by actor (see Attribution.git_actor)
GIT_ATTRIBUTION = {"ai": "likely_ai", "human": "likely_human", "unknown": "unknown"}


class Capture:
    def __init__(self, recorder: Recorder, paths: SessionPaths, state: SessionState) -> None:
        self.recorder = recorder
        self.workspace = state.workspace_path
        self.debounce_s = max(state.debounce_ms, 10) / 1000
        self.rescan_s = max(state.rescan_seconds, 0.5)
        self.shadow = ShadowRepo(
            paths.shadow_git,
            self.workspace,
            paths.shadow_index,
            max_file_bytes=state.max_file_bytes,
        )
        self.watcher = WorkspaceWatcher(self.workspace, self.trigger, self.shadow.ignored_dirs)
        self.git = GitWatcher(state.session_id, candidate_git_dir(self.workspace), paths.gitwatch)
        self.session_id = state.session_id
        self._trigger = threading.Event()
        self._stop = threading.Event()
        self._snap_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="snapshots", daemon=True)
        self.problem: str | None = None
        self.snapshot_count = 0
        self.last_snapshot_at: str | None = None
        self.last_trigger_at: str | None = None
        self.watching = False

    def start(self) -> None:
        self.shadow.create()
        self.shadow.load()
        if self.shadow.head is None:  # `start` was interrupted before its baseline
            self.shadow.take("baseline")
        try:
            self.watcher.start()
            self.watching = True
        except OSError as exc:
            self.problem = f"file watcher unavailable ({exc}); rescanning every {self.rescan_s}s"
        self._thread.start()
        self.trigger("startup")

    def stop_watching(self) -> None:
        if self.watching:
            self.watching = False
            self.watcher.stop()
        self._stop.set()
        self._trigger.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=60)

    def stop(self) -> None:
        self.stop_watching()

    def trigger(self, rel: str = "") -> None:
        self.last_trigger_at = now_ts()
        self._trigger.set()

    def tick(self) -> None:
        if self._stop.is_set():
            return
        self._poll_git()
        if self.watching:
            if self.watcher.replan_needed.is_set():
                self.watcher.replan()
            elif not self.watcher.alive:
                log.warning("file watcher died (%s); restarting it", self.watcher.error)
                self.watcher.stop()
                self.watcher.start()

    def _poll_git(self) -> None:
        if self.git.git_dir is None:
            found = candidate_git_dir(self.workspace)
            if found is None:
                return
            self.git = GitWatcher(self.session_id, found, self.git.state_file)
            self.git.start_here()  # `git init` during the session: history starts now
        actions = self.git.poll()
        if not actions:
            return
        events = []
        for action in actions:
            # an AI tool's shell command running then: the AI's; otherwise the candidate's own
            actor = self.recorder.attribution.git_actor(action.time)
            event = make_event(
                Kind.GIT_ACTION,
                action.data,
                channel="watcher",
                integration="git",
                emitter="promptster-recorder",
                actor=actor,
                attribution=GIT_ATTRIBUTION[actor],
                confidence=0.5 if actor == "unknown" else 0.8,
                observability="high",
                event_id=action.event_id,
            )
            events.append(event)
        self.recorder.pipeline.append_system(events)
        self.trigger("git")

    def _loop(self) -> None:
        while not self._stop.is_set():
            fired = self._trigger.wait(timeout=self.rescan_s)
            if self._stop.is_set():
                return
            reason = "rescan"
            if fired:
                reason = "watcher"
                first = time.monotonic()
                while True:
                    self._trigger.clear()
                    if not self._trigger.wait(self.debounce_s):
                        break  # quiet for a moment: the burst of writes is over
                    if self._stop.is_set() or time.monotonic() - first >= MAX_DELAY_S:
                        break
                self._trigger.clear()
            self.snapshot_now(reason)

    def snapshot_now(self, trigger: str) -> str | None:
        """Snapshot now and write its events; return the snapshot head."""
        # The AI tools' records first: the tool call that made a change is journaled (and
        # seen by attribution) before the change itself.
        self.recorder.poll_watchers()
        with self._snap_lock:
            taken_at = time.time()  # file times after this may be newer than what it reads
            try:
                snapshot = self.shadow.take(f"snapshot ({trigger})")
            except (PromptsterError, OSError) as exc:
                message = exc.message if isinstance(exc, PromptsterError) else str(exc)
                self.problem = f"snapshot failed: {message}"
                log.error("%s", self.problem)
                return self.shadow.head
            if self.problem and self.problem.startswith("snapshot failed"):
                self.problem = None
            if snapshot is not None:
                self.snapshot_count += 1
                self.last_snapshot_at = now_ts()
                lines: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
                events = snapshot_events(snapshot, trigger, lines)
                down_since, self.recorder.down_since = self.recorder.down_since, None
                if down_since is not None:  # the first snapshot after a crash
                    started = parse_ts(self.recorder.started_at)
                    mark_gap_writes(events, self.workspace, down_since, started)
                self.recorder.attribution.command_writes(
                    snapshot, events, self.shadow.git_dir, taken_at
                )
                for event_id, changed in lines.items():
                    self.recorder.attribution.remember(event_id, changed)
                self.recorder.pipeline.append_system(events)
            return self.shadow.head

    def sources(self) -> dict[str, Any]:
        return {
            "watcher": {
                "alive": self.watching and self.watcher.alive,
                "detail": self.watcher.error
                or f"{self.watcher.watch_count} folder watch(es), rescan every {self.rescan_s:g}s",
                "lastSeen": self.last_trigger_at,
            },
            "snapshots": {
                "alive": self._thread.is_alive(),
                "detail": f"{self.snapshot_count} snapshot(s) this run",
                "lastSeen": self.last_snapshot_at,
            },
            # No candidate repository is the normal case, not a problem: "neutral" says so.
            "git": (
                {"alive": True, "detail": str(self.git.git_dir)}
                if self.git.git_dir
                else {
                    "alive": False,
                    "neutral": True,
                    "detail": "no repository in the workspace (fine; snapshots are kept "
                    "separately)",
                }
            ),
        }
