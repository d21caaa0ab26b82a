# Promptster shell integration for bash >= 5.0. Started as `bash --rcfile <this file> -i`.
#
# Protocol and design: src/promptster/record/shell_integration.py (module docstring).
# In short: OSC 133 A/B sit in PS1, OSC 133 C and our private "start" mark in PS0, and
# OSC 133 D plus our private "end" mark are printed by the first PROMPT_COMMAND entry.
# Everything uses builtins only: no command substitution, no fork per command, no DEBUG trap.
# Every name we define starts with __pst_ so it cannot clash with the user's.

# Functions are defined before the user's startup file runs, so the user's aliases cannot
# rewrite their bodies. bash itself has already read its system file (/etc/bash.bashrc on
# Debian, Ubuntu and Arch; --rcfile does not stop that), so only the user's file is left.

__pst_token=${PROMPTSTER_SHELL_TOKEN-}
case $__pst_token in '' | *[!A-Za-z0-9]*) __pst_token=invalid ;; esac

# Shell level: a shell that finds its own PID exported was started by `exec bash` and
# replaces its predecessor, so it keeps the level; any other shell is one level deeper.
__pst_level=${PROMPTSTER_SHELL_LEVEL-0}
case $__pst_level in '' | *[!0-9]*) __pst_level=0 ;; esac
if [[ ${PROMPTSTER_SHELL_PID-} != "$$" ]]; then
    __pst_level=$((__pst_level + 1))
fi
(( __pst_level > 0 )) || __pst_level=1
export PROMPTSTER_SHELL_LEVEL=$__pst_level PROMPTSTER_SHELL_PID=$$

__pst_deadline=${PROMPTSTER_DEADLINE-}
case $__pst_deadline in *[!0-9]*) __pst_deadline= ;; esac

# Control characters (and our field separators) are percent-encoded so that a command can
# never end or corrupt the OSC that carries it. The table is built once, without forks.
__pst_cc=()
__pst_cx=()
for __pst_i in {1..31} 127; do
    builtin printf -v __pst_h '%02X' "$__pst_i"
    builtin printf -v __pst_c "\\x$__pst_h"
    __pst_cc+=("$__pst_c")
    __pst_cx+=("%$__pst_h")
done
unset __pst_i __pst_h __pst_c

