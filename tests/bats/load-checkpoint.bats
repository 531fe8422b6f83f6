#!/usr/bin/env bats
# lib/load-checkpoint.sh: the latest checkpoint of a workflow (saved by lib/save-checkpoint.sh).

# shellcheck disable=SC2154  # $stderr is set by bats' run --separate-stderr

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    ORCHESTRATE_STATE_DIR="$BATS_TEST_TMPDIR/state dir with spaces"
    export ORCHESTRATE_STATE_DIR
    SAVE="$REPO_ROOT/lib/save-checkpoint.sh"
    LOAD="$REPO_ROOT/lib/load-checkpoint.sh"
    cd "$SCRATCH" || return 1
}

@test "saving again replaces the state; load without a project takes the newest" {
    "$SAVE" orchestrate p1 '{"a":1,"b":2}' >/dev/null
    "$SAVE" orchestrate p1 '{"a":3}' >/dev/null
    run -0 --separate-stderr "$LOAD" orchestrate p1
    [ "$(jq -c . <<<"$output")" = '{"a":3}' ]
    sleep 0.01
    "$SAVE" orchestrate p2 '{"p":2}' >/dev/null
    "$SAVE" other_wf p3 '{"p":3}' >/dev/null
    run -0 --separate-stderr "$LOAD" orchestrate
    [ "$(jq -c . <<<"$output")" = '{"p":2}' ]
}

@test "no checkpoint: exit 1, nothing on stdout" {
    run -1 --separate-stderr "$LOAD" orchestrate
    [ -z "$output" ] && [ -n "$stderr" ]
    run -1 --separate-stderr "$LOAD" orchestrate absent
    [ -z "$output" ]
    local got
    got=$("$LOAD" orchestrate 2>/dev/null || echo "")
    [ -z "$got" ]
}
