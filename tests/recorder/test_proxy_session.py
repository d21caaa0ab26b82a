"""The model-API recorder as part of a session: `start --proxy` wires the tools and starts it,
`status` reports it, it stops with the session and comes back (with the gap recorded) when it
dies; a taken port moves it; credentials end up nowhere; its prompts are not counted twice."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from proxy_support import STREAM, Upstream, messages_body, post

from promptster.analysis.signals import bundle_signals
from promptster.integrations import apiproxy
from promptster.protocol import find_session, new_event, send_events
from promptster.record.control import end_session
from promptster.record.lifecycle import StartedSession
from promptster.record.proxy import control
from promptster.record.proxy.control import ProxyRequest
from recorder_helpers import events_of, make_assessment, run_promptster, wait_for

SECRET = "sk-ant-api03-NEVERWRITTENanywhere0123456789abcdef"


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


def _request(upstream: Upstream, port: int = 0) -> ProxyRequest:
    return ProxyRequest(port=port, upstreams={"anthropic": upstream.url, "openai": upstream.url})


def _settings(ws: Path) -> dict[str, Any]:
    return dict(json.loads((ws / ".claude" / "settings.local.json").read_text()))


def test_start_proxy_wires_the_tools_and_stops_with_the_session(
    start_recording: Callable[..., StartedSession], tmp_path: Path, upstream: Upstream
) -> None:
    ws = tmp_path / "ws"
    started = start_recording(ws, tools=["shell", "claude-code", "codex"], proxy=_request(upstream))
    status = control.status(started.paths.root, ws)
    assert status is not None and status["running"] is True
    assert status["wiredTools"] == ["claude-code", "codex"]
    url = status["url"]
    assert _settings(ws)["env"]["ANTHROPIC_BASE_URL"] == url
    codex_note = json.loads((started.paths.root / "integrations/codex/setup.json").read_text())
    assert codex_note["proxyUrl"] == url
    from promptster.integrations.codex.setup import overrides, read_setup

    setup = read_setup(ws)
    assert setup is not None and f'openai_base_url="{url}/v1"' in overrides(setup)

    shown = run_promptster("status", "--json", cwd=ws)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["apiRecorder"]["url"] == url
    port = int(url.rsplit(":", 1)[1])
    assert post(port, "/v1/messages", messages_body("via the recorder"))[1] == STREAM
    wait_for(lambda: events_of(started.paths, "ai_response"), what="the proxy's reply event")

    end_session(started.paths, "abort")
    assert not control.running(started.paths.root)
    assert "env" not in _settings(ws) if (ws / ".claude/settings.local.json").exists() else True
    with pytest.raises(OSError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a_taken_port_moves_the_recorder_and_the_tools_follow(
    start_recording: Callable[..., StartedSession], tmp_path: Path, upstream: Upstream
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ws = tmp_path / "ws"
        started = start_recording(
            ws, tools=["shell", "claude-code"], proxy=_request(upstream, busy)
        )
        status = control.status(started.paths.root, ws)
        assert status is not None and status["running"]
        assert status["url"] != f"http://127.0.0.1:{busy}"
        assert _settings(ws)["env"]["ANTHROPIC_BASE_URL"] == status["url"]
        assert status["wiredTools"] == ["claude-code"]


def test_a_dead_recorder_refuses_connections_and_comes_back_with_the_gap_recorded(
    start_recording: Callable[..., StartedSession], tmp_path: Path, upstream: Upstream
) -> None:
    ws = tmp_path / "ws"
    started = start_recording(ws, proxy=_request(upstream))
    root = started.paths.root
    info = control.info(root)
    assert info is not None
    os.kill(int(info["pid"]), signal.SIGKILL)
    wait_for(lambda: not control.running(root), what="the proxy to die")
    port = int(info["port"])
    with pytest.raises(urllib.error.URLError) as refused:  # what the tool sees meanwhile
        urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/messages", data=b"{}", timeout=30)
    assert isinstance(refused.value.reason, ConnectionRefusedError)
    # The session's recorder checks on it every few seconds and starts it again.
    wait_for(lambda: control.running(root), what="the recorder to restart the proxy")
    [gap] = wait_for(
        lambda: [
            w for w in events_of(started.paths, "warning") if w["data"]["code"] == "proxy_restart"
        ],
        what="the proxy_restart warning",
    )
    assert gap["data"]["previousPid"] == info["pid"] and gap["data"]["gapMs"] >= 0
    assert gap["source"]["channel"] == "proxy"
    assert control.wait_until_serving(root)
    assert post(port, "/v1/messages", messages_body())[1] == STREAM


def _send_hook_events(ws: Path, text: str) -> None:
    """The prompt and its reply, as Claude Code's hook and transcript report them."""
    handle = find_session(ws)
    assert handle is not None
    prompt = new_event(
        "prompt",
        {"text": text, "length": len(text), "lane": "claude:1"},
        channel="hook",
        integration="claude-code",
        emitter="test",
        actor="human",
    )
    reply = new_event(
        "ai_response",
        {"text": "Hello world", "lane": "claude:1", "model": "claude-sonnet-4-5",
         "inputTokens": 7, "outputTokens": 3},
        channel="import",
        integration="claude-code",
        emitter="test",
        actor="ai",
    )  # fmt: skip
    assert send_events(handle, [prompt, reply]).acknowledged


