# Promptster: wrapper around the user's .zshrc, then the shell integration for zsh >= 5.0.
# Protocol and design: src/promptster/record/shell/integration.py (module docstring).
# OSC 133 A/B sit in PROMPT; preexec prints OSC 133 C and our private "start" mark with
# the command line zsh hands it; the first precmd hook puts OSC 133 D and our "end" mark at
# the start of PROMPT (they go out with the prompt, in one write).
# Builtins only (zsh/datetime is a module, not a process): no fork per command.
if [[ -n ${PROMPTSTER_USER_ZDOTDIR-} ]]; then ZDOTDIR=$PROMPTSTER_USER_ZDOTDIR; else unset ZDOTDIR; fi
if [[ -r ${ZDOTDIR:-$HOME}/.zshrc ]]; then source "${ZDOTDIR:-$HOME}/.zshrc"; fi
export PROMPTSTER_USER_ZDOTDIR=${ZDOTDIR-}
if [[ -o login ]]; then
    ZDOTDIR=$__pst_zdotdir # .zlogin comes next and is ours too
else
    # the last startup file: from here on ZDOTDIR is the user's (nested shells get ours
    # back through the PATH shim, see shell_integration.py)
    if [[ -n ${ZDOTDIR-} ]]; then export ZDOTDIR; fi
    unset __pst_zdotdir
fi

# Every function resets options locally (emulate -L zsh): the user's setopts (nounset,
# ksh_arrays, sh_word_split, extended_glob...) must not change what our code means.

