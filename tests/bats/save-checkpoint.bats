#!/usr/bin/env bats
# lib/save-checkpoint.sh: the seed's checkpoint-saving script (read back with load-checkpoint.sh).

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

@test "save prints the file and load gives the JSON back, shell syntax kept as data" {
    # shellcheck disable=SC2016  # the shell syntax is meant literally
    local json='{"note":"$(touch pwned) `touch pwned2`; x","phase":2}'
    run -0 --separate-stderr "$SAVE" orchestrate "my project" "$json"
    [ "$output" = "$ORCHESTRATE_STATE_DIR/checkpoints/orchestrate-my-project.json" ]
    run -0 --separate-stderr "$LOAD" orchestrate "my project"
    [ "$(jq -c . <<<"$output")" = "$(jq -c . <<<"$json")" ]
    run -0 --separate-stderr "$LOAD" orchestrate
    [ "$(jq -r .phase <<<"$output")" = 2 ]
    [ ! -e pwned ] && [ ! -e pwned2 ]
}

@test "a project starting with a dash is data, not an option" {
    run -0 --separate-stderr "$SAVE" orchestrate --help '{"a":1}'
    run -0 --separate-stderr "$LOAD" orchestrate --help
    [ "$(jq -c . <<<"$output")" = '{"a":1}' ]
}

@test "bad arguments are refused with a message" {
    run -2 --separate-stderr "$SAVE" orchestrate p
    [[ $stderr == usage:* ]]
    run -2 --separate-stderr "$SAVE" "Bad-Name" p '{}'
    run -2 --separate-stderr "$SAVE" orchestrate p ''
    run -2 --separate-stderr "$SAVE" orchestrate p '[1,2]'
    run -2 --separate-stderr "$SAVE" orchestrate p 'phase_name: x'
    run -2 --separate-stderr "$LOAD"
    [ ! -d "$ORCHESTRATE_STATE_DIR/checkpoints" ] || [ -z "$(ls -A "$ORCHESTRATE_STATE_DIR/checkpoints")" ]
}
