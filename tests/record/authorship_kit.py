"""A real git snapshot history plus a timeline of events, for the line-authorship tests."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from promptster.formats.events import make_event
from promptster.integrations.claude import events as ce
from promptster.integrations.claude import tool_events as cte

WS = "/home/candidate/work"
Event = dict[str, Any]


def ts(second: float) -> str:
    minutes, rest = divmod(second, 60)
    return f"2026-01-05T09:{int(minutes):02d}:{rest:06.3f}Z"


def at(second: float) -> ce.Context:
    return ce.Context(lane="lane", workspace=WS, cwd=WS, ts=ts(second))


class Session:
    """Snapshots in a real git repository and the events that describe them, in order."""

    def __init__(self, root: Path, starter: dict[str, bytes] | None = None) -> None:
        self.dir = root / "ws"
        self.dir.mkdir()
        self.git("init", "-q")
        self.events: list[Event] = []
        self.seq = 0
        for path, content in (starter or {}).items():
            self._write(path, content)
        self.git("commit", "-q", "--allow-empty", "-m", "baseline")

    @property
    def git_dir(self) -> Path:
        return self.dir / ".git"

    def git(self, *args: str) -> str:
        env = {
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@e",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@e",
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.dir.parent),
        }
        return subprocess.run(
            ["git", "-C", str(self.dir), *args], capture_output=True, check=True, env=env
        ).stdout.decode()

    @property
    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def _write(self, path: str, content: bytes | None) -> None:
        target = self.dir / path
        if content is None:
            target.unlink()
            self.git("rm", "-q", "--cached", path)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        self.git("add", path)

    def add(self, events: list[Event]) -> None:
        for event in events:
            event = dict(event)
            event["seq"] = self.seq
            self.seq += 1
            self.events.append(event)

    def save(
        self,
        second: float,
        files: dict[str, bytes | None],
        renamed: dict[str, str] | None = None,
        extra: dict[str, dict[str, Any]] | None = None,
    ) -> str:
        """One snapshot commit changing `files` (None deletes), and its file events (`extra`:
        more data fields per path)."""
        existed = {path: (self.dir / path).exists() for path in files}
        for path, content in files.items():
            self._write(path, content)
        self.git("commit", "-q", "-m", f"snapshot {second}")
        commit = self.head
        for path, content in files.items():
            kind = (
                "file_delete"
                if content is None
                else ("file_diff" if existed[path] else "file_create")
            )
            data: dict[str, Any] = {"path": path, "commit": commit}
            if renamed and path in renamed:
                data["renamedFrom"] = renamed[path]
            data.update((extra or {}).get(path, {}))
            event = make_event(
                kind,
                data,
                channel="watcher",
                integration="promptster",
                emitter="promptster-recorder",
                ts=ts(second),
            ).to_dict()
            self.add([event])
        return commit

    def ai_write(self, second: float, tool_id: str, path: str, content: str) -> None:
        tool_input = {"file_path": f"{WS}/{path}", "content": content}
        self.add(cte.tool_use_events(at(second), "Write", tool_id, tool_input))
        self.save(second + 0.2, {path: content.encode()})
        self.add(cte.tool_result_events(at(second + 0.4), "Write", tool_id, tool_input, {}))

    def ai_edit(self, second: float, tool_id: str, path: str, old: str, new: str) -> None:
        tool_input = {"file_path": f"{WS}/{path}", "old_string": old, "new_string": new}
        current = (self.dir / path).read_text()
        self.add(cte.tool_use_events(at(second), "Edit", tool_id, tool_input))
        self.save(second + 0.2, {path: current.replace(old, new).encode()})
        self.add(cte.tool_result_events(at(second + 0.4), "Edit", tool_id, tool_input, {}))

    def terminal_command(self, end: float, duration_ms: int, command: str) -> None:
        event = make_event(
            "command",
            {"command": command, "exitCode": 0, "durationMs": duration_ms, "cwd": "."},
            channel="terminal",
            integration="promptster",
            emitter="promptster-shell",
            actor="human",
            ts=ts(end),
        ).to_dict()
        self.add([event])
