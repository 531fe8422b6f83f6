#!/usr/bin/env bats
# lib/artifact-registry.sh: register_artifact and list_artifacts.

# shellcheck disable=SC2154  # $stderr is set by bats' run --separate-stderr

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    # shellcheck source=lib/artifact-registry.sh
    source "$REPO_ROOT/lib/artifact-registry.sh"
    cd "$SCRATCH" || return 1
    mkdir "topic dir"
}

@test "registered paths come back in order, by kind, as data" {
    # shellcheck disable=SC2016  # meant literally
    local tricky='reports/$(touch pwned) `x`; "q" \n.md'
    register_artifact "topic dir" reports "$tricky"
    register_artifact "topic dir" plans "-n plans/001 plan.md"
    register_artifact "topic dir" reports reports/002.md
    run -0 --separate-stderr list_artifacts "topic dir"
    [ "$output" = "$tricky
-n plans/001 plan.md
reports/002.md" ]
    run -0 --separate-stderr list_artifacts "topic dir" reports
    [ "$output" = "$tricky
reports/002.md" ]
    [ "$(jq -r .kind "topic dir/artifacts.jsonl" | sort -u | tr '\n' ' ')" = "plans reports " ]
    [ ! -e pwned ]
}

@test "nothing registered prints nothing; a bad line is skipped" {
    run -0 --separate-stderr list_artifacts "topic dir"
    [ -z "$output" ]
    printf 'not json\n' >"topic dir/artifacts.jsonl"
    register_artifact "topic dir" debug d.md
    run -0 --separate-stderr list_artifacts "topic dir"
    [ "$output" = d.md ]
}

@test "bad arguments give messages" {
    run -2 --separate-stderr register_artifact "topic dir" 'Bad kind' p
    [[ $stderr == *KIND* ]]
    run -2 --separate-stderr register_artifact "topic dir" reports "a
b"
    run -2 --separate-stderr register_artifact "topic dir" reports
    run -1 --separate-stderr register_artifact absent reports p
    [[ $stderr == *"no such topic folder"* ]]
    run -1 --separate-stderr list_artifacts absent
    [ ! -e "topic dir/artifacts.jsonl" ]
}
