#!/usr/bin/env bats
# lib/artifact-creation.sh: get_or_create_topic_dir and create_topic_artifact over
# `orchestrate topic`.

# shellcheck disable=SC2154  # $stderr is set by bats' run --separate-stderr

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    unset CLAUDE_PROJECT_DIR
    # shellcheck source=lib/artifact-creation.sh
    source "$REPO_ROOT/lib/artifact-creation.sh"
    cd "$SCRATCH" || return 1
    ROOT=$(pwd -P)
}

@test "the same description gets the same topic folder" {
    run -0 --separate-stderr get_or_create_topic_dir "Add caching"
    [ "$output" = "$ROOT/specs/001_add_caching" ]
    [ -d "$output/reports" ] && [ -d "$output/outputs" ]
    run -0 --separate-stderr get_or_create_topic_dir "add   CACHING!"
    [ "$output" = "$ROOT/specs/001_add_caching" ]
    run -0 --separate-stderr get_or_create_topic_dir "Something else"
    [ "$output" = "$ROOT/specs/002_something_else" ]
}

@test "artifact paths are numbered within their folder, and only the folder is made" {
    local topic
    topic=$(get_or_create_topic_dir "auth")
    rmdir "$topic/reports"
    run -0 --separate-stderr create_topic_artifact "$topic" reports "existing patterns"
    [ "$output" = "$topic/reports/001_existing_patterns.md" ]
    [ -d "$topic/reports" ] && [ ! -e "$output" ]
    : >"$output"
    run -0 --separate-stderr create_topic_artifact "$topic" reports "Best Practices.md"
    [ "$output" = "$topic/reports/002_best_practices.md" ]
    run -0 --separate-stderr create_topic_artifact "$topic" plans "implementation" ""
    [ "$output" = "$topic/plans/001_implementation.md" ]
}

@test "names are data: shell syntax and dashes become a safe file name" {
    local topic
    topic=$(get_or_create_topic_dir "auth")
    # shellcheck disable=SC2016  # the shell syntax is meant literally
    run -0 --separate-stderr create_topic_artifact "$topic" debug '--x $(touch pwned); ../../y'
    [ "$output" = "$topic/debug/001_x_touch_pwned_y.md" ]
    [ ! -e pwned ]
}

@test "a bad kind, a folder that is no topic, or CONTENT returns 2" {
    local topic
    topic=$(get_or_create_topic_dir "auth")
    run -2 --separate-stderr create_topic_artifact "$topic" secrets x
    [[ $stderr == *"invalid choice"* ]]
    run -2 --separate-stderr create_topic_artifact "$ROOT" reports x
    [[ $stderr == *"not a topic folder"* ]]
    run -2 --separate-stderr create_topic_artifact "$ROOT/specs/009_missing" reports x
    [[ $stderr == *"no such topic folder"* ]]
    run -2 --separate-stderr create_topic_artifact "$topic" reports x "some content"
    [[ $stderr == *"write the file at the printed path"* ]]
    run -2 --separate-stderr create_topic_artifact "$topic" reports
    run -2 --separate-stderr get_or_create_topic_dir "auth" ".claude/specs"
    [[ $stderr == *"topics go in specs/"* ]]
}

@test "a planted link for a kind folder is refused" {
    local topic
    topic=$(get_or_create_topic_dir "auth")
    rmdir "$topic/reports"
    ln -s "$BATS_TEST_TMPDIR" "$topic/reports"
    run -2 --separate-stderr create_topic_artifact "$topic" reports x
    [[ $stderr == *"symbolic link"* ]]
}

@test "sourcing defines functions only and leaves shell options alone" {
    # shellcheck disable=SC2016  # the script is run by bash -c
    run -0 bash -c 'before=$(set +o); source "$1"; after=$(set +o); [ "$before" = "$after" ] && declare -F get_or_create_topic_dir create_topic_artifact' _ "$REPO_ROOT/lib/artifact-creation.sh"
}
