"""Bad input and faults in the recorded shell: binary and invalid UTF-8 output, a 1 MB line, a
command that never ends, a shell that crashes, the recorder dying, user startup files that
fail or set errexit/nounset, a nested `promptster shell`, a shell with no integration."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from shellkit import (
    RecordedShell,
    Workspace,
    candidate_env,
    cast_text,
    commands,
    events,
    find_command,
    is_descendant,
    wait_for,
)

from promptster.record.control import recorder_running
from recorder_helpers import recorder_pid
from support import require_executable

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_binary_invalid_utf8_and_a_megabyte_line(workspace: Workspace) -> None:
    term = RecordedShell(workspace.folder, workspace.home, "bash")
    term.run("head -c 20000 /dev/urandom")
    term.run(r"printf '\xff\xfe\xc3(\xe2\x28\xa1 end\n'")
    term.run("head -c 1048576 /dev/zero | tr '\\0' x; echo")
    term.run("echo still-alive")
    assert term.exit() == 0
    cast = (workspace.paths.root / "casts" / "0.cast").read_bytes()
    lines = cast.splitlines()
    for line in lines:  # every line is JSON: the header, then [time, code, text]
        json.loads(line)
    text = cast_text(workspace.paths)
    assert text.count("x") >= 1048576
    assert "\ufffd\ufffd" in text and "still-alive" in text
    big = find_command(workspace.paths, "head -c 1048576 /dev/zero | tr '\\0' x; echo")
    assert big["exitCode"] == 0 and big["outputTruncated"] is True
    assert len(big["outputHead"]) <= 8192 and big["outputTail"].endswith("x")
    assert find_command(workspace.paths, "head -c 20000 /dev/urandom")["exitCode"] == 0


def test_a_command_that_never_ends_then_the_terminal_hangs_up(workspace: Workspace) -> None:
    cast = workspace.paths.root / "casts" / "0.cast"
    term = RecordedShell(workspace.folder, workspace.home, "bash")
    term.child.send(b"while :; do echo tick; sleep 0.2; done\r")
    # the cast reaches the disk while the command runs, not only when it ends
    wait_for(lambda: cast.read_bytes().count(b"tick") >= 3, "ticks in the cast on disk")
    os.kill(term.child.pid, signal.SIGHUP)  # the terminal window was closed
    status = term.finish()
    assert status == 128 + signal.SIGHUP
    [loop] = commands(workspace.paths)
    assert loop["command"] == "while :; do echo tick; sleep 0.2; done"
    assert loop["exitCode"] is None and loop["durationMs"] is None
    assert "tick" in loop["outputHead"]
    assert cast.read_bytes().endswith(b"\n")


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_a_shell_that_crashes(workspace: Workspace, shell: str) -> None:
    term = RecordedShell(workspace.folder, workspace.home, shell)
    term.run("echo before")
    status = term.exit("kill -9 $$")
    assert status == 128 + signal.SIGKILL
    assert "left the recorded shell" in term.output.decode(errors="replace")
    crashed = find_command(workspace.paths, "kill -9 $$")
    assert crashed["exitCode"] is None
    assert find_command(workspace.paths, "echo before")["exitCode"] == 0
    assert "before" in cast_text(workspace.paths)


def test_the_recorder_dies_while_the_shell_runs(workspace: Workspace) -> None:
    paths = workspace.paths
    term = RecordedShell(workspace.folder, workspace.home, "bash")
    term.run("echo one")
    wait_for(lambda: any(c["command"] == "echo one" for c in commands(paths)), "echo one")
    pid = recorder_pid(paths)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not recorder_running(paths), "the recorder to be gone")
    term.run("echo two")  # the shell keeps working
    term.run("echo three")
    # the shell's sender spools, restarts the recorder, which ingests the spool
    wait_for(lambda: recorder_running(paths), "a restarted recorder")
    wait_for(
        lambda: {"echo two", "echo three"} <= {c["command"] for c in commands(paths)},
        "the commands typed while the recorder was down",
    )
    assert term.exit() == 0
    [restart] = [w for w in events(paths, "warning") if w["data"]["code"] == "recorder_restart"]
    assert restart["data"]["gapMs"] >= 0
    assert [c["command"] for c in commands(paths)] == ["echo one", "echo two", "echo three", "exit"]


RC_FILES = {
    ("bash", "errors"): "no_such_command_in_rc\nif then fi\nPS1='cand$ '\n",
    ("bash", "errexit"): "set -e\nPS1='cand$ '\n",
    ("bash", "nounset"): "set -u\nPS1='cand$ '\n",
    ("zsh", "errors"): "no_such_command_in_rc\nif then fi\nPS1='cand%% '\n",
    ("zsh", "errexit"): "setopt err_exit\nPS1='cand%% '\n",
    ("zsh", "nounset"): "setopt no_unset\nPS1='cand%% '\n",
}


@pytest.mark.parametrize(("shell", "rc"), sorted(RC_FILES))
def test_user_startup_files_that_fail_or_set_strict_modes(
    workspace: Workspace, shell: str, rc: str
) -> None:
    name = ".bashrc" if shell == "bash" else ".zshrc"
    (workspace.home / name).write_text(RC_FILES[shell, rc])
    term = RecordedShell(workspace.folder, workspace.home, shell)
    term.run("true")
    term.run("echo ok")
    term.run("cd . && pwd")
    if rc == "nounset":
        term.run("echo $no_such_variable_here")
    assert term.exit("exit 0") == 0
    recorded = {c["command"]: c["exitCode"] for c in commands(workspace.paths)}
    assert recorded["true"] == 0 and recorded["echo ok"] == 0
    assert recorded["cd . && pwd"] == 0
    if rc == "nounset":
        assert recorded["echo $no_such_variable_here"] not in (0, None)


def test_a_nested_promptster_shell_is_refused(workspace: Workspace) -> None:
    term = RecordedShell(workspace.folder, workspace.home, "bash")
    term.run(f"{term.promptster} shell; echo status=$?")
    assert term.exit() == 0
    said = term.output.decode(errors="replace")
    assert "already a recorded shell" in said
    assert "status=2" in said


def test_a_shell_without_integration_is_a_plain_cast(workspace: Workspace) -> None:
    sh = require_executable("dash", "apt-get install dash")
    term = RecordedShell(workspace.folder, workspace.home, sh, wait=False, PS1="plain$ ")
    term.child.expect_exact("plain$ ")
    term.child.send(b"echo from-dash\r")
    term.child.expect_exact("plain$ ")
    assert term.exit() == 0
    said = term.output.decode(errors="replace")
    assert "no shell integration" in said
    assert commands(workspace.paths) == []
    [warning] = [w for w in events(workspace.paths, "warning") if w["data"]["code"] != "redaction"]
    assert warning["data"]["code"] == "shell_not_integrated"
    assert "from-dash" in cast_text(workspace.paths)


def test_stdin_that_is_not_a_terminal(workspace: Workspace) -> None:
    promptster = require_executable("promptster")
    bash = require_executable("bash")
    done = subprocess.run(
        [promptster, "shell"],
        input=b"echo piped-in\n",
        capture_output=True,
        cwd=workspace.folder,
        env=candidate_env(workspace.home, bash),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"piped-in" in done.stdout
    assert find_command(workspace.paths, "echo piped-in")["exitCode"] == 0


def test_the_recording_worker_dies_while_the_shell_runs(workspace: Workspace) -> None:
    term = RecordedShell(workspace.folder, workspace.home, "bash")
    term.run("echo recorded")
    workers = [
        int(p.name)
        for p in Path("/proc").glob("[0-9]*")
        if b"promptster.record.shell.pipe" in _cmdline(p)
        and is_descendant(int(p.name), term.child.pid)
    ]
    assert len(workers) == 1
    os.kill(workers[0], signal.SIGKILL)
    term.run("echo the shell goes on")
    term.run("echo and on")
    assert term.exit("exit 0") == 0
    said = term.output.decode(errors="replace")
    assert "and on" in said
    assert "part of this shell was not recorded" in said


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""
