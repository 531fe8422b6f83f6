#!/usr/bin/env bats
# lib/template-integration.sh: render_template and list_templates.

# shellcheck disable=SC2154  # $stderr is set by bats' run --separate-stderr

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    # shellcheck source=lib/template-integration.sh
    source "$REPO_ROOT/lib/template-integration.sh"
    cd "$SCRATCH" || return 1
}

@test "placeholders get the values as plain text; unknown ones are kept" {
    printf 'Topic: {{TOPIC}}\nPath: {{REPORT_PATH}} {{TOPIC}}\nKeep {{OTHER}} and {{ not }}\n' >t.md
    # shellcheck disable=SC2016  # meant literally
    local tricky='$(touch pwned) `touch pwned2`; & \1 {{REPORT_PATH}} /g'
    run -0 --separate-stderr render_template t.md "TOPIC=$tricky" "REPORT_PATH=-n a b"
    [ "$output" = "Topic: $tricky
Path: -n a b $tricky
Keep {{OTHER}} and {{ not }}" ]
    [ ! -e pwned ] && [ ! -e pwned2 ]
}

@test "a multi-line value, = in a value and a missing trailing newline survive" {
    printf '{{A}}|{{B}}' >t.md
    render_template t.md "A=one
two" "B=x=y" >out
    [ "$(od -c out)" = "$(printf 'one\ntwo|x=y' | od -c)" ]
}

@test "bad arguments and missing files give messages" {
    printf '{{A}}' >t.md
    run -2 --separate-stderr render_template t.md 'A;rm=1'
    [[ $stderr == *"not KEY=VALUE"* ]]
    run -2 --separate-stderr render_template t.md novalue
    run -1 --separate-stderr render_template absent.md A=1
    [[ $stderr == *"cannot read template"* ]]
    run -2 --separate-stderr render_template
}

@test "list_templates prints the files of a folder, sorted" {
    mkdir -p "tpl dir/sub"
    touch "tpl dir/b.md" "tpl dir/a b.yaml"
    run -0 --separate-stderr list_templates "tpl dir/"
    [ "$output" = "tpl dir/a b.yaml
tpl dir/b.md" ]
    mkdir empty
    run -0 --separate-stderr list_templates empty
    [ -z "$output" ]
    run -1 --separate-stderr list_templates absent
}
