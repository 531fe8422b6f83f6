# shellcheck shell=bash
# Phase 0 of /orchestrate: the topic folder for a workflow's artifacts, a thin wrapper over
# `orchestrate topic`. Topics are specs/NNN_slug/ in the project root, each with reports,
# plans, summaries, debug, scripts and outputs folders.
#
#   source lib/unified-location-detection.sh
#   perform_location_detection "$WORKFLOW_DESCRIPTION" >/dev/null || exit
#   printf '%s\n' "$TOPIC_PATH" "${ARTIFACT_REPORTS}${TOPIC_NUMBER}_overview.md"
#
#   location=$(perform_location_detection "$WORKFLOW_DESCRIPTION") || exit  # JSON only
#   jq -r '.artifact_paths.plans' <<<"$location"

# shellcheck source=lib/orchestrate-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/orchestrate-common.sh"

# perform_location_detection DESCRIPTION [DRY_RUN]
# Makes the next topic folder for DESCRIPTION and prints its location context, one JSON
# object (orchestrate/topic@1): topic_path, topic_number, topic_name and artifact_paths
# (reports, plans, summaries, debug, scripts, outputs; each ends with a /). Sets and exports
# TOPIC_PATH, TOPIC_NUMBER, TOPIC_NAME, ARTIFACT_REPORTS, ARTIFACT_PLANS,
# ARTIFACT_SUMMARIES, ARTIFACT_DEBUG, ARTIFACT_SCRIPTS, ARTIFACT_OUTPUTS and
# WORKFLOW_TOPIC_DIR, WORKFLOW_TOPIC_NUMBER, WORKFLOW_TOPIC_NAME (lost when it runs in a
# $(...) subshell: read the JSON there). DRY_RUN "true" says what the topic would be and
# makes nothing; "false" (the default) makes it.
perform_location_detection() {
    local usage="usage: perform_location_detection DESCRIPTION [DRY_RUN (true|false)]"
    if (($# < 1 || $# > 2)) || [[ -z $1 ]]; then
        printf '%s\n' "$usage" >&2
        return 2
    fi
    local dry=()
    case ${2:-false} in
        true) dry=(--dry-run) ;;
        false) ;;
        *)
            printf '%s\n' "$usage" >&2
            return 2
            ;;
    esac
    local fields rest
    # The path comes last: the number and the name hold no newline, so it can.
    fields=$(orch_cli topic new "${dry[@]}" --field topic_number --field topic_name \
        --field topic_path -- "$1") || return
    TOPIC_NUMBER=${fields%%$'\n'*}
    rest=${fields#*$'\n'}
    TOPIC_NAME=${rest%%$'\n'*}
    TOPIC_PATH=${rest#*$'\n'}
    ARTIFACT_REPORTS="$TOPIC_PATH/reports/"
    ARTIFACT_PLANS="$TOPIC_PATH/plans/"
    ARTIFACT_SUMMARIES="$TOPIC_PATH/summaries/"
    ARTIFACT_DEBUG="$TOPIC_PATH/debug/"
    ARTIFACT_SCRIPTS="$TOPIC_PATH/scripts/"
    ARTIFACT_OUTPUTS="$TOPIC_PATH/outputs/"
    WORKFLOW_TOPIC_DIR=$TOPIC_PATH
    WORKFLOW_TOPIC_NUMBER=$TOPIC_NUMBER
    WORKFLOW_TOPIC_NAME=$TOPIC_NAME
    export TOPIC_PATH TOPIC_NUMBER TOPIC_NAME ARTIFACT_REPORTS ARTIFACT_PLANS \
        ARTIFACT_SUMMARIES ARTIFACT_DEBUG ARTIFACT_SCRIPTS ARTIFACT_OUTPUTS \
        WORKFLOW_TOPIC_DIR WORKFLOW_TOPIC_NUMBER WORKFLOW_TOPIC_NAME
    orch_cli topic show --json -- "$TOPIC_PATH"
}
