# shellcheck shell=bash
# Markdown task-list checkboxes (`- [ ] text`, `- [x] text`, also with `*`) in plan files.
# Source it; it only defines functions.
#
#   source lib/checkbox-utils.sh
#   update_checkbox "$plan" "Phase 2: Implement" done || exit
#   read -r done total < <(count_checkboxes "$plan")

# A checkbox line matches this; group 1 is up to the [, group 2 the mark, group 3 the rest.
_checkbox_re() { printf '%s' '^([[:space:]]*[-*][[:space:]]+\[)([ xX])(\]([[:space:]].*)?)$'; }

# update_checkbox FILE PATTERN STATE
# Sets the first checkbox whose line contains PATTERN (a fixed string) to [x] (STATE done)
# or [ ] (STATE todo). The file is rewritten through a temporary file in its folder and mv,
# every other byte unchanged; nothing is written when the box is already in that state.
# Returns 1 when no checkbox matches, 2 on a usage error.
update_checkbox() {
    if (($# != 3)) || [[ -z $1 || -z $2 ]]; then
        printf '%s\n' "usage: update_checkbox FILE PATTERN done|todo" >&2
        return 2
    fi
    local file=$1 pattern=$2 mark content rest line nl before="" tmp re
    re=$(_checkbox_re)
    case $3 in
        done) mark=x ;;
        todo) mark=' ' ;;
        *)
            printf '%s\n' "update_checkbox: STATE must be done or todo, not '$3'" >&2
            return 2
            ;;
    esac
    if [[ ! -f $file || ! -r $file || ! -w $file ]]; then
        printf '%s\n' "update_checkbox: cannot read and write '$file'" >&2
        return 1
    fi
    IFS= read -r -d '' content <"$file" || true
    rest=$content
    while [[ -n $rest ]]; do
        if [[ $rest == *$'\n'* ]]; then
            line=${rest%%$'\n'*} rest=${rest#*$'\n'} nl=$'\n'
        else
            line=$rest rest="" nl=""
        fi
        if [[ $line =~ $re && ${BASH_REMATCH[3]} == *"$pattern"* ]]; then
            [[ ${BASH_REMATCH[2]} == "$mark" || ($mark == x && ${BASH_REMATCH[2]} == X) ]] && return 0
            line=${BASH_REMATCH[1]}$mark${BASH_REMATCH[3]}
            tmp=$(mktemp "$(dirname -- "$file")/.checkbox.XXXXXX") || return 1
            chmod --reference="$file" -- "$tmp" 2>/dev/null || true
            if ! { printf '%s' "$before$line$nl$rest" >"$tmp" && mv -f -- "$tmp" "$file"; }; then
                rm -f -- "$tmp"
                printf '%s\n' "update_checkbox: could not write '$file'" >&2
                return 1
            fi
            return 0
        fi
        before+=$line$nl
    done
    printf '%s\n' "update_checkbox: no checkbox containing '$pattern' in '$file'" >&2
    return 1
}

# count_checkboxes FILE
# Prints "DONE TOTAL": the checked boxes and all boxes in FILE.
count_checkboxes() {
    if (($# != 1)) || [[ -z $1 ]]; then
        printf '%s\n' "usage: count_checkboxes FILE" >&2
        return 2
    fi
    if [[ ! -f $1 || ! -r $1 ]]; then
        printf '%s\n' "count_checkboxes: cannot read '$1'" >&2
        return 1
    fi
    local line done=0 total=0 re
    re=$(_checkbox_re)
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ $re ]]; then
            total=$((total + 1))
            [[ ${BASH_REMATCH[2]} == [xX] ]] && done=$((done + 1))
        fi
    done <"$1"
    printf '%s %s\n' "$done" "$total"
}
