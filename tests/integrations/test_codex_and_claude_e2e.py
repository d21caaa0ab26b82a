"""One session, two real AI tools: Codex CLI and Claude Code, each against its stand-in API.

`start --tools claude,codex` wires both. Codex (through `promptster codex exec`) adds a module
and its tests with a patch, fixes calc.py with `sed` and runs the failing tests; Claude Code
(`claude -p`) writes notes.py; the candidate edits README.md by hand. The report and `score`
must show both tools, with each file attributed to whoever wrote it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from standin_api import StandinAPI, text, write
from standin_responses import StandinResponses
from test_claude_code_e2e import run_claude
from test_codex_e2e import CODEX_VERSION, FIRST, SCRIPTS, promptster, run_codex

from promptster.bundle.verify import verify_bundle
from promptster.protocol import find_session, request
from support import require_executable

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NOTES = "# Notes for the reviewer\nTIMEOUT_S = 30\n"
CLAUDE_PROMPT = "Please add notes.py for the reviewer."


@dataclass(frozen=True)
class Recorded:
    bundle: Path
    events: list[dict[str, Any]]
    report: str
    score: dict[str, Any]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    claude = require_executable("claude", "npm install -g @anthropic-ai/claude-code@2.1.328")
    require_executable("codex", f"npm install -g @openai/codex@{CODEX_VERSION}")
    root = tmp_path_factory.mktemp("two-tools")
    runtime = Path("/tmp") / f"pst-2t-{os.getpid()}-{time.monotonic_ns() % 10**8}"
    runtime.mkdir(mode=0o700)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PROMPTSTER_HOME", str(root / "promptster-home"))
        env.setenv("XDG_RUNTIME_DIR", str(runtime))
        env.setenv("CODEX_HOME", str(root / "codex-home"))
        env.delenv("PROMPTSTER_SESSION_DIR", raising=False)
        yield record_session(claude, root)
    for leftover in runtime.glob("**/*"):
        if leftover.is_socket() or leftover.is_file():
            leftover.unlink(missing_ok=True)


def record_session(claude: str, root: Path) -> Recorded:
    from promptster.record.lifecycle import StartOptions, start_session

    ws = root / "work"
    ws.mkdir()
    (root / "codex-home").mkdir()
    (root / "home").mkdir()
    (ws / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (ws / "README.md").write_text("# Calculator\n")
    start_session(StartOptions(workspace=ws, tools=["shell", "claude-code", "codex"]))
    session = find_session(ws)
    assert session is not None and session.active

    with StandinResponses({"add a mul helper": SCRIPTS["add a mul helper"]}) as api:
        assert "test_mul fails" in run_codex(FIRST, ws, api, root)
    with (ws / "README.md").open("a") as handle:
        handle.write("Run the tests with pytest.\n")
    assert request(session, {"op": "snapshot", "reason": "test"}, 60.0)["ok"] is True
    script = {"add notes.py": [[write(f"{ws}/notes.py", NOTES)], [text("Added notes.py.")]]}
    with StandinAPI(script) as anthropic:
        assert "Added notes.py." in run_claude(claude, CLAUDE_PROMPT, ws, anthropic, root / "home")

    submitted = promptster("submit", "--yes", "--json", cwd=ws)
    assert submitted.returncode == 0, submitted.stderr
    bundle = Path(json.loads(submitted.stdout)["path"])
    report_path = root / "report.html"
    # A practice session (no key, so no assessment pack): the reviewer's "no pack, no
    # verification" is its only failed check; the report is written and the row scored anyway.
    reviewed = promptster("review", str(bundle), "-o", str(report_path), cwd=root)
    assert reviewed.returncode == 1 and "failed verification (assessment)" in reviewed.stderr
    scored = promptster(
        "score", str(bundle), "--format", "json", "--jobs", "1", "--allow-invalid",
        "--fail-on", "never", cwd=root,
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    verified = verify_bundle(bundle, keep_timeline=True)
    assert verified.ok and verified.context.timeline is not None
    events = [json.loads(line) for line in verified.context.timeline.read_bytes().splitlines()]
    (row,) = json.loads(scored.stdout)
    return Recorded(bundle, events, report_path.read_text(), row)


def test_both_tools_are_in_the_timeline_report_and_score(recorded: Recorded) -> None:
    prompts = {
        e["source"]["integration"]: e["data"]["text"]
        for e in recorded.events
        if e["kind"] == "prompt"
    }
    assert prompts == {"codex": FIRST, "claude-code": CLAUDE_PROMPT}
    (start,) = [e for e in recorded.events if e["kind"] == "session_start"]
    assert start["data"]["tools"] == ["shell", "claude-code", "codex"]
    # A practice bundle fails verification (no pack), so its report shows the findings only,
    # never the stranger's events; the tools are checked in the timeline and the score.
    assert "failed verification" in recorded.report and "claude-code" not in recorded.report
    assert recorded.score["promptsByTool"] == "claude-code=1;codex=1"
    assert recorded.score["aiInputTokens"] > 0 and "codex=" in recorded.score["tokensByTool"]


def test_each_file_is_attributed_to_whoever_wrote_it(recorded: Recorded) -> None:
    by_path: dict[str, list[str]] = {}
    for event in recorded.events:
        if event["kind"].startswith("file_"):
            by_path.setdefault(event["data"]["path"], []).append(event["provenance"]["attribution"])
    assert by_path == {
        "mathx.py": ["likely_ai"],  # Codex: apply_patch
        "test_mathx.py": ["likely_ai"],
        "calc.py": ["likely_ai"],  # Codex: sed
        "README.md": ["likely_human"],  # the candidate
        "notes.py": ["likely_ai"],  # Claude Code: Write
    }