# Who sends the requests through the recorder, and whether Claude Code's hooks report them too.
CASES = {
    "claude-code, no hooks": ("claude-cli/2.1.328 (external, cli)", False),
    "claude-code with hooks": ("claude-cli/2.1.328 (external, cli)", True),
    "another tool, claude-code hooks": ("some-agent/0.1", True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_proxy_exchanges_count_once_and_credentials_are_nowhere(
    start_recording: Callable[..., StartedSession],
    tmp_path: Path,
    upstream: Upstream,
    case: str,
) -> None:
    agent, hooks = CASES[case]
    ws = tmp_path / "ws"
    started = start_recording(ws, proxy=_request(upstream))
    info = control.info(started.paths.root)
    assert info is not None
    for text in ("first prompt", "second prompt"):
        headers = {"x-api-key": SECRET, "authorization": f"Bearer {SECRET}", "user-agent": agent}
        assert post(int(info["port"]), "/v1/messages", messages_body(text), headers)[0] == 200
        if hooks:
            _send_hook_events(ws, text)
    wait_for(
        lambda: len(events_of(started.paths, "ai_response")) == (4 if hooks else 2),
        what="the replies",
    )
    submitted = run_promptster("submit", "--yes", "--json", cwd=ws)
    assert submitted.returncode == 0, submitted.stderr
    bundle = Path(json.loads(submitted.stdout)["path"])

    signals = bundle_signals(bundle)
    # Per reply through the recorder: 1,000 + 500 cache reads + 100 cache writes in, 200 out.
    proxied, hooked = 2 * (1600 + 200), 2 * (7 + 3)
    if case == "claude-code, no hooks":  # the recorder is the only witness
        assert (signals.value("promptCount"), signals.value("totalTokens")) == (2, proxied)
    elif case == "claude-code with hooks":  # the same prompts and replies: counted once
        assert (signals.value("promptCount"), signals.value("totalTokens")) == (2, hooked)
    else:  # a second tool the hooks never saw: both count
        assert signals.value("promptCount") == 4
        assert signals.value("totalTokens") == proxied + hooked

    # The key was in two headers of every request: it is in no member of the bundle and in
    # no file of the session folder (logs, spool, state) or the workspace.
    with zipfile.ZipFile(bundle) as archive:
        for member in archive.namelist():
            assert SECRET.encode() not in archive.read(member), member
    assert SECRET.encode() not in bundle.read_bytes()
    for path in ws.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_start_key_with_proxy_through_the_cli(
    tmp_path: Path, recorder_env: Path, upstream: Upstream
) -> None:
    pack, keys = make_assessment(tmp_path / "rev", options=("--token-budget-usd", "0.0005"))
    ws = tmp_path / "cand"
    env = {"PROMPTSTER_UPSTREAM_ANTHROPIC": upstream.url}
    done = run_promptster(
        "start", keys[0], "--assessment", str(pack), "--workspace", str(ws), "--tools", "claude",
        "--proxy", "--accept", "--no-shell", "--json", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    recorder = json.loads(done.stdout)["apiRecorder"]
    assert recorder["running"] and recorder["wiredTools"] == ["claude-code"]
    assert recorder["upstreams"]["anthropic"] == upstream.url
    assert apiproxy.wired_url(ws) == recorder["url"]
    # The assessment's budget: the first reply spends it (0.0012 USD), the next is refused.
    assert recorder["budgetUsd"] == 0.0005
    port = int(recorder["url"].rsplit(":", 1)[1])
    assert post(port, "/v1/messages", messages_body())[0] == 200

    def refused() -> bytes | None:
        status, body = post(port, "/v1/messages", messages_body())
        return body if status == 402 else None

    body = wait_for(refused, what="the budget to be spent")
    assert "token budget of $0.00" in json.loads(body)["error"]["message"]
    shown = json.loads(run_promptster("status", "--json", cwd=ws).stdout)["apiRecorder"]
    assert shown["spentUsd"] >= 0.0005 and shown["budgetUsd"] == 0.0005
    doctor = run_promptster("doctor", cwd=ws)
    assert "API recorder" in doctor.stdout + doctor.stderr
    # Tokens and cost so far, against the budget (a warning once it is spent).
    assert "model usage" in doctor.stdout + doctor.stderr
    assert "of the $0.0005 budget (over the budget)" in doctor.stdout + doctor.stderr
    aborted = run_promptster("abort", "--yes", cwd=ws)
    assert aborted.returncode == 0, aborted.stderr
    assert not control.running(ws / ".promptster")


def test_start_again_with_proxy_wires_the_tools_already_set_up(
    start_recording: Callable[..., StartedSession], tmp_path: Path, upstream: Upstream
) -> None:
    ws = tmp_path / "ws"
    first = start_recording(ws, tools=["shell", "claude-code"])
    assert control.status(first.paths.root, ws) is None
    assert "env" not in _settings(ws)
    again = start_recording(ws, tools=["shell", "claude-code"], proxy=_request(upstream))
    assert again.resumed
    status = control.status(again.paths.root, ws)
    assert status is not None and status["running"] and status["wiredTools"] == ["claude-code"]
    assert _settings(ws)["env"]["ANTHROPIC_BASE_URL"] == status["url"]


def test_promptster_proxy_in_the_foreground(
    start_recording: Callable[..., StartedSession], tmp_path: Path, upstream: Upstream
) -> None:
    ws = tmp_path / "ws"
    started = start_recording(ws)
    command = [sys.executable, "-c", "from promptster.cli import run; run()", "proxy"]
    command += ["--port", "0", "--upstream", f"anthropic={upstream.url}"]
    proxy = subprocess.Popen(command, cwd=ws, stderr=subprocess.PIPE, text=True)
    try:
        assert control.wait_until_serving(started.paths.root, timeout=60)
        shown = json.loads(run_promptster("status", "--json", cwd=ws).stdout)["apiRecorder"]
        assert shown["running"] and shown["upstreams"]["anthropic"] == upstream.url
        port = int(shown["url"].rsplit(":", 1)[1])
        assert post(port, "/v1/messages", messages_body("by hand"))[1] == STREAM
        again = run_promptster("proxy", cwd=ws)  # one recorder per session
        assert again.returncode == 3 and "already runs" in again.stderr
        wait_for(lambda: events_of(started.paths, "ai_response"), what="the reply event")
    finally:
        proxy.send_signal(signal.SIGINT)
        _, err = proxy.communicate(timeout=60)
    assert proxy.returncode == 0, err
    assert "API recorder on http://127.0.0.1:" in err
    assert not control.running(started.paths.root)
