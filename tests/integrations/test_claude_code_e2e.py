"""End to end with the real Claude Code CLI, driven by a stand-in Messages API on 127.0.0.1.

A recorded session; `promptster setup claude-code`; `claude -p` writes a file, edits an existing
one and runs the tests, which fail; the candidate edits README.md by hand; a second `claude -p`
fixes the bug, runs the tests again (they pass) and records a decision through the MCP server.
Then the transcripts are backfilled, the session is submitted, the bundle verified, and the
timeline checked: prompts, tool calls, test runs, the decision, and who wrote which lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from claude_support import promptster_command
from standin_api import StandinAPI, bash, edit, read, text, tool, write

from promptster.bundle.verify import verify_bundle
from promptster.protocol import find_session, request
from promptster.record.attribution.events import attribute_timeline, lines_from_diff
from support import practice_bundle_verified, require_executable

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MATHX = "def mul(a, b):\n    return a + b  # first try\n"
TESTS = (
    "from calc import add\n"
    "from mathx import mul\n"
    "\n"
    "\n"
    "def test_add():\n"
    "    assert add(2, 3) == 5\n"
    "\n"
    "\n"
    "def test_mul():\n"
    "    assert mul(2, 3) == 6\n"
)
README_HAND_LINES = ["## Notes", "mul and add are covered by test_mathx.py."]
PYTEST = "python -m pytest -q -p no:cacheprovider"
DECISION = {
    "title": "Keep mul in its own module",
    "chosenOption": "mathx.py next to calc.py",
    "rationale": "calc.py is the starter's public API; new helpers stay out of it",
    "tradeoffs": "one more module to import",
    "impactScore": 2,
    "files": ["mathx.py"],
}


def scripts(ws: Path) -> dict[str, list[list[dict[str, Any]]]]:
    return {
        "add a mul helper": [
            [text("I'll add the helper and its tests."), write(f"{ws}/mathx.py", MATHX)],
            [write(f"{ws}/test_mathx.py", TESTS)],
            [read(f"{ws}/calc.py")],
            [edit(f"{ws}/calc.py", "    return a - b", "    return a + b")],
            [bash(PYTEST, "run the tests")],
            [text("test_mul fails: mul adds. I'll fix it next.")],
        ],
        "now fix mul": [
            [edit(f"{ws}/mathx.py", "return a + b  # first try", "return a * b")],
            [bash(PYTEST, "run the tests again")],
            [tool("mcp__promptster__capture_decision", **DECISION)],
            [text("Fixed: all tests pass.")],
        ],
    }


@dataclass(frozen=True)
class Recorded:
    workspace: Path
    bundle: Path
    events: list[dict[str, Any]]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """One real session, shared by the tests below (Claude Code runs take a while)."""
    claude = require_executable("claude", "npm install -g @anthropic-ai/claude-code@2.1.328")
    root = tmp_path_factory.mktemp("claude-e2e")
    runtime = Path("/tmp") / f"pst-e2e-{os.getpid()}-{time.monotonic_ns() % 10**8}"
    runtime.mkdir(mode=0o700)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PROMPTSTER_HOME", str(root / "promptster-home"))
        env.setenv("XDG_RUNTIME_DIR", str(runtime))
        env.delenv("PROMPTSTER_SESSION_DIR", raising=False)
        yield record_session(claude, root)
    for leftover in runtime.glob("**/*"):
        if leftover.is_socket() or leftover.is_file():
            leftover.unlink(missing_ok=True)


def promptster(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*promptster_command(), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def run_claude(claude: str, prompt: str, ws: Path, api: StandinAPI, home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
    env.update(
        HOME=str(home),
        ANTHROPIC_BASE_URL=api.base_url,
        ANTHROPIC_API_KEY="sk-standin",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    allowed = "Write Edit Read Bash mcp__promptster__capture_decision"
    done = subprocess.run(
        [claude, "-p", prompt, "--permission-mode", "acceptEdits", "--allowedTools", allowed],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def record_session(claude: str, root: Path) -> Recorded:
    from promptster.record.lifecycle import StartOptions, start_session

    ws = root / "work"
    ws.mkdir()
    (ws / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (ws / "README.md").write_text("# Calculator\n")
    home = root / "home"
    home.mkdir()
    # Like `start --tools claude`: the configuration is in place before the baseline snapshot,
    # so it is not the candidate's work.
    done = promptster("setup", "claude-code", cwd=ws)
    assert done.returncode == 0, done.stderr
    start_session(StartOptions(workspace=ws, tools=["shell", "claude-code"]))
    session = find_session(ws)
    assert session is not None and session.active

    with StandinAPI(scripts(ws)) as api:
        first = run_claude(claude, "Please add a mul helper with tests and fix add.", ws, api, home)
        assert "test_mul fails" in first
        # The candidate edits README.md by hand between the two AI turns; the watcher would
        # snapshot it shortly, the test asks for the snapshot so as not to wait.
        with (ws / "README.md").open("a") as handle:
            handle.write("\n".join(README_HAND_LINES) + "\n")
        assert request(session, {"op": "snapshot", "reason": "test"}, 60.0)["ok"] is True
        second = run_claude(claude, "Thanks, now fix mul.", ws, api, home)
        assert "all tests pass" in second

    # `submit` backfills the transcripts itself (docs/integrations/claude-code.md).
    submitted = promptster("submit", "--yes", "--json", cwd=ws)
    assert submitted.returncode == 0, submitted.stderr
    bundle = Path(json.loads(submitted.stdout)["path"])
    done = promptster("teardown", "claude-code", cwd=ws)
    assert done.returncode == 0, done.stderr
    assert not (ws / ".mcp.json").exists() and not (ws / ".claude").exists()
    verified = promptster("verify", "--json", str(bundle), cwd=ws)
    assert practice_bundle_verified(verified.stdout), verified.stdout  # started without a key

    report = verify_bundle(bundle, keep_timeline=True)
    assert report.ok and report.context.timeline is not None
    events = [json.loads(line) for line in report.context.timeline.read_bytes().splitlines()]
    return Recorded(ws, bundle, events)


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == kind]


def test_prompts_tool_calls_test_runs_and_the_decision(recorded: Recorded) -> None:
    events = recorded.events
    prompts = [e["data"]["text"] for e in of(events, "prompt")]
    assert prompts == ["Please add a mul helper with tests and fix add.", "Thanks, now fix mul."]
    assert len({e["data"]["lane"] for e in of(events, "prompt")}) == 2  # two Claude sessions

    tools = [(e["data"]["toolName"], e["data"]["toolUseId"]) for e in of(events, "tool_use")]
    assert [name for name, _ in tools] == [
        "Write",
        "Write",
        "Read",
        "Edit",
        "Bash",
        "Edit",
        "Bash",
        "mcp__promptster__capture_decision",
    ]
    results = {e["data"]["toolUseId"]: e["data"]["ok"] for e in of(events, "tool_result")}
    assert set(results) == {tool_use_id for _, tool_use_id in tools}
    assert len(of(events, "tool_result")) == len(tools)  # hook and transcript: one copy each

    runs = [
        (e["data"]["failed"], e["data"]["passed"], e["data"]["exitCode"])
        for e in of(events, "test_run")
    ]
    assert runs == [(1, 1, 1), (0, 2, 0)]
    assert all(e["actor"]["type"] == "ai" for e in of(events, "test_run") + of(events, "command"))

    (decision,) = of(events, "decision_event")
    assert decision["data"] == {**DECISION, "capturedVia": "mcp"}
    (mcp_call,) = of(events, "mcp_call")
    assert (mcp_call["data"]["server"], mcp_call["data"]["tool"]) == (
        "promptster",
        "capture_decision",
    )
    replies = [e["data"] for e in of(events, "ai_response")]
    assert "Fixed: all tests pass." in [r["text"] for r in replies]
    assert all(r.get("model") for r in replies)


EXPECTED = {
    "mathx.py": [("likely_ai", 2, 0), ("likely_ai", 1, 0)],
    "test_mathx.py": [("likely_ai", 10, 0)],
    "calc.py": [("likely_ai", 1, 0)],
    "README.md": [("likely_human", 0, 2)],
}
# By hand: the AI added 2 + 10 + 1 + 1 lines, the candidate 2.
AI_ATTRIBUTION_PCT = 100.0 * 14 / 16


def test_attribution_from_the_recorded_events(recorded: Recorded) -> None:
    events, ws = recorded.events, recorded.workspace
    file_events = [e for e in events if e["kind"].startswith("file_")]

    def lines(event: Any) -> tuple[list[str], list[str]]:
        assert not event["data"].get("diffTruncated")
        return lines_from_diff(event["data"].get("diff", ""))

    verdicts = attribute_timeline(events, str(ws), lines)
    by_path: dict[str, list[tuple[str, int, int]]] = {}
    for event in file_events:
        verdict = verdicts[event["id"]]
        by_path.setdefault(event["data"]["path"], []).append(
            (verdict.attribution, verdict.ai_lines, verdict.human_lines)
        )
        assert verdict.ai_lines + verdict.human_lines == event["data"]["linesAdded"]
    assert by_path == EXPECTED
    ai = sum(v.ai_lines for v in verdicts.values())
    total = sum(e["data"]["linesAdded"] for e in file_events)
    assert 100.0 * ai / total == pytest.approx(AI_ATTRIBUTION_PCT)


def test_the_bundle_carries_the_attribution(recorded: Recorded) -> None:
    from promptster.analysis.signals import bundle_signals

    by_path: dict[str, list[tuple[str, int, int]]] = {}
    for event in recorded.events:
        if event["kind"].startswith("file_"):
            data = event["data"]
            verdict = (
                event["provenance"]["attribution"],
                data.get("aiLines"),
                data.get("humanLines"),
            )
            by_path.setdefault(data["path"], []).append(verdict)
    assert by_path == EXPECTED
    signal = bundle_signals(recorded.bundle).signals["aiAttributionPct"]
    assert signal.value == pytest.approx(AI_ATTRIBUTION_PCT)
