# shellcheck shell=bash
# Shared setup for the bats suites: the repo root, a scratch folder whose path has spaces,
# and the orchestrate CLI on PATH (the test venv's, when tests/run did not already add it).

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
export REPO_ROOT

common_setup() {
    if ! command -v orchestrate >/dev/null 2>&1 && [[ -x $REPO_ROOT/.venv/bin/orchestrate ]]; then
        PATH="$REPO_ROOT/.venv/bin:$PATH"
    fi
    SCRATCH="$BATS_TEST_TMPDIR/dir with spaces"
    mkdir -p "$SCRATCH"
    export SCRATCH
}

# write_plan NAME — write stdin to "$SCRATCH/NAME" and print the path.
write_plan() {
    local path="$SCRATCH/$1"
    cat >"$path"
    printf '%s\n' "$path"
}
