"""How the recorded shell is started so that it reports each command (issue 5, item 2).

`prepare_shell` writes the integration into the session's runtime directory and returns
the argv and environment to start the shell with; the recorder runs that under its pty and
parses the marks with `osc.MarkParser` (the wire format is described there).

Nothing in the user's dotfiles is edited:

* **bash** (>= 5.0) starts as ``bash --rcfile <runtime>/shell/bashrc -i``. bash itself still
  reads its system file (``/etc/bash.bashrc`` on Debian/Ubuntu/Arch, whatever ``--rcfile``
  says), our file sources ``~/.bashrc`` and then installs the hooks, last, so nothing the
  user's file does to PROMPT_COMMAND or PS1 can undo them.
* **zsh** (>= 5.0) starts with ``ZDOTDIR`` pointing at our wrappers (``.zshenv``,
  ``.zprofile``, ``.zshrc``, ``.zlogin``); each sources the user's file from the original
  ZDOTDIR (or HOME); ``.zshrc`` installs the hooks after the user's; ZDOTDIR is restored
  once startup is over.
* any other shell (fish, sh, dash, bash 4...) starts plain: ``ShellLaunch.integrated`` is
  False and the recorder keeps the cast only.

How the bash hooks work, and why. bash < 5.3 has no way to run a function before a command
without a DEBUG trap, and a DEBUG trap runs for every simple command, competes with the
user's own trap and needs bash-preexec's guards (completion, PROMPT_COMMAND internals). We
use PS0 instead: bash expands it exactly once per accepted command line, just before running
it, and never for completion, ``bind -x`` or PROMPT_COMMAND. PS0 cannot call a function
without forking, but its expansion can assign (default assignments, ``${v:=...}``), so it
records the start time and HISTCMD, and prints OSC 133 C and the ``start`` mark. The first
PROMPT_COMMAND entry reads the command's status and PIPESTATUS in its first statement,
appends ``history 1`` to a per-shell file in the state directory (builtins only), then prints
OSC 133 D and the end mark with one ``printf``; the recorder reads the command line from the
file (``history.HistoryRecords``: the end mark numbers the prompt, the record carries the
same number). The end mark is not part of PS1: readline measures the prompt at every prompt
in a time that grows with the square of its length in a UTF-8 locale (``_rl_adjust_point``),
and 200 invisible bytes there cost more than the whole function. The record holds the exact
line as typed, multi-line and all, which BASH_COMMAND (one simple command, aliases expanded)
is not. For every line to
reach history, our HISTCONTROL drops ignorespace/ignoredups and HISTIGNORE is cleared; when
the user's settings had them, the hook reads its record back and applies the user's own
rules by deleting the entry again (``history -d``), so the history they see and save is
unchanged. The DEBUG trap stays the user's, untouched. PROMPT_COMMAND (string or bash 5.1
array) is wrapped: our first entry writes the record and returns the command's status so the
user's entries still see it; our last entry wraps PS1 (OSC 133 A/B, the time left)
and re-wraps when something appended to PROMPT_COMMAND or rewrote PS1 (git prompts do, each
time). bash-preexec (atuin, bashhub, iTerm2) is the one exception to "ours last": its
``__bp_interactive_mode`` arms its DEBUG trap and must stay the very last entry, so ours
goes just before it. A command that ends its shell (``exit``, ``exec bash``) never reaches
the next prompt; its text is then taken from the terminal echo between OSC 133 B and C
(``CommandRecord.command_source == "echo"``), as it is when history is off. bash's end mark
goes to stderr, as the prompt and PS0 do, so that it stays in order with them whatever the
user's startup file did to stdout. Output that the user's own PROMPT_COMMAND entries print
comes after bash's end mark, so it is not counted as the command's output. In zsh the end
mark rides in the prompt: a redisplay of the prompt (Ctrl-L, a completion listing) repeats
it and the recorder drops a prompt number it has seen, and output of the user's precmd
hooks comes before it, in the command's excerpt (the cast is unaffected either way). Known
limits: with ``shopt -u promptvars`` PS0 cannot record the start; a shell started as a bash
login shell (``bash -l``) is not integrated.

zsh needs less: ``preexec`` receives the line as typed, ``zshaddhistory`` sees
comment-only lines that never reach preexec, and zsh gives every precmd hook the
command's ``$?``. ``EPOCHREALTIME`` comes from the zsh/datetime module (no process). The
first precmd hook builds the end mark and the last one puts it at the start of PS1 (with
no precmd hook of the user's, one hook does both); it is printed on its own instead when
it holds a command line or a cwd that the user's PROMPT_SUBST or PROMPT_BANG would expand.

Cost per prompt (docs/performance.md; ``benchmarks/bench_shell_hooks.py``
measures it). The hooks run at every prompt, so their common path only does what that
prompt needs: text is percent-encoded only when it holds ``%``, ``;`` or a control
character, the cwd only when it changed; and bash's last hook returns at once unless PS1,
PS0, PROMPT_COMMAND or PATH differ from what it last set, or the minute of the time left is
over. bash copies a function's whole body at every call, so the two per-prompt functions are
short and call others for what is rare. What stays is the floor of this design: in bash, one
write for PS0 and one for the end mark, ``history 1`` appended to the state file (no open, no
read back) and two short functions; in zsh, three hook function calls (zsh maps a fresh
heap per call; four with precmd hooks of the user's), one write for the start mark and a few
statements.

Shell level and nesting. ``PROMPTSTER_SHELL_LEVEL`` counts integrated shells: each adds one,
except a shell whose PID equals ``PROMPTSTER_SHELL_PID``, which was started by ``exec`` and
keeps its predecessor's level. So that ``exec bash`` and a nested ``bash`` or ``zsh`` are
integrated too, a shim directory is put first in PATH: ``bash``/``zsh`` there re-inject the
integration into interactive invocations and exec the real shell untouched otherwise
(scripts, ``-c``, ``--norc``, bash login shells). A shell started by absolute path, e.g.
``$SHELL`` from vim's ``:sh``, is a plain shell, as is anything inside tmux (its own pty).
The same folder holds an ``aider`` shim that gives Aider the shell wrapper recording the
commands it runs (integrations/aider/shims.py).
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from promptster.errors import EnvironmentProblem
from promptster.integrations.aider import shims as aider_shims

MIN_VERSION = {"bash": (5, 0), "zsh": (5, 0)}
ZSH_STARTUP_FILES = (".zshenv", ".zprofile", ".zshrc", ".zlogin")
_SHELL_NAME = re.compile(r"^(bash|zsh)(?:-?[0-9][0-9.]*)?$")
_VERSION = re.compile(r"^([0-9]+)\.([0-9]+)")
_PROBE_TIMEOUT_S = 30  # guards against a hung shell binary; a real one answers at once


@dataclass(frozen=True)
class ShellLaunch:
    """How to start the recorded shell."""

    argv: tuple[str, ...]
    env: dict[str, str]  # set these on top of the recorder's environment
    shell: str  # "bash", "zsh", or the program's name
    integrated: bool  # False: a plain cast only, no command events
    token: str  # give it to MarkParser so only this shell's marks count
    note: str = ""  # why the shell is not integrated
    files: tuple[Path, ...] = field(default=())  # what was written to the runtime dir

    @property
    def plain_cast_only(self) -> bool:
        return not self.integrated


def prepare_shell(
    shell_path: str,
    runtime_dir: Path,
    *,
    deadline_epoch: float | None,
    session_id: str,
    environ: Mapping[str, str] | None = None,
) -> ShellLaunch:
    """Write the integration under `runtime_dir/shell` and say how to start `shell_path`.

    `deadline_epoch` (seconds since the epoch) puts the time left in the prompt; `environ`
    is the environment the shell will inherit (default: this process's).
    """
    env_in = dict(os.environ if environ is None else environ)
    path = _resolve(shell_path, env_in)
    name = Path(path).name
    token = secrets.token_hex(8)
    base = runtime_dir / "shell"
    state = base / "state"
    shims = base / "bin"
    env = {
        "PROMPTSTER_SESSION": session_id,
        "PROMPTSTER_SHELL_TOKEN": token,
        "PROMPTSTER_SHELL_LEVEL": "0",  # a fresh recording: level 1 is this shell
        "PROMPTSTER_SHELL_PID": "",
        "PROMPTSTER_DEADLINE": str(int(deadline_epoch)) if deadline_epoch is not None else "",
    }
    match = _SHELL_NAME.match(name)
    kind = match.group(1) if match else None
    if kind is None:
        return ShellLaunch((path,), env, name, False, token, f"{name}: no shell integration")
    version = _probe_version(path, kind, env_in)
    if version is None or version < MIN_VERSION[kind]:
        found = ".".join(map(str, version)) if version else "unknown version"
        want = ".".join(map(str, MIN_VERSION[kind]))
        note = f"{kind} {found}: shell integration needs {kind} >= {want}"
        return ShellLaunch((path,), env, kind, False, token, note)

    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    shims.mkdir(parents=True, exist_ok=True)
    rc_dir = resources.files("promptster.record.shell") / "rc"
    bashrc = base / "bashrc"
    zdotdir = base / "zsh"
    zdotdir.mkdir(exist_ok=True)
    files = [_write(bashrc, (rc_dir / "bash.sh").read_bytes())]
    for startup in ZSH_STARTUP_FILES:
        files.append(_write(zdotdir / startup, (rc_dir / "zsh" / startup).read_bytes()))
    files += _write_shims(shims, bashrc, zdotdir, env_in)
    env |= {
        "PROMPTSTER_SHELL_STATE": str(state),
        "PROMPTSTER_SHIMS": str(shims),
        "PATH": os.pathsep.join([str(shims), env_in.get("PATH", os.defpath)]),
    }
    if kind == "bash":
        argv: tuple[str, ...] = (path, "--rcfile", str(bashrc), "-i")
    else:
        argv = (path, "-i")
        env["ZDOTDIR"] = str(zdotdir)
        env["PROMPTSTER_USER_ZDOTDIR"] = env_in.get("ZDOTDIR", "")
    return ShellLaunch(argv, env, kind, True, token, "", tuple(files))


def _resolve(shell_path: str, environ: Mapping[str, str]) -> str:
    found = shutil.which(shell_path, path=environ.get("PATH", os.defpath))
    if found is None:
        raise EnvironmentProblem(
            f"shell not found: {shell_path}", hint="set SHELL or pass an existing shell"
        )
    return os.path.abspath(found)


def _probe_version(path: str, kind: str, environ: Mapping[str, str]) -> tuple[int, int] | None:
    """Ask the shell its version, with no startup files and no BASH_ENV/ENV involved."""
    env = {k: v for k, v in environ.items() if k not in ("BASH_ENV", "ENV")}
    flags = ["--norc", "--noprofile"] if kind == "bash" else ["-f"]
    script = 'printf %s "${BASH_VERSION-}${ZSH_VERSION-}"'
    try:
        done = subprocess.run(
            [path, *flags, "-c", script],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.match(done.stdout.decode("ascii", "replace"))
    return (int(match.group(1)), int(match.group(2))) if match else None


def _write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


def _real(name: str, shims: Path, environ: Mapping[str, str]) -> str | None:
    dirs = [d for d in environ.get("PATH", os.defpath).split(os.pathsep) if d and d != str(shims)]
    found = shutil.which(name, path=os.pathsep.join(dirs))
    return os.path.abspath(found) if found else None


_BASH_SHIM = """#!/bin/sh
# Promptster: integrate interactive bash started by name (exec bash, a nested bash);
# run anything else (scripts, -c, --norc, login shells) as the real bash, untouched.
real={real}
interactive=
if [ -t 0 ] && [ -t 2 ]; then interactive=1; fi
skip=
for arg in "$@"; do
    if [ -n "$skip" ]; then skip=; continue; fi
    case $arg in
        --norc | --rcfile | --init-file | --login | --posix | --restricted | --version | --help)
            exec "$real" "$@" ;;
        --) exec "$real" "$@" ;;
        --*) ;;
        -o | +o | -O | +O) skip=1 ;;
        -*c* | -*l* | -*r*) exec "$real" "$@" ;;
        -*i*) interactive=1 ;;
        -* | +*) ;;
        *) exec "$real" "$@" ;;
    esac
