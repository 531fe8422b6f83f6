# shellcheck shell=bash
# The project root for scripts: a thin wrapper over `orchestrate topic project-dir`.
#
#   source lib/detect-project-dir.sh
#   detect_project_dir >/dev/null || exit    # sets CLAUDE_PROJECT_DIR
#   source "$CLAUDE_PROJECT_DIR/lib/checkpoint-utils.sh"

# shellcheck source=lib/orchestrate-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/orchestrate-common.sh"

# detect_project_dir
# Prints the project root and sets and exports CLAUDE_PROJECT_DIR to it: the folder
# CLAUDE_PROJECT_DIR already names when set (it must be a directory; printed resolved),
# else the git top level of the current directory, else the current directory.
detect_project_dir() {
    if (($# != 0)); then
        printf '%s\n' "usage: detect_project_dir" >&2
        return 2
    fi
    local dir
    dir=$(orch_cli topic project-dir) || return
    CLAUDE_PROJECT_DIR=$dir
    export CLAUDE_PROJECT_DIR
    printf '%s\n' "$dir"
}
