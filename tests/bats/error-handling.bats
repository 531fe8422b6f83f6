#!/usr/bin/env bats
# lib/error-handling.sh: classify_error, suggest_recovery, format_error_report and
# retry_with_backoff over `orchestrate error`.

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    # shellcheck source=lib/error-handling.sh
    source "$REPO_ROOT/lib/error-handling.sh"
    COUNTER="$SCRATCH/count"
    export COUNTER
}

# count — add one to the counter file and print the new value.
count() {
    local n=0
    [[ -f $COUNTER ]] && n=$(<"$COUNTER")
    n=$((n + 1))
    printf '%s\n' "$n" >"$COUNTER"
    printf '%s\n' "$n"
}

# flaky FAILURES MESSAGE — fail with MESSAGE on stderr (exit 3) the first FAILURES calls.
flaky() {
    local n
    n=$(count)
    if ((n <= $1)); then
        printf '%s\n' "$2" >&2
        return 3
    fi
    printf 'ok after %s tries\n' "$n"
}

@test "classify_error prints transient for retryable failures" {
    local text
    for text in "503 Service Unavailable" "Error: read ECONNRESET" "Request timed out." \
        'API Error: 529 {"type":"error","error":{"type":"overloaded_error"}}' \
        "429 Too Many Requests"; do
        run -0 --separate-stderr classify_error "$text"
        [ "$output" = transient ]
    done
}

@test "classify_error prints permanent for failures a retry cannot fix" {
    local text
    for text in "Not logged in · Please run /login" "invalid x-api-key" \
        "Your credit balance is too low to access the Anthropic API." \
        "invalid_request_error: model: not-a-model"; do
        run -0 --separate-stderr classify_error "$text"
        [ "$output" = permanent ]
    done
}

@test "classify_error prints unknown for text it does not recognise, and takes options" {
    run -0 --separate-stderr classify_error "something odd"
    [ "$output" = unknown ]
    run -0 --separate-stderr classify_error "something odd" --status 529
    [ "$output" = transient ]
    run -0 --separate-stderr classify_error "" --subtype error_max_budget_usd
    [ "$output" = permanent ]
}

@test "text that looks like options or shell code is classified as data" {
    cd "$SCRATCH"
    run -0 --separate-stderr classify_error '--exit-code 127 $(touch pwned) `touch pwned2`'
    [ "$output" = unknown ]
    run -0 --separate-stderr classify_error "-"
    [ "$output" = unknown ]
    [ ! -e pwned ] && [ ! -e pwned2 ]
}

@test "suggest_recovery says what to do" {
    run -0 --separate-stderr suggest_recovery "Not logged in · Please run /login"
    [ "$output" = 'Log in with `claude` (then /login) or set ANTHROPIC_API_KEY, and resume the run' ]
    run -0 --separate-stderr suggest_recovery "429 Too Many Requests"
    [[ $output == *"lower --jobs"* ]]
}

@test "format_error_report names the step and the fix" {
    run -0 --separate-stderr format_error_report "Error: socket hang up" "phase 2: API"
    [ "${lines[0]}" = "error: the network connection failed" ]
    [[ $output == *"step:        phase 2: API"* ]]
    [[ $output == *"socket hang up"* ]]
    [[ $output == *"what to do:"* ]]
    run -0 --separate-stderr format_error_report "odd"
    [[ $output != *"step:"* ]]
}

@test "format_error_report takes a step named like an option as the step" {
    local step
    for step in --json --help -h --step; do
        run -0 --separate-stderr format_error_report "boom" "$step"
        [ "${lines[0]}" = "error: an error orchestrate does not recognise" ]
        [[ $output == *"step:        $step"* ]]
        [[ $output == *"boom"* ]]
    done
}

@test "usage errors" {
    run -2 --separate-stderr classify_error
    [[ $stderr == usage:* ]]
    run -2 --separate-stderr suggest_recovery
    run -2 --separate-stderr format_error_report
    run -2 --separate-stderr retry_with_backoff 3
    run -2 --separate-stderr retry_with_backoff 0 true
    run -2 --separate-stderr retry_with_backoff x true
    [[ $stderr == "usage: retry_with_backoff MAX_ATTEMPTS COMMAND [ARGS...]" ]]
}

