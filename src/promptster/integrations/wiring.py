"""Merge Promptster's entries into an AI tool's workspace JSON files, and undo it exactly.

Used by the Claude Code, Gemini CLI, Cursor and Copilot CLI adapters. A tool describes each file
it touches as a `JsonFile`: how to add our entries (`merge`) and how to take them out again
(`strip`), or as an `OwnedFile` whose whole content is ours (a slash command). `wire` keeps what
each file held before (or that it did not exist) in `.promptster/integrations/<tool>/setup.json`,
then writes the merged files; `unwire` puts every file back byte for byte when it still holds
what `wire` wrote, and otherwise removes only Promptster's entries, keeping whatever the
candidate or the tool added meanwhile. Nothing outside the workspace is touched.

A file that is not valid JSON, or not an object, is left alone: `wire` raises `InputError`
(exit 2) naming it, before anything is written.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptster.errors import EnvironmentProblem, InputError
from promptster.fsutil import atomic_write_bytes
from promptster.integrations.catalog import ToolCheck
from promptster.paths import session_dir

Json = dict[str, Any]
SERVER_NAME = "promptster"
RECORD_VERSION = 1


@dataclass(frozen=True)
class JsonFile:
    """One workspace file: `merge(current, executable)` adds our entries; `strip(current,
    original)` removes them (keeping what `original`, the file before setup, had)."""

    path: str  # workspace-relative
    merge: Callable[[Json, str], Json]
    strip: Callable[[Json, Json], Json]


@dataclass(frozen=True)
class OwnedFile:
    """A workspace file whose whole content is ours (Claude Code's `/explain` command): written as
    `content`, and put back as it was before setup at teardown, whatever happened to it."""

    path: str  # workspace-relative
    content: bytes


FileSpec = JsonFile | OwnedFile


@dataclass
class Unwired:
    restored: list[str] = field(default_factory=list)  # byte for byte (or removed again)
    merged: list[str] = field(default_factory=list)  # changed meanwhile: only our entries out
    notes: list[str] = field(default_factory=list)


def promptster_executable() -> str:
    """The absolute path of the installed `promptster` command."""
    beside_python = Path(sys.executable).with_name("promptster")
    for candidate in (str(beside_python), shutil.which("promptster")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise EnvironmentProblem(
        "cannot find the installed promptster command",
        "install Promptster with pip (it provides the `promptster` command) and try again",
    )


def hook_command(executable: str, integration: str) -> str:
    return f"{shlex.quote(executable)} hook {integration}"


def is_our_command(command: Any, integration: str) -> bool:
    return (
        isinstance(command, str)
        and (command.endswith(f" hook {integration}") or f" hook {integration} " in command)
        and "promptster" in command
    )


def command_ok(command: Any) -> bool:
    """Whether the program a command line starts exists and is executable."""
    try:
        program = shlex.split(command)[0] if isinstance(command, str) else ""
    except (ValueError, IndexError):
        return False
    return bool(program) and os.path.isfile(program) and os.access(program, os.X_OK)


def load_object(path: Path, data: bytes | None, tool: str) -> Json:
    if data is None or not data.strip():
        return {}
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise InputError(
            f"{path} is not valid JSON, so Promptster cannot add its {tool} settings",
            "fix or move that file, then run the command again",
        ) from exc
    if not isinstance(value, dict):
        raise InputError(f"{path} does not hold a JSON object", "fix or move that file")
    return value


def read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def dump(value: Json) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_path(workspace: Path, integration: str) -> Path:
    return session_dir(workspace) / "integrations" / integration / "setup.json"


def is_wired(workspace: Path, integration: str) -> bool:
    return record_path(workspace.resolve(), integration).exists()


def read_record(workspace: Path, integration: str) -> Json | None:
    """What `wire` recorded, or None when it did not run (or the record is unreadable)."""
    data = read_bytes(record_path(workspace.resolve(), integration))
    try:
        record = json.loads(data) if data is not None else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


# --- helpers for merge/strip functions -------------------------------------------------------


def strip_handlers(hooks: Any, original: Any, is_ours: Callable[[Any], bool], nested: bool) -> Any:
    """A `{event: [entries]}` map without our entries. With `nested`, entries are groups whose
    `hooks` list holds the handlers (Claude Code and Gemini CLI); otherwise entries are the
    handlers themselves (Cursor, Copilot CLI). Events that only held ours disappear, unless
    the original had them."""
    if not isinstance(hooks, dict):
        return hooks
    before = original if isinstance(original, dict) else {}
    kept: Json = {}
    for event, entries in hooks.items():
        if not isinstance(entries, list):
            kept[event] = entries
            continue
        cleaned = []
        for entry in entries:
            if nested and isinstance(entry, dict) and isinstance(entry.get("hooks"), list):
                handlers = [h for h in entry["hooks"] if not is_ours(h)]
                if not handlers and entry["hooks"]:
                    continue
                entry = {**entry, "hooks": handlers}
            elif not nested and is_ours(entry):
                continue
            cleaned.append(entry)
        if cleaned or event in before:
            kept[event] = cleaned
    return kept


def add_server(config: Json, entry: Json) -> Json:
    servers = config.get("mcpServers")
    servers = dict(servers) if isinstance(servers, dict) else {}
    servers[SERVER_NAME] = entry
    return {**config, "mcpServers": servers}


def strip_server(config: Json, original: Json) -> Json:
    result = dict(config)
    servers = result.get("mcpServers")
    servers = dict(servers) if isinstance(servers, dict) else {}
    listed = original.get("mcpServers")
    before: Json = listed if isinstance(listed, dict) else {}
    if SERVER_NAME in before:
        servers[SERVER_NAME] = before[SERVER_NAME]
    else:
        servers.pop(SERVER_NAME, None)
    if servers or "mcpServers" in original:
        result["mcpServers"] = servers
    else:
        result.pop("mcpServers", None)
    return result


# --- wire and unwire -------------------------------------------------------------------------


def wire(
    workspace: Path,
    integration: str,
    files: Sequence[FileSpec],
    tool: str,
    executable: str,
    extra: Json | None = None,
) -> list[str]:
    """Merge our entries into `files`; returns the paths written. Idempotent: a second call
    starts again from the user's own files. `extra` is kept in the record (what the tool's
    `strip` needs at teardown, e.g. the proxy URL it wrote)."""
    workspace = workspace.resolve()
    if record_path(workspace, integration).exists():
        unwire(workspace, integration, files)
    dirs = sorted({str(Path(f.path).parent) for f in files if str(Path(f.path).parent) != "."})
    created = [d for d in dirs if not (workspace / d).is_dir()]
    record: Json = {
        "version": RECORD_VERSION,
        "executable": executable,
        "files": {},
        "createdDirs": created,
        **(extra or {}),
    }
    plans: list[tuple[str, bytes]] = []
    for spec in files:
        original = read_bytes(workspace / spec.path)
        if isinstance(spec, OwnedFile):
            data = spec.content
        else:  # raises before anything is written
            current = load_object(workspace / spec.path, original, tool)
            data = dump(spec.merge(current, executable))
        plans.append((spec.path, data))
        record["files"][spec.path] = {
            "original": None if original is None else base64.b64encode(original).decode(),
            "written": _digest(data),
        }
    # The record first: if writing a file fails, unwire can still undo the others.
    path = record_path(workspace, integration)
    session_dir(workspace).mkdir(mode=0o700, exist_ok=True)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write_bytes(path, dump(record), 0o600)
    for name, data in plans:
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(workspace / name, data)
    return [name for name, _ in plans]


def unwire(workspace: Path, integration: str, files: Sequence[FileSpec]) -> Unwired:
    """Undo `wire`. Safe to run twice; a no-op when `wire` did not run."""
    workspace = workspace.resolve()
    path = record_path(workspace, integration)
    result = Unwired()
    data = read_bytes(path)
    if data is None:
        return result
    try:
        record = json.loads(data)
        entries = record["files"]
        assert isinstance(entries, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        result.notes.append(f"{path} is unreadable; nothing was restored")
        return result
    specs = {spec.path: spec for spec in files}
    for name, entry in entries.items():
        if name in specs and isinstance(entry, dict):
            _restore(workspace, specs[name], entry, result)
    for folder in reversed(record.get("createdDirs") or []):
        with contextlib.suppress(OSError):  # not empty: the candidate put something there
            (workspace / folder).rmdir()
    path.unlink(missing_ok=True)
    return result


def _put_back(path: Path, original: bytes | None) -> None:
    if original is None:
        path.unlink(missing_ok=True)
    else:
        atomic_write_bytes(path, original)


def _restore(workspace: Path, spec: FileSpec, entry: Json, result: Unwired) -> None:
    path = workspace / spec.path
    original = None if entry.get("original") is None else base64.b64decode(entry["original"])
    current = read_bytes(path)
    if current is None or _digest(current) == entry.get("written") or isinstance(spec, OwnedFile):
        _put_back(path, original)
        result.restored.append(spec.path)
        return
    try:
        now = json.loads(current)
        before = json.loads(original) if original and original.strip() else {}
    except ValueError:
        result.notes.append(f"{spec.path} changed during the session and is not JSON; left as is")
        return
    if not isinstance(now, dict) or not isinstance(before, dict):
        result.notes.append(f"{spec.path} changed during the session; left as it is")
        return
    stripped = spec.strip(now, before)
    if stripped == before:
        _put_back(path, original)
        result.restored.append(spec.path)
    else:
        atomic_write_bytes(path, dump(stripped))
        result.merged.append(spec.path)


# --- what the hook tools share: a flat hooks file, and their doctor checks -------------------


@dataclass(frozen=True)
class FlatHooks:
    """A `{"version": 1, "hooks": {"<event>": [handler, …]}}` file (Copilot CLI, Cursor): one
    command handler of ours per event of `events`, its command in the field `command_key`."""

    integration: str
    events: frozenset[str]
    command_key: str
    handler: Callable[[str, str], Json]  # (our hook command, event) -> the handler object

    def ours(self, handler: Any) -> bool:
        return isinstance(handler, dict) and is_our_command(
            handler.get(self.command_key), self.integration
        )

    def merge(self, config: Json, executable: str) -> Json:
        merged = self.strip(dict(config), {})
        merged.setdefault("version", 1)
        hooks = merged.get("hooks")
        hooks = dict(hooks) if isinstance(hooks, dict) else {}
        command = hook_command(executable, self.integration)
        for event in sorted(self.events):
            existing = hooks.get(event)
            kept = existing if isinstance(existing, list) else []
            hooks[event] = [*kept, self.handler(command, event)]
        merged["hooks"] = hooks
        return merged

    def strip(self, config: Json, original: Json) -> Json:
        return strip_flat_hooks(config, original, self.ours)

    def wired(self, config: Json) -> set[str]:
        """The events with a working handler of ours (for `doctor`)."""
        hooks = config.get("hooks") if isinstance(config.get("hooks"), dict) else {}
        return {
            event
            for event, handlers in (hooks or {}).items()
            if isinstance(handlers, list)
            for handler in handlers
            if self.ours(handler) and command_ok(handler.get(self.command_key))
        }


def strip_flat_hooks(config: Json, original: Json, is_ours: Callable[[Any], bool]) -> Json:
    """A `{"version": 1, "hooks": {"<event>": [handler, …]}}` file (Copilot CLI, Cursor)
    without our handlers; `hooks` and `version` go too where setup added them."""
    result = dict(config)
    if "hooks" in result:
        kept = strip_handlers(result["hooks"], original.get("hooks"), is_ours, nested=False)
        if kept or "hooks" in original:
            result["hooks"] = kept
        else:
            del result["hooks"]
    if "version" in result and "version" not in original and set(result) == {"version"}:
        del result["version"]
    return result


def hooks_check(
    tool: str, events: frozenset[str], wired: set[str], path: str, hint: str
) -> ToolCheck:
    """`doctor`'s line on a tool's hooks: every event in `events` has a working handler."""
    missing = sorted(events - wired)
    if missing:
        return ToolCheck(f"{tool} hooks", False, f"missing for {', '.join(missing)}", hint)
    return ToolCheck(f"{tool} hooks", True, f"{len(events)} events in {path}")


def mcp_server_check(tool: str, config: Json, path: str, hint: str, note: str = "") -> ToolCheck:
    """`doctor`'s line on our MCP server in a tool's `mcpServers` file."""
    servers = config.get("mcpServers") if isinstance(config.get("mcpServers"), dict) else {}
    server = (servers or {}).get(SERVER_NAME)
    if isinstance(server, dict) and command_ok(str(server.get("command"))):
        return ToolCheck(f"{tool} MCP server", True, f"capture_decision via {path}{note}")
    return ToolCheck(f"{tool} MCP server", False, f"missing from {path}", hint)