done
if [ -n "$interactive" ]; then exec "$real" --rcfile {rc} "$@"; fi
exec "$real" "$@"
"""

_ZSH_SHIM = """#!/bin/sh
# Promptster: integrate interactive zsh started by name (exec zsh, a nested zsh);
# run anything else (scripts, -c, -f) as the real zsh, untouched.
real={real}
ours={zdotdir}
interactive=
if [ -t 0 ] && [ -t 2 ]; then interactive=1; fi
skip=
for arg in "$@"; do
    if [ -n "$skip" ]; then skip=; continue; fi
    case $arg in
        --no-rcs | --no-globalrcs | --version | --help | --) exec "$real" "$@" ;;
        --*) ;;
        -o | +o) skip=1 ;;
        -*c* | -*f*) exec "$real" "$@" ;;
        -*i*) interactive=1 ;;
        -* | +*) ;;
        *) exec "$real" "$@" ;;
    esac
done
if [ -z "$interactive" ]; then exec "$real" "$@"; fi
user=${{PROMPTSTER_USER_ZDOTDIR-}}
if [ "${{ZDOTDIR-}}" != "$ours" ]; then user=${{ZDOTDIR-}}; fi
ZDOTDIR=$ours PROMPTSTER_USER_ZDOTDIR=$user exec "$real" "$@"
"""


def _write_shims(
    shims: Path, bashrc: Path, zdotdir: Path, environ: Mapping[str, str]
) -> list[Path]:
    written = []
    real_bash = _real("bash", shims, environ)
    if real_bash is not None:
        text = _BASH_SHIM.format(real=shlex.quote(real_bash), rc=shlex.quote(str(bashrc)))
        written.append(_write(shims / "bash", text.encode(), 0o755))
    real_zsh = _real("zsh", shims, environ)
    if real_zsh is not None:
        text = _ZSH_SHIM.format(real=shlex.quote(real_zsh), zdotdir=shlex.quote(str(zdotdir)))
        written.append(_write(shims / "zsh", text.encode(), 0o755))
    written += aider_shims.write(shims)  # Aider's commands are recorded through its SHELL
    return written
