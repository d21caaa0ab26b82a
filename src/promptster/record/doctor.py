"""`promptster doctor` for the candidate side: each check says ✓ or ✗ and how to fix it."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from promptster.errors import PromptsterError
from promptster.formats.events import parse_ts
from promptster.gitutil import run_git
from promptster.protocol import RecorderUnavailable, request
from promptster.record.control import ensure_recorder, handle_for, recorder_running
from promptster.record.session import SessionPaths, read_state

MIN_FREE_BYTES = 500 * 1024 * 1024


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # shown as "!" — worked around, worth knowing

    def to_json_obj(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ok": self.ok,
            "warning": self.warning,
            "detail": self.detail,
            "fix": self.fix,
        }


def run_checks(paths: SessionPaths | None, now: datetime | None = None) -> list[Check]:
    checks = [_git()]
    if paths is None:
        checks.append(
            Check("session", False, "no session here", "cd into your workspace, or `start` one")
        )
        return checks
    try:
        state = read_state(paths)
    except PromptsterError as exc:
        checks.append(Check("session", False, exc.message, exc.hint))
        return checks
    checks.append(Check("session", True, f"{state.session_id} ({state.status})"))
    workspace = state.workspace_path
    checks.append(_writable(workspace))
    checks.append(_disk(workspace))
    checks.append(_clock(paths, now or datetime.now(UTC)))
    checks.extend(_tools(workspace, state.tools))
    if not state.active:
        return checks
    was_running = recorder_running(paths)
    try:
        restarted = ensure_recorder(paths).restarted
    except PromptsterError as exc:
        checks.append(Check("recorder", False, exc.message, exc.hint))
        return checks
    if restarted or not was_running:
        checks.append(
            Check(
                "recorder",
                True,
                "was not running; restarted (the gap is recorded in the timeline)",
                warning=True,
            )
        )
    else:
        checks.append(Check("recorder", True, "running"))
    try:
        status = request(handle_for(paths), {"op": "status"}, timeout=5.0)
    except RecorderUnavailable as exc:
        checks.append(Check("socket", False, str(exc), "run `promptster doctor` again"))
        return checks
    checks.append(Check("socket", True, f"{state.socket} answers"))
    sources = status.get("sources", {})
    watcher = sources.get("watcher", {})
    checks.append(
        Check(
            "watcher",
            bool(watcher.get("alive")),
            str(watcher.get("detail", "")),
            ""
            if watcher.get("alive")
            else "changes are still caught by the periodic rescan; "
            "raise fs.inotify.max_user_watches if the detail mentions a limit",
        )
    )
    checks.extend(_heard(status.get("tools")))
    checks.extend(_api_recorder(paths, workspace))
    checks.extend(_model_usage(status.get("usage")))
    problem = status.get("problem")
    if problem:
        checks.append(Check("recording", False, str(problem), "free disk space; see the log"))
    return checks


def _api_recorder(paths: SessionPaths, workspace: Path) -> list[Check]:
    """The model-API recorder of a `start --proxy` session: running (restarted if it was not),
    and which tools are wired to it."""
    from promptster.record.proxy import control as proxy_control

    if proxy_control.status(paths.root, workspace) is None:
        return []
    restarted = proxy_control.ensure(paths.root)
    status = proxy_control.status(paths.root, workspace)
    assert status is not None
    if not status["running"]:
        log = paths.root / "proxy.log"
        return [Check("API recorder", False, f"not running at {status['url']}", f"see {log}")]
    wired = ", ".join(status["wiredTools"]) or "no tool wired (point yours at it)"
    detail = f"{status['url']}; wired: {wired}"
    if restarted:
        detail = f"was not running; restarted (the gap is recorded); {detail}"
    return [Check("API recorder", True, detail, warning=restarted)]


def _model_usage(usage: Any) -> list[Check]:
    """Tokens and cost so far (every AI tool's reported usage and the API recorder's), with
    the assessment's budget; over the budget is a warning, not a failure of the setup."""
    if not isinstance(usage, dict) or not (usage.get("totalTokens") or usage.get("byModel")):
        return []
    from promptster.record.limits import usage_text

    over = bool(usage.get("overBudget"))
    return [Check("model usage", True, usage_text(usage), warning=over)]


