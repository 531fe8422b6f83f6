# shellcheck shell=bash
# Error classification and retries for scripts: thin wrappers over `orchestrate error`.
#
#   source lib/error-handling.sh
#   retry_with_backoff 3 claude -p "$prompt" || exit
#   kind=$(classify_error "$stderr_text")        # transient | permanent | unknown
#   suggest_recovery "$stderr_text"               # what the user should do
#   format_error_report "$stderr_text" "phase 2"  # a multi-line report, secrets redacted
#
# The classification rules and the backoff delays live once, in Python
# (lib/orchestrator/engine/failures.py); error text is always passed to the CLI as one argument
# after `--`, never evaluated.

# shellcheck source=lib/orchestrate-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/orchestrate-common.sh"

# classify_error TEXT [--status N] [--subtype S] [--exit-code N]
# Prints the kind of the failure TEXT describes: transient, permanent or unknown.
classify_error() {
    if (($# < 1)); then
        printf '%s\n' "usage: classify_error TEXT [--status N] [--subtype S] [--exit-code N]" >&2
        return 2
    fi
    orch_cli error classify --field kind "${@:2}" -- "$1" </dev/null
}

# suggest_recovery TEXT [--status N] [--subtype S] [--exit-code N]
# Prints one line saying what to do about the failure TEXT describes.
suggest_recovery() {
    if (($# < 1)); then
        printf '%s\n' "usage: suggest_recovery TEXT [--status N] [--subtype S] [--exit-code N]" >&2
        return 2
    fi
    orch_cli error classify --field suggestion "${@:2}" -- "$1" </dev/null
}

# format_error_report TEXT [STEP]
# Prints a report of the failure: what it is, the step, whether a retry can help, the text
# (secrets redacted) and what to do.
format_error_report() {
    if (($# < 1 || $# > 2)); then
        printf '%s\n' "usage: format_error_report TEXT [STEP]" >&2
        return 2
    fi
    if [[ -n ${2:-} ]]; then  # --step=STEP: a step named like an option is still the step
        orch_cli error report --step="$2" -- "$1" </dev/null
    else
        orch_cli error report -- "$1" </dev/null
    fi
}

# orch_env_seconds NAME
# Prints the value of the variable NAME when it is a non-negative decimal number; prints
# nothing when NAME is unset or empty, or (with a warning on stderr) set to something else,
# so that the caller uses the default.
orch_env_seconds() {
    local value=${!1:-}
    if [[ $value =~ ^([0-9]+([.][0-9]*)?|[.][0-9]+)$ ]]; then
        printf '%s\n' "$value"
    elif [[ -n $value ]]; then
        printf '%s\n' "warning: $1 is not a number of seconds; using the default" >&2
    fi
}

# retry_with_backoff MAX_ATTEMPTS COMMAND [ARGS...]
# Runs COMMAND with its ARGS (as they are: nothing is evaluated) up to MAX_ATTEMPTS times in
# all. Its stdout and stderr still reach the caller; the last 64 KiB of stderr are also kept,
# redacted and in memory only (no temporary file, so nothing is left behind however the
# command or the caller ends), and a failure is classified from them (passed on stdin, never
# in argv) and the exit code. A permanent failure returns at once with the
# suggestion on stderr; a transient or unknown one waits, then retries. The wait after
# attempt N is `orchestrate error backoff --attempt N`'s, the engine's full-jitter exponential
# backoff, raised to the error's retry-after: ORCH_BACKOFF_BASE_S is passed on as --base,
# ORCH_BACKOFF_CAP_S as --cap and --max-retry-after (it caps a retry-after too); unset, the
# engine's defaults apply. Returns 0 on success, else the last exit code (also when no delay
# can be had from the CLI).
retry_with_backoff() {
    if (($# < 2)) || [[ ! $1 =~ ^[1-9][0-9]*$ ]]; then
        printf '%s\n' "usage: retry_with_backoff MAX_ATTEMPTS COMMAND [ARGS...]" >&2
        return 2
    fi
    local max_attempts=$1
    shift
    local base cap attempt=1 rc text verdict kind after message suggestion delay
    local -a settings=()
    base=$(orch_env_seconds ORCH_BACKOFF_BASE_S)
    cap=$(orch_env_seconds ORCH_BACKOFF_CAP_S)
    if [[ -n $base ]]; then
        settings+=(--base "$base")
    fi
    if [[ -n $cap ]]; then
        settings+=(--cap "$cap" --max-retry-after "$cap")
    fi
    while :; do
        rc=0
        # stdout goes straight through fd 3; stderr is teed to stderr and, its tail without
        # NULs and redacted, into $text. The `|| rc=$?` keeps a caller's `set -e` from ending
        # the shell before rc is read.
        { text=$( { "$@" 2>&1 1>&3 3>&- |
                    tee >(tail -c 65536 | tr -d '\000' | orch_cli error redact) >&2 3>&-
                    exit "${PIPESTATUS[0]}"; } ) || rc=$?; } 3>&1
        if ((rc == 0)); then
            return 0
        fi
        verdict=$(printf '%s' "$text" | orch_cli error classify --exit-code "$rc" \
            --field kind --field retry_after_s --field message --field suggestion)
        kind='' after='' message='' suggestion=''
        { IFS= read -r kind; IFS= read -r after; IFS= read -r message
          IFS= read -r suggestion; } <<<"$verdict" || :
        if [[ $kind == permanent ]]; then
            printf 'retry_with_backoff: %s failed (exit %d): %s; not retrying\n' \
                "$1" "$rc" "$message" >&2
            printf 'suggestion: %s\n' "$suggestion" >&2
            return "$rc"
        fi
        if ((attempt >= max_attempts)); then
            printf 'retry_with_backoff: %s failed %d times (exit %d); giving up\n' \
                "$1" "$attempt" "$rc" >&2
            return "$rc"
        fi
        delay=$(orch_cli error backoff --attempt "$attempt" ${after:+--retry-after "$after"} \
            "${settings[@]}" </dev/null) || delay=''
        if [[ ! $delay =~ ^[0-9]+([.][0-9]+)?$ ]]; then
            printf 'retry_with_backoff: %s failed (exit %d) and orchestrate error backoff gave no delay; giving up\n' \
                "$1" "$rc" >&2
            return "$rc"
        fi
        printf 'retry_with_backoff: attempt %d/%d of %s failed (exit %d, %s); retrying in %ss\n' \
            "$attempt" "$max_attempts" "$1" "$rc" "${kind:-unknown}" "$delay" >&2
        sleep "$delay"
        attempt=$((attempt + 1))
    done
}
