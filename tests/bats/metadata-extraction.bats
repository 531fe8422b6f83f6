#!/usr/bin/env bats
# lib/metadata-extraction.sh: extract_report_metadata over `orchestrate topic metadata`.

# shellcheck disable=SC2154  # $stderr is set by bats' run --separate-stderr

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    # shellcheck source=lib/metadata-extraction.sh
    source "$REPO_ROOT/lib/metadata-extraction.sh"
    cd "$SCRATCH" || return 1
}

@test "title, summary, findings and sections as JSON" {
    local report
    report=$(write_plan "report one.md" <<'MD'
# Research: caching

## Summary

Use an LRU cache in front of the database.

## Key Findings

- Reads dominate writes 20 to 1
- The hot set fits in memory

## Sources
MD
)
    run -0 --separate-stderr extract_report_metadata "$report"
    [ "$(jq -r .schema <<<"$output")" = "orchestrate/report-metadata@1" ]
    [ "$(jq -r .path <<<"$output")" = "$report" ]
    [ "$(jq -r .title <<<"$output")" = "Research: caching" ]
    [ "$(jq -r .summary <<<"$output")" = "Use an LRU cache in front of the database." ]
    [ "$(jq -c .key_findings <<<"$output")" = '["Reads dominate writes 20 to 1","The hot set fits in memory"]' ]
    [ "$(jq -c .sections <<<"$output")" = '["Summary","Key Findings","Sources"]' ]
}

@test "a file named like an option is a file" {
    printf '# Dash\n' >"./--help"
    run -0 --separate-stderr extract_report_metadata "--help"
    [ "$(jq -r .title <<<"$output")" = "Dash" ]
}

@test "a missing file returns 2 with a JSON error; no argument is usage" {
    run -2 --separate-stderr extract_report_metadata "no such.md"
    [[ $stderr == *"no such.md: no such file"* ]]
    [ "$(jq -r .exit_code <<<"$output")" = "2" ]
    run -2 --separate-stderr extract_report_metadata
    [[ $stderr == usage:* ]]
}

@test "sourcing defines functions only and leaves shell options alone" {
    # shellcheck disable=SC2016  # the script is run by bash -c
    run -0 bash -c 'before=$(set +o); source "$1"; after=$(set +o); [ "$before" = "$after" ] && declare -F extract_report_metadata' _ "$REPO_ROOT/lib/metadata-extraction.sh"
}
