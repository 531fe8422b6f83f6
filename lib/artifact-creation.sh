# shellcheck shell=bash
# Topic folders and the paths of the artifacts in them: thin wrappers over
# `orchestrate topic`.
#
#   source lib/artifact-creation.sh
#   topic_dir=$(get_or_create_topic_dir "$WORKFLOW_DESCRIPTION") || exit
#   report=$(create_topic_artifact "$topic_dir" reports "existing patterns") || exit
#   # -> $topic_dir/reports/001_existing_patterns.md, for the research agent to write

# shellcheck source=lib/orchestrate-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/orchestrate-common.sh"

# get_or_create_topic_dir DESCRIPTION
# Prints the latest topic folder (specs/NNN_slug in the project root) whose slug is
# DESCRIPTION's, made with its artifact folders when there is none. The seed's second
# argument (a base folder) is refused: topics always go in specs/ of the project.
get_or_create_topic_dir() {
    if (($# != 1)) || [[ -z $1 ]]; then
        printf '%s\n' "usage: get_or_create_topic_dir DESCRIPTION (topics go in specs/ of the project)" >&2
        return 2
    fi
    orch_cli topic new --reuse --field topic_path -- "$1"
}

# create_topic_artifact TOPIC_DIR KIND NAME [CONTENT]
# Prints TOPIC_DIR/KIND/NNN_NAME.md, NNN the next number in that folder, NAME made
# file-safe; KIND is reports, plans, summaries, debug, scripts or outputs. Makes the KIND
# folder if missing, not the file: the agent that writes the artifact makes it, so two
# calls before it does return the same number. CONTENT, the seed's fourth argument, must
# be empty: write the file at the printed path.
create_topic_artifact() {
    if (($# < 3 || $# > 4)) || [[ -z $1 || -z $2 || -z $3 ]]; then
        printf '%s\n' "usage: create_topic_artifact TOPIC_DIR KIND NAME" >&2
        return 2
    fi
    if [[ -n ${4-} ]]; then
        printf '%s\n' "create_topic_artifact: CONTENT is not written here; write the file at the printed path" >&2
        return 2
    fi
    orch_cli topic artifact -- "$1" "$2" "$3"
}