__pst_enc() { # percent-encode $1 into REPLY: '%', ';' and control characters
    emulate -L zsh
    local s=${1//\%/%25} i
    s=${s//;/%3B}
    if [[ $s == *[[:cntrl:]]* ]]; then
        for i in {1..31} 127; do
            s=${s//${(#)i}/%${(l:2::0:)$(( [##16] i ))}}
        done
    fi
    REPLY=$s
}

# The hooks below run at every command, so their common path is kept to the least. A zsh
# function call costs several microseconds (it maps a fresh heap), and so does every builtin
# command (zsh blocks and unblocks signals three times around each), while an assignment,
# [[ ]] or (( )) costs neither: the globals (declared once, below) are assigned, not
# `typeset`, times are computed with arithmetic, not `printf -v`, and nothing is called
# unless there is something to encode, the cwd changed or the minute of the time left is
# over; each mark goes out with one `print -u2` (one write, no redirection to undo).

__pst_preexec() { # $1: the line as typed (empty without history), $3: after alias expansion
    emulate -L zsh
    # microseconds, like bash's EPOCHREALTIME (zsh's has nanoseconds)
    __pst_t0=$(( epochtime[1] * 1000000 + epochtime[2] / 1000 )) __pst_ran=1
    __pst_c=${${1:-$3}[1,8192]}
    if [[ $__pst_c == *[%\;[:cntrl:]]* ]]; then
        __pst_enc "$__pst_c"
        __pst_c=$REPLY
    fi
    if [[ $PWD != "$__pst_cwd_raw" ]]; then
        __pst_enc "$PWD"
        __pst_cwd_enc=$REPLY __pst_cwd_raw=$PWD
    fi
    builtin print -u2 -nr -- $'\e]133;C\a\e]6973;'"$__pst_token;start;lvl=$__pst_level;pid=$$;t0=$__pst_t0;cwd=$__pst_cwd_enc;cmd=$__pst_c"$'\a'
}

__pst_addhistory() { # comment-only lines never reach preexec (atuin does the same)
    __pst_line=${1%$'\n'} # (an assignment's status is 0: the line is saved as usual)
}

__pst_precmd() { # first precmd hook (the only one of ours when the user has none)
    __pst_s=$? __pst_pipe="${pipestatus[*]}" # zsh gives every precmd hook the status
    emulate -L zsh
    __pst_t1=$(( epochtime[1] * 1000000 + epochtime[2] / 1000 )) __pst_endmark=
    if [[ -n $__pst_started ]] && { (( __pst_ran )) || [[ -n $__pst_line ]] }; then
        __pst_c=
        if (( ! __pst_ran )); then
            __pst_c=${__pst_line[1,8192]}
            if [[ $__pst_c == *[%\;[:cntrl:]]* ]]; then
                __pst_enc "$__pst_c"
                __pst_c=$REPLY
            fi
        fi
        if [[ $PWD != "$__pst_cwd_raw" ]]; then
            __pst_enc "$PWD"
            __pst_cwd_enc=$REPLY __pst_cwd_raw=$PWD
        fi
        # `n` numbers the mark: a redisplay of the prompt repeats it, the recorder drops that
        __pst_n=$(( __pst_n + 1 ))
        __pst_endmark=$'\e]6973;'"$__pst_token;end;lvl=$__pst_level;pid=$$;n=$__pst_n;exit=$__pst_s"
        if (( __pst_ran )); then
            __pst_endmark=$'\e]133;D;'"$__pst_s"$'\a'"$__pst_endmark;ran=1;pipe=$__pst_pipe;t0=$__pst_t0;t1=$__pst_t1;src=preexec;cwd=$__pst_cwd_enc;cmd="$'\a'
        else
            __pst_endmark+=";ran=0;pipe=$__pst_pipe;t0=;t1=$__pst_t1;src=history;cwd=$__pst_cwd_enc;cmd=$__pst_c"$'\a'
        fi
        # The marks ride in the prompt's own write (PS1 is rebuilt at every prompt anyway),
        # unless they hold what the user's prompt options would expand (PROMPT_SUBST,
        # PROMPT_BANG): then they go out on their own, as a typed line's text always does.
        # A hook of the user's registered after ours may rewrite PS1 once: print then too.
        # (Only the cwd and a line can hold more than digits: '%' is left out too.)
        if [[ -n $__pst_c || $__pst_cwd_enc == *[\$\`\\!%]* ]] ||
            { (( $#precmd_functions > 1 )) && [[ ${precmd_functions[-1]} != __pst_precmd_last ]] }; then
            builtin print -u2 -nr -- "$__pst_endmark"
            __pst_endmark=
        fi
    fi
    __pst_started=1 __pst_ran=0 __pst_t0= __pst_line=
    if (( $#precmd_functions == 1 )); then # no hook of the user's runs after this one
        __pst_wrap_prompt # replaced by the body of that function below: no call at all
    fi
}

__pst_prefix() { # remaining assessment time for the prompt, into __pst_prefix_text
    emulate -L zsh
    typeset -g __pst_prefix_text= __pst_prefix_until=9223372036854775807 # never changes
    [[ -n $__pst_deadline ]] || return 0
    local left=$(( __pst_deadline - EPOCHSECONDS ))
    if (( left <= 0 )); then __pst_prefix_text='[time up] '
    elif (( left < 60 )); then
        __pst_prefix_text='[<1m left] '
        __pst_prefix_until=$__pst_deadline
    else
        # the text shows whole minutes: it changes when one more minute has gone
        __pst_prefix_until=$(( __pst_deadline - left / 60 * 60 + 1 ))
        if (( left < 3600 )); then __pst_prefix_text="[$(( left / 60 ))m left] "
        else builtin printf -v __pst_prefix_text '[%dh%02dm left] ' $(( left / 3600 )) $(( left % 3600 / 60 ))
        fi
    fi
}

# PS1 is rebuilt at every prompt, with the end mark first: by the last precmd hook, or
# by __pst_precmd itself when it is the only one (a zsh function call is the costly part,
# so the code is pasted into both; `functions` comes with zsh/parameter, loaded on use).
__pst_wrap_prompt='
    [[ $PS1 == "$__pst_ps1_set" ]] || __pst_ps1_user=$PS1
    (( EPOCHSECONDS < __pst_prefix_until )) || __pst_prefix
    PS1="%{$__pst_endmark$__pst_mark_a%}$__pst_prefix_text$__pst_ps1_user%{$__pst_mark_b%}"
    __pst_ps1_set=$PS1 __pst_endmark=
    # hooks registered later (prompt frameworks do it lazily) would run outside ours
    if [[ ${precmd_functions[1]} != __pst_precmd ||
        ( $#precmd_functions -gt 1 && ${precmd_functions[-1]} != __pst_precmd_last ) ]]; then
        __pst_order_hooks
    fi
    if [[ $PATH != "$__pst_path_set" ]]; then
        if [[ -n $__pst_shims && ${path[(Ie)$__pst_shims]} -eq 0 ]]; then
            path=($__pst_shims $path)
        fi
        __pst_path_set=$PATH
    fi
'
functions[__pst_precmd]=${functions[__pst_precmd]/__pst_wrap_prompt/$__pst_wrap_prompt}
eval "__pst_precmd_last() { # last precmd hook: wrap whatever PROMPT the user's hooks have set
    emulate -L zsh
    $__pst_wrap_prompt
}"
unset __pst_wrap_prompt

__pst_order_hooks() { # ours first and last, or ours alone
    emulate -L zsh
    local rest=(${precmd_functions:#__pst_precmd(|_last)})
    if (( $#rest )); then
        precmd_functions=(__pst_precmd $rest __pst_precmd_last)
    else
        precmd_functions=(__pst_precmd)
    fi
}

() {
    emulate -L zsh
    [[ -o interactive ]] && zmodload zsh/datetime 2>/dev/null || return 0
    typeset -g __pst_token=${PROMPTSTER_SHELL_TOKEN-}
    [[ -n $__pst_token && $__pst_token != *[^A-Za-z0-9]* ]] || __pst_token=invalid
    # a shell that finds its own PID exported replaced its predecessor (`exec zsh`) and
    # keeps the level; any other shell is one level deeper
    local level=${PROMPTSTER_SHELL_LEVEL-0}
    [[ -n $level && $level != *[^0-9]* ]] || level=0
    [[ ${PROMPTSTER_SHELL_PID-} == $$ ]] || (( level += 1 ))
    (( level > 0 )) || level=1
    typeset -g __pst_level=$level
    export PROMPTSTER_SHELL_LEVEL=$level PROMPTSTER_SHELL_PID=$$
    typeset -g __pst_deadline=${PROMPTSTER_DEADLINE-}
    [[ $__pst_deadline != *[^0-9]* ]] || __pst_deadline=
    typeset -g __pst_shims=${PROMPTSTER_SHIMS-}
    typeset -g __pst_mark_a=$'\e]133;A\a' __pst_mark_b=$'\e]133;B\a'
    typeset -g __pst_ps1_user=$PS1 __pst_ps1_set= __pst_ran=0 __pst_t0= __pst_line= __pst_n=0
    typeset -g __pst_endmark= __pst_started= __pst_s= __pst_pipe= __pst_t1= __pst_c=
    typeset -g __pst_cwd_raw= __pst_cwd_enc= __pst_path_set= __pst_prefix_text=
    typeset -g __pst_prefix_until=0 # the first prompt computes the time left
    typeset -ga precmd_functions preexec_functions zshaddhistory_functions
    __pst_order_hooks
    preexec_functions=(${preexec_functions:#__pst_preexec} __pst_preexec)
    zshaddhistory_functions=(${zshaddhistory_functions:#__pst_addhistory} __pst_addhistory)
    __pst_enc "$ZSH_VERSION"
    builtin printf '\e]6973;%s;init;lvl=%s;pid=%s;shell=zsh;ver=%s\a' \
        "$__pst_token" "$__pst_level" "$$" "$REPLY" >&2
}
