#!/usr/bin/env bats
# lib/validate-orchestrate-pattern.sh: slash command files follow the orchestrate pattern.

# shellcheck disable=SC2154  # $stderr is set by bats' run --separate-stderr
# shellcheck disable=SC2016  # shell syntax in the test data is meant literally

bats_require_minimum_version 1.5.0

setup() {
    load test_helper
    common_setup
    VALIDATE="$REPO_ROOT/lib/validate-orchestrate-pattern.sh"
    cd "$SCRATCH" || return 1
}

@test "the repo's slash commands pass, run as a script and sourced" {
    run -0 --separate-stderr "$VALIDATE" "$REPO_ROOT"/.claude/commands/*.md
    [ -z "$output" ]
    # shellcheck source=lib/validate-orchestrate-pattern.sh
    source "$VALIDATE"
    run -0 --separate-stderr validate_orchestrate_pattern "$REPO_ROOT"/.claude/commands/*.md
}

@test "sourcing only defines the function" {
    run -0 bash -c 'set +e; source "$1"; [[ $- != *e* ]] && declare -F validate_orchestrate_pattern' _ "$VALIDATE"
    [ "$output" = validate_orchestrate_pattern ]
}

@test "each problem is reported as FILE:LINE: message" {
    write_plan bad.md >/dev/null <<'MD'
---
description: x
---
Never SlashCommand("/plan").
Run `orchestrate wf bogus RUN`, `orchestrate nope` but `orchestrate --version` is fine.
```bash
X=$(orchestrate checkpoint frob a); orchestrate plan validate p.md | orchestrate $CMD
orchestrate wf next RUN --json
```
MD
    run -1 --separate-stderr "$VALIDATE" bad.md
    [ "${lines[0]}" = "bad.md:3: frontmatter has no allowed-tools" ]
    [ "${lines[1]}" = "bad.md:4: uses SlashCommand; delegate to an agent instead" ]
    [ "${lines[2]}" = "bad.md:5: 'orchestrate wf bogus' is not an orchestrate command" ]
    [ "${lines[3]}" = "bad.md:5: 'orchestrate nope' is not an orchestrate command" ]
    [ "${lines[4]}" = "bad.md:7: 'orchestrate checkpoint frob' is not an orchestrate command" ]
    [[ ${lines[5]} == "bad.md:7: orchestrate invocation with a non-literal command"* ]]
    [ "${#lines[@]}" -eq 6 ]
}

@test "missing frontmatter, a bad allowed-tools entry and an unclosed frontmatter" {
    printf '# no frontmatter\n' >none.md
    printf -- '---\ndescription: d\nallowed-tools: Bash(orchestrate wf:*), Bash(orchestrate nosuch:*)\n---\n' >tools.md
    printf -- '---\ndescription: d\n' >open.md
    run -1 --separate-stderr "$VALIDATE" none.md tools.md open.md
    [ "${lines[0]}" = "none.md:1: no frontmatter (the file must start with a --- line)" ]
    [ "${lines[1]}" = "tools.md:3: 'orchestrate nosuch' is not an orchestrate command" ]
    [ "${lines[2]}" = "open.md:2: frontmatter is never closed (no second --- line)" ]
}

@test "shell syntax in a file is never run; an unreadable file is exit 2" {
    # shellcheck disable=SC2016  # meant literally
    printf -- '---\ndescription: d\nallowed-tools: Agent\n---\n`orchestrate $(touch pwned)`\n```\norchestrate `touch pwned2`\n```\n' >evil.md
    run -1 --separate-stderr "$VALIDATE" evil.md
    [ ! -e pwned ] && [ ! -e pwned2 ]
    run -2 --separate-stderr "$VALIDATE" absent.md
    [[ $stderr == *"cannot read 'absent.md'"* ]]
    run -2 --separate-stderr "$VALIDATE"
}
