"""End to end: the commands the real Aider runs in a recorded terminal become events.

A recorded session with `--tools shell,aider`; `promptster shell` runs in a real terminal
(pexpect) and the candidate starts Aider in it (the recorded shell's `aider` shim), against a
stand-in OpenAI-compatible API. In Aider the candidate types `/run` with a failing command
(and answers Aider's "add the output to the chat?" with no), then `/test` with a real pytest
run that fails (Aider sends the failure to the stand-in model), then `!` with a passing
command. The bundle is submitted and verified; its timeline must hold, for each command,
`tool_use` → `tool_result` → `command` (and `test_run` for pytest) from integration `aider`,
actor ai, with the exit status, the output and the times, after the input that asked for it.
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
from standin_openai import StandinOpenAI

from promptster.integrations.claude.events import parse_time
from promptster.protocol import find_session
from support import require

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AIDER_VERSION = "0.86.2"
PROMPT_READY = b"\x1b]133;B\x07"  # the recorded shell's prompt
AIDER_READY = b">\x1b[0m"  # Aider's prompt (prompt_toolkit)
HANG_GUARD_S = 180  # a hang guard only: nothing here is timed
FAILING = "python3 -c \"import sys; print('boom'); sys.exit(3)\""
PASSING = "echo all-good"
TESTS = "def test_add():\n    from calc import add\n\n    assert add(2, 3) == 5\n"


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


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    aider = aider_executable()
    bash = shutil.which("bash")
    require(bash is not None, "bash is not installed")
    assert bash is not None
    root = tmp_path_factory.mktemp("aider-commands")
    with recording_env(root):
        yield record_session(aider, bash, root)


def record_session(aider: str, bash: str, root: Path) -> Recorded:
    from promptster.record.lifecycle import StartOptions, start_session

    ws = root / "work"
    starter_repo(ws)
    (ws / "test_calc.py").write_text(TESTS)
    home = root / "home"
    home.mkdir()
    (home / ".bashrc").write_text("PS1='cand$ '\n")
    start_session(StartOptions(workspace=ws, tools=["shell", "aider"]))
    session = find_session(ws)
    assert session is not None and session.active
    pytest_command = f"{sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"

    with StandinOpenAI({}, fallback="The test fails because add subtracts.") as api:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PROMPTSTER_", "OPENAI_", "AIDER_"))
        }
        env["PROMPTSTER_HOME"] = os.environ["PROMPTSTER_HOME"]
        env |= {
            "HOME": str(home),
            "SHELL": bash,
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
            "--no-show-release-notes --no-gitignore --no-auto-lint --no-auto-commits\r"
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
    ]
    assert [c["data"]["exitCode"] for c in commands] == [3, 1, 0]
    assert commands[0]["data"]["outputHead"].strip() == "boom"
    assert commands[2]["data"]["outputHead"].strip() == "all-good"
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


def test_the_pytest_run_is_a_test_run_with_its_counts(recorded: Recorded) -> None:
    runs = [e for e in of(recorded.events, "test_run") if e["source"]["integration"] == "aider"]
    assert len(runs) == 1
    run = runs[0]
    assert run["actor"] == {"type": "ai"}
    assert run["data"]["tool"] == "pytest"
    assert run["data"]["command"] == recorded.pytest_command
    assert (run["data"]["passed"], run["data"]["failed"], run["data"]["exitCode"]) == (0, 1, 1)
    assert run["data"]["outcome"] == "failed"
    command = aider_commands(recorded.events)[1]
    assert run["data"]["commandEventId"] == command["id"]


def test_each_command_is_bracketed_in_order_after_the_input_that_asked_for_it(
    recorded: Recorded,
) -> None:
    events = recorded.events
    for command in aider_commands(events):
        text = command["data"]["command"]
        uses = [e for e in of(events, "tool_use") if e["data"]["input"].get("command") == text]
        assert len(uses) == 1
        use = uses[0]
        assert use["data"]["toolName"] == "Bash"
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
        # Aider's input history holds what was typed; it is journaled before the command
        typed = [
            p
            for p in of(events, "prompt")
            if p["data"]["text"] in (f"/run {text}", f"/test {text}", f"!{text}")
        ]
        assert len(typed) == 1 and typed[0]["seq"] < use["seq"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)
    times = [parse_time(e["ts"]) for e in events]
    assert all(a is not None and b is not None and a <= b for a, b in itertools.pairwise(times))


def test_the_candidate_saw_the_commands_output_as_without_promptster(recorded: Recorded) -> None:
    assert b"boom" in recorded.terminal
    assert b"all-good" in recorded.terminal
    assert b"not recorded" not in recorded.terminal
