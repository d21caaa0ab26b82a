"""Starting, finding and stopping a session's model-API recorder process (stdlib only).

`start --proxy` writes `.promptster/proxy.json` (integrations.apiproxy) with `autostart`; the
proxy then runs as its own process, `python -m promptster.record.proxy.main --daemon DIR`,
holding `proxy.lock` while it serves. It stops by itself when the session is no longer active;
`end_session` also stops it at once. The session's recorder checks it on its ticks and starts
it again when it died (the new proxy records the gap), as commands do for the recorder.
Whether a proxy runs is decided by its lock, never by a pid.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptster.integrations import apiproxy
from promptster.record.session import SessionPaths, locked, read_state

MODULE = "promptster.record.proxy.main"
START_TIMEOUT_S = 20.0
STARTING_FILE = "proxy.starting"  # a start is under way (removed by the proxy once it serves)
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ProxyRequest:
    """What `start --proxy` asked for: the preferred port, the upstreams and the budget."""

    port: int = apiproxy.DEFAULT_PORT
    upstreams: dict[str, str] = field(default_factory=lambda: dict(apiproxy.DEFAULT_UPSTREAMS))
    budget_usd: float | None = None


def configure(session_dir: Path, wanted: ProxyRequest) -> apiproxy.ProxyConfig:
    """Choose the port (another one when the preferred is taken) and write proxy.json with
    autostart, before the tools are set up (they read the URL from it)."""
    config = apiproxy.ProxyConfig(pick_port(wanted.port), dict(wanted.upstreams), wanted.budget_usd)
    body = {**config.to_json(), "autostart": True}
    path = apiproxy.config_path(session_dir)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body, indent=2) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return config


def running(session_dir: Path) -> bool:
    if not (session_dir / apiproxy.LOCK_FILE).exists():
        return False
    with locked(session_dir / apiproxy.LOCK_FILE, blocking=False) as acquired:
        return not acquired


def info(session_dir: Path) -> dict[str, Any] | None:
    try:
        body = json.loads((session_dir / apiproxy.INFO_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def autostart(session_dir: Path) -> bool:
    try:
        body = json.loads(apiproxy.config_path(session_dir).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(body, dict) and body.get("autostart") is True


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((apiproxy.HOST, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def pick_port(preferred: int) -> int:
    """`preferred` when it is free, else one the system hands out."""
    if preferred and port_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((apiproxy.HOST, 0))
        return int(probe.getsockname()[1])


def spawn(session_dir: Path) -> None:
    """Start a detached proxy for the session (it gives up at once if one runs)."""
    log = os.open(session_dir / apiproxy.LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        subprocess.Popen(
            [sys.executable, "-m", MODULE, "--daemon", str(session_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=session_dir,
            start_new_session=True,
        )
    finally:
        os.close(log)


def ensure(session_dir: Path, *, wait: bool = True) -> bool:
    """Start the proxy of an active session configured with autostart; True when started."""
    if not autostart(session_dir) or running(session_dir):
        return False
    try:
        if not read_state(SessionPaths(session_dir)).active:
            return False
    except Exception:  # no readable session: nothing to record for
        return False
    marker = session_dir / STARTING_FILE
    try:  # one start at a time: `start` and the recorder's tick may both get here
        os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        with contextlib.suppress(OSError):
            if time.time() - marker.stat().st_mtime < START_TIMEOUT_S:
                return False
        marker.unlink(missing_ok=True)
        return ensure(session_dir, wait=wait)
    spawn(session_dir)
    if wait:
        wait_until_serving(session_dir)
    return True


def wait_until_serving(session_dir: Path, timeout: float = START_TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = info(session_dir)
        if current is not None and current.get("serving") and running(session_dir):
            return True
        time.sleep(0.05)
    return False


def stop(session_dir: Path, timeout: float = STOP_TIMEOUT_S) -> bool:
    """Ask the running proxy to stop and wait for it; True when none runs any more."""
    if not running(session_dir):
        return True
    current = info(session_dir) or {}
    pid = current.get("pid")
    if isinstance(pid, int) and pid > 1:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running(session_dir):
            return True
        time.sleep(0.05)
    return False


def status(session_dir: Path, workspace: Path) -> dict[str, Any] | None:
    """The proxy's part of `status --json` (None when the session has no proxy)."""
    config = apiproxy.read_config(session_dir)
    if config is None:
        return None
    current = info(session_dir) if running(session_dir) else None
    url = str(current.get("url")) if current and current.get("url") else config.url
    body: dict[str, Any] = {
        "url": url,
        "running": current is not None,
        "pid": current.get("pid") if current else None,
        "upstreams": config.upstreams,
        "budgetUsd": config.budget_usd,
        "wiredTools": wired_tools(workspace),
    }
    live = health(url) if current is not None else None
    if live is not None:
        body.update(exchanges=live.get("exchanges"), spentUsd=live.get("spentUsd"))
    return body


def health(url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """The running proxy's own account (exchanges so far, what they cost), or None."""
    from urllib.error import URLError
    from urllib.request import urlopen

    try:
        with urlopen(f"{url}/_promptster/health", timeout=timeout) as reply:
            body = json.loads(reply.read(65536))
    except (URLError, OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def wired_tools(workspace: Path) -> list[str]:
    """The AI tools of this workspace whose base URL points at the session's proxy."""
    from promptster.integrations import catalog

    wired = []
    for tool in catalog.TOOLS:
        check = getattr(tool.adapter(), "proxy_wired", None)
        with contextlib.suppress(Exception):
            if callable(check) and check(workspace):
                wired.append(tool.name)
    return wired
