# shellcheck shell=bash
# A topic's artifact registry: TOPIC_DIR/artifacts.jsonl, one JSON object a line
# ({"kind": ..., "path": ..., "registered_at": ...}). Source it; it only defines functions.
#
#   source lib/artifact-registry.sh
#   register_artifact "$topic_dir" reports "$report_path" || exit
#   list_artifacts "$topic_dir" reports

# register_artifact TOPIC_DIR KIND PATH
# Appends the artifact to TOPIC_DIR/artifacts.jsonl (TOPIC_DIR must exist). KIND is
# lowercase letters, digits, _ and -; PATH any text without a newline.
register_artifact() {
    if (($# != 3)) || [[ -z $1 || -z $2 || -z $3 ]]; then
        printf '%s\n' "usage: register_artifact TOPIC_DIR KIND PATH" >&2
        return 2
    fi
    if [[ ! $2 =~ ^[a-z0-9][a-z0-9_-]*$ ]]; then
        printf '%s\n' "register_artifact: KIND must be lowercase letters, digits, _ and -, not '$2'" >&2
        return 2
    fi
    if [[ $3 == *$'\n'* ]]; then
        printf '%s\n' "register_artifact: PATH must not contain a newline" >&2
        return 2
    fi
    if [[ ! -d $1 ]]; then
        printf '%s\n' "register_artifact: no such topic folder '$1'" >&2
        return 1
    fi
    local entry
    entry=$(jq -cn --arg kind "$2" --arg path "$3" --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        '{kind: $kind, path: $path, registered_at: $at}') || return 1
    printf '%s\n' "$entry" >>"$1/artifacts.jsonl" || {
        printf '%s\n' "register_artifact: could not write '$1/artifacts.jsonl'" >&2
        return 1
    }
}

# list_artifacts TOPIC_DIR [KIND]
# Prints the registered paths (of KIND only, when given) in registration order, one a
# line; nothing when nothing is registered. Lines that are not JSON are skipped.
list_artifacts() {
    if (($# < 1 || $# > 2)) || [[ -z $1 ]]; then
        printf '%s\n' "usage: list_artifacts TOPIC_DIR [KIND]" >&2
        return 2
    fi
    if [[ ! -d $1 ]]; then
        printf '%s\n' "list_artifacts: no such topic folder '$1'" >&2
        return 1
    fi
    [[ -f $1/artifacts.jsonl ]] || return 0
    jq -rR --arg kind "${2-}" \
        'fromjson? | select(type == "object" and ($kind == "" or .kind == $kind)) | .path // empty' \
        <"$1/artifacts.jsonl"
}
