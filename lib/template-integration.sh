# shellcheck shell=bash
# Plain-text templates with {{KEY}} placeholders. Source it; it only defines functions.
#
#   source lib/template-integration.sh
#   prompt=$(render_template templates/research.md "TOPIC=$topic" "REPORT_PATH=$path") || exit
#   list_templates .claude/templates

# render_template TEMPLATE_FILE [KEY=VALUE ...]
# Prints the file with every {{KEY}} replaced by VALUE, as plain text, in one pass (a VALUE
# that itself holds {{OTHER}} is not expanded again); placeholders without a value are kept.
# KEY is letters, digits and _, not starting with a digit; the last of repeated KEYs wins.
render_template() {
    if (($# < 1)) || [[ -z $1 ]]; then
        printf '%s\n' "usage: render_template TEMPLATE_FILE [KEY=VALUE ...]" >&2
        return 2
    fi
    local file=$1 pair key content="" out="" rest
    local -A values=()
    shift
    for pair in "$@"; do
        key=${pair%%=*}
        if [[ $pair != *=* || ! $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
            printf '%s\n' "render_template: '$pair' is not KEY=VALUE with KEY letters, digits and _" >&2
            return 2
        fi
        values[$key]=${pair#*=}
    done
    if [[ ! -f $file || ! -r $file ]]; then
        printf '%s\n' "render_template: cannot read template '$file'" >&2
        return 1
    fi
    IFS= read -r -d '' content <"$file" || true
    rest=$content
    while [[ $rest == *"{{"* ]]; do
        out+=${rest%%"{{"*}
        rest=${rest#*"{{"}
        if [[ $rest =~ ^([A-Za-z_][A-Za-z0-9_]*)\}\} && -n ${values[${BASH_REMATCH[1]}]+set} ]]; then
            key=${BASH_REMATCH[1]}
            out+=${values[$key]}
            rest=${rest#"$key}}"}
        else
            out+="{{"
        fi
    done
    printf '%s' "$out$rest"
}

# list_templates DIR
# Prints the path of each regular file directly in DIR, sorted, one a line.
list_templates() {
    if (($# != 1)) || [[ -z $1 ]]; then
        printf '%s\n' "usage: list_templates DIR" >&2
        return 2
    fi
    if [[ ! -d $1 ]]; then
        printf '%s\n' "list_templates: no such folder '$1'" >&2
        return 1
    fi
    local dir=${1%/} f
    [[ -z $dir ]] && dir=/
    for f in "$dir"/*; do
        [[ -f $f ]] && printf '%s\n' "$f"
    done
    return 0
}
