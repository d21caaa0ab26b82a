"""The shell wrapper Aider runs its commands with, and the recorded shell's `aider` shim.

The wrapper is run as Aider runs it (`<wrapper> -i -c <command>`, through the shim script that
`shims.write` makes) by real shells, in a workspace whose session has no recorder running (a
stand-in session.json whose socket is missing): its events then go to the spool, where they are
read back. Bad input: the real shell missing or unset, the recorder down, the spool unwritable
too, a huge output, a signal death, no `-c`, no session. In a terminal (pexpect, as Aider
spawns it): typed keys, the window size and Ctrl-C behave as with the bare shell.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pexpect
import pytest

from promptster.integrations.aider import runshell, shims
from promptster.integrations.claude.values import OUTPUT_LIMIT
from promptster.protocol import CLIENT_LOSSES_FILE, SESSION_DIR_NAME, SESSION_FILE
from promptster.record.losses import ClientLossLedger
from support import require_executable

HANG_GUARD_S = 60  # a hang guard only: nothing here is timed


@pytest.fixture
def bash() -> str:
    return require_executable("bash")


@pytest.fixture
def wrapper(tmp_path: Path) -> Path:
    return shims.write(tmp_path / "bin")[0]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace with an active session whose recorder is not running."""
    ws = tmp_path / "work"
    session = ws / SESSION_DIR_NAME
    session.mkdir(parents=True)
    state = {
        "sessionId": "s-aider-shell",
        "socket": str(tmp_path / "no-recorder.sock"),
        "workspace": str(ws),
        "status": "active",
    }
    (session / SESSION_FILE).write_text(json.dumps(state))
    return ws


def run(
    wrapper: Path, cwd: Path, *args: str, real: str | None, **extra: str
) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTSTER_")}
    env.pop(runshell.REAL_SHELL_ENV, None)
    if real is not None:
        env[runshell.REAL_SHELL_ENV] = real
    env["SHELL"] = str(wrapper)
    return subprocess.run(
        [str(wrapper), *args],
        cwd=cwd,
        env=env | extra,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )


def spooled(ws: Path) -> list[dict[str, Any]]:
    spool = ws / SESSION_DIR_NAME / "spool.jsonl"
    if not spool.exists():
        return []
    return [json.loads(line) for line in spool.read_bytes().splitlines()]


