"""Real bash and zsh under a pty with the integration: the marks they print become the
right CommandRecords, and the user's own startup files and hooks keep working."""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from promptster.record.shell.commands import CommandAssembler, CommandRecord
from promptster.record.shell.integration import ShellLaunch, prepare_shell
from promptster.record.shell.osc import CommandEnd, MarkParser
from support import require_executable

PROMPT_READY = b"\x1b]133;B\x07"  # end of every integrated prompt, at any shell level
OUTPUT_START = b"\x1b]133;C\x07"
# a hang guard only (a broken integration never prints a prompt); nothing is timed
HANG_GUARD_S = 120


class Session:
    """One recorded shell: the pty output is kept whole and parsed afterwards."""

    def __init__(self, launch: ShellLaunch, home: Path, cwd: Path) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PROMPTSTER_")
            and k not in ("BASH_ENV", "ENV", "ZDOTDIR", "PROMPT_COMMAND", "HISTFILE")
        }
        env |= {"HOME": str(home), "TERM": "xterm-256color", "LESS": "", "LC_ALL": "C.UTF-8"}
        env |= launch.env
        self.launch = launch
        self.log = io.BytesIO()
        self.child = pexpect.spawn(
            launch.argv[0],
            list(launch.argv[1:]),
            env=env,
            cwd=str(cwd),
            dimensions=(24, 80),
            timeout=HANG_GUARD_S,
        )
        self.child.logfile_read = self.log
        self.prompt()

    def prompt(self) -> None:
        self.child.expect_exact(PROMPT_READY)

    def run(self, line: str) -> None:
        self.child.send(line.encode() + b"\r")
        self.prompt()

    def interrupt(self, line: str, program: str) -> None:
        """Start `line`, press Ctrl-C once `program` runs, wait for the prompt.

        Before the shell has handed the terminal to `program`, Ctrl-C would reach the
        shell itself, so we wait until the shell's child has exec'd it."""
        self.child.send(line.encode() + b"\r")
        self.child.expect_exact(OUTPUT_START)
        wait_for_child(self.child.pid, program)
        self.child.sendintr()
        self.prompt()

    def fullscreen(self, line: str, keys: list[str]) -> None:
        """Run a full-screen program: wait for the alternate screen, then type `keys`."""
        self.child.send(line.encode() + b"\r")
        self.child.expect(rb"\x1b\[\?(1049|1047|47)h")
        for key in keys:
            self.child.send(key.encode())
        self.prompt()

    def close(self) -> bytes:
        self.child.send(b"exit\r")
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.log.getvalue()


