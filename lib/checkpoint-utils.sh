# shellcheck shell=bash
# Named checkpoints for scripts: thin wrappers over `orchestrate checkpoint`.
# A checkpoint is a JSON object kept under the project's state folder (or
# $ORCHESTRATE_STATE_DIR) as checkpoints/NAME.json; secrets are redacted before it is written.
#
#   source lib/checkpoint-utils.sh
#   save_checkpoint auth plan_path="$plan" current_phase=2 'completed_phases=[1,2]' || exit
#   phase=$(load_checkpoint auth current_phase) || exit
#   load_checkpoint auth | jq -r '.completed_phases[]'

# shellcheck source=lib/orchestrate-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/orchestrate-common.sh"

# save_checkpoint NAME [KEY=VALUE ...]
# Sets the keys (merged into the checkpoint; it is created if missing) and prints its file.
# A VALUE that is JSON (2, true, null, [1,2], {"a":1}, "quoted") is stored as that, any
# other VALUE as a plain string.
save_checkpoint() {
    if (($# < 1)) || [[ -z $1 ]]; then
        printf '%s\n' "usage: save_checkpoint NAME [KEY=VALUE ...]" >&2
        return 2
    fi
    orch_cli checkpoint save -- "$@"
}

# load_checkpoint NAME [KEY]
# Prints the checkpoint's data as a JSON object, or the value of KEY (a string as it is,
# anything else as JSON). Returns 2 when there is no such checkpoint, 1 when KEY is absent.
load_checkpoint() {
    if (($# < 1 || $# > 2)) || [[ -z $1 ]]; then
        printf '%s\n' "usage: load_checkpoint NAME [KEY]" >&2
        return 2
    fi
    orch_cli checkpoint load -- "$@"
}

# list_checkpoints [--json]
# One line per checkpoint (name, last update, keys), or the orchestrate/checkpoints@1 JSON.
list_checkpoints() {
    if (($# > 1)) || { (($# == 1)) && [[ $1 != --json ]]; }; then
        printf '%s\n' "usage: list_checkpoints [--json]" >&2
        return 2
    fi
    orch_cli checkpoint list "$@"
}

# delete_checkpoint NAME
# Removes the checkpoint. Returns 2 when there is no such checkpoint.
delete_checkpoint() {
    if (($# != 1)) || [[ -z $1 ]]; then
        printf '%s\n' "usage: delete_checkpoint NAME" >&2
        return 2
    fi
    orch_cli checkpoint delete -- "$1"
}
