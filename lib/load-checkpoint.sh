#!/usr/bin/env bash
# load-checkpoint.sh WORKFLOW [PROJECT_NAME]
# Prints the JSON of the checkpoint WORKFLOW-PROJECT_NAME (as save-checkpoint.sh names it),
# or without PROJECT_NAME the most recently updated checkpoint of WORKFLOW. Exits 1 with
# nothing on stdout when there is none, 2 on a usage error.
#
#   CHECKPOINT=$(.claude/lib/load-checkpoint.sh orchestrate 2>/dev/null || echo "")

set -euo pipefail

# shellcheck source=lib/orchestrate-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/orchestrate-common.sh"

if (($# < 1 || $# > 2)); then
    printf '%s\n' "usage: load-checkpoint.sh WORKFLOW [PROJECT_NAME]" >&2
    exit 2
fi
workflow=$1
if [[ ! $workflow =~ ^[a-z0-9_]+$ ]]; then
    printf '%s\n' "load-checkpoint.sh: WORKFLOW must be lowercase letters, digits and _ (got '$workflow')" >&2
    exit 2
fi

if (($# == 2)); then
    if [[ -z $2 ]]; then
        printf '%s\n' "load-checkpoint.sh: PROJECT_NAME is empty" >&2
        exit 2
    fi
    name="$workflow-$2"
else
    listing=$(orch_cli checkpoint list --json)
    # The newest checkpoint whose (file-safe) name starts with "WORKFLOW-".
    name=$(jq -r --arg prefix "$workflow-" '
        [.checkpoints[] | select(.name | startswith($prefix))]
        | sort_by(.updated_at) | last | .name // empty' <<<"$listing")
    if [[ -z $name ]]; then
        printf '%s\n' "load-checkpoint.sh: no checkpoint for workflow '$workflow'" >&2
        exit 1
    fi
fi

status=0
data=$(orch_cli checkpoint load -- "$name") || status=$?
if ((status != 0)); then
    ((status == 2)) && status=1 # no such checkpoint: the CLI has said so on stderr
    exit "$status"
fi
printf '%s\n' "$data"
