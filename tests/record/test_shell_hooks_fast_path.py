"""The per-prompt fast path of the shell integration: what it caches is redone when it changes.

The hooks compare PS1, PS0, PROMPT_COMMAND, PATH and the cwd with what they last set and
recompute the time left only when its minute is over; history is only read back when
HISTCMD moved; encoding only runs for text that needs it. These tests change each of those
behind the cache's back. The clock is a plain variable here (EPOCHSECONDS loses its special
meaning once unset), so nothing depends on the wall clock.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from test_shell_integration import Session, assemble, assert_no_errors_from_our_code, find

from promptster.record.shell.history import HistoryRecords
from promptster.record.shell.integration import prepare_shell
from promptster.record.shell.osc import CommandEnd, MarkParser, ShellInit
from support import require_executable

DEADLINE = 2_000_000_000
A, B = "\x1b]133;A\x07", "\x1b]133;B\x07"  # as zsh's PS1 holds them


def _env(home: Path, launch_env: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PROMPTSTER_") and k not in ("BASH_ENV", "ENV", "ZDOTDIR")
    }
    return env | {"HOME": str(home), "LC_ALL": "C.UTF-8"} | launch_env


def _run(argv: list[str], script: str, env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [*argv, script], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "__pst" not in done.stderr, done.stderr
    return done.stdout.splitlines()


BASH_PROMPTS = r"""
unset EPOCHSECONDS
step() { EPOCHSECONDS=$1; __pst_prompt_end; printf '%s|%s\n' "$PS1" "$PATH"; }
step $((DEADLINE - 2 * 3600 - 61))
step $((DEADLINE - 125))
step $((DEADLINE - 121))
step $((DEADLINE - 120))
step $((DEADLINE - 119))
PS1='changed$ '
step $((DEADLINE - 119))
step $((DEADLINE - 30))
PATH=/usr/bin:/bin
step $((DEADLINE - 1))
step $((DEADLINE))
step $((DEADLINE + 500))
PS0='user-ps0'
PROMPT_COMMAND+=$'\necho added'
step $((DEADLINE + 500))
printf '%s\n' "$PS0" "${PROMPT_COMMAND//$'\n'/;}"
"""


def test_bash_prompt_cache_follows_the_clock_ps1_path_and_prompt_command(tmp_path: Path) -> None:
    bash = require_executable("bash")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("PS1='user$ '\n")
    launch = prepare_shell(bash, tmp_path / "run", deadline_epoch=DEADLINE, session_id="s")
    env = _env(home, launch.env) | {"DEADLINE": str(DEADLINE)}
    rc = launch.argv[2]
    lines = _run([bash, "--norc", "-c"], f". {rc}\n{BASH_PROMPTS}", env)
    shims = launch.env["PROMPTSTER_SHIMS"]
    prompts = [line.split("|")[0] for line in lines[:11]]
    a, b = r"\[\e]133;A\a\]", r"\[\e]133;B\a\]"  # PS1 holds prompt escapes
    # the end mark is printed by the first hook, not part of PS1 (readline's cost per
    # prompt grows with the square of the prompt's length)
    assert not any("6973" in p or "__pst" in p for p in prompts)
    assert prompts == [
        f"{a}[2h01m left] user$ {b}",
        f"{a}[2m left] user$ {b}",
        f"{a}[2m left] user$ {b}",
        f"{a}[2m left] user$ {b}",
        f"{a}[1m left] user$ {b}",  # the minute changed: recomputed
        f"{a}[1m left] changed$ {b}",  # the user's new PS1 is wrapped
        f"{a}[<1m left] changed$ {b}",
        f"{a}[<1m left] changed$ {b}",
        f"{a}[time up] changed$ {b}",
        f"{a}[time up] changed$ {b}",
        f"{a}[time up] changed$ {b}",
    ]
    paths = [line.split("|")[1] for line in lines[:11]]
    assert paths[7] == f"{shims}:/usr/bin:/bin"  # PATH replaced: the shims come back first
    ps0, prompt_command = lines[11:]
    assert ps0 == "${__pst_ps0@P}user-ps0"
    # something appended to PROMPT_COMMAND: ours are first and last again
    assert prompt_command == '__pst_prompt_start "$_";echo added;__pst_prompt_end'


ZSH_PROMPTS = r"""
zmodload -u zsh/datetime  # EPOCHSECONDS becomes a plain variable
step() { EPOCHSECONDS=$1; __pst_precmd_last; print -r -- "$PS1|$PATH" }
step $((DEADLINE - 125))
step $((DEADLINE - 120))
step $((DEADLINE - 119))
PS1='changed%# '
step $((DEADLINE - 119))
path=(/usr/bin /bin)
step $((DEADLINE - 1))
step $((DEADLINE))
precmd_functions+=(late_hook)
step $((DEADLINE))
print -r -- "${(j:,:)precmd_functions}"
"""


def test_zsh_prompt_cache_follows_the_clock_ps1_path_and_hooks(tmp_path: Path) -> None:
    zsh = require_executable("zsh", "apt-get install zsh")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".zshrc").write_text("PS1='user%# '\n")
    launch = prepare_shell(zsh, tmp_path / "run", deadline_epoch=DEADLINE, session_id="s")
    env = _env(home, launch.env) | {"DEADLINE": str(DEADLINE)}
    lines = _run([zsh, "-i", "-c"], ZSH_PROMPTS, env)
    a, b = f"%{{{A}%}}", f"%{{{B}%}}"
    shims = launch.env["PROMPTSTER_SHIMS"]
    prompts = [line.split("|")[0] for line in lines[:7]]
    assert prompts == [
        f"{a}[2m left] user%# {b}",
        f"{a}[2m left] user%# {b}",
        f"{a}[1m left] user%# {b}",
        f"{a}[1m left] changed%# {b}",
        f"{a}[<1m left] changed%# {b}",
        f"{a}[time up] changed%# {b}",
        f"{a}[time up] changed%# {b}",
    ]
    assert lines[4].split("|")[1] == f"{shims}:/usr/bin:/bin"
    assert lines[7] == "__pst_precmd,late_hook,__pst_precmd_last"


# Lines that take the slow paths: nothing new in history (an empty line, Ctrl-C at the
# prompt) right before lines that only history knows about (a comment, a syntax error), text
# that must be encoded, a new cwd, and a PS1 set by a command.
LINES = [
    "",
    "# comment after an empty line",
    "echo 'a;b' 50%",
    "printf '%s\\t|' x; echo",
    "for i in 1 2\ndo echo $i\ndone",
]


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_slow_paths_of_a_live_shell(tmp_path: Path, shell: str) -> None:
    exe = require_executable(shell, "apt-get install zsh" if shell == "zsh" else "")
    home, workspace = tmp_path / "home", tmp_path / "ws"
    home.mkdir()
    workspace.mkdir()
    (workspace / "sub").mkdir()
    rc = ".bashrc" if shell == "bash" else ".zshrc"
    setup = "PS1='u$ '\n" if shell == "bash" else "PS1='u$ '\nsetopt interactive_comments\n"
    (home / rc).write_text(setup)
    launch = prepare_shell(exe, tmp_path / "run", deadline_epoch=time.time() + 7200, session_id="s")
    session = Session(launch, home, workspace)
    for line in LINES:
        session.run(line)
    session.child.send(b"echo never-run")
    session.child.expect_exact(b"never-run")  # the line editor has it: Ctrl-C discards it
    session.child.sendintr()  # Ctrl-C at the prompt: nothing accepted
    session.prompt()
    session.run("if ; then" if shell == "bash" else ")")
    session.run("echo ctl\x16\x01")  # Ctrl-V Ctrl-A: a control character in the line
    session.run("cd sub")
    session.run("pwd")
    session.run("PS1='new$ '")
    session.run("true")
    stream = session.close()

    records = assemble(stream, launch, workspace)
    commands = [r.command for r in records]
    # a comment is not a command, but its end mark carries it (bash's: from its history
    # records, read by the recorder)
    _, marks = MarkParser(launch.token).feed(stream)
    history = HistoryRecords(launch.env["PROMPTSTER_SHELL_STATE"])
    ends = []
    for mark in marks:
        if isinstance(mark, ShellInit):
            history.started(mark)
        elif isinstance(mark, CommandEnd) and (end := history.resolve(mark)) is not None:
            ends += [end.command] if not end.executed else []
    assert "# comment after an empty line" in ends
    assert find(records, "echo 'a;b' 50%").output_head == "a;b 50%"
    assert find(records, "printf '%s\\t|' x; echo").output_head == "x\t|"
    # bash's history joins the lines of a compound command (cmdhist); zsh keeps them
    loop = "for i in 1 2; do echo $i; done" if shell == "bash" else LINES[4]
    assert find(records, loop).output_head == "1\n2"
    assert not [c for c in commands if c and "never-run" in c]
    syntax_error = find(records, "if ; then" if shell == "bash" else ")")
    assert syntax_error.executed is False
    assert find(records, "pwd").output_head.endswith("/ws/sub")
    assert find(records, "pwd").relative_cwd == "sub"
    assert find(records, "true").exit_code == 0
    assert find(records, "echo ctl\x01").exit_code == 0
    if shell == "zsh":
        assert b"cmd=echo ctl%01\x07" in stream  # percent-encoded on the wire
    else:  # bash's line is in its history records, as typed
        (records_file,) = Path(launch.env["PROMPTSTER_SHELL_STATE"]).glob("history.*")
        assert b"  echo ctl\x01\n\0" in records_file.read_bytes()
    # the PS1 set by a command is wrapped at the next prompt (the time left, OSC 133 B)
    assert b"left] new$ \x1b]133;B\x07" in stream
    assert_no_errors_from_our_code(stream, launch.token)


BASH_SOLO = r"""
printf '%s\n' "$PROMPT_COMMAND"
PROMPT_COMMAND+=$'\necho user'
__pst_prompt_end
printf '%s\n' "${PROMPT_COMMAND//$'\n'/;}"
PROMPT_COMMAND=(); __pst_wrap_prompt_command
printf '%s\n' "${PROMPT_COMMAND[*]}" "${#PROMPT_COMMAND[@]}"
PROMPT_COMMAND+=('echo arr'); __pst_prompt_end
printf '%s|' "${PROMPT_COMMAND[@]}"
"""


def test_bash_one_prompt_function_until_the_user_adds_an_entry(tmp_path: Path) -> None:
    """With nothing of the user's in PROMPT_COMMAND one function does both ends (a call
    fewer per prompt); an entry of the user's, string or array, gets ours around it."""
    bash = require_executable("bash")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("PS1='user$ '\n")
    launch = prepare_shell(bash, tmp_path / "run", deadline_epoch=None, session_id="s")
    rc = launch.argv[2]
    lines = _run([bash, "--norc", "-c"], f". {rc}\n{BASH_SOLO}", _env(home, launch.env))
    assert lines == [
        '__pst_prompt "$_"',
        '__pst_prompt_start "$_";echo user;__pst_prompt_end',
        '__pst_prompt "$_"',
        "1",
        '__pst_prompt_start "$_"|echo arr|__pst_prompt_end|',
    ]
