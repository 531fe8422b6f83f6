#!/usr/bin/env bash
# Claude Code hook entry point: orchestrate-hook.sh stop|session-start|record
# Passes the hook's JSON input (stdin) to `orchestrate hook EVENT`: the venv the plugin's
# bin/orchestrate shim set up, else orchestrate on PATH, else where install.sh puts it.
# The shim itself is not run (its first use installs, too slow for a hook); without a run
# there is nothing to say anyway. Without orchestrate it says nothing: a hook must never
# break the session. See docs/hooks.md.
set -u

event=${1:-}
case $event in
    stop | session-start | record) ;;
    *)
        printf 'orchestrate-hook.sh: unknown event %s\n' "$event" >&2
        exit 0
        ;;
esac

# Every orchestrate on PATH, in order: the plugin's bin/ comes first under the plugin, and
# the one after it is the installed CLI.
mapfile -t on_path < <(type -ap orchestrate 2>/dev/null)
for candidate in "${ORCHESTRATE_BIN:-}" \
    "${CLAUDE_PLUGIN_DATA:+${CLAUDE_PLUGIN_DATA%/}/venv/bin/orchestrate}" \
    "${XDG_DATA_HOME:-${HOME:-/nonexistent}/.local/share}/orchestrate/plugin-venv/bin/orchestrate" \
    "${on_path[@]}" \
    "${HOME:-/nonexistent}/.local/share/orchestrate/venv/bin/orchestrate"; do
    if [[ -n ${CLAUDE_PLUGIN_ROOT:-} && $candidate == "${CLAUDE_PLUGIN_ROOT%/}/bin/orchestrate" ]]; then
        continue # the shim: its first use installs
    fi
    if [[ -n $candidate && -x $candidate ]]; then
        # Bounded on its own, whatever the hook's settings say: a hook must never hang the
        # session (a planted FIFO, a stuck disk). 30 s is far beyond a normal call.
        if command -v timeout >/dev/null 2>&1; then
            timeout -k 5 "${ORCHESTRATE_HOOK_TIMEOUT:-30}" "$candidate" hook "$event"
        else
            "$candidate" hook "$event"
        fi
        exit 0
    fi
done
cat >/dev/null
exit 0