@test "retry_with_backoff retries transient failures until the command succeeds" {
    export ORCH_BACKOFF_BASE_S=0.05
    SECONDS=0
    run -0 --separate-stderr retry_with_backoff 5 flaky 2 "503 Service Unavailable"
    ((SECONDS <= 5))
    [ "$output" = "ok after 3 tries" ]
    [ "$(<"$COUNTER")" = 3 ]
    # the command's stderr is still shown, with a line per retry
    [ "$(grep -c '^503 Service Unavailable$' <<<"$stderr")" = 2 ]
    [[ $stderr == *"attempt 1/5 of flaky failed (exit 3, transient); retrying in"* ]]
    [[ $stderr == *"attempt 2/5 of flaky failed (exit 3, transient); retrying in"* ]]
}

@test "retry_with_backoff returns at once on a permanent failure, with the suggestion" {
    run -3 --separate-stderr retry_with_backoff 5 flaky 9 "Not logged in · Please run /login"
    [ "$(<"$COUNTER")" = 1 ]
    [[ $stderr == *"flaky failed (exit 3): Claude Code is not logged in; not retrying"* ]]
    [[ $stderr == *'suggestion: Log in with `claude` (then /login)'* ]]
    [[ $stderr != *"retrying in"* ]]
}

@test "retry_with_backoff stops after MAX_ATTEMPTS and returns the last exit code" {
    export ORCH_BACKOFF_BASE_S=0.01
    run -3 --separate-stderr retry_with_backoff 3 flaky 99 "Error: read ECONNRESET"
    [ "$(<"$COUNTER")" = 3 ]
    [[ $stderr == *"flaky failed 3 times (exit 3); giving up"* ]]
    rm -f "$COUNTER"
    run -3 --separate-stderr retry_with_backoff 1 flaky 99 "Error: read ECONNRESET"
    [ "$(<"$COUNTER")" = 1 ]
}

@test "retry_with_backoff retries unknown failures too" {
    export ORCH_BACKOFF_BASE_S=0.01
    run -0 --separate-stderr retry_with_backoff 3 flaky 1 "something odd"
    [ "$(<"$COUNTER")" = 2 ]
    [[ $stderr == *"(exit 3, unknown); retrying in"* ]]
}

@test "retry_with_backoff does not retry a missing command" {
    run -127 --separate-stderr retry_with_backoff 5 "$SCRATCH/no such command"
    [[ $stderr == *"the command was not found (exit 127); not retrying"* ]]
}

