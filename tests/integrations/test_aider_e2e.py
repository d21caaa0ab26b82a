"""End to end with the real Aider, driven by a stand-in OpenAI-compatible API on 127.0.0.1.

A recorded session with `--tools aider`; `aider --message` creates mathx.py and fixes calc.py
(SEARCH/REPLACE blocks, committed by Aider with its Co-authored-by trailer); the candidate edits
README.md by hand; a second `aider --message` adds tests. The session is submitted and the
bundle verified; the timeline must hold both prompts, the replies with model and tokens, and
the file changes attributed: Aider's lines to the AI, README.md to the candidate.
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
    git,
    of,
    recording_env,
    starter_repo,
    submit_and_read,
)
from standin_openai import StandinOpenAI, say

from promptster.protocol import find_session, request
from support import require

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AIDER_VERSION = "0.86.2"
FIRST = "Please add a mul helper and fix add."
SECOND = "Now add tests for mul."
CREATE_MATHX = (
    "I'll add the helper and fix add.\n\n"
    "mathx.py\n```python\n<<<<<<< SEARCH\n=======\n"
    "def mul(a, b):\n    return a * b\n"
    ">>>>>>> REPLACE\n```\n\n"
    "calc.py\n```python\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n"
    ">>>>>>> REPLACE\n```\n"
)
CREATE_TESTS = (
    "Here are the tests.\n\n"
    "test_mathx.py\n```python\n<<<<<<< SEARCH\n=======\n"
    "from mathx import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"
    ">>>>>>> REPLACE\n```\n"
)
README_HAND_LINES = ["## Notes", "mul lives in mathx.py."]


def aider_executable() -> str:
    found = os.environ.get("PROMPTSTER_AIDER") or shutil.which("aider")
    require(
        found is not None,
        f"aider is not installed: pip install aider-chat=={AIDER_VERSION} in its own venv",
    )
    assert found is not None
    return found


@dataclass(frozen=True)
class Recorded:
    workspace: Path
    events: list[Event]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    aider = aider_executable()
    root = tmp_path_factory.mktemp("aider-e2e")
    with recording_env(root):
        yield record_session(aider, root)


def run_aider(
    aider: str, message: str, ws: Path, api: StandinOpenAI, home: Path, *files: str
) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIDER_"))}
    env.update(HOME=str(home), OPENAI_API_KEY="sk-standin")
    done = subprocess.run(
        [
            aider,
            "--openai-api-base",
            api.base_url,
            "--model",
            "openai/standin",
            "--edit-format",
            "diff",
            "--yes-always",
            "--no-check-update",
            "--no-analytics",
            "--no-show-model-warnings",
            "--no-show-release-notes",
            "--no-gitignore",
            "--no-auto-lint",
            "--no-pretty",
            "--message",
            message,
            *files,
        ],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def record_session(aider: str, root: Path) -> Recorded:
    from promptster.record.lifecycle import StartOptions, start_session

    ws = root / "work"
    starter_repo(ws)
    home = root / "home"
    home.mkdir()
    start_session(StartOptions(workspace=ws, tools=["shell", "aider"]))
    session = find_session(ws)
    assert session is not None and session.active

    scripts = {FIRST: [say(CREATE_MATHX)], SECOND: [say(CREATE_TESTS)]}
    with StandinOpenAI(scripts, fallback="Update mathx", side_request="commit message") as api:
        out = run_aider(aider, FIRST, ws, api, home, "calc.py")
        assert "Applied edit to mathx.py" in out
        with (ws / "README.md").open("a") as handle:
            handle.write("\n".join(README_HAND_LINES) + "\n")
        assert request(session, {"op": "snapshot", "reason": "test"}, 60.0)["ok"] is True
        run_aider(aider, SECOND, ws, api, home)

    log = git(ws, "log", "--format=%an|%B")
    assert "Co-authored-by: aider (openai/standin)" in log
    _, events = submit_and_read(ws)
    return Recorded(ws, events)


def test_prompts_and_replies_with_model_and_tokens(recorded: Recorded) -> None:
    prompts = of(recorded.events, "prompt")
    assert [e["data"]["text"] for e in prompts] == [FIRST, SECOND]
    assert {e["source"]["integration"] for e in prompts} == {"aider"}
    replies = [e["data"] for e in of(recorded.events, "ai_response")]
    assert [r["text"].splitlines()[0] for r in replies] == [
        "I'll add the helper and fix add.",
        "Here are the tests.",
    ]
    assert all(r["model"] == "openai/standin" for r in replies)
    assert all(r["inputTokens"] > 0 and r["outputTokens"] > 0 for r in replies)


def test_aider_edits_are_the_ais_and_the_hand_edit_the_candidates(recorded: Recorded) -> None:
    assert file_verdicts(recorded.events) == {
        "mathx.py": [("likely_ai", 2, 0)],
        "calc.py": [("likely_ai", 1, 0)],
        "README.md": [("likely_human", 0, 2)],
        "test_mathx.py": [("likely_ai", 5, 0)],
    }
    claims = [e for e in of(recorded.events, "tool_result") if e["data"].get("edit")]
    assert {e["data"]["edit"]["path"] for e in claims} == {"mathx.py", "calc.py", "test_mathx.py"}
