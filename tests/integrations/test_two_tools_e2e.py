"""One session, two AI tools: the real Gemini CLI writes mathx.py, the real Aider fixes calc.py,
the candidate edits README.md. Both tools' prompts are in the bundle under their own
integration, and every change is attributed to whoever made it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from session_support import file_verdicts, of, recording_env, starter_repo, submit_and_read
from standin_gemini import StandinGemini, call, text
from standin_openai import StandinOpenAI, say
from test_aider_e2e import aider_executable, run_aider
from test_gemini_cli_e2e import run_gemini

from promptster.protocol import find_session, request
from support import require

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FIX = (
    "calc.py\n```python\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n"
    ">>>>>>> REPLACE\n```\n"
)


def test_gemini_and_aider_in_one_session(tmp_path: Path) -> None:
    gemini = os.environ.get("PROMPTSTER_GEMINI") or shutil.which("gemini")
    require(gemini is not None, "gemini is not installed: npm install -g @google/gemini-cli")
    assert gemini is not None
    aider = aider_executable()
    from promptster.analysis.signals import bundle_signals
    from promptster.record.lifecycle import StartOptions, start_session

    with recording_env(tmp_path):
        ws = tmp_path / "work"
        starter_repo(ws)
        home = tmp_path / "home"
        (home / ".gemini").mkdir(parents=True)
        (home / ".gemini" / "settings.json").write_text(
            '{"security": {"auth": {"selectedType": "gemini-api-key"}}}'
        )
        start_session(StartOptions(workspace=ws, tools=["shell", "gemini-cli", "aider"]))
        session = find_session(ws)
        assert session is not None
        script = {
            "mul helper": [
                call(
                    "write_file",
                    file_path=f"{ws}/mathx.py",
                    content="def mul(a, b):\n    return a * b\n",
                ),
                text("Added mathx.py."),
            ]
        }
        with StandinGemini(script) as api:
            run_gemini(gemini, "Add a mul helper in mathx.py.", ws, api, home)
        subprocess.run(["git", "-C", str(ws), "add", "mathx.py"], check=True)
        subprocess.run(["git", "-C", str(ws), "commit", "-qm", "mul"], check=True)
        scripts = {"Fix add": [say("Fixing add.\n\n" + FIX)]}
        with StandinOpenAI(scripts, fallback="fix add", side_request="commit message") as api:
            run_aider(aider, "Fix add in calc.py.", ws, api, home, "calc.py")
        with (ws / "README.md").open("a") as handle:
            handle.write("Written by hand.\nAnother line.\n")
        assert request(session, {"op": "snapshot", "reason": "test"}, 60.0)["ok"] is True
        bundle, events = submit_and_read(ws)

    prompts = {(e["source"]["integration"], e["data"]["text"]) for e in of(events, "prompt")}
    assert prompts == {
        ("gemini-cli", "Add a mul helper in mathx.py."),
        ("aider", "Fix add in calc.py."),
    }
    assert {e["source"]["integration"] for e in of(events, "ai_response")} == {
        "gemini-cli",
        "aider",
    }
    assert file_verdicts(events) == {
        "mathx.py": [("likely_ai", 2, 0)],
        "calc.py": [("likely_ai", 1, 0)],
        "README.md": [("likely_human", 0, 2)],
    }
    start = of(events, "session_start")[0]["data"]
    assert {"gemini-cli", "aider"} <= set(start["tools"])
    assert bundle_signals(bundle).signals["aiAttributionPct"].value == pytest.approx(60.0)
