"""A replay of line authorship stopped after a prefix of the timeline, to resume from
(checkpoint.py keeps one during the session; docs/attribution.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from promptster.bundle.authorship import FileAuthorship, file_json, run_length
from promptster.record.attribution.events import (
    EventAttributor,
    human_command_windows,
    tool_results,
)
from promptster.record.attribution.lines import FileLines

Json = Mapping[str, Any]


def tools_of(events: Sequence[Json]) -> dict[str, str]:
    """tool_use_id -> the integration that reported it (claude, codex, …)."""
    tools: dict[str, str] = {}
    for event in events:
        data, source = event.get("data"), event.get("source")
        if event.get("kind") in ("tool_use", "tool_result") and isinstance(data, Mapping):
            integration = source.get("integration") if isinstance(source, Mapping) else None
            tool_use_id = data.get("toolUseId")
            if isinstance(tool_use_id, str) and isinstance(integration, str):
                # "claude-code" -> "claude", "gemini-cli" -> "gemini": the tool, not the adapter
                name = integration.removesuffix("-code").removesuffix("-cli")
                tools.setdefault(tool_use_id, name)
    return tools


class ToolNames:
    """`tool_of(tool_use_id)`: the tool that reported a call, remembering the calls asked for
    and not found (an event after a checkpoint may name them: then it does not fit)."""

    def __init__(self, names: Mapping[str, str], missed: set[str]) -> None:
        self.names = names
        self.missed = missed

    def __call__(self, tool_use_id: str) -> str | None:
        name = self.names.get(tool_use_id)
        if name is None:
            self.missed.add(tool_use_id)
        return name


@dataclass(frozen=True)
class Knowledge:
    """What replaying a timeline's events needs to know of all of it: the tool calls that ran
    (with when), which tool reported each call, the candidate's shell windows."""

    ran: dict[str, datetime]
    tools: dict[str, str]
    windows: list[tuple[datetime, datetime]]

    @classmethod
    def of(cls, events: Sequence[Json]) -> Knowledge:
        return cls(tool_results(events), tools_of(events), human_command_windows(events))

    def extended(self, events: Sequence[Json]) -> Knowledge:
        """`Knowledge.of(prefix + events)`, where this is the knowledge of the prefix (each
        map keeps the first occurrence, as `of` does)."""
        more = Knowledge.of(events)
        ran, tools = dict(self.ran), dict(self.tools)
        for tool_use_id, when in more.ran.items():
            ran.setdefault(tool_use_id, when)
        for tool_use_id, name in more.tools.items():
            tools.setdefault(tool_use_id, name)
        return Knowledge(ran, tools, self.windows + more.windows)


@dataclass
class ReplayState:
    """Where a replay stands after the events `order` names, all among the first `count`
    events of a timeline, to resume from (checkpoint.py keeps one during the session, so
    submit replays only the rest).

    Attribution reads events in time order (`events.time_order`): the replay resumes only if
    the whole timeline's order begins with `order`. The replay of a prefix depends on the rest
    of the timeline otherwise only through what it knew of it: which tool calls ran
    (`tool_results`), the candidate's shell windows (`human_command_windows`) and the tool
    of each call. `fits` checks that the whole timeline's answers are the ones the prefix was
    replayed with, where it asked."""

    count: int
    chain: str  # `prev` of event `count`: the hash chain pins the first `count` events
    starter: str  # the first snapshot (the starter's files)
    files: dict[str, FileLines]
    deleted: dict[str, FileLines]
    attributor: EventAttributor
    windows: frozenset[tuple[datetime, datetime]]  # the shell windows it was replayed with
    prefix: Knowledge  # of events[:count] alone, to extend with the rest's
    head: str  # the snapshot of the last file event replayed (the ones after are new)
    blob_ids: dict[str, str]  # path -> the blob its lines are the lines of
    # path -> (blob id, its entry of the member, `file_json`): for the files no later event
    # changes, the member's bytes are kept as they are (checkpoint.py)
    finals: dict[str, tuple[str, bytes]]
    tools_missed: set[str]  # calls whose tool the replay asked for and did not know
    workspace: str  # the AI tools' paths are read relative to it
    order: list[int]  # the positions of the events replayed, in the order they were
    # the snapshot branch's head it was replayed against: `starter` is the first commit of its
    # first-parent line (a later head that has it on its line has the same first commit)
    tip: str = ""

    def make_finals(self) -> None:
        """Each file's authorship as it stands, to reuse at submit for the files the rest of
        the timeline leaves alone."""
        finals: dict[str, tuple[str, bytes]] = {}
        for path, item in self.files.items():
            oid = self.blob_ids.get(path)
            if oid is None:
                continue
            known = self.finals.get(path)
            if known is not None and known[0] == oid:
                finals[path] = known
            elif item.binary:
                finals[path] = oid, file_json(FileAuthorship(path, 0, True, ()))
            else:
                finals[path] = oid, file_json(run_length(path, item.columns()[1]))
        self.finals = finals

    def __getstate__(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "files": {path: item.pack() for path, item in self.files.items()},
            "deleted": {path: item.pack() for path, item in self.deleted.items()},
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in ("files", "deleted"):
            state[name] = {path: FileLines.unpack(item) for path, item in state[name].items()}
        self.__dict__.update(state)

    def chained(self, events: Sequence[Json]) -> bool:
        """Whether `events` begins with the events replayed (the hash chain says so)."""
        return len(events) > self.count and events[self.count].get("prev") == self.chain

    def fits(
        self,
        events: Sequence[Json],
        starter: str,
        ran: Mapping[str, datetime],
        windows: Iterable[tuple[datetime, datetime]],
        tools: Mapping[str, str],
    ) -> list[tuple[datetime, datetime]] | None:
        """The shell windows to add when resuming over `events`, or None: it does not fit
        (another timeline or snapshot history, a proposal found to have run, a window learnt
        since that covers a moment it was consulted, the tool of a call it did not know)."""
        if not self.chained(events):
            return None
        if starter != self.starter or not self.attributor.unran.isdisjoint(ran):
            return None
        if not self.tools_missed.isdisjoint(tools):
            return None
        extra = [window for window in dict.fromkeys(windows) if window not in self.windows]
        seen = self.attributor.attributor.windows_consulted
        spans = self.attributor.paste.windows_consulted
        for start, end in extra:
            if any(start <= moment <= end for moment in seen):
                return None
            if any(start <= moment and end >= since for since, moment in spans):
                return None
        return extra
