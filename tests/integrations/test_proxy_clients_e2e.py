"""Real clients through the model-API recorder (`start --proxy`), streaming, to stand-in APIs.

Claude Code is wired by the workspace settings `start --tools claude --proxy` writes (no shell
variable), Codex by the `promptster codex` launcher's `openai_base_url`. Each makes a first run
through that wiring; a second run goes through a tap in front of the recorder, which keeps the
bytes the client read, to compare with what the stand-in sent. The bundle's timeline must hold
the prompts, replies, models and token counts of both tools, on the `proxy` channel.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from claude_support import promptster_command
from session_support import submit_and_read
from standin_api import StandinAPI, text, write
from standin_responses import StandinResponses, exec_command, message
from tap import Tap

from promptster.record.lifecycle import StartOptions, start_session
from promptster.record.proxy import control
from promptster.record.proxy.control import ProxyRequest
from support import require_executable

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
Event = dict[str, Any]


@pytest.fixture
def session_env(tmp_path: Path) -> Iterator[Path]:
    runtime = Path("/tmp") / f"pst-px-{os.getpid()}-{time.monotonic_ns() % 10**8}"
    runtime.mkdir(mode=0o700)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PROMPTSTER_HOME", str(tmp_path / "promptster-home"))
        env.setenv("XDG_RUNTIME_DIR", str(runtime))
        env.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
        env.delenv("PROMPTSTER_SESSION_DIR", raising=False)
        yield tmp_path


def _proxied(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e["kind"] == kind and e["source"]["channel"] == "proxy"]


def _assert_identical(sent: list[bytes], tap: Tap) -> None:
    """Every reply the stand-in sent reached the client byte for byte."""
    assert sent, "the stand-in sent nothing"
    missing = Counter(sent) - Counter(tap.bodies())
    assert not missing, f"{len(missing)} reply bodies differ from what the stand-in sent"


def test_claude_code_through_the_recorder(session_env: Path) -> None:
    claude = require_executable("claude", "npm install -g @anthropic-ai/claude-code@2.1.328")
    ws = session_env / "work"
    ws.mkdir()
    home = session_env / "home"
    home.mkdir()
    scripts = {"write hello": [[text("Writing it."), write(f"{ws}/hello.py", "print('hi')\n")]]}
    with StandinAPI(scripts) as api:
        upstream = {"anthropic": api.base_url, "openai": api.base_url}
        start_session(
            StartOptions(
                workspace=ws,
                tools=["shell", "claude-code"],
                proxy=ProxyRequest(port=0, upstreams=upstream),
            )
        )
        status = control.status(ws / ".promptster", ws)
        assert status is not None and status["wiredTools"] == ["claude-code"]

        def run(prompt: str) -> str:
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))
            }
            env.update(
                HOME=str(home),
                ANTHROPIC_API_KEY="sk-ant-standin-key",
                CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
                PYTHONDONTWRITEBYTECODE="1",
            )
            done = subprocess.run(
                [claude, "-p", prompt, "--permission-mode", "acceptEdits",
                 "--allowedTools", "Write"],
                cwd=ws, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            return done.stdout

        # 1. Through the workspace settings alone: no ANTHROPIC_BASE_URL in the environment.
        assert "Done." in run("Please write hello to hello.py")
        assert (ws / "hello.py").read_text() == "print('hi')\n"
        through_wiring = len(api.requests)
        assert through_wiring >= 2
        # 2. Through a tap in front of the recorder: what Claude Code read, byte for byte.
        tap = Tap(int(status["url"].rsplit(":", 1)[1]))
        settings_path = ws / ".claude" / "settings.local.json"
        settings = json.loads(settings_path.read_text())
        settings["env"]["ANTHROPIC_BASE_URL"] = tap.url
        settings_path.write_text(json.dumps(settings))
        before = len(api.sent)
        run("Just say something")
        _assert_identical(api.sent[before:], tap)
        tap.close()

    _, events = submit_and_read(ws)
    prompts = [e["data"]["text"] for e in _proxied(events, "prompt")]
    assert "Please write hello to hello.py" in prompts and "Just say something" in prompts
    replies = _proxied(events, "ai_response")
    assert len(replies) == len([r for r in api.requests if r["path"].startswith("/v1/messages")])
    for reply in replies:
        data = reply["data"]
        assert data["client"] == "claude-code" and data["stream"] is True
        assert data["model"] and (data["inputTokens"], data["outputTokens"]) == (120, 30)
        assert data["endReason"] == "complete"
    assert any(r["data"].get("toolCalls") == ["Write"] for r in replies)
    assert any("Writing it." in r["data"]["text"] for r in replies)


def test_codex_through_the_recorder(session_env: Path) -> None:
    require_executable("codex", "npm install -g @openai/codex@0.169.0")
    ws = session_env / "work"
    ws.mkdir()
    (session_env / "codex-home").mkdir()
    (session_env / "home").mkdir()
    scripts = {
        "make a file": [[exec_command("echo made > made.txt")], [message("Made it.")]],
        "say hi": [[message("Hi there.")]],
    }
    with StandinResponses(scripts) as api:
        upstream = {"anthropic": api.base_url, "openai": api.base_url}
        start_session(
            StartOptions(
                workspace=ws,
                tools=["shell", "codex"],
                proxy=ProxyRequest(port=0, upstreams=upstream),
            )
        )
        status = control.status(ws / ".promptster", ws)
        assert status is not None and status["wiredTools"] == ["codex"]

        def run(prompt: str, *extra: str) -> str:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEX_"))}
            env.update(
                HOME=str(session_env / "home"),
                CODEX_HOME=str(session_env / "codex-home"),
                OPENAI_API_KEY="sk-standin-openai-key",
                PYTHONDONTWRITEBYTECODE="1",
            )
            done = subprocess.run(
                [*promptster_command(), "codex", "exec", *extra, "-m", "standin-model",
                 "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", prompt],
                cwd=ws, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            return done.stdout

        # 1. Through the launcher's openai_base_url (the recorder), nothing else.
        assert "Made it." in run("Please make a file")
        assert (ws / "made.txt").read_text() == "made\n"
        # 2. Through a tap in front of the recorder (a later -c wins over the launcher's).
        tap = Tap(int(status["url"].rsplit(":", 1)[1]))
        before = len(api.sent)
        assert "Hi there." in run("Please say hi", "-c", f'openai_base_url="{tap.url}/v1"')
        _assert_identical(api.sent[before:], tap)
        tap.close()

    _, events = submit_and_read(ws)
    prompts = [e["data"]["text"] for e in _proxied(events, "prompt")]
    assert any("Please make a file" in p for p in prompts)
    assert any("Please say hi" in p for p in prompts)
    replies = _proxied(events, "ai_response")
    assert len(replies) == len(api.requests)
    for reply in replies:
        data = reply["data"]
        assert data["client"] == "codex" and data["api"] == "openai-responses"
        assert data["model"] == "standin-model" and data["stream"] is True
        assert (data["inputTokens"], data["cachedInputTokens"], data["outputTokens"]) == (
            1200,
            200,
            40,
        )
    assert any(r["data"].get("toolCalls") == ["exec_command"] for r in replies)
    assert any(r["data"]["text"] == "Made it." for r in replies)