def wait_for_child(parent: int, program: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue  # the process has already gone
            comm = text[text.find("(") + 1 : text.rfind(")")]
            ppid = int(text[text.rfind(")") + 2 :].split()[1])
            if comm == program and ppid == parent:
                return
        time.sleep(0.01)
    raise AssertionError(f"{program} never started under {parent}")


def assemble(
    stream: bytes, launch: ShellLaunch, workspace: Path, seed: int = 0
) -> list[CommandRecord]:
    """Parse like the recorder will: in reads of arbitrary sizes, bash's command lines read
    from its history records."""
    parser = MarkParser(launch.token)
    assembler = CommandAssembler(workspace, history_dir=launch.env.get("PROMPTSTER_SHELL_STATE"))
    rng = random.Random(seed)
    records: list[CommandRecord] = []
    pos = 0
    while pos < len(stream):
        size = rng.randint(1, 700)
        records += assembler.feed(parser.parse(stream[pos : pos + size]))
        pos += size
    records += assembler.feed(parser.flush())
    return records + assembler.close()


def summary(records: list[CommandRecord]) -> list[tuple[str | None, int | None, int]]:
    return [(r.command, r.exit_code, r.shell_level) for r in records]


def find(records: list[CommandRecord], command: str) -> CommandRecord:
    matches = [r for r in records if r.command == command]
    assert len(matches) == 1, (command, summary(records))
    return matches[0]


@pytest.fixture
def dirs(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    home, workspace, runtime = tmp_path / "home", tmp_path / "ws", tmp_path / "run"
    for d in (home, workspace, runtime):
        d.mkdir()
    (workspace / "notes.txt").write_text("".join(f"line {i}\n" for i in range(200)))
    yield home, workspace, runtime


BASHRC = r"""
set -u
HISTCONTROL=ignoreboth
PS1='user$ '
PROMPT_COMMAND='echo "pc $?" >> "$HOME/pc.log"'
trap 'echo "debug $BASH_COMMAND" >> "$HOME/debug.log"' DEBUG
this_command_does_not_exist_in_bashrc
"""


def test_bash_commands_and_user_hooks(dirs: tuple[Path, Path, Path]) -> None:
    bash = require_executable("bash")
    home, workspace, runtime = dirs
    (home / ".bashrc").write_text(BASHRC)
    launch = prepare_shell(bash, runtime, deadline_epoch=time.time() + 7200, session_id="s-bash")
    assert launch.integrated, launch.note
    session = Session(launch, home, workspace)
    for line in ["true", "false", "(exit 3)", "# just a comment", "", " echo spaced"]:
        session.run(line)
    session.run("echo dup")
    session.run("echo dup")
    session.interrupt("sleep 5", "sleep")
    session.run("if ; then")
    session.run("printf 'a\\nb\\n'")
    session.run("cd /tmp && pwd")
    session.run("echo in-tmp")
    session.run("cd - >/dev/null")
    session.run("bash -c 'echo lvl=$PROMPTSTER_SHELL_LEVEL'")
    session.run("exec bash")
    session.run("echo after-exec")
    session.run("bash")
    session.run("echo nested")
    session.run("exit")
    if shutil.which("vim"):
        session.fullscreen("vim -u NONE -N", ["iecho typed-in-vim\x1b", ":q!\r"])
    if shutil.which("less"):
        session.fullscreen("less notes.txt", ["q"])
    stream = session.close()

    records = assemble(stream, launch, workspace)
    assert find(records, "true").exit_code == 0
    assert find(records, "false").exit_code == 1
    assert find(records, "(exit 3)").exit_code == 3
    assert not [r for r in records if r.command and "just a comment" in r.command]
    assert find(records, " echo spaced").output_head == "spaced"
    assert [r.exit_code for r in records if r.command == "echo dup"] == [0, 0]
    sleep = find(records, "sleep 5")
    assert (sleep.exit_code, sleep.interrupted) == (130, True)
    syntax = find(records, "if ; then")
    assert (syntax.executed, syntax.exit_code) == (False, 2)
    assert find(records, "printf 'a\\nb\\n'").output_head == "a\nb"
    cd = find(records, "cd /tmp && pwd")
    assert (cd.relative_cwd, cd.output_head, cd.outside_workspace) == (".", "/tmp", False)
    outside = [r for r in records if r.outside_workspace]
    # `echo in-tmp` and `cd -` ran in /tmp: location only
    assert [(r.command, r.cwd, r.output_head) for r in outside] == [(None, "/tmp", "")] * 2
    assert find(records, "bash -c 'echo lvl=$PROMPTSTER_SHELL_LEVEL'").output_head == "lvl=1"
    exec_bash = find(records, "exec bash")
    assert (exec_bash.exit_code, exec_bash.shell_level) == (None, 1)
    assert find(records, "echo after-exec").shell_level == 1
    assert (find(records, "bash").exit_code, find(records, "bash").shell_level) == (0, 1)
    assert find(records, "echo nested").shell_level == 2
    assert [r.shell_level for r in records if r.command == "exit"] == [2, 1]
    if shutil.which("vim"):
        assert find(records, "vim -u NONE -N").fullscreen
    if shutil.which("less"):
        assert find(records, "less notes.txt").fullscreen
    assert not [r for r in records if r.command and "typed-in-vim" in r.command]
    for record in records:
        assert record.cwd, record
        assert record.duration_ms is None or record.duration_ms >= 0
    # the user's PROMPT_COMMAND saw each command's status; their DEBUG trap still ran
    pc = (home / "pc.log").read_text().splitlines()
    assert "pc 1" in pc and "pc 3" in pc and "pc 130" in pc
    assert "debug false" in (home / "debug.log").read_text().splitlines()
    # the user's HISTCONTROL=ignoreboth still decides what their history keeps
    history = (home / ".bash_history").read_text().splitlines()
    assert history.count("echo dup") == 1 and " echo spaced" not in history
    assert "# just a comment" in history
    # the prompt showed the time left, and our private marks carry the session's token
    assert re.search(rb"\[1h[0-9]{2}m left\] user\$ ", stream)
    assert launch.token.encode() in stream
    assert_no_errors_from_our_code(stream, launch.token)


def test_bash_histignore_patterns_and_the_previous_line(dirs: tuple[Path, Path, Path]) -> None:
    """HISTIGNORE (patterns, `&` for the previous line) applied after the fact, as bash
    would have: every line is recorded, the user's history keeps what bash would keep."""
    bash = require_executable("bash")
    home, workspace, runtime = dirs
    (home / ".bashrc").write_text("set -u\nHISTIGNORE='ls*:&'\nPS1='user$ '\n")
    launch = prepare_shell(bash, runtime, deadline_epoch=None, session_id="s-ignore")
    session = Session(launch, home, workspace)
    for line in ["ls -a", "pwd", "pwd", "echo x", " echo y", "ls"]:
        session.run(line)
    stream = session.close()
    records = assemble(stream, launch, workspace)
    ran = [r.command for r in records if r.command]
    assert ran == ["ls -a", "pwd", "pwd", "echo x", " echo y", "ls", "exit"]
    history = (home / ".bash_history").read_text().splitlines()
    assert history == ["pwd", "echo x", " echo y", "exit"]
    assert_no_errors_from_our_code(stream, launch.token)


def assert_no_errors_from_our_code(stream: bytes, token: str) -> None:
    """bash and zsh name the function in their error messages (set -u, nounset...)."""
    passthrough, _ = MarkParser(token).feed(stream)
    assert b"__pst" not in passthrough


def test_bash_prompt_command_array(dirs: tuple[Path, Path, Path]) -> None:
    bash = require_executable("bash")
    home, workspace, runtime = dirs
    (home / ".bashrc").write_text(
        "PROMPT_COMMAND=('echo \"pc1 $?\" >> ~/pc.log' 'echo pc2 >> ~/pc.log')\n"
    )
    launch = prepare_shell(bash, runtime, deadline_epoch=None, session_id="s-array")
    session = Session(launch, home, workspace)
    session.run("false")
    session.run("PROMPT_COMMAND+=('echo pc3 >> ~/pc.log')")
    session.run("true")
    records = assemble(session.close(), launch, workspace)
    assert summary(records)[0] == ("false", 1, 1)
    assert find(records, "true").exit_code == 0
    log = (home / "pc.log").read_text().splitlines()
    assert "pc1 1" in log and "pc2" in log and "pc3" in log


# The mechanism of bash-preexec, which atuin, bashhub and iTerm2's integration build on: its
# last PROMPT_COMMAND entry arms a DEBUG trap that ignores PROMPT_COMMAND's own entries.
BASH_PREEXEC_STYLE = r"""
PS1='bp$ '
__bp_interactive_mode() { __bp_armed=1; }
__bp_debug() {
    [[ -n ${__bp_armed-} ]] || return 0
    __bp_armed=
    case $'\n'$PROMPT_COMMAND$'\n' in *$'\n'"$BASH_COMMAND"$'\n'*) return 0 ;; esac
    echo "preexec $BASH_COMMAND" >> ~/bp.log
}
trap '__bp_debug' DEBUG
PROMPT_COMMAND=$'echo "precmd $?" >> ~/bp.log\n__bp_interactive_mode'
"""


def test_bash_preexec_style_hooks_and_history_off(dirs: tuple[Path, Path, Path]) -> None:
    bash = require_executable("bash")
    home, workspace, runtime = dirs
    (home / ".bashrc").write_text(BASH_PREEXEC_STYLE)
    launch = prepare_shell(bash, runtime, deadline_epoch=None, session_id="s-bp")
    session = Session(launch, home, workspace)
    session.run("false")
    session.run("PROMPT_COMMAND+=$'\\necho appended >> ~/bp.log'")
    session.run("true")
    session.run("true")
    session.run("set +o history")
    session.run("echo not-in-history")
    stream = session.close()
    records = assemble(stream, launch, workspace)
    assert summary(records)[0] == ("false", 1, 1)
    assert [r.exit_code for r in records if r.command == "true"] == [0, 0]
    hidden = find(records, "echo not-in-history")  # history is off: read from the echo
    assert (hidden.command_source, hidden.output_head) == ("echo", "not-in-history")
    log = (home / "bp.log").read_text().splitlines()
    assert "preexec false" in log and "precmd 1" in log
    # after something was appended, its arming entry is moved back to the end of the list
    assert log.count("preexec true") >= 1 and "appended" in log
    assert_no_errors_from_our_code(stream, launch.token)


ZSHENV = 'export ZDOTDIR="$HOME/.zdot"\necho zshenv >> "$HOME/startup.log"\n'
ZSHRC = r"""
setopt nounset interactive_comments
PS1='zuser%# '
precmd() { print -r -- "precmd $?" >> $HOME/precmd.log }
user_preexec() { print -r -- "preexec $1" >> $HOME/preexec.log }
preexec_functions+=(user_preexec)
this_command_does_not_exist_in_zshrc
"""


def test_zsh_commands_and_user_hooks(dirs: tuple[Path, Path, Path]) -> None:
    zsh = require_executable("zsh", "apt-get install zsh")
    home, workspace, runtime = dirs
    (home / ".zshenv").write_text(ZSHENV)
    (home / ".zdot").mkdir()
    (home / ".zdot" / ".zshrc").write_text(ZSHRC)
    launch = prepare_shell(zsh, runtime, deadline_epoch=time.time() + 600, session_id="s-zsh")
    assert launch.integrated, launch.note
    session = Session(launch, home, workspace)
    for line in ["true", "false", "(exit 3)", "# just a comment", "", "echo $ZDOTDIR"]:
        session.run(line)
    session.interrupt("sleep 5", "sleep")
    session.run(")")
    session.run("cd /tmp && pwd")
    session.run("cd - >/dev/null")
    session.run("exec zsh")
    session.run("echo after-exec")
    session.run("zsh")
    session.run("echo nested")
    session.run("exit")
    if shutil.which("vim"):
        session.fullscreen("vim -u NONE -N", ["iecho typed-in-vim\x1b", ":q!\r"])
    stream = session.close()

    records = assemble(stream, launch, workspace, seed=1)
    assert find(records, "true").exit_code == 0
    assert find(records, "false").exit_code == 1
    assert find(records, "(exit 3)").exit_code == 3
    assert not [r for r in records if r.command and "just a comment" in r.command]
    assert find(records, "echo $ZDOTDIR").output_head == f"{home}/.zdot"
    sleep = find(records, "sleep 5")
    assert (sleep.exit_code, sleep.interrupted) == (130, True)
    assert find(records, ")").executed is False
    cd = find(records, "cd /tmp && pwd")
    assert (cd.relative_cwd, cd.output_head) == (".", "/tmp")
    assert find(records, "exec zsh").exit_code is None
    assert find(records, "echo after-exec").shell_level == 1
    assert find(records, "zsh").shell_level == 1
    assert find(records, "echo nested").shell_level == 2
    if shutil.which("vim"):
        assert find(records, "vim -u NONE -N").fullscreen
    assert not [r for r in records if r.command and "typed-in-vim" in r.command]
    assert "precmd 1" in (home / "precmd.log").read_text().splitlines()
    assert "preexec false" in (home / "preexec.log").read_text().splitlines()
    assert (home / "startup.log").read_text().count("zshenv") >= 1
    assert re.search(rb"\[([0-9]|10)m left\] zuser# ", stream)
    assert_no_errors_from_our_code(stream, launch.token)


def test_unsupported_shell_is_plain(tmp_path: Path) -> None:
    sh = require_executable("sh")
    launch = prepare_shell(sh, tmp_path, deadline_epoch=None, session_id="s-sh")
    if Path(sh).resolve().name.startswith("bash"):
        pytest.skip("sh is bash here")
    assert launch.plain_cast_only and launch.note
    assert launch.argv == (os.path.abspath(sh),)
    assert launch.env["PROMPTSTER_SESSION"] == "s-sh"


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_a_redisplayed_prompt_and_prompt_options_that_expand(
    dirs: tuple[Path, Path, Path], shell: str
) -> None:
    """zsh's end mark is part of the prompt: a redisplay (Ctrl-L) repeats it (bash's hook
    prints its own, once per prompt), and a cwd that PROMPT_SUBST or PROMPT_BANG would
    expand must not run anything or break the mark."""
    exe = require_executable(shell, "apt-get install zsh" if shell == "zsh" else "")
    home, workspace, runtime = dirs
    odd = "d$(touch PWNED)`touch PWNED2`!x%y"
    (workspace / odd).mkdir()
    if shell == "bash":
        (home / ".bashrc").write_text("PS1='u$ '\n")
    else:
        (home / ".zshrc").write_text("setopt prompt_subst prompt_bang\nPS1='u$ '\n")
    launch = prepare_shell(exe, runtime, deadline_epoch=None, session_id=f"s-{shell}")
    session = Session(launch, home, workspace)
    session.run("true")
    session.child.send(b"\x0c")  # Ctrl-L: the prompt (and its end mark) is drawn again
    session.prompt()
    session.run("false")
    session.run(f"cd '{odd}'")
    session.run("echo here")
    session.child.send(b"\x0c")
    session.prompt()
    session.run("cd ..")
    stream = session.close()

    _, marks = MarkParser(launch.token).feed(stream)
    numbers = [m.prompt for m in marks if isinstance(m, CommandEnd) and m.prompt is not None]
    if shell == "zsh":
        assert len(numbers) > len(set(numbers))  # the redisplay repeated a mark
    else:
        assert numbers == sorted(set(numbers))  # one mark per prompt, redisplay or not
    records = assemble(stream, launch, workspace)
    assert [(r.command, r.exit_code) for r in records if r.command in ("true", "false")] == [
        ("true", 0),
        ("false", 1),
    ]
    here = find(records, "echo here")
    assert (here.relative_cwd, here.output_head, here.exit_code) == (odd, "here", 0)
    assert find(records, "cd ..").relative_cwd == odd
    assert not list(workspace.rglob("PWNED*")) and not list(home.rglob("PWNED*"))
    assert_no_errors_from_our_code(stream, launch.token)
