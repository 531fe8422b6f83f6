#!/usr/bin/env bats
# lib/unified-location-detection.sh: perform_location_detection over `orchestrate topic`.

# shellcheck disable=SC2154  # $stderr is set by bats' run --separate-stderr

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    unset CLAUDE_PROJECT_DIR
    # shellcheck source=lib/unified-location-detection.sh
    source "$REPO_ROOT/lib/unified-location-detection.sh"
    cd "$SCRATCH" || return 1
    ROOT=$(pwd -P)
}

@test "the location context is printed as JSON and set in the caller's shell" {
    perform_location_detection "Add user authentication with OAuth2" >"$BATS_TEST_TMPDIR/out"
    local json
    json=$(<"$BATS_TEST_TMPDIR/out")
    [ "$TOPIC_PATH" = "$ROOT/specs/001_add_user_authentication_with_oauth2" ]
    [ "$TOPIC_NUMBER" = "001" ]
    [ "$TOPIC_NAME" = "add_user_authentication_with_oauth2" ]
    [ "$ARTIFACT_REPORTS" = "$TOPIC_PATH/reports/" ]
    [ "$ARTIFACT_OUTPUTS" = "$TOPIC_PATH/outputs/" ]
    [ "$WORKFLOW_TOPIC_DIR" = "$TOPIC_PATH" ] && [ "$WORKFLOW_TOPIC_NUMBER" = 001 ]
    [ "$(bash -c 'printf %s "$ARTIFACT_PLANS"')" = "$TOPIC_PATH/plans/" ]  # exported
    [ "$(jq -r .schema <<<"$json")" = "orchestrate/topic@1" ]
    [ "$(jq -r .topic_path <<<"$json")" = "$TOPIC_PATH" ]
    [ "$(jq -r .topic_number <<<"$json")" = "001" ]
    [ "$(jq -r .artifact_paths.debug <<<"$json")" = "$TOPIC_PATH/debug/" ]
    local kind
    for kind in reports plans summaries debug scripts outputs; do
        [ -d "$TOPIC_PATH/$kind" ]
    done
}

@test "in a subshell, the JSON carries the context; numbers go up" {
    local first second
    first=$(perform_location_detection "first feature")
    second=$(perform_location_detection "second feature")
    [ "$(jq -r .topic_number <<<"$first")" = "001" ]
    [ "$(jq -r .topic_number <<<"$second")" = "002" ]
    [ -d "$ROOT/specs/002_second_feature/plans" ]
}

@test "a hostile description runs nothing and stays inside specs" {
    # shellcheck disable=SC2016  # the shell syntax is meant literally
    local hostile='$(touch pwned) `touch pwned2`; touch pwned3
../../etc; rm -rf ~'
    run -0 --separate-stderr perform_location_detection "$hostile"
    [ "$(jq -r .topic_name <<<"$output")" = "touch_pwned_touch_pwned2_touch_pwned3_etc_rm_rf" ]
    [ ! -e pwned ] && [ ! -e pwned2 ] && [ ! -e pwned3 ]
    [ "$(find "$ROOT" -mindepth 1 -maxdepth 1 | wc -l)" -eq 1 ]  # only specs/
}

@test "a description with leading dashes is not an option" {
    run -0 --separate-stderr perform_location_detection "--help"
    [ "$(jq -r .topic_name <<<"$output")" = "help" ]
    run -0 --separate-stderr perform_location_detection "-x --dry-run"
    [ "$(jq -r .topic_name <<<"$output")" = "x_dry_run" ]
    [ -d "$ROOT/specs/002_x_dry_run" ]
}

@test "DRY_RUN true makes nothing" {
    run -0 --separate-stderr perform_location_detection "preview me" true
    [ "$(jq -r .topic_path <<<"$output")" = "$ROOT/specs/001_preview_me" ]
    [ "$(jq -r .exists <<<"$output")" = "false" ]
    [ ! -e "$ROOT/specs" ]
}

@test "bad usage returns 2" {
    run -2 --separate-stderr perform_location_detection
    [[ $stderr == usage:* ]]
    run -2 --separate-stderr perform_location_detection ""
    run -2 --separate-stderr perform_location_detection "x" maybe
    [ ! -e "$ROOT/specs" ]
}

@test "a planted specs link is refused with 2 and not written through" {
    mkdir "$BATS_TEST_TMPDIR/elsewhere"
    ln -s "$BATS_TEST_TMPDIR/elsewhere" specs
    run -2 --separate-stderr perform_location_detection "feature"
    [[ $stderr == *"symbolic link"* ]]
    [ -z "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ]
}

@test "sourcing defines functions only and leaves shell options alone" {
    # shellcheck disable=SC2016  # the script is run by bash -c
    run -0 bash -c 'before=$(set +o); source "$1"; after=$(set +o); [ "$before" = "$after" ] && declare -F perform_location_detection' _ "$REPO_ROOT/lib/unified-location-detection.sh"
}
