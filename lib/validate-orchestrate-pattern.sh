#!/usr/bin/env bash
# shellcheck shell=bash
# Checks that slash command Markdown files follow the orchestrate pattern:
#   - frontmatter (between --- lines at the top) with `description:` and `allowed-tools:`;
#   - no SlashCommand anywhere (commands delegate to agents, never to other commands);
#   - every `orchestrate ...` invocation (in the allowed-tools' Bash(orchestrate ...:*),
#     in fenced code blocks, in inline code spans) names a real subcommand: one for which
#     `orchestrate CMD [SUB] --help` exits 0.
# Prints one line per problem, FILE:LINE: message; returns 0 when every file is clean,
# 1 when there is a problem, 2 on a usage error or an unreadable file.
#
#   lib/validate-orchestrate-pattern.sh .claude/commands/*.md       # as a script
#   source lib/validate-orchestrate-pattern.sh                      # or sourced
#   validate_orchestrate_pattern .claude/commands/orchestrate.md || exit

# shellcheck source=lib/orchestrate-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/orchestrate-common.sh"

# _vop_check_words FILE LINE WORDS — check the words after `orchestrate` in one invocation.
# Needs the caller's _vop_problems counter and _vop_seen cache.
_vop_check_words() {
    local file=$1 lineno=$2 cmd sub args
    read -r cmd sub _ <<<"$3"
    [[ -z $cmd || $cmd == -* ]] && return 0 # `orchestrate --version` and the like
    if [[ ! $cmd =~ ^[a-z][a-z0-9-]*$ ]]; then
        printf '%s\n' "$file:$lineno: orchestrate invocation with a non-literal command '$cmd'"
        _vop_problems=$((_vop_problems + 1))
        return 0
    fi
    args=("$cmd")
    [[ $sub =~ ^[a-z][a-z0-9-]*$ ]] && args+=("$sub")
    if [[ -z ${_vop_seen["${args[*]}"]+set} ]]; then
        if orch_cli "${args[@]}" --help >/dev/null 2>&1; then
            _vop_seen["${args[*]}"]=ok
        else
            _vop_seen["${args[*]}"]=bad
        fi
    fi
    if [[ ${_vop_seen["${args[*]}"]} == bad ]]; then
        printf '%s\n' "$file:$lineno: 'orchestrate ${args[*]}' is not an orchestrate command"
        _vop_problems=$((_vop_problems + 1))
    fi
}

# validate_orchestrate_pattern FILE...
validate_orchestrate_pattern() {
    if (($# < 1)); then
        printf '%s\n' "usage: validate_orchestrate_pattern FILE.md..." >&2
        return 2
    fi
    local -A _vop_seen=()
    local _vop_problems=0 unreadable=0 file path line lineno in_front in_fence saw_desc saw_tools rest words
    local span_re="\`([^\`]*)\`"
    local tools_re='Bash\(orchestrate[[:space:]]+([^:)]*)'
    local cmd_re='(^|[;&|(])[[:space:]]*orchestrate[[:space:]]+([^;&|)]*)'
    for file in "$@"; do
        if [[ ! -f $file || ! -r $file ]]; then
            printf '%s\n' "validate_orchestrate_pattern: cannot read '$file'" >&2
            unreadable=1
            continue
        fi
        path=$file # read through another name: $file only labels the problems
        lineno=0 in_front=0 in_fence=0 saw_desc=0 saw_tools=0
        while IFS= read -r line || [[ -n $line ]]; do
            lineno=$((lineno + 1))
            line=${line%$'\r'}
            if ((lineno == 1)); then
                if [[ $line == --- ]]; then
                    in_front=1
                    continue
                fi
                printf '%s\n' "$file:1: no frontmatter (the file must start with a --- line)"
                _vop_problems=$((_vop_problems + 1))
            fi
            if [[ $line == *SlashCommand* ]]; then
                printf '%s\n' "$file:$lineno: uses SlashCommand; delegate to an agent instead"
                _vop_problems=$((_vop_problems + 1))
            fi
            if ((in_front)); then
                if [[ $line == --- ]]; then
                    in_front=0
                    ((saw_desc)) || { printf '%s\n' "$file:$lineno: frontmatter has no description"; _vop_problems=$((_vop_problems + 1)); }
                    ((saw_tools)) || { printf '%s\n' "$file:$lineno: frontmatter has no allowed-tools"; _vop_problems=$((_vop_problems + 1)); }
                    continue
                fi
                [[ $line =~ ^description:[[:space:]]*[^[:space:]] ]] && saw_desc=1
                if [[ $line =~ ^allowed-tools:[[:space:]]*[^[:space:]] ]]; then
                    saw_tools=1
                    rest=$line
                    while [[ $rest =~ $tools_re ]]; do
                        rest=${rest#*"${BASH_REMATCH[0]}"}
                        _vop_check_words "$file" "$lineno" "${BASH_REMATCH[1]}"
                    done
                fi
                continue
            fi
            if [[ $line =~ ^[[:space:]]*(\`\`\`|~~~) ]]; then
                in_fence=$((1 - in_fence))
                continue
            fi
            rest=$line
            if ((in_fence)); then
                while [[ $rest =~ $cmd_re ]]; do
                    words=${BASH_REMATCH[2]}
                    rest=${rest#*"${BASH_REMATCH[0]}"}
                    _vop_check_words "$file" "$lineno" "${words%%[<>]*}"
                done
            else
                while [[ $rest =~ $span_re ]]; do
                    words=${BASH_REMATCH[1]}
                    rest=${rest#*"${BASH_REMATCH[0]}"}
                    if [[ $words =~ ^[[:space:]]*orchestrate[[:space:]]+(.*)$ ]]; then
                        _vop_check_words "$file" "$lineno" "${BASH_REMATCH[1]}"
                    fi
                done
            fi
        done <"$path"
        if ((in_front)); then
            printf '%s\n' "$file:$lineno: frontmatter is never closed (no second --- line)"
            _vop_problems=$((_vop_problems + 1))
        fi
    done
    ((unreadable)) && return 2
    ((_vop_problems == 0))
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    validate_orchestrate_pattern "$@"
    exit
fi