__pst_enc() { # percent-encode $1 into __pst_r
    __pst_r=${1//'%'/%25}
    __pst_r=${__pst_r//';'/%3B}
    if [[ $__pst_r == *[[:cntrl:]]* ]]; then
        local __pst_k
        for __pst_k in "${!__pst_cc[@]}"; do
            __pst_r=${__pst_r//"${__pst_cc[__pst_k]}"/"${__pst_cx[__pst_k]}"}
        done
    fi
}

# History is where the exact command line comes from (a DEBUG trap only sees one simple
# command at a time, after alias expansion). The user's HISTCONTROL/HISTIGNORE could keep a
# line out of the list, so ours records everything and __pst_forget applies the user's rules
# afterwards by deleting the entry: the history the user sees and saves is unchanged.
__pst_user_histcontrol=
__pst_user_histignore=
__pst_eff_histcontrol=
__pst_adopt_history_settings() {
    __pst_user_histcontrol=${HISTCONTROL-}
    __pst_user_histignore=${HISTIGNORE-}
    local __pst_out='' __pst_rest=$__pst_user_histcontrol: __pst_item
    while [[ -n $__pst_rest ]]; do
        __pst_item=${__pst_rest%%:*}
        __pst_rest=${__pst_rest#*:}
        case $__pst_item in ignorespace | ignoredups | ignoreboth | '') ;;
            *) __pst_out+=${__pst_out:+:}$__pst_item ;;
        esac
    done
    __pst_eff_histcontrol=$__pst_out
    HISTCONTROL=$__pst_out
    HISTIGNORE=
}

__pst_forget() { # $1 = line: would the user's own settings have kept it out of history?
    case :$__pst_user_histcontrol: in
        *:ignorespace:* | *:ignoreboth:*) [[ $1 == ' '* ]] && return 0 ;;
    esac
    case :$__pst_user_histcontrol: in
        *:ignoredups:* | *:ignoreboth:*) [[ $1 == "${__pst_prev_kept-}" ]] && return 0 ;;
    esac
    local __pst_rest=$__pst_user_histignore __pst_pat
    while [[ -n $__pst_rest ]]; do
        __pst_pat=${__pst_rest%%:*}
        if [[ $__pst_rest == *:* ]]; then __pst_rest=${__pst_rest#*:}; else __pst_rest=; fi
        if [[ $__pst_pat == '&' ]]; then
            [[ $1 == "${__pst_prev_kept-}" ]] && return 0
        elif [[ -n $__pst_pat ]]; then
            # shellcheck disable=SC2053  # unquoted on purpose: HISTIGNORE holds patterns
            [[ $1 == $__pst_pat ]] && return 0
        fi
    done
    return 1
}

__pst_last_entry() { # the newest history entry into __pst_hnum/__pst_htext, builtins only
    __pst_hnum=0
    __pst_htext=
    [[ -n ${__pst_histfile-} ]] || return 1
    local __pst_line=
    # rewritten in place and NUL-terminated rather than truncated: truncating a file costs
    # milliseconds on ext4 (it flushes the old blocks), rewriting it microseconds
    if [[ -n ${HISTTIMEFORMAT-} ]]; then # a timestamp would come before the entry
        { HISTTIMEFORMAT='' builtin history 1; builtin printf '\0'; } 1<>"$__pst_histfile" 2>/dev/null ||
            return 1
    else
        { builtin history 1; builtin printf '\0'; } 1<>"$__pst_histfile" 2>/dev/null || return 1
    fi
    IFS= builtin read -r -d '' __pst_line <"$__pst_histfile" 2>/dev/null
    [[ -n $__pst_line ]] || return 1
    # `history` prints "%5d%c %s\n": the number, '*' or ' ', one space, the entry
    __pst_line=${__pst_line%$'\n'}
    __pst_line=${__pst_line#"${__pst_line%%[! ]*}"}
    __pst_hnum=${__pst_line%%[!0-9]*}
    __pst_htext=${__pst_line:${#__pst_hnum}+2}
    [[ -n $__pst_hnum ]] || __pst_hnum=0
}

__pst_first='__pst_prompt_start "$_"'
__pst_wrap_prompt_command() { # ours first (to see $?), the user's entries, ours last
    # ...except that bash-preexec's __bp_interactive_mode must stay the very last entry: it
    # arms its DEBUG trap, which disarms again on any PROMPT_COMMAND entry run after it
    local __pst_bp=__bp_interactive_mode
    if [[ -n ${PROMPT_COMMAND+x} && ${PROMPT_COMMAND@a} == *a* ]]; then
        # bash >= 5.1 runs every element of an array PROMPT_COMMAND
        local __pst_keep=() __pst_item __pst_tail=(__pst_prompt_end)
        for __pst_item in "${PROMPT_COMMAND[@]}"; do
            [[ $__pst_item == "$__pst_bp" ]] && __pst_tail=(__pst_prompt_end "$__pst_bp")
        done
        [[ ${PROMPT_COMMAND[0]} == "$__pst_first" &&
            ${PROMPT_COMMAND[-${#__pst_tail[@]}]} == __pst_prompt_end ]] && return 0
        for __pst_item in "${PROMPT_COMMAND[@]}"; do
            [[ $__pst_item == "$__pst_first" || $__pst_item == __pst_prompt_end ||
                ($__pst_item == "$__pst_bp" && ${#__pst_tail[@]} == 2) ]] ||
                __pst_keep+=("$__pst_item")
        done
        PROMPT_COMMAND=("$__pst_first" "${__pst_keep[@]}" "${__pst_tail[@]}")
        ((${#__pst_tail[@]} == 1)) || __pst_rearm_bp=1
    else
        local __pst_pc=${PROMPT_COMMAND-} __pst_last=__pst_prompt_end
        [[ $'\n'$__pst_pc$'\n' == *$'\n'"$__pst_bp"$'\n'* ]] && __pst_last+=$'\n'$__pst_bp
        [[ $__pst_pc == "$__pst_first"$'\n'* && $__pst_pc == *$'\n'"$__pst_last" ]] && return 0
        # something was added before or after ours (`PROMPT_COMMAND+=...`): wrap again;
        # newlines, not ';', so that a user string ending in ';' or '&' stays valid
        __pst_pc=${__pst_pc//"$__pst_first"$'\n'/}
        __pst_pc=${__pst_pc//$'\n'__pst_prompt_end/}
        if [[ $__pst_last == *"$__pst_bp" ]]; then
            __pst_pc=$'\n'$__pst_pc$'\n'
            __pst_pc=${__pst_pc//$'\n'"$__pst_bp"$'\n'/$'\n'}
            __pst_pc=${__pst_pc#$'\n'}
            __pst_pc=${__pst_pc%$'\n'}
        fi
        # shellcheck disable=SC2178  # the user's PROMPT_COMMAND is a string: keep it one
        PROMPT_COMMAND=$__pst_first$'\n'${__pst_pc:+$__pst_pc$'\n'}$__pst_last
        [[ $__pst_last != *"$__pst_bp" ]] || __pst_rearm_bp=1
    fi
}

__pst_prompt_start() { # first PROMPT_COMMAND entry; $1 is the caller's "$_"
    local __pst_s=$? __pst_pipe=${PIPESTATUS[*]-}
    local __pst_t1=${EPOCHREALTIME//[!0-9]/}
    local __pst_ran=0 __pst_src=none __pst_text='' __pst_new=0
    [[ -n ${__pst_t0-} ]] && __pst_ran=1
    if [[ ${HISTCONTROL-} != "$__pst_eff_histcontrol" || -n ${HISTIGNORE-} ]]; then
        __pst_adopt_history_settings # the user changed them since: they are the new rules
    fi
    if [[ -o history ]] && __pst_last_entry; then
        if ((__pst_ran)); then
            # PS0 saved HISTCMD when the line was accepted; outside of execution bash
            # reports the number the next entry will get, so the line is one below it
            ((__pst_hnum + 1 == ${__pst_h0:-0})) && __pst_new=1
        elif ((__pst_hnum > ${__pst_hlast:--1} && ${__pst_hlast:--1} >= 0)); then
            __pst_new=1 # accepted but never executed: a comment or a syntax error
        fi
    fi
    if ((__pst_new)); then
        __pst_text=${__pst_htext:0:8192}
        __pst_src=history
        if __pst_forget "$__pst_htext"; then
            builtin history -d "$__pst_hnum" 2>/dev/null
            ((__pst_hnum -= 1))
        else
            __pst_prev_kept=$__pst_htext
        fi
    elif [[ -z ${__pst_hlast-} ]]; then
        __pst_prev_kept=${__pst_htext-} # first prompt: history has just been loaded
    fi
    __pst_hlast=${__pst_hnum:-0}
    if [[ -n ${__pst_started-} ]] && ((__pst_ran || __pst_new)); then
        local __pst_c
        __pst_enc "$__pst_text"
        __pst_c=$__pst_r
        __pst_cwd
        ((__pst_ran)) && builtin printf '\e]133;D;%s\a' "$__pst_s" >&2
        builtin printf '\e]6973;%s;end;lvl=%s;pid=%s;exit=%s;ran=%s;pipe=%s;t0=%s;t1=%s;src=%s;cwd=%s;cmd=%s\a' \
            "$__pst_token" "$__pst_level" "$$" "$__pst_s" "$__pst_ran" "$__pst_pipe" \
            "${__pst_t0-}" "$__pst_t1" "$__pst_src" "$__pst_cwd_enc" "$__pst_c" >&2
    fi
    __pst_started=1
    unset __pst_t0 __pst_h0
    return "$__pst_s" # the user's PROMPT_COMMAND entries still see the command's status
}

__pst_cwd() { # $PWD, encoded, into __pst_cwd_enc (cached: it rarely changes)
    if [[ $PWD != "${__pst_cwd_raw-}" ]]; then
        __pst_enc "$PWD"
        __pst_cwd_enc=$__pst_r
        __pst_cwd_raw=$PWD
    fi
}

__pst_prefix() { # remaining assessment time for the prompt, into __pst_r
    __pst_r=
    [[ -n $__pst_deadline ]] || return 0
    local __pst_left=$((__pst_deadline - EPOCHSECONDS))
    if ((__pst_left <= 0)); then
        __pst_r='[time up] '
    elif ((__pst_left < 60)); then
        __pst_r='[<1m left] '
    elif ((__pst_left < 3600)); then
        __pst_r="[$((__pst_left / 60))m left] "
    else
        builtin printf -v __pst_r '[%dh%02dm left] ' $((__pst_left / 3600)) $((__pst_left % 3600 / 60))
    fi
}

__pst_prompt_end() { # last PROMPT_COMMAND entry: wrap whatever PS1/PS0 the user has now
    local __pst_s=$?
    # prompt code may rewrite PS1 on every prompt (git prompts, starship): wrap it again
    [[ ${PS1-} == "${__pst_ps1_set-}" ]] || __pst_ps1_user=${PS1-}
    [[ ${PS0-} == "${__pst_ps0_set-}" ]] || __pst_ps0_user=${PS0-}
    __pst_prefix
    PS1="\[\e]133;A\a\]$__pst_r${__pst_ps1_user-}\[\e]133;B\a\]"
    PS0="$__pst_ps0${__pst_ps0_user-}"
    __pst_ps1_set=$PS1
    __pst_ps0_set=$PS0
    # PS0 cannot run code without forking, so the cwd it reports is encoded here
    __pst_cwd
    # cheap test first: this runs at every prompt
    [[ ${PROMPT_COMMAND[*]-} == "${__pst_pc_set-}" ]] || __pst_wrap_prompt_command
    __pst_pc_set=${PROMPT_COMMAND[*]-}
    if [[ -n ${__pst_rearm_bp-} ]]; then
        # bash-preexec was installed or moved this time: it ran before us and our entry
        # disarmed it, so do what its last entry would have done
        unset __pst_rearm_bp
        __bp_interactive_mode
    fi
    case :$PATH: in *:"${__pst_shims-}":*) ;; *) [[ -n ${__pst_shims-} ]] && PATH=$__pst_shims:$PATH ;; esac
    return "$__pst_s"
}

# PS0 is expanded once per accepted line, just before it runs, and never for completion,
# `bind -x` or PROMPT_COMMAND itself: exactly the guards bash-preexec builds around its
# DEBUG trap. Arithmetic side effects record HISTCMD and the start time in microseconds
# (the substring of length 0 prints nothing); EPOCHREALTIME's decimal point depends on
# the locale, so all non-digits are dropped.
__pst_e=x
__pst_ps0='${__pst_e:0:(__pst_h0=HISTCMD)*0}${__pst_e:0:(__pst_t0=${EPOCHREALTIME//[!0-9]/})*0}'
__pst_ps0+="\\e]133;C\\a\\e]6973;$__pst_token;start;lvl=$__pst_level;pid=$$"
__pst_ps0+=';t0=${__pst_t0};cwd=${__pst_cwd_enc-}\a'

if [[ -r ~/.bashrc ]]; then
    # shellcheck disable=SC1090
    . ~/.bashrc
fi

if ((BASH_VERSINFO[0] >= 5)); then
    __pst_histfile=
    if [[ -n ${PROMPTSTER_SHELL_STATE-} && -d ${PROMPTSTER_SHELL_STATE-} ]]; then
        __pst_histfile=$PROMPTSTER_SHELL_STATE/history.$$
    fi
    __pst_shims=${PROMPTSTER_SHIMS-}
    __pst_adopt_history_settings
    __pst_wrap_prompt_command
    __pst_enc "$BASH_VERSION"
    builtin printf '\e]6973;%s;init;lvl=%s;pid=%s;shell=bash;ver=%s\a' \
        "$__pst_token" "$__pst_level" "$$" "$__pst_r" >&2
fi
