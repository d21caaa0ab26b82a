"""The recorder's sources: the AI tools' live watchers it polls and their records it backfills
at the end, when each source was last heard from, and the `status` reply that reports them.

A mixin of `Recorder` (record/recorder.py), which owns the attributes declared below.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import TYPE_CHECKING, Any

from promptster.errors import PromptsterError
from promptster.formats.events import format_ts, now_ts
from promptster.record.pipeline import Rejected, event_from_client, warning

if TYPE_CHECKING:
    import threading
    from datetime import datetime
    from pathlib import Path

    from promptster.integrations.catalog import LiveWatcher
    from promptster.record.files.capture import Capture
    from promptster.record.limits import Limits
    from promptster.record.pipeline import EventPipeline
    from promptster.record.session import SessionPaths, SessionState
    from promptster.record.timelimit import SessionClock

log = logging.getLogger("promptster.recorder")


class Sources:
    """What `Recorder` knows of its sources; it sets these attributes."""

    paths: SessionPaths
    state: SessionState
    workspace: Path
    pipeline: EventPipeline
    capture: Capture
    clock: SessionClock
    deadline: datetime | None
    limits: Limits
    sources: dict[str, dict[str, Any]]
    watchers: dict[str, LiveWatcher]
    watch_lock: threading.Lock
    watch_waiting: list[Any]

    def start_watchers(self) -> None:
        from promptster.integrations import catalog

        for tool in catalog.TOOLS:
            try:
                watcher = tool.watcher(self.paths.root, self.workspace)
            except Exception:  # an adapter that cannot watch leaves the backfill to it
                log.exception("%s: no live watcher", tool.label)
                continue
            if watcher is not None:
                self.watchers[tool.name] = watcher

    def poll_watchers(self) -> None:
        """New events from the AI tools' own records (called every tick and before each
        snapshot, so an AI tool call is journaled before the changes it explains)."""
        with self.watch_lock:
            if self.pipeline.closed:
                return
            for name, watcher in self.watchers.items():
                try:
                    bodies = watcher.poll()
                except Exception:  # undocumented input: keep recording, backfill retries
                    log.exception("%s watcher failed", name)
                    continue
                for body in bodies:
                    try:
                        self.watch_waiting.append(event_from_client(body))
                    except Rejected as exc:
                        log.warning("%s watcher: event skipped: %s", name, exc)
            if not self.watch_waiting:
                return
            try:
                self.pipeline.append_client(self.watch_waiting)
            except PromptsterError as exc:  # the journal cannot be written: retried next tick
                log.warning("watched events wait: %s", exc.message)
                return
            self.watch_waiting = []

    def seen_source(self, name: str, detail: str | None = None, *, heartbeat: bool = False) -> None:
        entry = self.sources.setdefault(name, {})
        entry["lastSeen"] = now_ts()
        if detail:
            entry["detail"] = detail
        if heartbeat:  # a hook said it ran (Codex's send no events of their own)
            entry["heartbeatAt"] = entry["lastSeen"]

    def backfill_transcripts(self) -> None:
        """What hooks cannot see (replies with model and tokens, slash commands, interruptions),
        from each AI tool's own records of this workspace (Claude Code's transcripts, …); ids
        already journaled are skipped, so this is safe after the hooks' own reads. Never stops
        the session from ending."""
        from promptster.integrations import catalog

        for tool in catalog.TOOLS:
            try:
                bodies = tool.adapter().backfill(self.paths.root, self.state.workspace_path)
                if bodies:
                    self.pipeline.append_client([event_from_client(body) for body in bodies])
            except Exception as exc:  # undocumented input; it must not block submit
                self.pipeline.append_system(
                    [warning("transcript_skipped", f"{tool.label} backfill failed: {exc}")]
                )

    def status(self) -> dict[str, Any]:
        now = self.clock.now()
        body: dict[str, Any] = {
            "ok": True,
            "sessionId": self.state.session_id,
            "pid": os.getpid(),
            "nextSeq": self.pipeline.next_seq,
            "counts": dict(self.pipeline.stats.counts),
            "redactions": self.pipeline.stats.redactions,
            "deadline": format_ts(self.deadline) if self.deadline else None,
            "problem": self.pipeline.problem or self.capture.problem,
            "sources": {**self.capture.sources(), **self._watcher_sources(), **self.sources},
            "tools": self._tools(),
            "lastSnapshot": self.capture.shadow.head,
            "usage": self.pipeline.stats.usage.to_json_obj(budget=self.limits.token_budget_usd),
        }
        if self.deadline is not None:
            body["remainingSeconds"] = int((self.deadline - now).total_seconds())
        return body

    def _watcher_sources(self) -> dict[str, Any]:
        """The live watchers of the tools wired for this session, and of any other tool that
        has been heard from (a candidate may run plain `codex` without `--tools codex`)."""
        sources: dict[str, Any] = {}
        heard = self.pipeline.stats.heard
        for name, watcher in self.watchers.items():
            if name not in self.state.tools and name not in heard:
                continue
            with contextlib.suppress(Exception):
                sources[f"{name} watcher"] = watcher.status()
        return sources

    def _tools(self) -> dict[str, Any]:
        """Each AI tool: whether it is wired for this session, and when each of its channels
        (hook, import, mcp, …) last delivered an event."""
        from promptster.integrations import catalog

        tools: dict[str, Any] = {}
        for tool in catalog.TOOLS:
            try:
                active = tool.adapter().is_active(self.workspace)
            except Exception:
                active = False
            channels = dict(self.pipeline.stats.heard.get(tool.name, {}))
            beat = self.sources.get(tool.name, {}).get("heartbeatAt")
            if beat:  # a hook that sends no events of its own (Codex's) still counts
                channels["hook"] = max(channels.get("hook", ""), str(beat))
            tools[tool.name] = {
                "label": tool.label,
                "wired": tool.name in self.state.tools or active,
                "channels": channels,
            }
        return tools