def one(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [e for e in events if e["kind"] == kind]
    assert len(found) == 1, [e["kind"] for e in events]
    return found[0]


def test_recorder_down_the_command_runs_and_its_events_are_spooled(
    wrapper: Path, workspace: Path, bash: str
) -> None:
    command = 'echo "$SHELL|${PROMPTSTER_AIDER_SHELL-unset}"; exit 4'
    done = run(wrapper, workspace, "-i", "-c", command, real=bash)
    assert done.returncode == 4
    # the command sees the real shell as SHELL, and nothing of the wrapper
    assert f"{bash}|unset".encode() in done.stdout
    assert b"not recorded" not in done.stderr
    events = spooled(workspace)
    assert [e["kind"] for e in events] == ["tool_use", "tool_result", "command"]
    data = one(events, "command")["data"]
    assert (data["command"], data["exitCode"], data["cwd"]) == (command, 4, ".")
    assert data["outputHead"].splitlines()[0] == f"{bash}|unset"  # then bash -i says "exit"
    assert all(e["source"]["integration"] == "aider" and e["actor"]["type"] == "ai" for e in events)
    assert one(events, "tool_result")["data"]["ok"] is False


def test_a_test_runner_yields_a_test_run_too(
    wrapper: Path, workspace: Path, bash: str, tmp_path: Path
) -> None:
    (workspace / "test_one.py").write_text("def test_one():\n    assert True\n")
    command = f"{sys.executable} -m pytest -q -p no:cacheprovider test_one.py"
    done = run(wrapper, workspace, "-i", "-c", command, real=bash)
    assert done.returncode == 0, done.stdout + done.stderr
    events = spooled(workspace)
    run_data = one(events, "test_run")["data"]
    assert (run_data["tool"], run_data["passed"], run_data["failed"]) == ("pytest", 1, 0)
    assert run_data["commandEventId"] == one(events, "command")["id"]


@pytest.mark.parametrize("real", [None, "/nonexistent/zsh", "relative-sh"])
def test_a_missing_real_shell_runs_bin_sh_and_says_so(
    wrapper: Path, workspace: Path, real: str | None
) -> None:
    done = run(wrapper, workspace, "-c", "echo ran; exit 7", real=real)
    assert done.returncode == 7
    assert done.stdout.strip() == b"ran"
    assert b"promptster: " in done.stderr and b"running /bin/sh" in done.stderr
    assert one(spooled(workspace), "command")["data"]["exitCode"] == 7


def test_with_the_spool_unwritable_too_the_command_still_runs_and_the_loss_is_counted(
    wrapper: Path, workspace: Path, bash: str
) -> None:
    session = workspace / SESSION_DIR_NAME
    (session / "spool.jsonl").mkdir()  # appending to it fails
    ledger = ClientLossLedger(session / CLIENT_LOSSES_FILE)
    ledger.reserve()
    done = run(wrapper, workspace, "-i", "-c", "echo still-ran; exit 2", real=bash)
    assert done.returncode == 2
    assert b"still-ran" in done.stdout
    assert b"promptster: Aider command: 1 event not recorded" in done.stderr
    assert b"promptster: Aider command: 2 events not recorded" in done.stderr
    count, kinds = ledger.peek()
    assert count == 3
    assert kinds == {"tool_use": 1, "tool_result": 1, "command": 1}


def test_a_huge_output_is_relayed_whole_and_recorded_bounded(
    wrapper: Path, workspace: Path, bash: str
) -> None:
    size = 3_000_000
    command = f"head -c {size} /dev/zero | tr '\\0' x; echo; echo THE-END"
    done = run(wrapper, workspace, "-i", "-c", command, real=bash)
    assert done.returncode == 0
    assert done.stdout.count(b"x") == size  # the candidate and Aider see all of it
    data = one(spooled(workspace), "command")["data"]
    assert data["outputTruncated"] is True
    assert runshell.KEEP == OUTPUT_LIMIT  # bounded as every command's output
    assert len(data["outputHead"].encode()) <= runshell.KEEP
    assert len(data["outputTail"].encode()) <= runshell.KEEP
    assert data["outputTail"].rstrip().endswith("THE-END")
    result = one(spooled(workspace), "tool_result")["data"]
    assert result["outputTruncated"] is True
    assert len(result["output"].encode()) <= 2 * runshell.KEEP


def test_a_signal_death_is_passed_on(wrapper: Path, workspace: Path, bash: str) -> None:
    done = run(wrapper, workspace, "-c", "kill -TERM $$", real=bash)
    assert done.returncode == -signal.SIGTERM
    data = one(spooled(workspace), "command")["data"]
    assert data["exitCode"] == 128 + signal.SIGTERM
    assert data["interrupted"] is True


def test_without_c_or_outside_a_session_the_real_shell_runs_untouched(
    wrapper: Path, workspace: Path, tmp_path: Path, bash: str
) -> None:
    done = run(wrapper, workspace, "--version", real=bash)
    assert done.returncode == 0 and b"GNU bash" in done.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run(wrapper, elsewhere, "-c", 'echo "$SHELL"; exit 5', real=bash)
    assert done.returncode == 5 and done.stdout.strip() == bash.encode()
    assert spooled(workspace) == []


def test_an_ended_session_is_not_recorded(wrapper: Path, workspace: Path, bash: str) -> None:
    state_file = workspace / SESSION_DIR_NAME / SESSION_FILE
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps(state | {"status": "ended"}))
    done = run(wrapper, workspace, "-c", "exit 3", real=bash)
    assert done.returncode == 3
    assert spooled(workspace) == [] and done.stderr == b""


