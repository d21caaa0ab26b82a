"""End to end: the commands the real Aider runs in a recorded terminal become events.

A recorded session with `--tools shell,aider`; `promptster shell` (bash, then zsh) runs in a
real terminal (pexpect) and the candidate starts Aider in it (the recorded shell's `aider`
shim), against a stand-in OpenAI-compatible API. In Aider the candidate types `/run` with a
failing command (and answers Aider's "add the output to the chat?" with no), then `/test`
with a real pytest run that fails (Aider sends the failure to the stand-in model), then `!`
with a passing command; last it asks for a fix, which the stand-in model makes and Aider's
`--auto-test` checks with the same pytest run, now passing. The bundle is submitted and
verified; its timeline must hold, for each command, `tool_use` → `tool_result` → `command`
(and `test_run` for pytest) from integration `aider`, actor ai, with the exit status, the
output and the times, after the input that asked for it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest
from claude_support import promptster_command
from session_support import Event, of, recording_env, starter_repo, submit_and_read
from standin_openai import StandinOpenAI, say

from promptster.integrations.claude.events import parse_time
from promptster.protocol import find_session
from support import require

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AIDER_VERSION = "0.86.2"
PROMPT_READY = b"\x1b]133;B\x07"  # the recorded shell's prompt
AIDER_READY = b">\x1b[0m"  # Aider's prompt (prompt_toolkit)
HANG_GUARD_S = 180  # a hang guard only: nothing here is timed
FAILING = "python3 -c \"import sys; print('boom'); sys.exit(3)\""
SECRET_TAIL = "A1b2" * 9  # printed after "ghp_": a GitHub token in the output only
PASSING = f"printf 'all-good %s%s\\n' ghp_ {SECRET_TAIL}"
TESTS = "def test_add():\n    from calc import add\n\n    assert add(2, 3) == 5\n"
FIX_PROMPT = "Please fix add."
FIX = (
    "Fixed.\n\n"
    "calc.py\n```python\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n"
    ">>>>>>> REPLACE\n```\n"
)


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
    pytest_command: str
    events: list[Event]
    terminal: bytes


@pytest.fixture(scope="module", params=["bash", "zsh"])
def recorded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Recorded]:
    aider = aider_executable()
    shell = shutil.which(request.param)
    require(shell is not None, f"{request.param} is not installed")
    assert shell is not None
    root = tmp_path_factory.mktemp(f"aider-commands-{request.param}")
    with recording_env(root):
        yield record_session(aider, shell, root)


def record_session(aider: str, shell: str, root: Path) -> Recorded:
    from promptster.record.lifecycle import StartOptions, start_session

    ws = root / "work"
    starter_repo(ws)
    (ws / "test_calc.py").write_text(TESTS)
    home = root / "home"
    home.mkdir()
    (home / ".bashrc").write_text("PS1='cand$ '\n")
    (home / ".zshrc").write_text("PS1='cand%% '\nunsetopt PROMPT_SP\n")
    start_session(StartOptions(workspace=ws, tools=["shell", "aider"]))
    session = find_session(ws)
    assert session is not None and session.active
    pytest_command = f"{sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"

    scripts = {FIX_PROMPT: [say(FIX)]}
    with StandinOpenAI(scripts, fallback="The test fails because add subtracts.") as api:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PROMPTSTER_", "OPENAI_", "AIDER_"))
        }
        env["PROMPTSTER_HOME"] = os.environ["PROMPTSTER_HOME"]
        env |= {
            "HOME": str(home),
            "SHELL": shell,  # the recorded shell, and the one Aider's commands run in
            "TERM": "xterm-256color",
            "LC_ALL": "C.UTF-8",
            "OPENAI_API_KEY": "sk-standin",
            "PROMPT_TOOLKIT_NO_CPR": "1",  # pexpect answers no cursor-position requests
        }
        command = promptster_command()
        term = pexpect.spawn(
            command[0],
            [*command[1:], "shell"],
            env=env,
            cwd=str(ws),
            dimensions=(40, 200),
            timeout=HANG_GUARD_S,
        )
        log: list[bytes] = []
        term.logfile_read = _Sink(log)
        term.expect_exact(PROMPT_READY)
        term.send(
            f"{Path(aider).name} --openai-api-base {api.base_url} --model openai/standin "
            "--no-pretty --no-check-update --no-analytics --no-show-model-warnings "
            "--no-show-release-notes --no-gitignore --no-auto-lint --no-auto-commits "
            f"--edit-format diff --auto-test --test-cmd '{pytest_command}' calc.py\r"
        )
        term.expect_exact(AIDER_READY)
        term.send(f"/run {FAILING}\r")
        term.expect_exact(b"(Y)es/(N)o")  # add the output to the chat?
        term.send("n\r")
        term.expect_exact(AIDER_READY)
        term.send(f"/test {pytest_command}\r")
        term.expect_exact(b"1 failed")
        term.expect_exact(b"add subtracts")  # the stand-in model's answer
        term.expect_exact(AIDER_READY)
        term.send(f"!{PASSING}\r")
        term.expect_exact(b"(Y)es/(N)o")
        term.send("n\r")
        term.expect_exact(AIDER_READY)
        term.send(f"{FIX_PROMPT}\r")
        term.expect_exact(b"Applied edit to calc.py")
        term.expect_exact(b"1 passed")  # --auto-test
        term.expect_exact(AIDER_READY)
        term.send("/exit\r")
        term.expect_exact(PROMPT_READY)
        term.send("exit\r")
        term.expect(pexpect.EOF)
        term.close()
    _, events = submit_and_read(ws)
    return Recorded(pytest_command, events, b"".join(log))


class _Sink:
    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    def write(self, data: bytes) -> None:
        self.parts.append(data)

    def flush(self) -> None:
        pass


def aider_commands(events: list[Event]) -> list[Event]:
    return [e for e in of(events, "command") if e["source"]["integration"] == "aider"]


def test_each_command_aider_ran_is_a_command_event_with_its_exit_status(
    recorded: Recorded,
) -> None:
    commands = aider_commands(recorded.events)
    assert [c["data"]["command"] for c in commands] == [
        FAILING,
        recorded.pytest_command,
        PASSING,
        recorded.pytest_command,  # --auto-test after the fix
    ]
    assert [c["data"]["exitCode"] for c in commands] == [3, 1, 0, 0]
    assert commands[0]["data"]["outputHead"].strip() == "boom"
    assert commands[2]["data"]["outputHead"].startswith("all-good ")
    for command in commands:
        assert command["actor"] == {"type": "ai"}
        assert command["source"] == {
            "channel": "hook",
            "integration": "aider",
            "emitter": "promptster-aider-shell",
        }
        assert command["provenance"]["attribution"] == "likely_ai"
        assert command["data"]["cwd"] == "."
        assert command["data"]["durationMs"] >= 0
    # what Aider ran is not also taken for the candidate's own commands
    shell = [c["data"]["command"] for c in of(recorded.events, "command")]
    assert shell.count(FAILING) == 1 and shell.count(PASSING) == 1


def test_the_pytest_runs_are_test_runs_with_their_counts(recorded: Recorded) -> None:
    runs = [e for e in of(recorded.events, "test_run") if e["source"]["integration"] == "aider"]
    assert [
        (r["data"]["passed"], r["data"]["failed"], r["data"]["exitCode"], r["data"]["outcome"])
        for r in runs
    ] == [(0, 1, 1, "failed"), (1, 0, 0, "passed")]
    commands = aider_commands(recorded.events)
    for run, command in zip(runs, (commands[1], commands[3]), strict=True):
        assert run["actor"] == {"type": "ai"}
        assert run["data"]["tool"] == "pytest"
        assert run["data"]["command"] == recorded.pytest_command
        assert run["data"]["commandEventId"] == command["id"]


def test_the_fix_is_the_ais_and_its_auto_test_comes_after_it(recorded: Recorded) -> None:
    fixes = [e for e in recorded.events if e["kind"] == "file_diff"]
    assert [(e["data"]["path"], e["provenance"]["attribution"]) for e in fixes] == [
        ("calc.py", "likely_ai")
    ]
    auto_test = aider_commands(recorded.events)[3]
    assert fixes[0]["seq"] < auto_test["seq"]


def test_each_command_is_bracketed_in_order_after_the_input_that_asked_for_it(
    recorded: Recorded,
) -> None:
    events = recorded.events
    commands = aider_commands(events)
    uses = [e for e in of(events, "tool_use") if e["source"]["integration"] == "aider"]
    uses = [e for e in uses if e["data"]["toolName"] == "Bash"]
    prompts = [p for p in of(events, "prompt") if p["source"]["integration"] == "aider"]
    typed = [f"/run {FAILING}", f"/test {recorded.pytest_command}", f"!{PASSING}", FIX_PROMPT]
    for index, (use, command) in enumerate(zip(uses, commands, strict=True)):
        text = command["data"]["command"]
        assert use["data"]["input"] == {"command": text}
        assert use["data"]["nativeToolName"] == "run_cmd"
        results = [
            e
            for e in of(events, "tool_result")
            if e["data"]["toolUseId"] == use["data"]["toolUseId"]
        ]
        assert len(results) == 1
        assert results[0]["data"]["ok"] is (command["data"]["exitCode"] == 0)
        assert use["seq"] < results[0]["seq"] < command["seq"]
        # the start is the tool_use's time, the end the command's: durationMs lies between
        started, ended = parse_time(use["ts"]), parse_time(command["ts"])
        assert started is not None and ended is not None
        span_ms = (ended - started).total_seconds() * 1000
        assert 0 <= command["data"]["durationMs"] <= span_ms + 1
        # what was typed (Aider's input history; for --auto-test the request for the fix) is
        # journaled before the command, and the next input after it
        asked = [p for p in prompts if p["data"]["text"] == typed[index]]
        assert len(asked) == 1 and asked[0]["seq"] < use["seq"]
        if index + 1 < len(typed):
            after = [p for p in prompts if p["data"]["text"] == typed[index + 1]]
            assert command["seq"] < after[0]["seq"]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(len(events)))
    times = [parse_time(e["ts"]) for e in events]
    assert all(a is not None and b is not None and a <= b for a, b in itertools.pairwise(times))


def test_secrets_in_the_output_are_redacted(recorded: Recorded) -> None:
    command = aider_commands(recorded.events)[2]
    result = [
        e
        for e in of(recorded.events, "tool_result")
        if e["source"]["integration"] == "aider" and "all-good" in e["data"].get("output", "")
    ]
    assert len(result) == 1
    for text in (command["data"]["outputHead"], result[0]["data"]["output"]):
        assert SECRET_TAIL not in text
    warnings = [
        e["data"]
        for e in of(recorded.events, "warning")
        if e["data"]["code"] == "redaction" and e["data"].get("eventId") == command["id"]
    ]
    assert warnings and "github_token" in warnings[0]["kinds"]


def test_the_candidate_saw_the_commands_output_as_without_promptster(recorded: Recorded) -> None:
    assert b"boom" in recorded.terminal
    assert b"all-good" in recorded.terminal
    assert b"not recorded" not in recorded.terminal
