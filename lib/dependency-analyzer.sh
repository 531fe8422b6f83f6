# shellcheck shell=bash
# Dependency analysis of a plan, for scripts: a thin wrapper over `orchestrate plan waves`.
#
#   source lib/dependency-analyzer.sh
#   analysis=$(analyze_dependencies docs/plans/007_feature.md) || exit
#   jq -r '.waves' <<<"$analysis"
#   jq -r '.metrics.time_savings_percentage' <<<"$analysis"

# shellcheck source=lib/orchestrate-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/orchestrate-common.sh"

# analyze_dependencies PLAN [--format plan|spec|implementation-plan]
# Prints the waves JSON (schema orchestrate/waves@1): waves, critical_path, metrics, phases.
# Returns 2 with PLAN:LINE: messages on stderr when the plan is invalid.
analyze_dependencies() {
    if (($# < 1)) || [[ -z $1 ]]; then
        printf '%s\n' "usage: analyze_dependencies PLAN [--format plan|spec|implementation-plan]" >&2
        return 2
    fi
    local plan=$1
    shift
    orch_cli plan waves --json "$@" -- "$plan"
}
