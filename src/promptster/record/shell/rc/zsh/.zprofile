# Promptster: wrapper around the user's .zprofile (login shells); see .zshenv here.
if [[ -n ${PROMPTSTER_USER_ZDOTDIR-} ]]; then ZDOTDIR=$PROMPTSTER_USER_ZDOTDIR; else unset ZDOTDIR; fi
if [[ -r ${ZDOTDIR:-$HOME}/.zprofile ]]; then source "${ZDOTDIR:-$HOME}/.zprofile"; fi
export PROMPTSTER_USER_ZDOTDIR=${ZDOTDIR-}
ZDOTDIR=$__pst_zdotdir
