#!/usr/bin/env bash
# save-checkpoint.sh WORKFLOW PROJECT_NAME JSON
# Saves JSON (one JSON object: the whole workflow state) as the checkpoint
# WORKFLOW-PROJECT_NAME through `orchestrate checkpoint save --replace`, and prints its file.
# WORKFLOW is lowercase letters, digits and _ (so `load-checkpoint.sh WORKFLOW` finds its
# checkpoints by the "WORKFLOW-" prefix); JSON is handed to the CLI as data, never evaluated.
#
#   .claude/lib/save-checkpoint.sh orchestrate "$PROJECT_NAME" "$WORKFLOW_STATE_JSON"

set -euo pipefail

# shellcheck source=lib/orchestrate-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/orchestrate-common.sh"

usage() {
    printf '%s\n' "usage: save-checkpoint.sh WORKFLOW PROJECT_NAME JSON_OBJECT" >&2
    exit 2
}

(($# == 3)) || usage
workflow=$1 project=$2 json=$3
if [[ ! $workflow =~ ^[a-z0-9_]+$ ]]; then
    printf '%s\n' "save-checkpoint.sh: WORKFLOW must be lowercase letters, digits and _ (got '$workflow')" >&2
    exit 2
fi
if [[ -z $project ]]; then
    printf '%s\n' "save-checkpoint.sh: PROJECT_NAME is empty" >&2
    exit 2
fi
if [[ -z $json ]]; then
    printf '%s\n' "save-checkpoint.sh: JSON is empty; pass the workflow state as one JSON object" >&2
    exit 2
fi

orch_cli checkpoint save --replace --json "$json" -- "$workflow-$project"
