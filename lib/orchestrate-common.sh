# shellcheck shell=bash
# Shared helpers for the orchestrate bash libraries. Source it; it only defines functions.

# orch_cli ARGS... — run the orchestrate CLI with ARGS, passed through untouched.
# Uses $ORCHESTRATE_BIN when set, else `orchestrate` on PATH.
orch_cli() {
    local bin=${ORCHESTRATE_BIN:-}
    if [[ -z $bin ]]; then
        bin=$(command -v orchestrate) || {
            printf '%s\n' "orchestrate: command not found; run ./install.sh and add ~/.local/bin to PATH, or set ORCHESTRATE_BIN" >&2
            return 127
        }
    fi
    "$bin" "$@"
}