def test_without_its_python_the_wrapper_still_runs_the_real_shell(
    tmp_path: Path, workspace: Path, bash: str
) -> None:
    wrapper = shims.write(tmp_path / "other-bin", python="/nonexistent/python")[0]
    done = run(wrapper, workspace, "-c", "echo fine; exit 6", real=bash)
    assert (done.returncode, done.stdout.strip()) == (6, b"fine")


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["-i", "-c", "ls -l"], "ls -l"),
        (["-ic", "ls"], "ls"),
        (["-c", "x", "name", "arg"], "x"),
        (["-c"], None),
        (["-i"], None),
        (["script.sh", "-c", "x"], None),
        (["--", "-c", "x"], None),
        (["--login", "-c", "x"], None),
        ([], None),
    ],
)
def test_the_command_is_read_from_c(argv: list[str], command: str | None) -> None:
    assert runshell.command_of(argv) == command


# --- the aider shim --------------------------------------------------------------------------


@pytest.fixture
def fake_path(tmp_path: Path) -> tuple[Path, Path]:
    """The shims folder and a folder behind it holding an `aider` that shows its environment
    (the shim's job is the environment it hands over)."""
    bin_dir = tmp_path / "bin"
    shims.write(bin_dir)
    real = tmp_path / "real"
    real.mkdir()
    aider = real / "aider"
    aider.write_text('#!/bin/sh\necho "$SHELL|${PROMPTSTER_AIDER_SHELL-unset}|$*"\n')
    aider.chmod(0o755)
    return bin_dir, real


