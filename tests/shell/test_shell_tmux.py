"""The recorded shell driven through tmux as a person would: keys in, the screen read back.

In a recorded bash and a recorded zsh: passing and failing commands, a pytest run with
failures, vim editing a file, Ctrl-C on a long command, a window resize, exit; then submit
and `promptster replay` in the same terminal. The timeline must have every command with the
right exit code and duration, the test run with the right counts, and the replay must show it.
A real tmux server on its own socket (`tmux -L`), a temporary HOME, the installed promptster.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from shellkit import (
    HANG_GUARD_S,
    Workspace,
    candidate_env,
    find_command,
    is_descendant,
    journal,
    wait_for,
    wait_for_process,
)

from support import require_executable

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OUTER = r"(?m)^outer\$"  # the outer shell's prompt (capture-pane trims the space)
TEST_FILE = """import pytest

def test_one():
    assert 1 + 1 == 2

def test_two():
    assert 2 * 2 == 4

def test_wrong():
    assert 1 + 1 == 3

@pytest.mark.skip(reason="later")
def test_later():
    pass
"""


class Tmux:
    """A tmux server of our own, one window, read with capture-pane."""

    def __init__(self, env: dict[str, str], cwd: Path, width: int = 120, height: int = 40):
        self.exe = require_executable("tmux", "apt-get install tmux")
        self.socket = f"pst-test-{uuid.uuid4().hex[:12]}"
        self.env = env
        rc = cwd.parent / "outer.bashrc"  # the person's own terminal: a plain bash
        rc.write_text("PS1='outer$ '\n")
        outer = f"bash --noprofile --rcfile '{rc}'"
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", str(width),
                  "-y", str(height), "-c", str(cwd), outer)  # fmt: skip
        self.tmux("set-option", "-g", "history-limit", "100000")
        self.tmux("set-option", "-g", "window-size", "manual")

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            [self.exe, "-L", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_S,
            check=True,
        )
        return done.stdout

    def type(self, text: str, enter: bool = True) -> None:
        self.tmux("send-keys", "-t", "main", "-l", text)
        if enter:
            self.tmux("send-keys", "-t", "main", "Enter")

    def key(self, *names: str) -> None:
        self.tmux("send-keys", "-t", "main", *names)

    def screen(self) -> str:
        """Everything the terminal shows and has scrolled off, as text."""
        return self.tmux("capture-pane", "-p", "-J", "-t", "main", "-S", "-", "-E", "-")

    def visible(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "main")

    def wait_text(self, pattern: str, count: int = 1, visible: bool = False) -> str:
        def seen() -> str | None:
            text = self.visible() if visible else self.screen()
            return text if len(re.findall(pattern, text)) >= count else None

        return str(wait_for(seen, f"{pattern!r} x{count} on the screen"))

    def pane_pid(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", "main", "#{pane_pid}").strip())

    def resize(self, width: int, height: int) -> None:
        self.tmux("resize-window", "-t", "main", "-x", str(width), "-y", str(height))

    def kill(self) -> None:
        subprocess.run(
            [self.exe, "-L", self.socket, "kill-server"],
            env=self.env,
            capture_output=True,
            timeout=HANG_GUARD_S,
            check=False,
        )


@pytest.fixture
def tmux_for(workspace: Workspace) -> Iterator[dict[str, Tmux]]:
    made: dict[str, Tmux] = {}
    yield made
    for server in made.values():
        server.kill()


class Person:
    """Types at the recorded shell's prompt and waits to see the next one."""

    def __init__(self, tmux: Tmux, prompt: str) -> None:
        self.tmux = tmux
        self.prompt = "(?m)^" + re.escape(prompt.rstrip())  # capture-pane trims line ends
        self.prompts = 0

    def wait_prompt(self) -> None:
        self.prompts += 1
        self.tmux.wait_text(self.prompt, self.prompts)

    def run(self, line: str) -> float:
        started = time.monotonic()
        self.tmux.type(line)
        self.wait_prompt()
        return time.monotonic() - started


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_a_recorded_shell_in_tmux(
    workspace: Workspace, tmux_for: dict[str, Tmux], shell: str
) -> None:
    require_executable("vim", "apt-get install vim")
    require_executable("promptster", "pip install -e .")
    shell_path = require_executable(shell)
    (workspace.folder / "test_calc.py").write_text(TEST_FILE)
    env = candidate_env(workspace.home, shell_path)
    tmux = tmux_for[shell] = Tmux(env, workspace.folder)
    tmux.wait_text(OUTER)
    person = Person(tmux, "cand$ " if shell == "bash" else "cand% ")

    tmux.type("promptster shell")
    tmux.wait_text(f"recording this {shell} shell")
    person.wait_prompt()
    person.run("echo hello from $0")
    person.run("false")
    slept = person.run("sleep 1")
    pytest_line = f"{sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"
    person.run(pytest_line)
    tmux.wait_text(r"1 failed, 2 passed, 1 skipped")

    # vim: insert a line, write, quit
    tmux.type("vim -u NONE -N notes.txt")
    tmux.wait_text(r'"notes.txt" \[New\]', visible=True)
    tmux.type("ithe candidate wrote this", enter=False)
    tmux.key("Escape")
    tmux.type(":wq")
    person.wait_prompt()

    # Ctrl-C a long command once it runs
    tmux.type("sleep 300")
    pane = tmux.pane_pid()
    wait_for_process("sleep", lambda pid: is_descendant(pid, pane))
    tmux.key("C-c")
    person.wait_prompt()

    tmux.resize(100, 30)
    person.run("stty size")
    tmux.wait_text(r"\b30 100\b")
    tmux.type("exit")
    tmux.wait_text(r"left the recorded shell \(exit 0\)")
    tmux.wait_text(OUTER, 2)

    paths = workspace.paths
    hello = find_command(paths, "echo hello from $0")
    assert hello["exitCode"] == 0 and shell in hello["outputHead"]
    assert find_command(paths, "false")["exitCode"] == 1
    sleep = find_command(paths, "sleep 1")
    assert sleep["exitCode"] == 0 and 1000 <= sleep["durationMs"] <= slept * 1000 + 1000
    tests = find_command(paths, pytest_line)
    assert tests["exitCode"] == 1
    [run] = [e["data"] for e in journal(paths) if e["kind"] == "test_run"]
    assert (run["passed"], run["failed"], run["skipped"], run["errors"]) == (2, 1, 1, 0)
    assert run["tool"] == "pytest" and run["durationMs"] is not None
    vim = find_command(paths, "vim -u NONE -N notes.txt")
    assert vim["exitCode"] == 0 and vim.get("fullscreen") is True
    assert (workspace.folder / "notes.txt").read_text() == "the candidate wrote this\n"
    interrupted = find_command(paths, "sleep 300")
    assert interrupted["exitCode"] == 130 and interrupted["interrupted"] is True
    assert "30 100" in find_command(paths, "stty size")["outputHead"]
    typed = [e["data"]["command"] for e in journal(paths) if e["kind"] == "command"]
    assert typed == [
        "echo hello from $0",
        "false",
        "sleep 1",
        pytest_line,
        "vim -u NONE -N notes.txt",
        "sleep 300",
        "stty size",
        "exit",
    ]
    durations = [e["data"]["durationMs"] for e in journal(paths) if e["kind"] == "command"]
    assert all(d is not None and d >= 0 for d in durations[:-1])

    # submit, then watch the session again
    tmux.type("promptster submit --yes")
    screen = tmux.wait_text(r"submitted and verified: \S+\.pst")
    found = re.search(r"submitted and verified: (\S+\.pst)", screen)
    assert found is not None
    bundle = Path(found.group(1))
    tmux.wait_text(OUTER, 3)
    tmux.type("clear; promptster replay " + str(bundle) + " --idle-limit 0.2 --speed 4")
    tmux.wait_text(r"end of the recording")
    shown = tmux.screen()
    assert "the candidate wrote this" in shown or "1 failed, 2 passed" in shown
    assert "30 100" in shown  # the end of the recording is on the screen
