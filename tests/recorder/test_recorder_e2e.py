"""A new candidate's whole session, typed into a real terminal (pexpect), as docs describe it.

start with a real key and pack (which opens the recorded shell) → edit with vim and with shell
redirection → create and delete files → commit with git → explain a decision → see a time
warning → submit → verify. Every one of those actions must be in the verified bundle.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pexpect
import pytest

from promptster.record.session import SessionPaths
from recorder_helpers import (
    file_events,
    git,
    make_assessment,
    make_starter_repo,
    recorder_pid,
    stop_recorder,
    wait_for,
)
from support import require_executable

PROMPT = "PST-E2E> "
INNER = "\x1b]133;B"  # the recorded shell's prompt ends with the OSC 133 "B" mark


def shell(folder: Path, home: Path) -> pexpect.spawn:
    env = {
        **os.environ,
        "PROMPTSTER_HOME": str(home),
        "PS1": PROMPT,
        "TERM": "xterm",
        "HOME": str(home),
        "GIT_AUTHOR_NAME": "Candidate",
        "GIT_AUTHOR_EMAIL": "candidate@example.com",
        "GIT_COMMITTER_NAME": "Candidate",
        "GIT_COMMITTER_EMAIL": "candidate@example.com",
        "COLUMNS": "200",
    }
    env.pop("PROMPTSTER_SESSION_DIR", None)
    child = pexpect.spawn(
        "bash",
        ["--norc", "--noprofile"],
        cwd=str(folder),
        env=env,
        encoding="utf-8",
        timeout=120,
        dimensions=(50, 200),
    )
    child.expect_exact(PROMPT)
    return child


def run(child: pexpect.spawn, command: str, timeout: float = 120, prompt: str = PROMPT) -> str:
    child.sendline(command)
    child.expect_exact(prompt, timeout=timeout)
    return str(child.before)


def inner(child: pexpect.spawn, command: str, timeout: float = 120) -> str:
    """Run a command in the recorded shell."""
    return run(child, command, timeout, INNER)


def status_counts(child: pexpect.spawn) -> dict[str, int]:
    output = inner(child, "promptster status --json 2>/dev/null | tr -d '\\r'")
    body = output[output.index("{") : output.rindex("}") + 1]
    return dict(json.loads(body)["counts"])


@pytest.mark.e2e
@pytest.mark.slow
def test_a_candidate_session_in_a_terminal(tmp_path: Path) -> None:
    require_executable("vim", "apt-get install vim")
    require_executable("bash")
    require_executable("promptster", "pip install -e .")
    repo = make_starter_repo(tmp_path / "upstream" / "calc-kata")
    pack, keys = make_assessment(tmp_path / "reviewer", repo=repo, time_limit=2, keys=1)
    home = tmp_path / "candidate-home"
    folder = home / "take home"
    folder.mkdir(parents=True)
    shutil.copy(pack, folder / "invite.json")
    paths = SessionPaths(folder / "calc-kata" / ".promptster")
    child = shell(folder, home)
    try:
        child.sendline(f"promptster start {keys[0]}")
        child.expect("Type yes to accept")
        child.sendline("yes")
        child.expect_exact("Next steps")
        child.expect_exact("recording this bash shell")
        child.expect_exact(INNER)  # the recorded shell, in the workspace

        # An editor: vim substitutes and writes.
        child.sendline("vim -u NONE -N calc.py")
        child.expect("calc.py")
        child.send(":%s/a - b/a + b/\r")
        child.send(":wq\r")
        child.expect_exact(INNER)
        # Shell redirection, a new folder, a file created and later deleted.
        inner(child, "mkdir -p tests && echo 'from calc import add' > tests/test_calc.py")
        inner(
            child, "printf 'def test_add():\\n    assert add(2, 2) == 4\\n' >> tests/test_calc.py"
        )
        inner(child, "echo scratch > scratch.txt")
        wait_counts(child, lambda c: c.get("file_create", 0) >= 2)
        inner(child, "rm scratch.txt")
        wait_counts(child, lambda c: c.get("file_delete", 0) >= 1)
        inner(child, "git add -A && git commit -qm 'Fix add and test it'")
        out = inner(child, 'promptster explain "The bug was a sign error" --title "Fix add" '
                    "--chosen 'a + b' --impact 2")  # fmt: skip
        assert "decision recorded" in out

        # The warning the recorder writes to this terminal one minute before the limit.
        child.expect_exact("1 minute left", timeout=150)
        inner(child, "")
        child.sendline("promptster submit")
        child.expect("Submit this session now")
        child.sendline("y")
        child.expect(r"submitted and verified: ([^\r\n]+\.pst)", timeout=180)
        bundle = Path(child.match.group(1).strip())
        child.expect_exact(INNER)
        child.sendline("exit")
        child.expect_exact("the session has ended")
        child.expect_exact(PROMPT)
        out = run(child, f"promptster verify '{bundle}'; echo EXIT=$?")
        assert "EXIT=0" in out and "verified" in out
        child.sendline("exit")
    finally:
        child.close(force=True)
        stop_recorder(paths)

    timeline = read_timeline(bundle)
    files = {(e["kind"], e["data"]["path"]) for e in timeline if e["kind"].startswith("file_")}
    assert ("file_diff", "calc.py") in files  # vim
    assert ("file_create", "tests/test_calc.py") in files  # redirection
    assert ("file_create", "scratch.txt") in files and ("file_delete", "scratch.txt") in files
    assert not any(path.endswith(".swp") for _, path in files)
    actions = [e for e in timeline if e["kind"] == "git_action"]
    commits = [
        e for e in actions
        if e["data"]["action"] == "commit" and e["data"].get("message") == "Fix add and test it"
    ]  # fmt: skip
    assert commits
    # typed in the recorded shell, with no AI command running: the candidate's own commit
    assert {e["actor"]["type"] for e in commits} == {"human"}
    decisions = [e["data"] for e in timeline if e["kind"] == "decision_event"]
    assert decisions[0]["title"] == "Fix add" and decisions[0]["impactScore"] == 2
    codes = [e["data"]["code"] for e in timeline if e["kind"] == "warning"]
    assert "time_warning" in codes
    assert timeline[0]["kind"] == "session_start" and timeline[-1]["kind"] == "session_end"
    commands = [str(e["data"]["command"]) for e in timeline if e["kind"] == "command"]
    assert any(c.startswith("vim") for c in commands) and "rm scratch.txt" in commands
    with zipfile.ZipFile(bundle) as archive:
        assert "terminal/0.cast" in archive.namelist()
    assert git(repo, "log", "--oneline").count("\n") == 2  # upstream untouched


def wait_counts(child: pexpect.spawn, ready: object, attempts: int = 120) -> None:
    assert callable(ready)
    for _ in range(attempts):
        if ready(status_counts(child)):
            return
        inner(child, "sleep 0.25")
    raise AssertionError("the recorder did not record the change")


def read_timeline(bundle: Path) -> list[dict[str, object]]:
    with zipfile.ZipFile(bundle) as archive:
        lines = archive.read("timeline.jsonl").decode().splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.e2e
def test_the_recorder_survives_its_terminal_closing(recorder_env: Path, tmp_path: Path) -> None:
    require_executable("bash")
    workspace = tmp_path / "ws"
    child = shell(tmp_path, recorder_env)
    paths = SessionPaths(workspace / ".promptster")
    try:
        code = (
            "from pathlib import Path; from promptster.record.lifecycle import StartOptions, "
            f"start_session; start_session(StartOptions(workspace=Path({str(workspace)!r})))"
        )
        run(child, f'python -c "{code}"')
        pid = recorder_pid(paths)
        assert pid is not None
        child.close(force=True)  # the terminal goes away: SIGHUP to its session
        (workspace / "after.txt").write_text("the terminal is gone\n")
        wait_for(lambda: file_events(paths, "after.txt"), what="recording to go on")
        assert recorder_pid(paths) == pid
    finally:
        child.close(force=True)
        stop_recorder(paths)