def shim(bin_dir: Path, path: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "aider"), "--model", "x y"],
        env={"PATH": path, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_aider_shim_hands_aider_the_wrapper_as_shell(
    fake_path: tuple[Path, Path], bash: str
) -> None:
    bin_dir, real = fake_path
    path = f"{bin_dir}:{real}:/usr/bin:/bin"
    done = shim(bin_dir, path, SHELL=bash)
    wrapper = bin_dir / shims.WRAPPER
    assert done.stdout.strip() == f"{wrapper}|{bash}|--model x y"
    # SHELL unset, missing, or the wrapper already: Aider is started untouched
    assert shim(bin_dir, path).stdout.strip() == "|unset|--model x y"
    missing = shim(bin_dir, path, SHELL="/nonexistent/sh").stdout.strip()
    assert missing == "/nonexistent/sh|unset|--model x y"
    nested = shim(bin_dir, path, SHELL=str(wrapper), PROMPTSTER_AIDER_SHELL=bash)
    assert nested.stdout.strip() == f"{wrapper}|{bash}|--model x y"


def test_the_aider_shim_skips_other_recorded_shells_shims(
    fake_path: tuple[Path, Path], tmp_path: Path, bash: str
) -> None:
    bin_dir, real = fake_path
    other = tmp_path / "other-session-bin"
    shims.write(other)
    done = shim(bin_dir, f"{bin_dir}:{other}:{real}", SHELL=bash)
    assert done.stdout.strip() == f"{bin_dir / shims.WRAPPER}|{bash}|--model x y"


def test_the_aider_shim_without_aider_says_so(fake_path: tuple[Path, Path], bash: str) -> None:
    bin_dir, _ = fake_path
    done = shim(bin_dir, f"{bin_dir}:/nonexistent", SHELL=bash)
    assert done.returncode == 127
    assert done.stderr.strip() == "aider: command not found"


def test_the_recorded_shell_writes_the_aider_shim(tmp_path: Path) -> None:
    from promptster.record.shell.integration import prepare_shell

    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    launch = prepare_shell(bash, tmp_path, deadline_epoch=None, session_id="s")
    names = {p.name for p in launch.files}
    assert {"aider", shims.WRAPPER} <= names
    assert Path(launch.env["PROMPTSTER_SHIMS"], "aider").exists()


# --- in a terminal, as Aider runs it (pexpect) ---------------------------------------------------


def spawn(wrapper: Path, cwd: Path, command: str, bash: str) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTSTER_")}
    env |= {runshell.REAL_SHELL_ENV: bash, "SHELL": str(wrapper), "TERM": "xterm"}
    env["HOME"] = str(cwd)  # no rc files of ours
    return pexpect.spawn(
        str(wrapper),
        ["-i", "-c", command],
        env=env,
        cwd=str(cwd),
        dimensions=(31, 123),
        timeout=HANG_GUARD_S,
    )


def test_keys_reach_the_command_once_and_the_window_size_follows(
    wrapper: Path, workspace: Path, bash: str
) -> None:
    term = spawn(wrapper, workspace, "stty size; read -r x; echo got:$x", bash)
    seen = io.BytesIO()
    term.logfile_read = seen
    term.expect_exact("31 123")
    term.send("hello\r")
    term.expect_exact("got:hello")
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 0
    # echoed once (by the command's terminal), then printed once by the command
    assert seen.getvalue().count(b"hello") == 2
    data = one(spooled(workspace), "command")["data"]
    assert "31 123" in data["outputHead"] and "got:hello" in data["outputHead"]


@pytest.mark.parametrize("command", ["echo started; sleep 600", "echo started; exec sleep 600"])
def test_ctrl_c_stops_the_command_as_it_would_have(
    wrapper: Path, workspace: Path, bash: str, command: str
) -> None:
    statuses = []
    for shell in (bash, str(wrapper)):  # Aider's SHELL without Promptster, then with it
        term = spawn(Path(shell), workspace, command, bash)
        term.expect_exact("started")
        wait_for_descendant("sleep", term.pid)  # ^C then reaches the command, not the shell
        term.sendintr()
        term.expect(pexpect.EOF)
        term.close()
        statuses.append((term.exitstatus, term.signalstatus))
    assert statuses[0] == statuses[1]
    data = one(spooled(workspace), "command")["data"]
    exit_status, signal_status = statuses[1]
    if signal_status is None:
        assert data["exitCode"] == exit_status
    else:
        assert data["exitCode"] == 128 + signal_status
        assert data["interrupted"] is True


def wait_for_descendant(name: str, ancestor: int) -> None:
    """Until `ancestor` or a process under it runs `name` (bash execs a last command)."""
    deadline = time.monotonic() + HANG_GUARD_S  # a hang guard only
    while time.monotonic() < deadline:
        for entry in Path("/proc").glob("[0-9]*"):
            pid = int(entry.name)
            if _comm(entry) == name and (pid == ancestor or _descends(pid, ancestor)):
                return
        time.sleep(0.01)
    raise AssertionError(f"{name} never started")


def _comm(entry: Path) -> str | None:
    try:
        return (entry / "comm").read_text().strip()
    except OSError:
        return None


def _descends(pid: int, ancestor: int) -> bool:
    for _ in range(32):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat[stat.rfind(")") + 2 :].split()[1])
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


def test_without_a_pty_left_the_command_still_runs(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import pty

    def no_pty() -> tuple[int, int]:
        raise OSError(11, "out of pseudo-terminals")

    monkeypatch.setattr(pty, "fork", no_pty)
    kept: list[bytes] = []
    status = runshell.relay("/bin/sh", ["-c", "echo plain; exit 5"], {}, kept.append)
    assert runshell.exit_code(status) == 5
    out, err = capfd.readouterr()
    assert "plain" in out
    assert "out of pseudo-terminals" in err and "not recorded" in err
    assert kept == []


def test_doctor_finds_the_real_aider_not_the_shim(fake_path: tuple[Path, Path]) -> None:
    from promptster.integrations.aider.adapter import real_aider

    bin_dir, real = fake_path
    assert real_aider(f"{bin_dir}:{real}") == str(real / "aider")
    assert real_aider(f"{bin_dir}:/nonexistent") is None  # only the shim: Aider is missing