def _tools(workspace: Path, requested: list[str]) -> list[Check]:
    """Each AI tool's checks, when its setup is active here (`start --tools` or by hand)."""
    from promptster.integrations import catalog

    checks: list[Check] = []
    for tool in catalog.TOOLS:
        adapter = tool.adapter()
        if tool.name in requested or adapter.is_active(workspace):
            checks.extend(Check(c.name, c.ok, c.detail, c.hint) for c in adapter.checks(workspace))
    return checks


def _heard(tools: object) -> list[Check]:
    """Each AI tool wired for (or used in) this session, and when each of its channels last
    delivered an event."""
    checks: list[Check] = []
    for name, tool in sorted(tools.items()) if isinstance(tools, dict) else ():
        if not isinstance(tool, dict):
            continue
        label = str(tool.get("label") or name)
        channels = tool.get("channels") if isinstance(tool.get("channels"), dict) else {}
        if not tool.get("wired") and not channels:
            continue  # neither set up nor used
        if not channels:
            detail = "wired; nothing heard from it yet"
            checks.append(Check(f"{label} events", True, detail, HEARD_HINT, warning=True))
            continue
        heard = ", ".join(f"{channel} {ts}" for channel, ts in sorted(channels.items()))
        checks.append(Check(f"{label} events", True, f"last heard: {heard}"))
    return checks


HEARD_HINT = "normal before the tool's first prompt; otherwise see docs/integrations/"


def _git() -> Check:
    path = shutil.which("git")
    if path is None:
        return Check("git", False, "git is not installed", "install git and try again")
    version = run_git(["--version"], check=False).text.strip()
    return Check("git", True, version or path)


def _writable(workspace: Path) -> Check:
    try:
        with tempfile.NamedTemporaryFile(dir=workspace / ".promptster", prefix=".probe-"):
            pass
    except OSError as exc:
        return Check(
            "workspace", False, f"{workspace} is not writable: {exc.strerror}", "fix permissions"
        )
    return Check("workspace", True, f"{workspace} is writable")


def _disk(workspace: Path) -> Check:
    try:
        usage = shutil.disk_usage(workspace)
    except OSError as exc:
        return Check("disk space", False, str(exc))
    free_mb = usage.free // (1024 * 1024)
    if usage.free < MIN_FREE_BYTES:
        return Check(
            "disk space",
            False,
            f"only {free_mb:,} MB free",
            "free some disk space: the recording stops when the disk is full",
        )
    return Check("disk space", True, f"{free_mb:,} MB free")


def _clock(paths: SessionPaths, now: datetime) -> Check:
    """The clock must not be behind the journal (events are dated) nor implausibly far ahead."""
    last = _last_ts(paths.journal)
    if last is not None and now < last - timedelta(seconds=5):
        return Check(
            "clock",
            False,
            f"the clock ({now:%Y-%m-%d %H:%M:%S} UTC) is behind the last event ({last:%H:%M:%S})",
            "enable network time (timedatectl set-ntp true)",
        )
    if now.year < 2024:
        return Check("clock", False, f"the clock says {now:%Y-%m-%d}", "set the system clock")
    return Check("clock", True, f"{now:%Y-%m-%d %H:%M:%S} UTC")


def _last_ts(journal: Path) -> datetime | None:
    try:
        with journal.open("rb") as handle:
            handle.seek(max(0, os.path.getsize(journal) - 8192))
            tail = handle.read().splitlines()
    except OSError:
        return None
    for line in reversed(tail):
        marker = line.find(b'"ts":"')
        if marker >= 0:
            try:
                return parse_ts(line[marker + 6 : marker + 30].decode())
            except (PromptsterError, UnicodeDecodeError):
                return None
    return None
