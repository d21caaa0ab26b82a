# Promptster: wrapper around the user's .zlogin (login shells, read after .zshrc); see .zshenv.
if [[ -n ${PROMPTSTER_USER_ZDOTDIR-} ]]; then ZDOTDIR=$PROMPTSTER_USER_ZDOTDIR; else unset ZDOTDIR; fi
if [[ -r ${ZDOTDIR:-$HOME}/.zlogin ]]; then source "${ZDOTDIR:-$HOME}/.zlogin"; fi
# the last startup file: from here on ZDOTDIR is the user's (nested shells get ours back
# through the PATH shim, see shell_integration.py)
if [[ -n ${ZDOTDIR-} ]]; then export ZDOTDIR; fi
unset __pst_zdotdir
