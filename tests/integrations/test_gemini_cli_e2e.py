"""End to end with the real Gemini CLI, driven by a stand-in Gemini API on 127.0.0.1.

A recorded session with `--tools gemini`; `gemini -p` writes mathx.py and its tests, fixes
calc.py with `replace`, runs the tests with `run_shell_command` and records a decision through
the MCP server; the candidate edits README.md by hand. The session is submitted, the bundle
verified, and the timeline checked: the prompt, the tool calls, the AI-run test run, the
decision, the reply with its model and tokens, and who wrote which lines. The workspace's
`.gemini/settings.json` must be the candidate's own again afterwards, byte for byte.
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
from standin_gemini import StandinGemini, call, text

from promptster.protocol import find_session, request
from support import require

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GEMINI_VERSION = "0.61.0"
MODEL = "gemini-2.5-flash"
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
USER_SETTINGS = b'{\n  "ui": {"theme": "Default"},\n  "hooks": {"BeforeTool": []}\n}\n'
README_HAND_LINES = ["## Notes", "mul lives in mathx.py."]


@dataclass(frozen=True)
class Recorded:
    workspace: Path
    events: list[Event]


def script(ws: Path) -> dict[str, list[dict[str, object]]]:
    return {
        "add a mul helper": [
            call("write_file", file_path=f"{ws}/mathx.py", content=MATHX),
            call("write_file", file_path=f"{ws}/test_mathx.py", content=TESTS),
            call(
                "replace",
                file_path=f"{ws}/calc.py",
                old_string="    return a - b",
                new_string="    return a + b",
                instruction="fix add",
            ),
            call("run_shell_command", command=PYTEST, description="run the tests"),
            call("capture_decision", **DECISION),
            text("Done: all tests pass."),
        ]
    }


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    gemini = os.environ.get("PROMPTSTER_GEMINI") or shutil.which("gemini")
    require(
        gemini is not None,
        f"gemini is not installed: npm install -g @google/gemini-cli@{GEMINI_VERSION}",
    )
    assert gemini is not None
    root = tmp_path_factory.mktemp("gemini-e2e")
    with recording_env(root):
        yield record_session(gemini, root)


def run_gemini(gemini: str, prompt: str, ws: Path, api: StandinGemini, home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_"))}
    env.update(
        HOME=str(home),
        GEMINI_API_KEY="standin-key",
        GOOGLE_GEMINI_BASE_URL=api.base_url,
        GEMINI_CLI_TRUST_WORKSPACE="true",
        PYTHONDONTWRITEBYTECODE="1",
    )
    done = subprocess.run(
        [gemini, "-m", MODEL, "-p", prompt, "--yolo", "--output-format", "text"],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def record_session(gemini: str, root: Path) -> Recorded:
    from promptster.record.lifecycle import StartOptions, start_session

    ws = root / "work"
    starter_repo(ws)
    (ws / ".gemini").mkdir()
    (ws / ".gemini" / "settings.json").write_bytes(USER_SETTINGS)  # the candidate's own
    home = root / "home"
    (home / ".gemini").mkdir(parents=True)
    auth = b'{"security": {"auth": {"selectedType": "gemini-api-key"}}}'
    (home / ".gemini" / "settings.json").write_bytes(auth)
    start_session(StartOptions(workspace=ws, tools=["shell", "gemini-cli"]))
    session = find_session(ws)
    assert session is not None and session.active

    with StandinGemini(script(ws)) as api:
        out = run_gemini(gemini, PROMPT, ws, api, home)
        assert "all tests pass" in out
    with (ws / "README.md").open("a") as handle:
        handle.write("\n".join(README_HAND_LINES) + "\n")
    assert request(session, {"op": "snapshot", "reason": "test"}, 60.0)["ok"] is True

    _, events = submit_and_read(ws)
    assert (ws / ".gemini" / "settings.json").read_bytes() == USER_SETTINGS
    return Recorded(ws, events)


def test_prompt_tools_test_run_decision_and_tokens(recorded: Recorded) -> None:
    events = recorded.events
    (prompt,) = of(events, "prompt")
    assert prompt["data"]["text"] == PROMPT
    assert prompt["source"]["integration"] == "gemini-cli"
    tools = [
        (e["data"]["toolName"], e["data"].get("nativeToolName")) for e in of(events, "tool_use")
    ]
    assert [name for name, _ in tools] == [
        "Write",
        "Write",
        "Edit",
        "Bash",
        "mcp__promptster__capture_decision",
    ]
    assert [native for _, native in tools][:4] == [
        "write_file",
        "write_file",
        "replace",
        "run_shell_command",
    ]
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
    assert reply["data"]["inputTokens"] == 6 * 210 and reply["data"]["outputTokens"] == 6 * 30


def test_attribution(recorded: Recorded) -> None:
    assert file_verdicts(recorded.events) == {
        "mathx.py": [("likely_ai", 2, 0)],
        "test_mathx.py": [("likely_ai", 10, 0)],
        "calc.py": [("likely_ai", 1, 0)],
        "README.md": [("likely_human", 0, 2)],
    }
