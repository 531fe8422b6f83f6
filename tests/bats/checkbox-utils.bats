#!/usr/bin/env bats
# lib/checkbox-utils.sh: update_checkbox and count_checkboxes.

# shellcheck disable=SC2154  # $stderr is set by bats' run --separate-stderr
# shellcheck disable=SC2016  # shell syntax in the test data is meant literally

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    # shellcheck source=lib/checkbox-utils.sh
    source "$REPO_ROOT/lib/checkbox-utils.sh"
    cd "$SCRATCH" || return 1
    printf '# Plan\n- [ ] Phase 1: a.* [x]\n  - [ ] Phase 2: $(touch pwned)\r\n* [X] Phase 3\n- [ ] Phase 1: again\nno newline' >plan.md
}

@test "marks the first matching box, every other byte unchanged" {
    update_checkbox plan.md 'a.* [x]' 'done'
    [ "$(od -c plan.md)" = "$(printf '# Plan\n- [x] Phase 1: a.* [x]\n  - [ ] Phase 2: $(touch pwned)\r\n* [X] Phase 3\n- [ ] Phase 1: again\nno newline' | od -c)" ]
    update_checkbox plan.md 'Phase 1' todo
    update_checkbox plan.md '$(touch pwned)' 'done'
    [ "$(od -c plan.md)" = "$(printf '# Plan\n- [ ] Phase 1: a.* [x]\n  - [x] Phase 2: $(touch pwned)\r\n* [X] Phase 3\n- [ ] Phase 1: again\nno newline' | od -c)" ]
    [ ! -e pwned ]
    [ -z "$(find . -name '.checkbox.*')" ]
}

@test "the pattern is a fixed string, not a regex" {
    run -1 --separate-stderr update_checkbox plan.md 'Phase .' 'done'
    [[ $stderr == *"no checkbox containing 'Phase .'"* ]]
}

@test "a box already in the state is left alone; the mode is kept" {
    chmod 640 plan.md
    update_checkbox plan.md 'Phase 2' 'done'
    [ "$(stat -c %a plan.md)" = 640 ]
    cp plan.md before
    update_checkbox plan.md 'Phase 3' 'done'
    cmp plan.md before
}

@test "count_checkboxes prints done and total" {
    run -0 --separate-stderr count_checkboxes plan.md
    [ "$output" = "1 4" ]
    update_checkbox plan.md 'Phase 2' 'done'
    run -0 count_checkboxes plan.md
    [ "$output" = "2 4" ]
    : >empty.md
    run -0 count_checkboxes empty.md
    [ "$output" = "0 0" ]
}

@test "bad arguments give messages" {
    run -2 --separate-stderr update_checkbox plan.md 'Phase 1' finished
    [[ $stderr == *"done or todo"* ]]
    run -2 --separate-stderr update_checkbox plan.md '' 'done'
    run -1 --separate-stderr update_checkbox absent.md x 'done'
    run -1 --separate-stderr count_checkboxes absent.md
    run -2 --separate-stderr count_checkboxes
}
