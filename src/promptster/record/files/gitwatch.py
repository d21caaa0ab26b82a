"""The candidate's own git activity (commit, checkout, stash, merge, reset…) as `git_action`s.

Read-only: the candidate's reflogs (`logs/HEAD`, `logs/refs/stash`) are tailed by byte offset.
Every reflog line is one ref update with the command's own description ("commit: msg",
"checkout: moving from a to b", "reset: moving to HEAD~1"…), so no git process runs and the
candidate's repository is never touched. Event ids are derived from the file and the offset,
so a restart that re-reads a line cannot record it twice.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from promptster.fsutil import atomic_write_text
from promptster.gitutil import run_git

if TYPE_CHECKING:
    from promptster.formats.payloads import GitActionData

LOGS = ("logs/HEAD", "logs/refs/stash")
MAX_READ = 1024 * 1024


@dataclass(frozen=True)
class GitAction:
    event_id: str
    data: GitActionData
    time: datetime | None = None  # when git wrote the reflog line (whole seconds)


def reflog_time(line: str) -> datetime | None:
    """The `time tz` of a reflog line (epoch seconds), or None."""
    parts = line.partition("\t")[0].split(" ")
    try:
        return datetime.fromtimestamp(int(parts[-2]), UTC) if len(parts) >= 4 else None
    except (ValueError, OverflowError, OSError):
        return None


def candidate_git_dir(workspace: Path) -> Path | None:
    """The candidate's git dir (a `.git` folder, or where a `.git` file points), if any."""
    dot_git = workspace / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():
        found = run_git(["rev-parse", "--absolute-git-dir"], cwd=workspace, check=False)
        if found.returncode == 0 and found.text.strip():
            return Path(found.text.strip())
    return None


def parse_reflog_line(line: str) -> GitActionData | None:
    """`old new Name <email> time tz\\tmessage` → git_action data, or None."""
    head, sep, message = line.partition("\t")
    parts = head.split(" ")
    if not sep or len(parts) < 2 or len(parts[1]) < 40:
        return None
    new = parts[1]
    action, _, detail = message.partition(": ")
    action = action.split(" (")[0].split(" ")[0].strip() or "update"
    data: GitActionData = {"action": action, "commit": new}
    if action == "checkout" and " to " in detail:
        data["ref"] = detail.rsplit(" to ", 1)[1]
    elif action in ("commit", "merge", "pull", "rebase", "cherry-pick", "revert", "am"):
        data["message"] = detail[:2000]
    elif action == "reset":
        data["ref"] = detail.removeprefix("moving to ")
    else:
        data["message"] = message[:2000]
    if set(new) == {"0"}:
        data.pop("commit")
    return data


class GitWatcher:
    """Polls the reflogs' sizes; new lines become GitActions."""

    def __init__(self, session_id: str, git_dir: Path | None, state_file: Path) -> None:
        self.session_id = session_id
        self.git_dir = git_dir
        self.state_file = state_file
        self.offsets: dict[str, int] = {}
        self._load()

    def _load(self) -> None:
        try:
            saved = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            saved = {}
        if isinstance(saved, dict) and saved.get("gitDir") == str(self.git_dir):
            self.offsets = {k: int(v) for k, v in saved.get("offsets", {}).items()}

    def save(self) -> None:
        body = {"gitDir": str(self.git_dir), "offsets": self.offsets}
        atomic_write_text(self.state_file, json.dumps(body) + "\n", mode=0o600)

    def start_here(self) -> None:
        """Remember the current end of every reflog: earlier history is not the session's."""
        for name in LOGS:
            self.offsets[name] = self._size(name)
        self.save()

    def _size(self, name: str) -> int:
        if self.git_dir is None:
            return 0
        try:
            return (self.git_dir / name).stat().st_size
        except OSError:
            return 0

    def poll(self) -> list[GitAction]:
        if self.git_dir is None:
            return []
        actions: list[GitAction] = []
        for name in LOGS:
            size, offset = self._size(name), self.offsets.get(name, 0)
            if size < offset:  # the stash reflog shrank: `stash pop` or `stash drop`
                actions.append(
                    self._action(name, size, {"action": "stash", "message": "stash pop or drop"})
                )
                self.offsets[name] = size
                continue
            if size == offset:
                continue
            with (self.git_dir / name).open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read(min(size - offset, MAX_READ))
            complete = chunk[: chunk.rfind(b"\n") + 1]
            position = offset
            for raw in complete.splitlines(keepends=True):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                data = parse_reflog_line(line)
                if data is not None:
                    if name.endswith("stash"):
                        data = {"action": "stash", "message": data.get("message", ""), **data}
                        data["action"] = "stash"
                    actions.append(self._action(name, position, data, reflog_time(line)))
                position += len(raw)
            self.offsets[name] = position
        if actions:
            self.save()
        return actions

    def _action(
        self, name: str, offset: int, data: GitActionData, time: datetime | None = None
    ) -> GitAction:
        key = f"git:{self.git_dir}:{name}:{offset}:{data.get('commit', '')}"
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.session_id}/{key}"))
        return GitAction(event_id, data, time)
