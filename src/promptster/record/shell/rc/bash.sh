# Promptster shell integration for bash >= 5.0. Started as `bash --rcfile <this file> -i`.
#
# Protocol and design: src/promptster/record/shell/integration.py (module docstring).
# In short: OSC 133 C and our private "start" mark sit in PS0; the first PROMPT_COMMAND entry
# appends `history 1` to a file the recorder reads the command line from, then prints OSC 133
# D and our private "end" mark; OSC 133 A/B are in PS1.
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
__pst_rules= # non-empty when the user's settings can keep a line out: __pst_forget has work
__pst_adopt_history_settings() {
    __pst_user_histcontrol=${HISTCONTROL-}
    __pst_user_histignore=${HISTIGNORE-}
    local __pst_out='' __pst_rest=$__pst_user_histcontrol: __pst_item
    __pst_rules=$__pst_user_histignore __pst_ign_space=0 __pst_ign_dups=0
    while [[ -n $__pst_rest ]]; do
        __pst_item=${__pst_rest%%:*}
        __pst_rest=${__pst_rest#*:}
        case $__pst_item in
            ignorespace) __pst_rules=1 __pst_ign_space=1 ;;
            ignoredups) __pst_rules=1 __pst_ign_dups=1 ;;
            ignoreboth) __pst_rules=1 __pst_ign_space=1 __pst_ign_dups=1 ;;
            '') ;;
            *) __pst_out+=${__pst_out:+:}$__pst_item ;;
        esac
    done
    __pst_eff_histcontrol=$__pst_out
    __pst_hlast= # counted again from the next prompt
    HISTCONTROL=$__pst_out
    HISTIGNORE=
}

