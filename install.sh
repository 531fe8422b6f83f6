#!/usr/bin/env bash
# Install the `orchestrate` command from this checkout into a private virtual
# environment and link it into a bin directory. Safe to run again: a second run
# reinstalls in place. Run with --help for the options.
set -euo pipefail

readonly MIN_PYTHON_MAJOR=3
readonly MIN_PYTHON_MINOR=10

prog=${0##*/}
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

prefix="${HOME}/.local/share/orchestrate"
default_prefix=1
bin_dir="${HOME}/.local/bin"
action=install

usage() {
    cat <<EOF
Usage: ${prog} [--prefix DIR] [--bin-dir DIR] [--uninstall] [--help]

Install orchestrate from this checkout (${src_dir}).

The package goes into its own virtual environment at PREFIX/venv and the
\`orchestrate\` command is linked into BIN_DIR. Running the script again
reinstalls in place.

Options:
  --prefix DIR    parent directory of the virtual environment
                  (default: ~/.local/share/orchestrate, venv at DIR/venv)
  --bin-dir DIR   where to link the orchestrate command (default: ~/.local/bin)
  --uninstall     remove the virtual environment and the link (the link only
                  if it points into that virtual environment)
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

# True when $link is a symlink whose target lies inside our venv.
link_is_ours() {
    [[ -L $link ]] || return 1
    local target
    target=$(readlink "$link")
    [[ $target == "$venv"/* ]]
}

uninstall() {
    local removed=0
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
        say "Nothing to remove: no installation found at ${venv}."
    fi
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
