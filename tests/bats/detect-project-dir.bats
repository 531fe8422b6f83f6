#!/usr/bin/env bats
# lib/detect-project-dir.sh: detect_project_dir over `orchestrate topic project-dir`.

# shellcheck disable=SC2154  # $stderr is set by bats' run --separate-stderr

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    unset CLAUDE_PROJECT_DIR
    # shellcheck source=lib/detect-project-dir.sh
    source "$REPO_ROOT/lib/detect-project-dir.sh"
    cd "$SCRATCH" || return 1
    ROOT=$(pwd -P)
}

@test "the git top level, from a folder inside it; CLAUDE_PROJECT_DIR is set" {
    mkdir -p .git "deep er/sub"
    cd "deep er/sub" || return 1
    # shellcheck disable=SC2119  # it takes no arguments; it checks that none are given
    detect_project_dir >"$BATS_TEST_TMPDIR/out"
    [ "$(<"$BATS_TEST_TMPDIR/out")" = "$ROOT" ]
    [ "$CLAUDE_PROJECT_DIR" = "$ROOT" ]
    [ "$(bash -c 'printf %s "$CLAUDE_PROJECT_DIR"')" = "$ROOT" ]  # exported
}

@test "outside a git repository, the current directory" {
    run -0 --separate-stderr detect_project_dir
    [ "$output" = "$ROOT" ]
}

@test "CLAUDE_PROJECT_DIR wins when set" {
    mkdir -p .git "other project"
    CLAUDE_PROJECT_DIR="$ROOT/other project" run -0 --separate-stderr detect_project_dir
    [ "$output" = "$ROOT/other project" ]
}

@test "a CLAUDE_PROJECT_DIR that is no directory returns 2; arguments are refused" {
    CLAUDE_PROJECT_DIR="$ROOT/missing" run -2 --separate-stderr detect_project_dir
    [[ $stderr == *"is not a directory"* ]]
    run -2 --separate-stderr detect_project_dir extra
    [[ $stderr == usage:* ]]
}

@test "sourcing defines functions only and leaves shell options alone" {
    # shellcheck disable=SC2016  # the script is run by bash -c
    run -0 bash -c 'before=$(set +o); source "$1"; after=$(set +o); [ "$before" = "$after" ] && declare -F detect_project_dir' _ "$REPO_ROOT/lib/detect-project-dir.sh"
}
