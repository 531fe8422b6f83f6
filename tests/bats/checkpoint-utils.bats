#!/usr/bin/env bats
# lib/checkpoint-utils.sh: save_checkpoint, load_checkpoint, list_checkpoints and
# delete_checkpoint over `orchestrate checkpoint`.

# shellcheck disable=SC2154  # $stderr is set by bats' run --separate-stderr

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    # shellcheck source=lib/checkpoint-utils.sh
    source "$REPO_ROOT/lib/checkpoint-utils.sh"
    ORCHESTRATE_STATE_DIR="$BATS_TEST_TMPDIR/state dir with spaces"
    export ORCHESTRATE_STATE_DIR
    CHECKPOINTS="$ORCHESTRATE_STATE_DIR/checkpoints"
    cd "$SCRATCH" || return 1
}

@test "a round trip keeps strings with spaces, quotes and shell syntax as data" {
    # shellcheck disable=SC2016  # the shell syntax is meant literally
    local tricky='a "quoted" $(touch pwned) `touch pwned2`; it'\''s $HOME'
    run -0 --separate-stderr save_checkpoint "my workflow" "note=$tricky" 'path=dir with spaces/plan.md'
    [ "$output" = "$CHECKPOINTS/my-workflow.json" ]
    run -0 --separate-stderr load_checkpoint "my workflow" note
    [ "$output" = "$tricky" ]
    run -0 --separate-stderr load_checkpoint "my workflow" path
    [ "$output" = "dir with spaces/plan.md" ]
    [ ! -e pwned ] && [ ! -e pwned2 ]
}

@test "values that are JSON keep their type; the rest are strings" {
    run -0 --separate-stderr save_checkpoint wf current_phase=3 done=false \
        'completed_phases=[1,2]' 'quoted="42"' plan=specs/013.md zero=007 empty=
    run -0 --separate-stderr load_checkpoint wf
    [ "$(jq -c '[.current_phase, .done, .completed_phases, .quoted, .plan, .zero, .empty]' <<<"$output")" = '[3,false,[1,2],"42","specs/013.md","007",""]' ]
    run -0 --separate-stderr load_checkpoint wf completed_phases
    [ "$(jq -c . <<<"$output")" = '[1,2]' ]
    run -0 --separate-stderr load_checkpoint wf current_phase
    [ "$output" = "3" ]
}

@test "saving again merges keys into the checkpoint" {
    save_checkpoint wf plan_path=a.md current_phase=1 >/dev/null
    save_checkpoint wf current_phase=2 >/dev/null
    run -0 --separate-stderr load_checkpoint wf
    [ "$(jq -c . <<<"$output")" = '{"plan_path":"a.md","current_phase":2}' ]
}

@test "a multi-line value and one with = and a leading dash survive" {
    save_checkpoint wf "log=line one
line two" 'flag=--x=1' >/dev/null
    run -0 --separate-stderr load_checkpoint wf log
    [ "$output" = "line one
line two" ]
    run -0 --separate-stderr load_checkpoint wf flag
    [ "$output" = "--x=1" ]
}

@test "a missing checkpoint returns 2 and names the known ones" {
    save_checkpoint other a=1 >/dev/null
    run -2 --separate-stderr load_checkpoint absent
    [ "$output" = "" ]
    [[ $stderr == *"no checkpoint named absent"* ]]
    [[ $stderr == *"known checkpoints: other"* ]]
}

@test "a missing key returns 1" {
    save_checkpoint wf a=1 >/dev/null
    run -1 --separate-stderr load_checkpoint wf b
    [ "$output" = "" ]
    [[ $stderr == *"has no key 'b'"* ]]
}

@test "a hostile name stays inside the checkpoints folder" {
    run -0 --separate-stderr save_checkpoint "../../etc/passwd" a=1
    [ "$output" = "$CHECKPOINTS/etc-passwd.json" ]
    [ "$(find "$BATS_TEST_TMPDIR" -name '*.json' | wc -l)" -eq 1 ]
}

@test "a name starting with a dash is not taken for an option" {
    run -0 --separate-stderr save_checkpoint --help a=1
    [ "$output" = "$CHECKPOINTS/help.json" ]
    run -0 --separate-stderr load_checkpoint --help a
    [ "$output" = "1" ]
}

@test "a secret in a value never reaches the file" {
    local key
    key="sk-ant-api03-$(printf 'x%.0s' {1..90})"
    save_checkpoint wf "token=$key" >/dev/null
    run -1 grep -c "sk-ant-api03" "$CHECKPOINTS/wf.json"
    run -0 --separate-stderr load_checkpoint wf token
    [ "$output" = "[REDACTED:anthropic-key]" ]
}

@test "list_checkpoints and delete_checkpoint" {
    save_checkpoint beta b=2 >/dev/null
    save_checkpoint alpha a=1 >/dev/null
    run -0 --separate-stderr list_checkpoints --json
    [ "$(jq -r '.schema' <<<"$output")" = "orchestrate/checkpoints@1" ]
    [ "$(jq -c '[.checkpoints[].name]' <<<"$output")" = '["alpha","beta"]' ]
    run -0 --separate-stderr list_checkpoints
    [[ ${lines[1]} == alpha* ]] && [[ ${lines[2]} == beta* ]]
    run -0 --separate-stderr delete_checkpoint alpha
    [ ! -e "$CHECKPOINTS/alpha.json" ]
    run -2 --separate-stderr delete_checkpoint alpha
    [[ $stderr == *"no checkpoint named alpha"* ]]
}

@test "a corrupt checkpoint returns 2 naming the file and is left untouched" {
    mkdir -p "$CHECKPOINTS"
    printf '{"schema": ' >"$CHECKPOINTS/wf.json"
    run -2 --separate-stderr load_checkpoint wf
    [[ $stderr == *"$CHECKPOINTS/wf.json: is not valid JSON"* ]]
    run -2 --separate-stderr save_checkpoint wf a=1
    [ "$(cat "$CHECKPOINTS/wf.json")" = '{"schema": ' ]
}

@test "wrong arguments are usage errors" {
    run -2 --separate-stderr save_checkpoint
    [[ $stderr == usage:* ]]
    run -2 --separate-stderr load_checkpoint
    [[ $stderr == usage:* ]]
    run -2 --separate-stderr load_checkpoint a b c
    [[ $stderr == usage:* ]]
    run -2 --separate-stderr delete_checkpoint
    [[ $stderr == usage:* ]]
    run -2 --separate-stderr list_checkpoints --yaml
    [[ $stderr == usage:* ]]
    run -2 --separate-stderr save_checkpoint wf novalue
    [[ $stderr == *"expected KEY=VALUE"* ]]
}

@test "sourcing defines functions only and leaves shell options alone" {
    # shellcheck disable=SC2016  # expanded by the inner bash
    run -0 bash -c 'before=$(set +o); source "$1"; after=$(set +o); [ "$before" = "$after" ] && declare -F save_checkpoint load_checkpoint list_checkpoints delete_checkpoint' _ "$REPO_ROOT/lib/checkpoint-utils.sh"
}
