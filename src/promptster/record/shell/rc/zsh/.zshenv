# Promptster: stands in for the user's .zshenv while ZDOTDIR points at this directory, so
# that the integration is loaded without editing the user's dotfiles (the kitty/VS Code
# technique). See src/promptster/record/shell_integration.py.
#
# Each wrapper sources the user's file inline, not from a function: inside a function the
# user's `typeset`/`local` would create locals. ZDOTDIR is set as the user expects while
# their file runs (an unset ZDOTDIR means $HOME), and whatever ZDOTDIR their file leaves is
# where their next startup file is looked for, as zsh itself would do.
typeset -g __pst_zdotdir=$ZDOTDIR
if [[ -n ${PROMPTSTER_USER_ZDOTDIR-} ]]; then ZDOTDIR=$PROMPTSTER_USER_ZDOTDIR; else unset ZDOTDIR; fi
if [[ -r ${ZDOTDIR:-$HOME}/.zshenv ]]; then source "${ZDOTDIR:-$HOME}/.zshenv"; fi
export PROMPTSTER_USER_ZDOTDIR=${ZDOTDIR-}
if [[ -o interactive ]]; then
    ZDOTDIR=$__pst_zdotdir
elif [[ -n $PROMPTSTER_USER_ZDOTDIR ]]; then
    export ZDOTDIR=$PROMPTSTER_USER_ZDOTDIR # nothing to integrate: leave the user's setup
fi
