#!/usr/bin/env bats
# lib/dependency-analyzer.sh: analyze_dependencies over `orchestrate plan waves --json`.

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    # shellcheck source=lib/dependency-analyzer.sh
    source "$REPO_ROOT/lib/dependency-analyzer.sh"
}

@test "analyze_dependencies prints the waves JSON of a plan" {
    run -0 --separate-stderr analyze_dependencies "$REPO_ROOT/examples/feature-plan.md"
    [ "$(jq -r '.schema' <<<"$output")" = "orchestrate/waves@1" ]
    [ "$(jq -c '.waves' <<<"$output")" = '[["1"],["2","3"],["4"],["5"]]' ]
    [ "$(jq -c '.critical_path' <<<"$output")" = '["1","3","4","5"]' ]
    [ "$(jq -r '.metrics.time_savings_percentage' <<<"$output")" = "32" ]
}

@test "a plan whose path has spaces and shell syntax is passed as data" {
    local name='plan $(touch pwned) `touch pwned2`; rm -rf x.md'
    plan=$(write_plan "$name" <<'PLAN'
## Phase 1: A
- **Depends on:** none
## Phase 2: B
- **Depends on:** Phase 1
PLAN
)
    cd "$SCRATCH"
    run -0 --separate-stderr analyze_dependencies "$plan"
    [ "$(jq -c '.waves' <<<"$output")" = '[["1"],["2"]]' ]
    [ ! -e pwned ] && [ ! -e pwned2 ]
}

@test "a plan name starting with a dash is not taken for an option" {
    cd "$SCRATCH"
    write_plan "--help.md" >/dev/null <<'PLAN'
## Phase 1: A
- **Depends on:** none
PLAN
    run -0 --separate-stderr analyze_dependencies "--help.md"
    [ "$(jq -c '.waves' <<<"$output")" = '[["1"]]' ]
}

@test "--format is passed through" {
    plan=$(write_plan "chain.md" <<'PLAN'
## Phase 1: A
- **Depends on:** none
## Phase 2: B
- **Depends on:** none
PLAN
)
    run -0 --separate-stderr analyze_dependencies "$plan"
    [ "$(jq -c '.waves' <<<"$output")" = '[["1","2"]]' ]
    run -0 --separate-stderr analyze_dependencies "$plan" --format spec
    [ "$(jq -c '.waves' <<<"$output")" = '[["1"],["2"]]' ]
}

@test "an invalid plan returns 2 with file:line on stderr" {
    plan=$(write_plan "cycle.md" <<'PLAN'
## Phase 1: A
- **Depends on:** Phase 2
## Phase 2: B
- **Depends on:** Phase 1
PLAN
)
    run -2 --separate-stderr analyze_dependencies "$plan"
    # under --json an error is a JSON object on stdout too, so a caller never parses nothing
    [ "$(jq -r '.schema' <<<"$output")" = "orchestrate/error@1" ]
    [ "$(jq -r '.exit_code' <<<"$output")" = "2" ]
    [ "$stderr" = "$plan:2: cycle: 1 -> 2 -> 1" ]
}

@test "a missing plan returns 2 naming the file" {
    run -2 --separate-stderr analyze_dependencies "$SCRATCH/absent.md"
    [ "$stderr" = "$SCRATCH/absent.md:0: no such file" ]
}

@test "no argument is a usage error" {
    run -2 --separate-stderr analyze_dependencies
    [[ $stderr == usage:* ]]
}

@test "without the CLI it says how to get it" {
    PATH=/usr/bin:/bin
    unset ORCHESTRATE_BIN
    run -127 --separate-stderr analyze_dependencies "$REPO_ROOT/examples/feature-plan.md"
    [[ $stderr == *"install.sh"* ]]
}

@test "ORCHESTRATE_BIN chooses the CLI" {
    ORCHESTRATE_BIN=$(command -v orchestrate) PATH=/usr/bin:/bin \
        run -0 --separate-stderr analyze_dependencies "$REPO_ROOT/examples/feature-plan.md"
    [ "$(jq -r '.format' <<<"$output")" = "plan" ]
}

@test "sourcing defines functions only and leaves shell options alone" {
    run -0 bash -c 'before=$(set +o); source "$1"; after=$(set +o); [ "$before" = "$after" ] && declare -F analyze_dependencies' _ "$REPO_ROOT/lib/dependency-analyzer.sh"
}