__pst_ign_space=0 __pst_ign_dups=0 # the user's HISTCONTROL, parsed
__pst_forget() { # $1 = line: would the user's HISTIGNORE have kept it out of history?
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

__pst_first='__pst_prompt_start "$_"'
__pst_solo='__pst_prompt "$_"'
__pst_wrap_prompt_command() { # ours first (to see $?), the user's entries, ours last
    # ...except that bash-preexec's __bp_interactive_mode must stay the very last entry: it
    # arms its DEBUG trap, which disarms again on any PROMPT_COMMAND entry run after it.
    # With no entry of the user's, one function does both (`__pst_solo`: a call fewer).
    local __pst_bp=__bp_interactive_mode
    if [[ -n ${PROMPT_COMMAND+x} && ${PROMPT_COMMAND@a} == *a* ]]; then
        # bash >= 5.1 runs every element of an array PROMPT_COMMAND
        local __pst_keep=() __pst_item __pst_tail=(__pst_prompt_end)
        for __pst_item in "${PROMPT_COMMAND[@]}"; do
            [[ $__pst_item == "$__pst_bp" ]] && __pst_tail=(__pst_prompt_end "$__pst_bp")
        done
        [[ ${PROMPT_COMMAND[0]} == "$__pst_first" &&
            ${PROMPT_COMMAND[-${#__pst_tail[@]}]} == __pst_prompt_end ]] && return 0
        [[ ${#PROMPT_COMMAND[@]} == 1 && ${PROMPT_COMMAND[0]} == "$__pst_solo" ]] && return 0
        for __pst_item in "${PROMPT_COMMAND[@]}"; do
            [[ $__pst_item == "$__pst_first" || $__pst_item == __pst_prompt_end ||
                $__pst_item == "$__pst_solo" ||
                ($__pst_item == "$__pst_bp" && ${#__pst_tail[@]} == 2) ]] ||
                __pst_keep+=("$__pst_item")
        done
        if ((${#__pst_keep[@]} == 0 && ${#__pst_tail[@]} == 1)); then
            PROMPT_COMMAND=("$__pst_solo")
            return 0
        fi
        PROMPT_COMMAND=("$__pst_first" "${__pst_keep[@]}" "${__pst_tail[@]}")
        ((${#__pst_tail[@]} == 1)) || __pst_rearm_bp=1
    else
        local __pst_pc=${PROMPT_COMMAND-} __pst_last=__pst_prompt_end
        [[ $'\n'$__pst_pc$'\n' == *$'\n'"$__pst_bp"$'\n'* ]] && __pst_last+=$'\n'$__pst_bp
        [[ $__pst_pc == "$__pst_first"$'\n'* && $__pst_pc == *$'\n'"$__pst_last" ]] && return 0
        [[ $__pst_pc == "$__pst_solo" ]] && return 0
        # something was added before or after ours (`PROMPT_COMMAND+=...`): wrap again;
        # newlines, not ';', so that a user string ending in ';' or '&' stays valid
        # (whole lines only: with nothing of the user's left, ours were "first\nend")
        __pst_pc=$'\n'$__pst_pc$'\n'
        __pst_pc=${__pst_pc//$'\n'"$__pst_first"$'\n'/$'\n'}
        __pst_pc=${__pst_pc//$'\n'__pst_prompt_end$'\n'/$'\n'}
        __pst_pc=${__pst_pc//$'\n'"$__pst_solo"$'\n'/$'\n'}
        if [[ $__pst_last == *"$__pst_bp" ]]; then
            __pst_pc=${__pst_pc//$'\n'"$__pst_bp"$'\n'/$'\n'}
        fi
        __pst_pc=${__pst_pc#$'\n'}
        __pst_pc=${__pst_pc%$'\n'}
        # shellcheck disable=SC2178  # the user's PROMPT_COMMAND is a string: keep it one
        if [[ -z $__pst_pc && $__pst_last == __pst_prompt_end ]]; then
            PROMPT_COMMAND=$__pst_solo
            return 0
        fi
        # shellcheck disable=SC2178
        PROMPT_COMMAND=$__pst_first$'\n'${__pst_pc:+$__pst_pc$'\n'}$__pst_last
        [[ $__pst_last != *"$__pst_bp" ]] || __pst_rearm_bp=1
    fi
}

# What runs at every prompt is kept to the least: the first PROMPT_COMMAND entry appends
# `history 1` to the state file, where the recorder reads the command line (the end mark
# says which record: the prompt number `n`), and prints the end mark with one `printf`. The
# mark is not part of PS1: readline measures its prompt at every prompt in a way that grows
# with the square of its length in a UTF-8 locale (`_rl_adjust_point` from
# `rl_expand_prompt`), so 200 invisible bytes in PS1 cost more than the whole function.
# Anything that rarely changes (history settings, PS1, PROMPT_COMMAND, PATH, the encoded cwd,
# the time left) is compared with what we last set and only redone when it differs. Only a user whose HISTCONTROL/HISTIGNORE can keep a line out of history pays for
# reading the record back.
__pst_n=0 # prompts so far
# bash copies a function's whole body at every call, the lines it skips included, so the
# functions that run at every prompt stay short and call others for what is rare.
# The first entry's work, and the last entry's check; `__pst_prompt` does both in one call,
# for a PROMPT_COMMAND with nothing of the user's (the usual case). The functions are
# defined from this text (it holds no single quote) before the user's startup file runs.
__pst_body='
    __pst_s=$? __pst_pipe=${PIPESTATUS[*]} # status and PIPESTATUS of the command, together
    [[ ${HISTCONTROL-} == "$__pst_eff_histcontrol" && -z ${HISTIGNORE-} ]] ||
        __pst_adopt_history_settings # the user changed them since: they are the new rules
    # one record per prompt: "\0<n> <history 1>" ("%5d%c %s\n": number, a star or a space, one
    # space, the entry), ended by the next one or the end of the file (it is complete
    # before the mark is printed); with history off or empty it holds a stale entry or
    # none, which the recorder tells from HISTCMD (`h0` in PS0, `hc` in the mark). Without
    # a state file the recorder takes the line from the terminal echo. (A temporary
    # HISTTIMEFORMAT costs five times `history 1` itself: only when it is set.)
    ((++__pst_n))
    if [[ -z $__pst_hw ]]; then
        :
    elif [[ -z ${HISTTIMEFORMAT-} ]]; then
        { builtin printf "\\0%s " "$__pst_n"; builtin history 1; } >&"$__pst_hw"
    else # a timestamp would come before the entry
        { builtin printf "\\0%s " "$__pst_n"; HISTTIMEFORMAT= builtin history 1; } >&"$__pst_hw"
    fi
    [[ -z $__pst_rules || -z $__pst_hr ]] || __pst_apply_rules
    [[ $PWD == "$__pst_cwd_raw" ]] || __pst_cwd
    # The end mark: OSC 133 D with the status (only when a command ran: PS0 set __pst_t0;
    # `%.0s` prints nothing) and our private mark. The times are EPOCHREALTIME as it is
    # (its decimal point depends on the locale; a pattern to drop it costs as much as the
    # printf): the recorder keeps the digits. `hc` is HISTCMD once the entry was or was
    # not deleted again, `n` the prompt number of the history record. It goes where the
    # prompt and PS0 go (stderr), so it stays in order with them whatever the user did to
    # stdout (`exec > >(tee log)`), for five system calls more than stdout would cost.
    builtin printf "${__pst_endf[${__pst_t0:+1}0]}" "$__pst_s" "$__pst_n" "$__pst_s" "$__pst_pipe" \
        "${__pst_t0:-0}" "$EPOCHREALTIME" "${__pst_h0-}" "$HISTCMD" "${__pst_cwd_enc-}" >&2
    __pst_t0= __pst_h0=
'
# The common case of the check: nothing changed since the last prompt, nothing to do (one
# comparison of the four joined costs a quarter of four: each `[[ == ]]` converts both
# sides to wide characters)
__pst_sep=$'\1'
__pst_check='[[ ${PS1-}$__pst_sep${PS0-}$__pst_sep${PROMPT_COMMAND[*]-}$__pst_sep$PATH == "$__pst_all_set" ]] &&
        ((EPOCHSECONDS < __pst_prefix_until)) || __pst_rewrap'
eval "__pst_prompt_start() { # first PROMPT_COMMAND entry; \$1 is the caller's \"\$_\"
    $__pst_body
    return \"\$__pst_s\" # the user's PROMPT_COMMAND entries still see the command's status
}
__pst_prompt() { # the only PROMPT_COMMAND entry; \$1 is the caller's \"\$_\"
    $__pst_body
    $__pst_check
    return \"\$__pst_s\"
}
__pst_prompt_end() { # last PROMPT_COMMAND entry: wrap whatever PS1/PS0 the user has now
    __pst_s=\$?
    $__pst_check
    return \"\$__pst_s\"
}"
unset __pst_body __pst_check

# The user's HISTCONTROL/HISTIGNORE, applied to the entry just added (with globals: this
# runs at every prompt of a Debian-style ~/.bashrc). The record is read back; after the
# rules were off for a while, every record not read yet is.
__pst_apply_rules() {
    __pst_new=0
    # to the end of the file: the last record is this prompt's (it has no NUL after it);
    # one `mapfile` costs half of one `read` (and a leading NUL would take two)
    builtin mapfile -d '' -u "$__pst_hr" __pst_recs
    __pst_line=${__pst_recs[*]: -1}
    __pst_line=${__pst_line#* } __pst_line=${__pst_line%$'\n'}
    __pst_line=${__pst_line#"${__pst_line%%[! ]*}"} __pst_hnum=${__pst_line%%[!0-9]*}
    if [[ -n $__pst_hnum ]]; then
        __pst_line=${__pst_line:${#__pst_hnum}+2}
        if [[ -n $__pst_t0 ]]; then
            # PS0 saved HISTCMD when the line was accepted: the line is one below it
            ((__pst_hnum + 1 == ${__pst_h0:-0})) && __pst_new=1
        elif [[ -n $__pst_hlast ]] && ((__pst_hnum > __pst_hlast)); then
            __pst_new=1 # accepted but never executed: a comment or a syntax error
        fi
        if ((__pst_new)); then
            # the user's own settings would have kept it out of history
            if { ((__pst_ign_space)) && [[ $__pst_line == " "* ]]; } ||
                { ((__pst_ign_dups)) && [[ $__pst_line == "${__pst_prev_kept-}" ]]; } ||
                { [[ -n $__pst_user_histignore ]] && __pst_forget "$__pst_line"; }; then
                builtin history -d "$__pst_hnum" # listed just now: it exists
                ((__pst_hnum -= 1))
            else
                __pst_prev_kept=$__pst_line
            fi
        elif [[ -z $__pst_hlast ]]; then
            __pst_prev_kept=$__pst_line # first prompt: history has just been loaded
        fi
        __pst_hlast=$__pst_hnum
    fi
}

__pst_hlast= # the last entry seen
__pst_line= __pst_recs=() __pst_hnum= __pst_new=0

__pst_cwd_raw=
__pst_cwd_enc=
__pst_cwd() { # $PWD, encoded, into __pst_cwd_enc (cached by the callers: it rarely changes)
    __pst_enc "$PWD"
    __pst_cwd_enc=$__pst_r
    __pst_cwd_raw=$PWD
}

__pst_prefix_until=0 # EPOCHSECONDS from which the time-left text differs
__pst_prefix() { # remaining assessment time for the prompt, into __pst_prefix_text
    __pst_prefix_text=
    __pst_prefix_until=9223372036854775807 # no deadline, or time up: it never changes
    [[ -n $__pst_deadline ]] || return 0
    local __pst_left=$((__pst_deadline - EPOCHSECONDS))
    if ((__pst_left <= 0)); then
        __pst_prefix_text='[time up] '
    elif ((__pst_left < 60)); then
        __pst_prefix_text='[<1m left] '
        __pst_prefix_until=$__pst_deadline
    else
        # the text shows whole minutes: it changes when one more minute has gone
        __pst_prefix_until=$((__pst_deadline - __pst_left / 60 * 60 + 1))
        if ((__pst_left < 3600)); then
            __pst_prefix_text="[$((__pst_left / 60))m left] "
        else
            builtin printf -v __pst_prefix_text '[%dh%02dm left] ' \
                $((__pst_left / 3600)) $((__pst_left % 3600 / 60))
        fi
    fi
}

__pst_rewrap() {
    # prompt code may rewrite PS1 on every prompt (git prompts, starship): wrap it again
    [[ ${PS1-} == "$__pst_ps1_set" ]] || __pst_ps1_user=${PS1-}
    [[ ${PS0-} == "$__pst_ps0_set" ]] || __pst_ps0_user=${PS0-}
    ((EPOCHSECONDS < __pst_prefix_until)) || __pst_prefix
    # PS0 holds ours by reference (`@P`: expanded as a prompt), so that it stays short: the
    # comparisons above run at every prompt, and a long string costs (bash compares as a
    # pattern, in wide characters in a UTF-8 locale)
    PS1="\[\e]133;A\a\]$__pst_prefix_text${__pst_ps1_user-}\[\e]133;B\a\]"
    PS0="\${__pst_ps0@P}${__pst_ps0_user-}"
    __pst_ps1_set=$PS1
    __pst_ps0_set=$PS0
    [[ ${PROMPT_COMMAND[*]-} == "$__pst_pc_set" ]] || __pst_wrap_prompt_command
    __pst_pc_set=${PROMPT_COMMAND[*]-}
    if [[ -n ${__pst_rearm_bp-} ]]; then
        # bash-preexec was installed or moved this time: it ran before us and our entry
        # disarmed it, so do what its last entry would have done
        unset __pst_rearm_bp
        __bp_interactive_mode
    fi
    case :$PATH: in *:"${__pst_shims-}":*) ;; *) [[ -n ${__pst_shims-} ]] && PATH=$__pst_shims:$PATH ;; esac
    __pst_path_set=$PATH
    __pst_all_set=${PS1-}$__pst_sep${PS0-}$__pst_sep${PROMPT_COMMAND[*]-}$__pst_sep$PATH
}

# PS0 is expanded once per accepted line, just before it runs, and never for completion,
# `bind -x` or PROMPT_COMMAND itself: exactly the guards bash-preexec builds around its
# DEBUG trap. Default assignments (`:=`: the prompt function empties both) record the start
# time and HISTCMD, and print them in the start mark.
__pst_ps1_set='' __pst_ps0_set='' __pst_pc_set='' __pst_path_set='' __pst_all_set='' __pst_hcmd='' __pst_prefix_text=''
__pst_ps0="\\e]133;C\\a\\e]6973;$__pst_token;start;lvl=$__pst_level;pid=$$"
__pst_ps0+=';t0=${__pst_t0:=$EPOCHREALTIME};h0=${__pst_h0:=$HISTCMD};cwd=${__pst_cwd_enc-}\a'

# The end mark's fixed part (__pst_prompt_start prints it with the prompt's fields). The
# status in it is the command's, as are PIPESTATUS's (both read in the function's first
# statement). A redisplay of the prompt (Ctrl-L, a list of completions) does not repeat it.
__pst_endp=$'\e]6973;'"$__pst_token;end;lvl=$__pst_level;pid=$$"
# printf formats, by whether a command ran (`${__pst_t0:+1}0`: 10 or 0)
__pst_endf=()
__pst_endf[0]="%.0s$__pst_endp;n=%s;exit=%s;ran=0;pipe=%s;t0=%s;t1=%s;h0=%s;hc=%s;src=records;cwd=%s\a"
__pst_endf[10]="\e]133;D;%s\a$__pst_endp;n=%s;exit=%s;ran=1;pipe=%s;t0=%s;t1=%s;h0=%s;hc=%s;src=records;cwd=%s\a"
__pst_pipe=
__pst_t0= __pst_h0=

if [[ -r ~/.bashrc ]]; then
    # shellcheck disable=SC1090
    . ~/.bashrc
fi

if ((BASH_VERSINFO[0] >= 5)); then
    __pst_hw= __pst_hr=
    if [[ -n ${PROMPTSTER_SHELL_STATE-} && -d ${PROMPTSTER_SHELL_STATE-} ]]; then
        # truncated once here (`exec bash` keeps the PID, so the name may be taken); the
        # descriptors are not close-on-exec (bash cannot set that), so commands inherit
        # two descriptors of this file, as they would any the user's rc file opens
        __pst_hfile=history.$$.${EPOCHREALTIME/[!0-9]/} # `exec bash` keeps the PID
        __pst_h=$PROMPTSTER_SHELL_STATE/$__pst_hfile
        if ! builtin exec {__pst_hw}>"$__pst_h" {__pst_hr}<"$__pst_h"; then
            __pst_hw= __pst_hr= __pst_hfile=
        fi 2>/dev/null
        unset __pst_h
    fi
    __pst_shims=${PROMPTSTER_SHIMS-}
    __pst_adopt_history_settings
    __pst_wrap_prompt_command
    __pst_enc "$BASH_VERSION"
    builtin printf '\e]6973;%s;init;lvl=%s;pid=%s;shell=bash;ver=%s;hist=%s\a' \
        "$__pst_token" "$__pst_level" "$$" "$__pst_r" "${__pst_hfile-}" >&2
fi
