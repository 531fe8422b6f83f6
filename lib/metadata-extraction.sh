# shellcheck shell=bash
# The gist of a research report, to pass on instead of the report: a thin wrapper over
# `orchestrate topic metadata`.
#
#   source lib/metadata-extraction.sh
#   metadata=$(extract_report_metadata "$report") || exit
#   jq -r '.title, .summary, .key_findings[]' <<<"$metadata"

# shellcheck source=lib/orchestrate-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/orchestrate-common.sh"

# extract_report_metadata FILE
# Prints one JSON object (orchestrate/report-metadata@1): path, title (the first heading),
# summary (at most 50 words), key_findings (at most 5), sections (the level-2 headings),
# truncated and binary. Returns 2 for a missing or unreadable file, or a symbolic link.
extract_report_metadata() {
    if (($# != 1)) || [[ -z $1 ]]; then
        printf '%s\n' "usage: extract_report_metadata FILE" >&2
        return 2
    fi
    orch_cli topic metadata --json -- "$1"
}
