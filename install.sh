#!/usr/bin/env bash
# Install the `orchestrate` command from this checkout into a private virtual
# environment and link it into a bin directory, and copy the Claude Code commands and
# agents (.claude/commands/*.md, .claude/agents/*.md) into ~/.claude/ or a project's
# .claude/. Safe to run again: a second run reinstalls in place. Run with --help for the
# options.
set -euo pipefail

readonly MIN_PYTHON_MAJOR=3
readonly MIN_PYTHON_MINOR=10

prog=${0##*/}
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

prefix="${HOME}/.local/share/orchestrate"
default_prefix=1
bin_dir="${HOME}/.local/bin"
project=""
action=install

usage() {
    cat <<EOF
Usage: ${prog} [--prefix DIR] [--bin-dir DIR] [--project DIR] [--uninstall] [--help]

Install orchestrate from this checkout (${src_dir}).

The package goes into its own virtual environment at PREFIX/venv and the
\`orchestrate\` command is linked into BIN_DIR. The Claude Code commands
(/orchestrate, ...) and agents are copied into ~/.claude/commands/ and
~/.claude/agents/, and the files copied are listed in
~/.claude/orchestrate/install-manifest.txt. Running the script again reinstalls
in place.

Options:
  --prefix DIR    parent directory of the virtual environment
                  (default: ~/.local/share/orchestrate, venv at DIR/venv)
  --bin-dir DIR   where to link the orchestrate command (default: ~/.local/bin)
  --project DIR   copy the commands and agents into DIR/.claude/ (for one project)
                  instead of ~/.claude/
  --uninstall     remove the virtual environment, the link (only if it points
                  into that virtual environment) and the commands and agents the
                  manifest lists (in ~/.claude/, or DIR/.claude/ with --project);
                  a file changed since it was installed is kept
  -h, --help      show this help and exit

Environment:
  PYTHON          Python interpreter to build the venv with (default: python3);
                  needs Python ${MIN_PYTHON_MAJOR}.${MIN_PYTHON_MINOR} or newer with the venv module
EOF
}

say() { printf '%s\n' "$*"; }
die() {
    printf '%s: error: %s\n' "$prog" "$1" >&2
    shift
    local line
    for line in "$@"; do
        printf '  %s\n' "$line" >&2
    done
    exit 1
}
# Like die, for what the installer refuses to trust (a planted manifest, a link): exit 2.
refuse() {
    printf '%s: error: %s\n' "$prog" "$1" >&2
    shift
    local line
    for line in "$@"; do
        printf '  %s\n' "$line" >&2
    done
    exit 2
}

# Make a path absolute without requiring it to exist.
absolute() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

# Print a path with a leading $HOME replaced by the literal text "$HOME".
home_relative() {
    case $1 in
        "$HOME") printf '%s\n' "\$HOME" ;;
        "$HOME"/*) printf '%s\n' "\$HOME/${1#"$HOME"/}" ;;
        *) printf '%s\n' "$1" ;;
    esac
}

while (($# > 0)); do
    case $1 in
        --prefix)
            (($# >= 2)) || die "--prefix needs a directory argument"
            prefix=$2
            default_prefix=0
            shift 2
            ;;
        --prefix=*)
            prefix=${1#--prefix=}
            default_prefix=0
            shift
            ;;
        --bin-dir)
            (($# >= 2)) || die "--bin-dir needs a directory argument"
            bin_dir=$2
            shift 2
            ;;
        --bin-dir=*)
            bin_dir=${1#--bin-dir=}
            shift
            ;;
        --project)
            (($# >= 2)) || die "--project needs a directory argument"
            project=$2
            [[ -n $project ]] || die "--project must not be empty"
            shift 2
            ;;
        --project=*)
            project=${1#--project=}
            [[ -n $project ]] || die "--project must not be empty"
            shift
            ;;
        --uninstall)
            action=uninstall
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            printf '%s: error: unknown argument: %s\n' "$prog" "$1" >&2
            printf 'Run %s --help for usage.\n' "$prog" >&2
            exit 2
            ;;
    esac
done

[[ -n $prefix ]] || die "--prefix must not be empty"
[[ -n $bin_dir ]] || die "--bin-dir must not be empty"
prefix=$(absolute "$prefix")
prefix=${prefix%/}
bin_dir=$(absolute "$bin_dir")
bin_dir=${bin_dir%/}
venv="${prefix}/venv"
link="${bin_dir}/orchestrate"
if [[ -n $project ]]; then
    project=$(absolute "$project")
    project=${project%/}
    claude_dir="${project}/.claude"
else
    claude_dir="${HOME}/.claude"
fi
manifest="${claude_dir}/orchestrate/install-manifest.txt"
# The key that seals the manifests this user's installs write. It lives beside the venv,
# outside every project, so a manifest committed to a repository cannot carry a valid
# seal; it stays after --uninstall, for the manifests of other --project installs.
key_file="${prefix}/install-key"

# Refuse when a folder the installer writes into (or removes from) is a symbolic link:
# DIR/.claude and the folders under it with --project; the folders under ~/.claude (which
# may itself be a link the user made) without it.
check_no_links() {
    local dir
    local dirs=("${claude_dir}/orchestrate" "${claude_dir}/commands" "${claude_dir}/agents")
    [[ -n $project ]] && dirs=("$claude_dir" "${dirs[@]}")
    for dir in "${dirs[@]}"; do
        if [[ -L $dir ]]; then
            refuse "${dir} is a symbolic link; not writing or removing anything through it" \
                "Nothing was changed. Remove the link (or move it away) and run ${prog} again."
        fi
        if [[ -e $dir && ! -d $dir ]]; then
            refuse "${dir} exists and is not a folder; nothing was changed"
        fi
    done
}

# True when $link is a symlink whose target lies inside our venv.
link_is_ours() {
    [[ -L $link ]] || return 1
    local target
    target=$(readlink "$link")
    [[ $target == "$venv"/* ]]
}

uninstall() {
    local removed=0
    check_no_links
    check_manifest
    if uninstall_bundle; then
        removed=1
    fi
    if link_is_ours; then
        rm -f -- "$link"
        say "Removed link ${link}"
        removed=1
    elif [[ -L $link || -e $link ]]; then
        say "Left ${link} in place: it does not point into ${venv}"
    fi
    if [[ -d $venv ]]; then
        if [[ ! -f $venv/pyvenv.cfg ]]; then
            die "${venv} is not a virtual environment; not removing it"
        fi
        rm -rf -- "$venv"
        say "Removed virtual environment ${venv}"
        removed=1
        if ((default_prefix)); then
            # Drop the directory we created for it, but only when empty.
            rmdir -- "$prefix" 2>/dev/null || true
        fi
    fi
    if ((removed)); then
        say "orchestrate is uninstalled."
    else
        say "Nothing to remove: no installation found at ${venv} or in ${manifest}."
    fi
}

# --- the Claude Code commands and agents --------------------------------------------
#
# Each is copied (not linked) to $claude_dir/commands/NAME.md or $claude_dir/agents/NAME.md.
# The manifest has one line per thing installed: "file SHA256 RELPATH" for a file, or
# "dir - RELPATH" for a directory the install created (RELPATH is relative to
# $claude_dir). Uninstalling removes a file only while its content still has the recorded
# checksum, and a directory only when it is empty.

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum -- "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 -- "$1" | cut -d' ' -f1
    else
        die "neither sha256sum nor shasum is installed; one is needed to record the installed files"
    fi
}

# The bundle's files, one "KIND/NAME.md" (relative to .claude/) a line, sorted.
bundle_files() {
    local kind path
    for kind in commands agents; do
        for path in "$src_dir/.claude/$kind"/*.md; do
            [[ -f $path ]] && printf '%s/%s\n' "$kind" "${path##*/}"
        done
    done | LC_ALL=C sort
}

# The checksum the manifest recorded for RELPATH (empty when it lists no such file).
recorded_sum() {
    [[ -f $manifest ]] || return 0
    local kind sum rel
    while read -r kind sum rel; do
        if [[ $kind == file && $rel == "$1" ]]; then
            printf '%s\n' "$sum"
            return 0
        fi
    done <"$manifest"
}

# The seal of manifest body FILE: SHA-256 over the key, the body's SHA-256 and the key.
seal_of() {
    local body_sum key
    body_sum=$(sha256 "$1")
    key=$(<"$key_file")
    printf '%s\n%s\n%s\n' "$key" "$body_sum" "$key" | sha256sum | cut -d' ' -f1
}

make_key() {
    [[ -f $key_file && ! -L $key_file ]] && return 0
    [[ -L $key_file ]] && refuse "${key_file} is a symbolic link; not using it"
    mkdir -p -- "${key_file%/*}"
    (umask 077 && head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1 >"$key_file")
}

# Trust the manifest only if this installer wrote it: a regular file, not a link, every
# line one it writes (the bundle's own commands/NAME.md and agents/NAME.md, the folders it
# makes), and its last line the seal made with this user's key. Anything else (planted in
# a repository, edited) is refused before anything is removed or written.
check_manifest() {
    [[ -e $manifest || -L $manifest ]] || return 0
    local why=""
    if [[ -L $manifest || ! -f $manifest ]]; then
        why="it is not a regular file"
    elif [[ ! -f $key_file ]]; then
        why="it has no seal this user's installs could have made (no ${key_file})"
    else
        local body line seal_line=""
        body=$(mktemp "${TMPDIR:-/tmp}/orchestrate-manifest-body.XXXXXX")
        while IFS= read -r line || [[ -n $line ]]; do
            if [[ -n $seal_line ]]; then
                why="it has lines after its seal"
                break
            fi
            if [[ $line == "seal "* ]]; then
                seal_line=${line#seal }
            elif [[ $line =~ ^file\ [0-9a-f]{64}\ (commands|agents)/[A-Za-z0-9][A-Za-z0-9._-]*\.md$ ||
                $line =~ ^dir\ -\ (\.|orchestrate|commands|agents)$ ]] &&
                [[ $line != *..* ]]; then
                printf '%s\n' "$line" >>"$body"
            else
                why="it lists something the installer never installs: ${line:0:120}"
                break
            fi
        done <"$manifest"
        if [[ -z $why && -z $seal_line ]]; then
            why="it is not sealed"
        elif [[ -z $why ]]; then
            [[ -f $body ]] || : >"$body"
            [[ $(seal_of "$body") == "$seal_line" ]] || why="its seal does not match"
        fi
        rm -f -- "$body"
    fi
    if [[ -n $why ]]; then
        refuse "${manifest} was not written by this installer for this user (${why})" \
            "Nothing was removed or written. If you did not put it there, the repository" \
            "may be hostile; otherwise move it away and run ${prog} again."
    fi
}

# Refuse, before anything is installed, to overwrite a file orchestrate did not install.
check_bundle() {
    local rel target
    [[ -n $(bundle_files) ]] || die "no commands or agents found in ${src_dir}/.claude/"
    while read -r rel; do
        target="${claude_dir}/${rel}"
        if [[ -L $target || (-e $target && ! -f $target) ]]; then
            die "${target} exists and is not a regular file; not overwriting it" \
                "Move it away and run ${prog} again."
        fi
        if [[ -f $target && -z $(recorded_sum "$rel") ]] &&
            ! cmp -s -- "$src_dir/.claude/$rel" "$target"; then
            die "${target} exists and was not installed by ${prog}; not overwriting it" \
                "Move it away (or delete it) and run ${prog} again."
        fi
    done < <(bundle_files)
}

install_bundle() {
    local new_manifest rel target sum old dir kind
    new_manifest=$(mktemp "${TMPDIR:-/tmp}/orchestrate-manifest.XXXXXX")
    # Directories: keep those an earlier install created, record those this one creates.
    for dir in "" orchestrate commands agents; do
        target=${claude_dir}${dir:+/$dir}
        if [[ -f $manifest ]] && grep -qxF -- "dir - ${dir:-.}" "$manifest"; then
            printf 'dir - %s\n' "${dir:-.}" >>"$new_manifest"
        elif [[ ! -d $target ]]; then
            mkdir -p -- "$target"
            printf 'dir - %s\n' "${dir:-.}" >>"$new_manifest"
        fi
    done
    local installed=0 kept=0
    while read -r rel; do
        target="${claude_dir}/${rel}"
        old=$(recorded_sum "$rel")
        if [[ -n $old && -f $target && $(sha256 "$target") != "$old" ]]; then
            say "Kept ${target}: it was changed after it was installed (not updated)"
            printf 'file %s %s\n' "$old" "$rel" >>"$new_manifest"
            kept=$((kept + 1))
            continue
        fi
        local staged
        staged=$(mktemp "${target%/*}/.orchestrate-install.XXXXXX")
        cp -- "$src_dir/.claude/$rel" "$staged"
        chmod 0644 -- "$staged"
        mv -f -- "$staged" "$target"
        sum=$(sha256 "$target")
        printf 'file %s %s\n' "$sum" "$rel" >>"$new_manifest"
        installed=$((installed + 1))
    done < <(bundle_files)
    # Files an earlier install put there that this version no longer has.
    if [[ -f $manifest ]]; then
        while read -r kind sum rel; do
            [[ $kind == file ]] || continue
            grep -qxF -- "$rel" < <(bundle_files) && continue
            remove_installed_file "$rel" "$sum"
        done <"$manifest"
    fi
    make_key
    printf 'seal %s\n' "$(seal_of "$new_manifest")" >>"$new_manifest"
    mv -f -- "$new_manifest" "$manifest"
    chmod 0644 -- "$manifest"
    if ((kept)); then
        say "Installed ${installed} Claude Code commands and agents into ${claude_dir} (kept ${kept} changed ones)"
    else
        say "Installed ${installed} Claude Code commands and agents into ${claude_dir}"
    fi
    say "Listed them in ${manifest}"
}

# Remove RELPATH if its content still has checksum SUM; say what happened.
remove_installed_file() {
    local target="${claude_dir}/$1"
    if [[ ! -e $target && ! -L $target ]]; then
        return 0
    fi
    if [[ -f $target && ! -L $target && $(sha256 "$target") == "$2" ]]; then
        rm -f -- "$target"
        say "Removed ${target}"
    else
        say "Kept ${target}: it was changed after it was installed"
    fi
}

# Remove what the manifest lists; false when there is no manifest.
uninstall_bundle() {
    [[ -f $manifest ]] || return 1
    local kind sum rel dirs=()
    while read -r kind sum rel; do
        case $kind in
            file) remove_installed_file "$rel" "$sum" ;;
            dir) dirs+=("$rel") ;;
        esac
    done <"$manifest"
    rm -f -- "$manifest"
    say "Removed ${manifest}"
    # Deepest first; only the empty ones go, so nothing a user put there is touched.
    local i target
    for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
        target=${claude_dir}
        [[ ${dirs[i]} == . ]] || target="${claude_dir}/${dirs[i]}"
        rmdir -- "$target" 2>/dev/null || true
    done
    return 0
}

check_python() {
    local python=${PYTHON:-python3}
    if ! command -v "$python" >/dev/null 2>&1; then
        die "Python interpreter not found: ${python}" \
            "orchestrate needs Python ${MIN_PYTHON_MAJOR}.${MIN_PYTHON_MINOR} or newer." \
            "Install it (on Debian/Ubuntu: apt-get install python3 python3-venv)," \
            "or point PYTHON at an interpreter: PYTHON=/path/to/python3 ./${prog}"
    fi
    local version
    if ! version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); then
        die "could not run ${python} to find its version"
    fi
    local major=${version%%.*} minor=${version#*.}
    if ! [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]]; then
        die "could not understand the version reported by ${python}: ${version}"
    fi
    if ((major < MIN_PYTHON_MAJOR || (major == MIN_PYTHON_MAJOR && minor < MIN_PYTHON_MINOR))); then
        die "${python} is Python ${version}; orchestrate needs ${MIN_PYTHON_MAJOR}.${MIN_PYTHON_MINOR} or newer." \
            "Install a newer Python and run: PYTHON=/path/to/python3.X ./${prog}"
    fi
    if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        die "${python} (Python ${version}) lacks the venv module (or its ensurepip part)." \
            "On Debian/Ubuntu: apt-get install python3-venv" \
            "(or the versioned package, e.g. apt-get install python${version}-venv)"
    fi
    python_cmd=$python
    python_version=$version
}

install() {
    check_python

    # Refuse early, before any work, to overwrite something that is not a link.
    if [[ -e $link && ! -L $link ]]; then
        die "${link} exists and is not a symbolic link; not overwriting it" \
            "Remove it, or choose another directory with --bin-dir DIR."
    fi

    check_no_links
    check_manifest
    check_bundle

    local venv_python="${venv}/bin/python"
    local fresh=1 venv_version=""
    if [[ -e $venv && ! -f $venv/pyvenv.cfg ]]; then
        die "${venv} exists but is not a virtual environment; move it away or choose another --prefix"
    fi
    if [[ -x $venv_python ]] &&
        venv_version=$("$venv_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); then
        fresh=0
    fi

    if ((fresh)); then
        say "Creating virtual environment ${venv} (Python ${python_version})"
        mkdir -p -- "$prefix"
        if ! "$python_cmd" -m venv --clear "$venv"; then
            die "could not create the virtual environment at ${venv}" \
                "On Debian/Ubuntu this usually means: apt-get install python3-venv"
        fi
    elif [[ $venv_version != "$python_version" ]]; then
        say "Recreating virtual environment ${venv} (Python ${venv_version} -> ${python_version})"
        if ! "$python_cmd" -m venv --clear "$venv"; then
            die "could not recreate the virtual environment at ${venv}"
        fi
    else
        say "Reusing virtual environment ${venv} (Python ${venv_version})"
    fi

    # setuptools builds inside the source tree by default and reuses whatever an
    # earlier build left in build/, so files deleted from lib/ could still be
    # installed. Point its build and egg-info directories at a fresh temporary
    # directory instead; this also leaves the checkout untouched.
    build_tmp=$(mktemp -d "${TMPDIR:-/tmp}/orchestrate-install.XXXXXX")
    trap 'rm -rf -- "$build_tmp"' EXIT
    printf '[build]\nbuild_base = %s\n\n[egg_info]\negg_base = %s\n' \
        "$build_tmp/build" "$build_tmp" >"$build_tmp/setup.cfg"

    say "Installing orchestrate from ${src_dir}"
    if ! DIST_EXTRA_CONFIG="$build_tmp/setup.cfg" \
        "$venv_python" -m pip install --quiet "$src_dir"; then
        die "pip could not install orchestrate from ${src_dir}" \
            "Check the messages above; the package index must be reachable."
    fi

    local entry="${venv}/bin/orchestrate"
    [[ -x $entry ]] || die "the install did not produce ${entry}"

    local version
    version=$("$venv_python" -c 'from importlib.metadata import version; print(version("orchestrate"))')

    mkdir -p -- "$bin_dir"
    if [[ -L $link ]] && ! link_is_ours; then
        say "Replacing link ${link} (it pointed to $(readlink "$link"))"
    fi
    ln -sfn -- "$entry" "$link"
    say "Linked ${link} -> ${entry}"
    install_bundle
    say "Installed orchestrate ${version}."

    case ":${PATH}:" in
        *":${bin_dir}:"*)
            say "Run: orchestrate --help"
            ;;
        *)
            say ""
            say "${bin_dir} is not on your PATH. Add it with:"
            say ""
            say "    export PATH=\"$(home_relative "$bin_dir"):\$PATH\""
            say ""
            say "(put that line in ~/.bashrc or ~/.profile to keep it), or run ${link} directly."
            ;;
    esac
}

case $action in
    install) install ;;
    uninstall) uninstall ;;
esac
