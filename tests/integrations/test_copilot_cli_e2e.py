"""End to end with the real Copilot CLI, offline (`COPILOT_OFFLINE`, a custom OpenAI-compatible
provider: a stand-in on 127.0.0.1), with the repository hooks `setup copilot-cli` writes.

`copilot -p` creates mathx.py and its tests, fixes calc.py with `edit`, runs the tests with
`bash` and records a decision through the MCP server; the candidate edits README.md by hand.
The timeline must hold the prompt, the tool calls, the AI-run test run, the decision, the
reply with its model and tokens (from Copilot CLI's session log), and the attribution.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from session_support import (
    Event,
    file_verdicts,
    of,
    recording_env,
    starter_repo,
    submit_and_read,
)
from standin_openai import USAGE, StandinOpenAI, Step, call, say

from promptster.protocol import find_session, request
from support import require

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COPILOT_VERSION = "1.0.102"
MODEL = "gpt-4.1"
PROMPT = "Please add a mul helper with tests and fix add."
MATHX = "def mul(a, b):\n    return a * b\n"
TESTS = (
    "from calc import add\nfrom mathx import mul\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n"
)
PYTEST = "python3 -m pytest -q -p no:cacheprovider"
DECISION = {
    "title": "Keep mul in its own module",
    "chosenOption": "mathx.py next to calc.py",
    "rationale": "calc.py is the starter's public API",
}
README_HAND_LINES = ["## Notes", "mul lives in mathx.py."]


@dataclass(frozen=True)
class Recorded:
    workspace: Path
    events: list[Event]


def script(ws: Path) -> dict[str, list[Step]]:
    return {
        "add a mul helper": [
            call("create", path=f"{ws}/mathx.py", file_text=MATHX),
            call("create", path=f"{ws}/test_mathx.py", file_text=TESTS),
            call(
                "edit", path=f"{ws}/calc.py", old_str="    return a - b", new_str="    return a + b"
            ),
            call("bash", command=PYTEST, description="run the tests", mode="sync", initial_wait=60),
            call("capture_decision", **DECISION),
            say("Done: all tests pass."),
        ]
    }


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    copilot = os.environ.get("PROMPTSTER_COPILOT") or shutil.which("copilot")
    require(
        copilot is not None,
        f"copilot is not installed: npm install -g @github/copilot@{COPILOT_VERSION}",
    )
    assert copilot is not None
    root = tmp_path_factory.mktemp("copilot-e2e")
    with recording_env(root):
        yield record_session(copilot, root)


def run_copilot(copilot: str, prompt: str, ws: Path, api: StandinOpenAI, home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COPILOT_", "GH_", "GITHUB"))}
    env.update(
        HOME=str(home),
        COPILOT_OFFLINE="true",
        COPILOT_PROVIDER_BASE_URL=api.base_url,
        COPILOT_PROVIDER_API_KEY="sk-standin",
        COPILOT_MODEL=MODEL,
        COPILOT_ALLOW_ALL="true",  # trusts the folder, so its hooks and MCP servers load
        COPILOT_AUTO_UPDATE="false",
        PYTHONDONTWRITEBYTECODE="1",
    )
    done = subprocess.run(
        [copilot, "-p", prompt, "--allow-all-tools", "--no-auto-update"],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def record_session(copilot: str, root: Path) -> Recorded:
    from promptster.record.lifecycle import StartOptions, start_session

    ws = root / "work"
    starter_repo(ws)
    home = root / "home"
    home.mkdir()
    start_session(StartOptions(workspace=ws, tools=["shell", "copilot-cli"]))
    session = find_session(ws)
    assert session is not None and session.active

    with StandinOpenAI(script(ws)) as api:
        out = run_copilot(copilot, PROMPT, ws, api, home)
        assert "all tests pass" in out
    with (ws / "README.md").open("a") as handle:
        handle.write("\n".join(README_HAND_LINES) + "\n")
    assert request(session, {"op": "snapshot", "reason": "test"}, 60.0)["ok"] is True

    _, events = submit_and_read(ws)
    assert not (ws / ".github").exists()  # setup's files are gone again
    return Recorded(ws, events)


def test_prompt_tools_test_run_decision_and_tokens(recorded: Recorded) -> None:
    events = recorded.events
    (prompt,) = of(events, "prompt")
    assert prompt["data"]["text"] == PROMPT
    assert prompt["source"]["integration"] == "copilot-cli"
    tools = [e["data"]["toolName"] for e in of(events, "tool_use")]
    assert tools == ["Write", "Write", "Edit", "Bash", "mcp__promptster__capture_decision"]
    assert len(of(events, "tool_result")) == len(tools)
    (run,) = of(events, "test_run")
    assert (run["data"]["passed"], run["data"]["failed"], run["data"]["exitCode"]) == (2, 0, 0)
    (command,) = of(events, "command")
    assert command["actor"]["type"] == "ai" and command["data"]["command"] == PYTEST
    (decision,) = of(events, "decision_event")
    assert decision["data"] == {**DECISION, "capturedVia": "mcp"}
    (reply,) = of(events, "ai_response")
    assert reply["data"]["text"] == "Done: all tests pass."
    assert reply["data"]["model"] == MODEL
    steps = 6
    assert reply["data"]["inputTokens"] == steps * USAGE["prompt_tokens"]
    assert reply["data"]["outputTokens"] == steps * USAGE["completion_tokens"]


def test_attribution(recorded: Recorded) -> None:
    assert file_verdicts(recorded.events) == {
        "mathx.py": [("likely_ai", 2, 0)],
        "test_mathx.py": [("likely_ai", 10, 0)],
        "calc.py": [("likely_ai", 1, 0)],
        "README.md": [("likely_human", 0, 2)],
    }