@test "retry_with_backoff passes arguments verbatim and never evaluates them" {
    cd "$SCRATCH"
    record() { printf '<%s>\n' "$@" >"$SCRATCH/args"; }
    run -0 --separate-stderr retry_with_backoff 2 record 'a b' '$(touch pwned)' '`touch pwned2`' \
        '; touch pwned3' '' '*' '--help'
    [ "$(<"$SCRATCH/args")" = '<a b>
<$(touch pwned)>
<`touch pwned2`>
<; touch pwned3>
<>
<*>
<--help>' ]
    [ ! -e pwned ] && [ ! -e pwned2 ] && [ ! -e pwned3 ]
}

@test "retry_with_backoff treats the error text as data" {
    export ORCH_BACKOFF_BASE_S=0.01
    cd "$SCRATCH"
    run -3 --separate-stderr retry_with_backoff 2 flaky 99 '--exit-code 127 $(touch pwned) -'
    [ "$(<"$COUNTER")" = 2 ]
    [ ! -e pwned ]
}

@test "retry_with_backoff keeps stdout apart from stderr" {
    both() { printf 'to stdout\n'; printf 'to stderr\n' >&2; }
    run -0 --separate-stderr retry_with_backoff 2 both
    [ "$output" = "to stdout" ]
    [ "$stderr" = "to stderr" ]
}

@test "retry_with_backoff survives set -e and pipefail in the caller" {
    run -0 bash -c 'set -euo pipefail; source "$1"; n=0
        f() { n=$((n + 1)); [ -e "$2/ok" ] && return 0; touch "$2/ok"; echo "ECONNRESET" >&2; return 4; }
        ORCH_BACKOFF_BASE_S=0.01 retry_with_backoff 3 f x "$2"; echo "done"' \
        _ "$REPO_ROOT/lib/error-handling.sh" "$SCRATCH"
    [ "${lines[-1]}" = "done" ]
}

@test "retry_with_backoff honours a retry-after, capped by ORCH_BACKOFF_CAP_S" {
    export ORCH_BACKOFF_BASE_S=0.01 ORCH_BACKOFF_CAP_S=0.3
    run -0 --separate-stderr retry_with_backoff 2 flaky 1 "429 Too Many Requests; retry-after: 30"
    [[ $stderr == *"retrying in 0.300s"* ]]
}

@test "a bad ORCH_BACKOFF_BASE_S falls back to the default with a warning" {
    cd "$SCRATCH"
    ORCH_BACKOFF_BASE_S='$(touch pwned)' ORCH_BACKOFF_CAP_S=0.01 \
        run -0 --separate-stderr retry_with_backoff 2 flaky 1 "ECONNRESET"
    [[ $stderr == *"warning: ORCH_BACKOFF_BASE_S is not a number of seconds; using the default"* ]]
    [ ! -e pwned ]
}

# stub_cli — point ORCHESTRATE_BIN at a stand-in for the CLI that logs each call's arguments
# to $CLI_LOG, one call a line, and passes it on to `orchestrate`; `error backoff` answers
# $BACKOFF_REPLY instead when that is set, and fails when it is "fail".
stub_cli() {
    CLI_LOG="$SCRATCH/cli-calls"
    cat >"$SCRATCH/orch" <<'EOF'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$CLI_LOG"
if [[ $1 == error && $2 == backoff && -n ${BACKOFF_REPLY:-} ]]; then
    [[ $BACKOFF_REPLY == fail ]] && exit 2
    printf '%s\n' "$BACKOFF_REPLY"
    exit 0
fi
exec orchestrate "$@"
EOF
    chmod +x "$SCRATCH/orch"
    export CLI_LOG ORCHESTRATE_BIN="$SCRATCH/orch"
}

@test "retry_with_backoff waits the delay that orchestrate error backoff prints" {
    stub_cli
    export BACKOFF_REPLY=0.042 ORCH_BACKOFF_BASE_S=0.5 ORCH_BACKOFF_CAP_S=7
    run -0 --separate-stderr retry_with_backoff 5 flaky 2 "503 Service Unavailable"
    [ "$output" = "ok after 3 tries" ]
    [[ $stderr == *"attempt 1/5 of flaky failed (exit 3, transient); retrying in 0.042s"* ]]
    [[ $stderr == *"attempt 2/5 of flaky failed (exit 3, transient); retrying in 0.042s"* ]]
    # one call per wait, numbered by the attempt that failed, with the settings passed on
    [ "$(grep '^error backoff ' "$CLI_LOG")" = "error backoff --attempt 1 --base 0.5 --cap 7 --max-retry-after 7
error backoff --attempt 2 --base 0.5 --cap 7 --max-retry-after 7" ]
}

@test "retry_with_backoff leaves the defaults to the CLI when the settings are unset or bad" {
    stub_cli
    export BACKOFF_REPLY=0
    run -0 --separate-stderr retry_with_backoff 2 flaky 1 "ECONNRESET"
    [ "$(grep '^error backoff ' "$CLI_LOG")" = "error backoff --attempt 1" ]
    [[ $stderr != *warning* ]]
    rm -f "$CLI_LOG" "$COUNTER"
    ORCH_BACKOFF_BASE_S=-1 ORCH_BACKOFF_CAP_S=soon \
        run -0 --separate-stderr retry_with_backoff 2 flaky 1 "ECONNRESET"
    [ "$(grep '^error backoff ' "$CLI_LOG")" = "error backoff --attempt 1" ]
    [[ $stderr == *"warning: ORCH_BACKOFF_BASE_S is not a number of seconds; using the default"* ]]
    [[ $stderr == *"warning: ORCH_BACKOFF_CAP_S is not a number of seconds; using the default"* ]]
}

@test "retry_with_backoff passes the retry-after on and waits the CLI's seeded delay" {
    stub_cli
    export ORCHESTRATE_BACKOFF_SEED=7 ORCH_BACKOFF_BASE_S=0.2 ORCH_BACKOFF_CAP_S=0.4
    local expected
    expected=$(orchestrate error backoff --attempt 1 --retry-after 0.05 --base 0.2 --cap 0.4 \
        --max-retry-after 0.4)
    run -0 --separate-stderr retry_with_backoff 3 flaky 1 "ECONNRESET; retry after 0.05 seconds"
    [ "$(grep '^error backoff ' "$CLI_LOG")" = \
        "error backoff --attempt 1 --retry-after 0.05 --base 0.2 --cap 0.4 --max-retry-after 0.4" ]
    [[ $stderr == *"(exit 3, transient); retrying in ${expected}s"* ]]
}

@test "retry_with_backoff gives up when the CLI gives no delay" {
    stub_cli
    cd "$SCRATCH"
    local reply
    for reply in fail soon '1; touch pwned' '$(touch pwned)'; do
        rm -f "$COUNTER"
        BACKOFF_REPLY=$reply run -3 --separate-stderr retry_with_backoff 5 flaky 9 "ECONNRESET"
        [ "$(<"$COUNTER")" = 1 ]
        [[ $stderr == *"flaky failed (exit 3) and orchestrate error backoff gave no delay; giving up"* ]]
    done
    [ ! -e pwned ]
}

@test "sourcing defines functions only and leaves shell options alone" {
    run -0 bash -c 'before=$(set +o); source "$1"; after=$(set +o); [ "$before" = "$after" ] &&
        declare -F classify_error suggest_recovery format_error_report retry_with_backoff' \
        _ "$REPO_ROOT/lib/error-handling.sh"
}

# A fake key, assembled at run time so that no key-shaped literal sits in the source.
fake_key() {
    printf 'sk-ant-api03-%s' "$(printf 'Zq7%.0s' {1..30})"
}

@test "orchestrate error redact copies stdin with secrets redacted" {
    local key
    key=$(fake_key)
    run -0 --separate-stderr orch_cli error redact < <(printf 'a\\n%s b\nSECRET_X=abcdefgh123\n' "$key")
    [ "$output" = 'a\n[REDACTED:anthropic-key] b
SECRET_X=[REDACTED:secret]' ]
}

@test "retry_with_backoff keeps no file and no raw secret, however the command ends" {
    # the CLI as retry_with_backoff sees it, logging its arguments and the classified text
    CLI_LOG="$SCRATCH/cli-calls"
    cat >"$SCRATCH/orch" <<'EOF'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$CLI_LOG"
if [[ $1 == error && $2 == classify ]]; then
    tee -a "$CLI_LOG" | orchestrate "$@"
else
    exec orchestrate "$@"
fi
EOF
    chmod +x "$SCRATCH/orch"
    KEY=$(fake_key)
    export CLI_LOG KEY ORCHESTRATE_BIN="$SCRATCH/orch" ORCH_BACKOFF_BASE_S=0.01
    export TMPDIR="$SCRATCH/tmp"
    mkdir "$TMPDIR"
    killed() { printf 'ECONNRESET with key=%s\n' "$KEY" >&2; kill -KILL "$BASHPID"; }
    run -137 --separate-stderr retry_with_backoff 2 killed
    [[ $stderr == *"killed failed 2 times (exit 137); giving up"* ]]
    [ -z "$(ls -A "$TMPDIR")" ]
    run -1 grep -rqF "$KEY" "$TMPDIR" "$CLI_LOG"
    grep -qF "ECONNRESET with key=[REDACTED:anthropic-key]" "$CLI_LOG"
    # ended by a signal while the command runs: nothing is left behind either
    slow() { printf 'token %s\n' "$KEY" >&2; sleep 30; }
    export -f slow
    setsid bash -c 'source "$1"; retry_with_backoff 3 slow' _ "$REPO_ROOT/lib/error-handling.sh" \
        2>/dev/null &
    local group=$!
    sleep 0.5
    kill -TERM -- "-$group"
    wait "$group" || :
    [ -z "$(ls -A "$TMPDIR")" ]
}
