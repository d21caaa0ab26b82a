"""The recorded shell's `aider` shim and the shell wrapper it hands to Aider (`runshell`).

Written next to the `bash`/`zsh` shims (the recorded shell puts that folder first in PATH), so
only an Aider started from a recorded shell gets them; nothing in the workspace or the user's
configuration changes. The `aider` shim finds the real `aider` further along PATH when it runs
(so an Aider installed during the session is found too) and execs it with SHELL naming the
wrapper and the candidate's shell in PROMPTSTER_AIDER_SHELL. When SHELL is unset, names no
existing file, or is the wrapper already (Aider started from a command Aider ran), Aider is
exec'd untouched.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from promptster.integrations.aider.runshell import REAL_SHELL_ENV

WRAPPER = "promptster-aider-shell"

_AIDER_SHIM = """#!/bin/sh
# Promptster: run Aider with SHELL naming Promptster's command recorder, so the commands Aider
# runs in this terminal (/run, /test, !, --auto-test) are recorded; each command gets the real
# shell back. Anything else about Aider is untouched.
shims={shims}
wrapper={wrapper}
real=
set -f
old_ifs=$IFS
IFS=:
for dir in $PATH; do
    # skip this folder, and any other recorded shell's (a nested session's) shims
    if [ -z "$dir" ] || [ "$dir" = "$shims" ] || [ -e "$dir/{wrapper_name}" ]; then continue; fi
    if [ -f "$dir/aider" ] && [ -x "$dir/aider" ]; then real=$dir/aider; break; fi
done
IFS=$old_ifs
set +f
if [ -z "$real" ]; then
    echo "aider: command not found" >&2
    exit 127
fi
if [ -n "${{SHELL-}}" ] && [ "$SHELL" != "$wrapper" ] && [ -e "$SHELL" ]; then
    {env}=$SHELL SHELL=$wrapper exec "$real" "$@"
fi
exec "$real" "$@"
"""

_WRAPPER = """#!/bin/sh
# Promptster: the shell Aider runs its commands with (see the aider shim next to this file).
python={python}
code='import sys; from promptster.integrations.aider.runshell import main; '\
'sys.exit(main(sys.argv[1:]))'
if [ -x "$python" ]; then
    exec "$python" -I -c "$code" "$@"
fi
exec "${{{env}:-/bin/sh}}" "$@"
"""


def write(shims: Path, python: str | None = None) -> list[Path]:
    """Write `aider` and the wrapper into `shims`; the wrapper runs Promptster on `python`
    (default: this interpreter, the one Promptster is installed in)."""
    shims.mkdir(parents=True, exist_ok=True)
    wrapper = shims / WRAPPER
    text = _WRAPPER.format(python=shlex.quote(python or sys.executable), env=REAL_SHELL_ENV)
    _write(wrapper, text)
    aider = shims / "aider"
    text = _AIDER_SHIM.format(
        shims=shlex.quote(str(shims)),
        wrapper=shlex.quote(str(wrapper)),
        wrapper_name=WRAPPER,
        env=REAL_SHELL_ENV,
    )
    _write(aider, text)
    return [wrapper, aider]


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)
