"""The proxy process: serve the session's model-API recorder until the session ends.

Run as ``python -m promptster.record.proxy.main [--daemon] SESSION_DIR`` (what `start --proxy`
and the recorder start) or through `promptster proxy` in the foreground. It holds `proxy.lock`,
listens on the configured port (another one when that is taken, and then points the wired
tools at the port it got), writes `proxy-info.json`, and stops when the session is no longer
active or on SIGTERM/SIGINT. A `proxy-info.json` left behind by a proxy that died means a gap:
the new proxy records it as a `proxy_restart` warning (while no proxy ran, the tools got
"connection refused" and nothing passed unrecorded).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from promptster.integrations import apiproxy
from promptster.protocol import format_ts, now_ts
from promptster.record.proxy import control
from promptster.record.proxy.budget import Budget, spent_so_far
from promptster.record.proxy.exchange import warning_event
from promptster.record.proxy.server import ProxyApp, ProxySettings
from promptster.record.proxy.sink import EventSink
from promptster.record.session import SessionPaths, locked, read_state

log = logging.getLogger("promptster.proxy")
CHECK_S = 0.5
HEARTBEAT_S = 5.0


class ProxyBusy(Exception):
    """Another proxy already serves this session."""


def _rewire(workspace: Path) -> list[str]:
    """Point the tools wired to the proxy at its new port (their setup reads proxy.json)."""
    from promptster.integrations import catalog

    redone = []
    for tool in catalog.TOOLS:
        adapter = tool.adapter()
        if getattr(adapter, "proxy_wired", None) is not None and adapter.is_active(workspace):
            adapter.setup(workspace)
            redone.append(tool.name)
    return redone


def _session_active(paths: SessionPaths, session_id: str) -> bool:
    try:
        state = read_state(paths)
    except Exception:  # removed or unreadable: the session is gone
        return False
    return state.active and state.session_id == session_id


async def _bind(runner: web.AppRunner, port: int) -> web.TCPSite:
    site = web.TCPSite(runner, apiproxy.HOST, port, reuse_address=False)
    await site.start()
    return site


async def run(session_dir: Path, config: apiproxy.ProxyConfig, ready: asyncio.Event) -> None:
    paths = SessionPaths(session_dir)
    state = read_state(paths)
    sink = EventSink(session_dir)
    previous = control.info(session_dir)
    limit = config.budget_usd if config.budget_usd is not None else assessment_budget(paths)
    budget = Budget(limit, spent_so_far(session_dir))
    settings = ProxySettings(dict(config.upstreams), budget, session_id=state.session_id)
    app = ProxyApp(settings, sink.put)
    runner = web.AppRunner(app.application(), handler_cancellation=True, access_log=None)
    await runner.setup()
    try:
        try:
            await _bind(runner, config.port)
            port = config.port
        except OSError:  # taken meanwhile: another port, and the tools follow it
            port = control.pick_port(0)
            await _bind(runner, port)
        if port != config.port:
            wanted, config = config.port, replace(config, port=port)
            save_config(session_dir, config)
            rewired = _rewire(state.workspace_path)
            sink.put(
                warning_event(
                    "proxy_port_changed",
                    f"port {wanted} was taken; the API recorder listens on {port}",
                    port=port,
                    rewired=rewired,
                )
            )
        if previous is not None:
            sink.put(_gap_warning(session_dir, previous))
        _write_info(session_dir, config)
        (session_dir / control.STARTING_FILE).unlink(missing_ok=True)
        log.info("proxy %s serving %s for session %s", os.getpid(), config.url, state.session_id)
        ready.set()
        beat = 0.0
        while True:
            await asyncio.sleep(CHECK_S)
            if not _session_active(paths, state.session_id):
                log.info("the session is no longer active; stopping")
                break
            beat += CHECK_S
            if beat >= HEARTBEAT_S:
                beat = 0.0
                with contextlib.suppress(OSError):
                    os.utime(session_dir / apiproxy.INFO_FILE)
    finally:
        await runner.cleanup()
        await asyncio.to_thread(sink.close)
        (session_dir / apiproxy.INFO_FILE).unlink(missing_ok=True)
        log.info("proxy %s stopped", os.getpid())


def assessment_budget(paths: SessionPaths) -> float | None:
    """The signed assessment's tokenBudgetUsd (None without a pack or a budget)."""
    from promptster.errors import PromptsterError
    from promptster.issue.assessment import open_pack

    try:
        return open_pack(paths.assessment.read_bytes()).pack.token_budget_usd
    except (OSError, PromptsterError):
        return None


def save_config(session_dir: Path, config: apiproxy.ProxyConfig) -> None:
    """Write the new port into proxy.json, keeping its other fields (autostart)."""
    try:
        body = json.loads(apiproxy.config_path(session_dir).read_bytes())
    except (OSError, ValueError):
        body = {}
    body = {**(body if isinstance(body, dict) else {}), **config.to_json()}
    path = apiproxy.config_path(session_dir)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body, indent=2) + "\n")
    os.replace(tmp, path)


def _gap_warning(session_dir: Path, previous: dict[str, object]) -> dict[str, object]:
    extra: dict[str, object] = {"gapMs": 0}
    with contextlib.suppress(OSError):
        seen = (session_dir / apiproxy.INFO_FILE).stat().st_mtime
        extra["gapMs"] = max(int((datetime.now(UTC).timestamp() - seen) * 1000), 0)
        extra["since"] = format_ts(datetime.fromtimestamp(seen, UTC))
    return warning_event(
        "proxy_restart",
        "the model-API recorder stopped unexpectedly and was restarted; meanwhile the tools "
        "wired to it got connection errors, and nothing passed unrecorded",
        previousPid=previous.get("pid"),
        **extra,
    )


def _write_info(session_dir: Path, config: apiproxy.ProxyConfig) -> None:
    body = {
        "pid": os.getpid(),
        "url": config.url,
        "port": config.port,
        "startedAt": now_ts(),
        "serving": True,
    }
    path = session_dir / apiproxy.INFO_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body) + "\n")
    os.replace(tmp, path)


def serve(session_dir: Path, config: apiproxy.ProxyConfig | None = None) -> int:
    """Serve in this process until the session ends or a signal stops it. Raises ProxyBusy."""
    session_dir = session_dir.absolute()
    with locked(session_dir / apiproxy.LOCK_FILE, blocking=False) as acquired:
        if not acquired or config is not None:  # started by hand, or a start that lost
            (session_dir / control.STARTING_FILE).unlink(missing_ok=True)
        if not acquired:
            raise ProxyBusy(f"a model-API recorder already runs for {session_dir}")
        chosen = config or apiproxy.read_config(session_dir)
        if chosen is None:
            log.info("the session has no proxy configuration; nothing to do")
            return 0
        if not read_state(SessionPaths(session_dir)).active:
            log.info("the session is not active; nothing to record")
            (session_dir / control.STARTING_FILE).unlink(missing_ok=True)
            return 0
        asyncio.run(_main(session_dir, chosen))
    return 0


async def _main(session_dir: Path, config: apiproxy.ProxyConfig) -> None:
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    task = asyncio.create_task(run(session_dir, config, ready))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__name__}")
    parser.add_argument("session_dir", type=Path)
    parser.add_argument("--daemon", action="store_true", help="detached: log to proxy.log")
    args = parser.parse_args(argv)
    if args.daemon:  # spawned in a session of its own, its output in proxy.log
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    os.umask(0o077)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(process)d proxy %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        return serve(args.session_dir)
    except ProxyBusy as exc:
        log.info("%s", exc)
        return 0


if __name__ == "__main__":
    sys.exit(main())
