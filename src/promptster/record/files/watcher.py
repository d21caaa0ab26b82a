"""Watch the workspace for changes, without watching the trees that snapshots ignore.

Watcher events are only *triggers* for a snapshot (which re-reads the tree through git), so a
dropped or coalesced event costs latency, never data: the recorder also rescans periodically.

inotify cannot exclude a subtree from a recursive watch, so the watch plan avoids recursive
watches over ignored folders: a folder that contains an ignored folder somewhere below it is
watched on its own (non-recursively) and its children are planned in turn; every other
non-ignored folder gets one recursive watch. A fresh `node_modules` at the top level is never
watched at all; one created inside a recursively watched folder makes the recorder re-plan.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from promptster.record.files.ignores import IGNORED_DIR_NAMES

log = logging.getLogger(__name__)

# Opens and reads (IN_OPEN, IN_CLOSE_NOWRITE) are left out: `git add` reads files, and a
# snapshot must not trigger the next one.
EVENT_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


@dataclass(frozen=True)
class WatchPlan:
    recursive: list[str]  # workspace-relative folders ("" is the workspace itself)
    shallow: list[str]


def plan_watches(workspace: Path, ignored_dirs: Iterable[str]) -> WatchPlan:
    """Decide which folders to watch, given the ignored folders (relative, `/`-separated).

    Folders whose name is in IGNORED_DIR_NAMES are ignored wherever they are.
    """
    ignored = {d.strip("/") for d in ignored_dirs if d.strip("/")}
    for root, dirs, _ in os.walk(workspace):
        rel_root = os.path.relpath(root, workspace)
        rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/")
        for name in list(dirs):
            rel = f"{rel_root}/{name}" if rel_root else name
            if name in IGNORED_DIR_NAMES or rel in ignored:
                ignored.add(rel)
                dirs.remove(name)
            elif os.path.islink(os.path.join(root, name)):
                dirs.remove(name)
    holders: set[str] = set()  # folders with an ignored folder somewhere below them
    for rel in ignored:
        parts = rel.split("/")
        for depth in range(len(parts)):
            holders.add("/".join(parts[:depth]))
    recursive: list[str] = []
    shallow: list[str] = []
    pending = [""]
    while pending:
        rel = pending.pop()
        if rel not in holders:
            recursive.append(rel)
            continue
        shallow.append(rel)
        folder = workspace / rel if rel else workspace
        try:
            children = sorted(e.name for e in os.scandir(folder) if e.is_dir(follow_symlinks=False))
        except OSError:
            continue
        for name in children:
            child = f"{rel}/{name}" if rel else name
            if child not in ignored:
                pending.append(child)
    return WatchPlan(sorted(recursive), sorted(shallow))


def is_ignored_path(rel: str) -> bool:
    """Cheap filter for watcher events: any path component is an ignored folder name."""
    return any(part in IGNORED_DIR_NAMES for part in rel.split("/"))


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: WorkspaceWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.watcher._on_event(event)


class WorkspaceWatcher:
    """watchdog observer over the planned folders; calls `trigger(rel_path)` on a change."""

    def __init__(
        self,
        workspace: Path,
        trigger: Callable[[str], None],
        ignored_dirs: Callable[[], Iterable[str]],
    ) -> None:
        self.workspace = workspace
        self.trigger = trigger
        self.ignored_dirs = ignored_dirs
        self._observer: BaseObserver | None = None
        self._lock = threading.Lock()
        self._handler = _Handler(self)
        self._watches: dict[str, ObservedWatch] = {}
        self._recursive: set[str] = set()
        self.replan_needed = threading.Event()
        self.error: str | None = None
        self.events_seen = 0

    @property
    def alive(self) -> bool:
        observer = self._observer
        return observer is not None and observer.is_alive() and self.error is None

    @property
    def watch_count(self) -> int:
        return len(self._watches)

    def start(self) -> None:
        with self._lock:
            self._observer = Observer()
            self._observer.start()
        self.replan()

    def stop(self) -> None:
        with self._lock:
            observer, self._observer = self._observer, None
            self._watches.clear()
        if observer is not None:
            observer.stop()
            observer.join(timeout=10)

    def replan(self) -> None:
        """(Re)compute the plan and adjust the watches to it."""
        self.replan_needed.clear()
        plan = plan_watches(self.workspace, self.ignored_dirs())
        wanted = dict.fromkeys(plan.recursive, True) | dict.fromkeys(plan.shallow, False)
        with self._lock:
            observer = self._observer
            if observer is None:
                return
            for rel, watch in list(self._watches.items()):
                if wanted.get(rel) != (rel in self._recursive):
                    observer.unschedule(watch)
                    del self._watches[rel]
                    self._recursive.discard(rel)
            self.error = None
            for rel, recursive in sorted(wanted.items()):
                if rel not in self._watches:
                    self._schedule(observer, rel, recursive)

    def _schedule(self, observer: BaseObserver, rel: str, recursive: bool) -> None:
        path = self.workspace / rel if rel else self.workspace
        try:
            self._watches[rel] = observer.schedule(
                self._handler, str(path), recursive=recursive, event_filter=EVENT_FILTER
            )
        except OSError as exc:
            if rel == "":
                self.error = f"cannot watch the workspace: {exc.strerror or exc}"
            elif exc.errno in (28, 24):  # ENOSPC (inotify watch limit), EMFILE
                self.error = f"inotify limit reached: {exc.strerror}"
            return  # a folder that vanished meanwhile: the rescan covers it
        if recursive:
            self._recursive.add(rel)

    def _rel(self, path: str | bytes) -> str | None:
        text = os.fsdecode(path)
        try:
            rel = os.path.relpath(text, self.workspace)
        except ValueError:
            return None
        if rel == "." or rel.startswith(".."):
            return "" if rel == "." else None
        return rel.replace(os.sep, "/")

    def _on_event(self, event: FileSystemEvent) -> None:
        self.events_seen += 1
        relevant = False
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            rel = self._rel(raw)
            if rel is None or rel == "":
                continue
            name = rel.rsplit("/", 1)[-1]
            if event.is_directory and isinstance(event, (DirCreatedEvent, DirMovedEvent)):
                parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
                if name in IGNORED_DIR_NAMES and self._inside_recursive(parent):
                    self.replan_needed.set()  # an ignored tree appeared inside a recursive watch
                elif parent in self._watches and parent not in self._recursive:
                    self.replan_needed.set()  # a new folder beside watched ones: watch it
            if not is_ignored_path(rel):
                relevant = True
                self.trigger(rel)
        if not relevant:
            log.debug("ignored watcher event %s", event)

    def _inside_recursive(self, rel: str) -> bool:
        parts = rel.split("/") if rel else []
        return any("/".join(parts[:depth]) in self._recursive for depth in range(len(parts) + 1))
