"""`promptster shell` in a real terminal, bash and zsh: commands become events with the right
exit codes, durations and output; the terminal (Ctrl-C, job control, resize, vim) works; the
shell's exit status comes back; test runs are counted; the cast is written."""

from __future__ import annotations

import sys

import pytest
from shellkit import (
    RecordedShell,
    Workspace,
    cast_events,
    cast_text,
    commands,
    events,
    find_command,
    wait_for,
)

from support import require_executable

SHELLS = ["bash", "zsh"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("shell", SHELLS)
def test_commands_become_events(workspace: Workspace, shell: str) -> None:
    term = RecordedShell(workspace.folder, workspace.home, shell)
    term.run("echo hello")
    term.run("false")
    term.run("sleep 0.3")
    term.run("(exit 7)")
    term.run("")  # an empty line
    term.run("# only a comment")
    term.child.send(b"echo never run")
    term.child.expect_exact(b"never run")  # typed before Ctrl-C, even on a slow machine
    term.child.sendintr()  # a line abandoned at the prompt
    term.prompt()
    term.run("cd /tmp")
    term.run("ls > /dev/null")  # outside the workspace: location only
    term.run(f"cd {workspace.folder}")
    assert term.exit() == 0
    recorded = [c["command"] for c in commands(workspace.paths)]
    assert recorded == [
        "echo hello",
        "false",
        "sleep 0.3",
        "(exit 7)",
        "cd /tmp",
        None,  # typed outside the workspace: location only
        None,  # the `cd` back was typed outside too
        "exit",
    ]
    hello = find_command(workspace.paths, "echo hello")
    assert (hello["exitCode"], hello["outputHead"], hello["cwd"]) == (0, "hello", ".")
    assert hello["shellLevel"] == 1
    assert find_command(workspace.paths, "false")["exitCode"] == 1
    assert find_command(workspace.paths, "(exit 7)")["exitCode"] == 7
    assert find_command(workspace.paths, "sleep 0.3")["durationMs"] >= 300
    outside = commands(workspace.paths)[5]
    assert outside["outsideWorkspace"] is True
    assert outside["cwd"] == "/tmp" and "outputHead" not in outside
    # the human's shell: actor, channel
    first = events(workspace.paths, "command")[0]
    assert first["actor"] == {"type": "human"}
    assert first["source"]["channel"] == "terminal"


@pytest.mark.parametrize("shell", SHELLS)
def test_exit_status_comes_back_and_the_session_keeps_recording(
    workspace: Workspace, shell: str
) -> None:
    term = RecordedShell(workspace.folder, workspace.home, shell)
    term.run("echo inside")
    assert term.exit("exit 5") == 5
    said = term.output.decode(errors="replace")
    assert "session is still" in said and "promptster shell" in said
    assert "promptster submit" in said
    from promptster.protocol import load_handle

    handle = load_handle(workspace.paths.root)
    assert handle is not None and handle.active
    # the cast is a valid asciicast v2 with the output in it
    assert "inside" in cast_text(workspace.paths)
    # the integration files of that shell are gone; the cast stays
    assert not (workspace.paths.root / "shells" / "0").exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_ctrl_c_job_control_and_resize(workspace: Workspace, shell: str) -> None:
    term = RecordedShell(workspace.folder, workspace.home, shell)
    term.interrupt("sleep 300", "sleep")
    term.started("sleep 301", "sleep")
    term.child.sendcontrol("z")  # job control: stop it, list it, kill it
    term.prompt()
    term.run("jobs")
    term.run("kill -9 %1")
    term.run("true")
    term.child.setwinsize(40, 132)
    term.run("stty size")
    assert term.exit() == 0
    assert b"40 132" in term.output
    slept = find_command(workspace.paths, "sleep 300")
    assert slept["exitCode"] == 130 and slept["interrupted"] is True
    stopped = find_command(workspace.paths, "sleep 301")
    assert stopped["exitCode"] == 148  # 128 + SIGTSTP
    assert "sleep 301" in find_command(workspace.paths, "jobs").get("outputHead", "")
    assert "40 132" in find_command(workspace.paths, "stty size")["outputHead"]
    assert ["r", "132x40"] in [e[1:] for e in cast_events(workspace.paths)]


@pytest.mark.parametrize("shell", SHELLS)
def test_vim_keys_are_not_commands(workspace: Workspace, shell: str) -> None:
    require_executable("vim")
    term = RecordedShell(workspace.folder, workspace.home, shell)
    term.child.send(b"vim -u NONE -N notes.txt\r")
    term.child.expect(rb"\x1b\[\?(1049|1047|47)h")
    term.child.send(b"iecho typed in vim\rls -la\x1b")
    term.child.send(b":wq\r")
    term.prompt()
    term.run("cat notes.txt")
    assert term.exit() == 0
    assert (workspace.folder / "notes.txt").read_text() == "echo typed in vim\nls -la\n"
    recorded = [c["command"] for c in commands(workspace.paths)]
    assert recorded == ["vim -u NONE -N notes.txt", "cat notes.txt", "exit"]
    vim = find_command(workspace.paths, "vim -u NONE -N notes.txt")
    assert vim["exitCode"] == 0 and vim["fullscreen"] is True
    assert "outputHead" not in vim  # a full-screen program's screen is not an excerpt


@pytest.mark.parametrize("shell", SHELLS)
def test_a_pytest_run_with_failures_is_a_test_run(workspace: Workspace, shell: str) -> None:
    (workspace.folder / "test_calc.py").write_text(
        "import pytest\n\n"
        "def test_one():\n    assert 1 + 1 == 2\n\n"
        "def test_two():\n    assert 2 + 2 == 4\n\n"
        "def test_bad():\n    assert 1 + 1 == 3\n\n"
        "@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n"
    )
    term = RecordedShell(workspace.folder, workspace.home, shell)
    line = f"{sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"
    term.run(line)
    term.run("ruff --version > /dev/null 2>&1; mypy --version > /dev/null 2>&1; true")
    assert term.exit() == 0
    command = find_command(workspace.paths, line)
    assert command["exitCode"] == 1
    [run] = events(workspace.paths, "test_run")
    data = run["data"]
    assert (data["passed"], data["failed"], data["skipped"], data["errors"]) == (2, 1, 1, 0)
    assert data["tool"] == "pytest" and data["exitCode"] == 1 and data["outcome"] == "failed"
    assert data["command"] == line and data["durationMs"] is not None
    command_event = next(e for e in events(workspace.paths, "command") if e["data"] == command)
    assert data["commandEventId"] == command_event["id"]


@pytest.mark.parametrize("shell", SHELLS)
def test_runs_that_found_no_tests_or_were_interrupted_are_not_passed(
    workspace: Workspace, shell: str
) -> None:
    (workspace.folder / "test_slow.py").write_text(
        "import pathlib\nimport time\n\n\ndef test_slow():\n"
        "    pathlib.Path('started').touch()\n    time.sleep(300)\n"
    )
    term = RecordedShell(workspace.folder, workspace.home, shell)
    empty = f"{sys.executable} -m unittest"  # finds no TestCase: "Ran 0 tests"
    term.run(empty)
    slow = f"{sys.executable} -m pytest -q -p no:cacheprovider test_slow.py"
    term.child.send(slow.encode() + b"\r")
    wait_for(lambda: (workspace.folder / "started").exists(), "the slow test to start")
    term.child.sendintr()  # Ctrl-C, as the candidate presses it
    term.prompt()
    assert term.exit() == 2  # `exit` passes pytest's "interrupted" status on
    runs = {run["data"]["command"]: run["data"] for run in events(workspace.paths, "test_run")}
    assert runs[empty]["passed"] == 0 and runs[empty]["outcome"] == "no_tests"
    assert runs[slow]["outcome"] == "interrupted"


def test_a_lint_command_is_a_build_run(workspace: Workspace) -> None:
    ruff = require_executable("ruff")
    (workspace.folder / "bad.py").write_text("import os\n")
    term = RecordedShell(workspace.folder, workspace.home, "bash")
    term.run(f"{ruff} check --no-cache bad.py")
    assert term.exit() == 1  # `exit` passes the last status on
    [run] = events(workspace.paths, "build_run")
    assert run["data"]["tool"] == "ruff" and run["data"]["category"] == "lint"
    assert run["data"]["exitCode"] == 1 and run["data"]["errorCount"] == 1


@pytest.mark.parametrize("shell", SHELLS)
def test_the_cast_leaves_out_what_happens_outside_the_workspace(
    workspace: Workspace, shell: str
) -> None:
    term = RecordedShell(workspace.folder, workspace.home, shell)
    term.run("echo inside-$((6 * 7))")
    term.run("cd /tmp")
    term.run("echo private-$((6 * 7))")
    term.run(f"cd {workspace.folder}")
    term.run("echo public-$((6 * 7))")
    assert term.exit() == 0
    assert b"private-42" in term.output  # the terminal itself showed everything
    text = cast_text(workspace.paths)
    assert "inside-42" in text and "public-42" in text
    assert "private" not in text
    markers = [e[2] for e in cast_events(workspace.paths) if e[1] == "m"]
    assert markers == [
        "promptster: the shell is in /tmp, outside the workspace: not recorded",
        "promptster: back in the workspace",
    ]
    private = commands(workspace.paths)[2]
    assert private["command"] is None and private["outsideWorkspace"] is True


def test_less_and_top_work_full_screen(workspace: Workspace) -> None:
    require_executable("less")
    require_executable("top")
    (workspace.folder / "long.txt").write_text("".join(f"row {i}\n" for i in range(500)))
    term = RecordedShell(workspace.folder, workspace.home, "bash")
    term.child.send(b"less long.txt\r")
    term.child.expect(rb"\x1b\[\?(1049|1047|47)h")
    term.child.expect_exact(b"row 1")
    term.child.send(b" q")
    term.prompt()
    term.child.send(b"top -d 0.5\r")  # procps top redraws the main screen, no alternate one
    term.child.expect(rb"load average")
    term.child.expect(rb"load average")  # a second refresh
    term.child.send(b"q")
    term.prompt()
    assert term.exit() == 0
    less = find_command(workspace.paths, "less long.txt")
    assert less["exitCode"] == 0 and less["fullscreen"] is True
    assert find_command(workspace.paths, "top -d 0.5")["exitCode"] == 0


@pytest.mark.parametrize("shell", SHELLS)
def test_a_heredoc_keeps_its_lines(workspace: Workspace, shell: str) -> None:
    """A command typed over several lines is recorded with its newlines, not flattened."""
    term = RecordedShell(workspace.folder, workspace.home, shell)
    term.child.send(b"cat > notes.txt <<EOF\r")
    term.child.send(b"first line\r")
    term.child.send(b"second line\r")
    term.run("EOF")
    assert term.exit() == 0
    recorded = [c["command"] for c in commands(workspace.paths)]
    assert "cat > notes.txt <<EOF\nfirst line\nsecond line\nEOF" in recorded, recorded
