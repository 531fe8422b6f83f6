"""End-to-end tests of install.sh and of the commands shown in README.md.

The slow tests really install the package into a virtual environment under a
throw-away HOME, so they need the package index (or a pip cache) to be reachable.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "install.sh"
README = REPO / "README.md"

INSTALL_TIMEOUT = 600
PATH_ADVICE = 'export PATH="$HOME/.local/bin:$PATH"'

def project_version() -> str:
    text = (REPO / "lib" / "orchestrator" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    assert match, "no __version__ in lib/orchestrator/__init__.py"
    return match.group(1)


def first_bash_block(markdown: str, heading: str) -> str:
    """Return the first ```bash block in the level-2 section titled `heading`."""
    lines = markdown.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        raise AssertionError(f"README.md has no {heading!r} heading") from None
    block: list[str] | None = None
    for line in lines[start + 1 :]:
        if block is None:
            if line.startswith("## "):
                break
            if line.strip() == "```bash":
                block = []
        elif line.strip() == "```":
            return "\n".join(block) + "\n"
        else:
            block.append(line)
    raise AssertionError(f"no complete ```bash block under {heading!r} in README.md")


def run(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )


def describe(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def assert_version(command: str | Path, env: dict[str, str]) -> None:
    result = run([str(command), "--version"], env)
    assert result.returncode == 0, describe(result)
    assert project_version() in result.stdout, describe(result)


# --- fast checks ------------------------------------------------------------


def test_install_script_is_executable():
    assert os.access(INSTALL, os.X_OK), "install.sh must be executable (chmod +x install.sh)"


def test_help(home, make_env):
    result = run(["bash", str(INSTALL), "--help"], make_env(home))
    assert result.returncode == 0, describe(result)
    for option in ("--prefix", "--bin-dir", "--uninstall", "PYTHON"):
        assert option in result.stdout
    assert not (home / ".local").exists()


def test_unknown_option_is_a_usage_error(home, make_env):
    result = run(["bash", str(INSTALL), "--frobnicate"], make_env(home))
    assert result.returncode == 2, describe(result)
    assert "--frobnicate" in result.stderr


def test_missing_python_is_reported(home, make_env):
    env = make_env(home, PYTHON=str(home / "no-such-python3"))
    result = run(["bash", str(INSTALL)], env)
    assert result.returncode != 0
    assert "not found" in result.stderr, describe(result)
    assert not (home / ".local").exists()


def _fake_python(directory: Path, body: str) -> Path:
    path = directory / "fake-python3"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_old_python_is_rejected(home, make_env):
    fake = _fake_python(home, "echo 3.8\n")
    result = run(["bash", str(INSTALL)], make_env(home, PYTHON=str(fake)))
    assert result.returncode != 0
    assert "3.8" in result.stderr and "3.10" in result.stderr, describe(result)
    assert not (home / ".local").exists()


def test_python_without_venv_suggests_the_debian_package(home, make_env):
    # Reports a good version, but fails the `import venv, ensurepip` probe.
    fake = _fake_python(home, 'case "$2" in *ensurepip*) exit 1 ;; esac\necho 3.11\n')
    result = run(["bash", str(INSTALL)], make_env(home, PYTHON=str(fake)))
    assert result.returncode != 0
    assert "apt-get install python3-venv" in result.stderr, describe(result)


def test_refuses_to_overwrite_a_regular_file(home, make_env):
    bin_dir = home / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "orchestrate").write_text("mine\n")
    result = run(["bash", str(INSTALL)], make_env(home))
    assert result.returncode != 0
    assert "not a symbolic link" in result.stderr, describe(result)
    assert (bin_dir / "orchestrate").read_text() == "mine\n"
    assert not (home / ".local" / "share" / "orchestrate").exists()


def test_uninstall_leaves_a_foreign_link_alone(home, make_env):
    bin_dir = home / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    link = bin_dir / "orchestrate"
    link.symlink_to("/usr/bin/true")
    result = run(["bash", str(INSTALL), "--uninstall"], make_env(home))
    assert result.returncode == 0, describe(result)
    assert link.is_symlink() and os.readlink(link) == "/usr/bin/true"
    assert "Nothing to remove" in result.stdout


def test_readme_tests_section_runs_tests_run():
    block = first_bash_block(README.read_text(encoding="utf-8"), "## Tests")
    assert "tests/run" in block


# --- real installs ----------------------------------------------------------


@pytest.mark.slow
def test_install_twice_then_uninstall_with_defaults(home, make_env):
    venv = home / ".local" / "share" / "orchestrate" / "venv"
    bin_dir = home / ".local" / "bin"
    link = bin_dir / "orchestrate"

    env = make_env(home)
    first = run(["bash", str(INSTALL)], env)
    assert first.returncode == 0, describe(first)
    assert (venv / "pyvenv.cfg").is_file()
    assert link.is_symlink()
    assert os.readlink(link) == str(venv / "bin" / "orchestrate")
    assert PATH_ADVICE in first.stdout, describe(first)
    assert_version(link, env)

    # Second run, now with the bin directory on PATH: reinstalls in place and
    # has no PATH advice to give.
    on_path = make_env(home, path_first=(bin_dir,))
    second = run(["bash", str(INSTALL)], on_path)
    assert second.returncode == 0, describe(second)
    assert "not on your PATH" not in second.stdout
    assert os.readlink(link) == str(venv / "bin" / "orchestrate")
    assert_version("orchestrate", on_path)

    removed = run(["bash", str(INSTALL), "--uninstall"], env)
    assert removed.returncode == 0, describe(removed)
    assert not link.exists() and not link.is_symlink()
    assert not venv.exists()
    assert "Removed link" in removed.stdout
    assert "Removed virtual environment" in removed.stdout

    again = run(["bash", str(INSTALL), "--uninstall"], env)
    assert again.returncode == 0, describe(again)
    assert "Nothing to remove" in again.stdout


@pytest.mark.slow
def test_install_with_prefix_containing_a_space(tmp_path, home, make_env):
    prefix = tmp_path / "my tools" / "orchestrate"
    bin_dir = tmp_path / "bin dir"
    venv = prefix / "venv"
    link = bin_dir / "orchestrate"
    args = ["bash", str(INSTALL), "--prefix", str(prefix), "--bin-dir", str(bin_dir)]

    env = make_env(home)
    for attempt in (1, 2):
        result = run(args, env)
        assert result.returncode == 0, f"run {attempt}: {describe(result)}"
        assert (venv / "pyvenv.cfg").is_file()
        assert os.readlink(link) == str(venv / "bin" / "orchestrate")
        # The bin directory is outside HOME, so the advice names it in full.
        assert f'export PATH="{bin_dir}:$PATH"' in result.stdout, describe(result)
        assert_version(link, env)
    assert not (home / ".local").exists(), "the default locations must stay untouched"

    removed = run([*args, "--uninstall"], env)
    assert removed.returncode == 0, describe(removed)
    assert not venv.exists()
    assert not link.exists() and not link.is_symlink()


def _copy_worktree(destination: Path) -> None:
    """Copy the files git would see (tracked plus untracked, not ignored)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs the git checkout of the project")
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in sorted(set(filter(None, listing.split("\0")))):
        source = REPO / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree but still in the index
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


@pytest.mark.slow
def test_install_ignores_stale_build_output_and_leaves_checkout_clean(tmp_path, home, make_env):
    clone = tmp_path / "clone"
    _copy_worktree(clone)
    stale = clone / "build" / "lib" / "orchestrator" / "stale_leftover.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("LEFT_OVER = True\n")
    before = sorted(str(p.relative_to(clone)) for p in clone.rglob("*"))

    prefix = tmp_path / "prefix"
    result = run(
        ["bash", str(clone / "install.sh"), "--prefix", str(prefix), "--bin-dir", str(home / "b")],
        make_env(home),
    )
    assert result.returncode == 0, describe(result)
    probe = run(
        [str(prefix / "venv" / "bin" / "python"), "-c", "import orchestrator.stale_leftover"],
        make_env(home),
    )
    assert probe.returncode != 0, "a stale file from build/ was installed"
    after = sorted(str(p.relative_to(clone)) for p in clone.rglob("*"))
    assert after == before, "install.sh wrote into the checkout"


@pytest.mark.slow
def test_readme_quick_start(tmp_path, home, make_env):
    block = first_bash_block(README.read_text(encoding="utf-8"), "## Quick start")
    assert "./install.sh" in block

    clone = tmp_path / "clone"
    _copy_worktree(clone)
    result = run(["bash", "-euo", "pipefail", "-c", block], make_env(home), cwd=clone)
    assert result.returncode == 0, f"Quick start block:\n{block}\n{describe(result)}"
    assert "PROGRESS: 2a started" in result.stdout  # progress as the run goes
    assert "plan: completed, 5/5 steps done" in result.stdout
    assert not (clone / "out").exists(), "the example must not write into the clone"


# --- the Claude Code commands and agents ------------------------------------------------


def bundle_files() -> list[str]:
    """Every command and agent install.sh copies, relative to .claude/."""
    found = [f"{kind}/{path.name}" for kind in ("commands", "agents")
             for path in sorted((REPO / ".claude" / kind).glob("*.md"))]
    assert any(name.startswith("commands/") for name in found)
    assert any(name.startswith("agents/") for name in found)
    return found


def installed_files(claude_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(claude_dir)) for p in claude_dir.rglob("*")
                  if p.is_file() or p.is_symlink())


def assert_bundle_installed(claude_dir: Path) -> None:
    for name in bundle_files():
        target = claude_dir / name
        assert target.is_file() and not target.is_symlink(), f"{target} is not a copied file"
        assert target.read_bytes() == (REPO / ".claude" / name).read_bytes(), name
    assert sorted(installed_files(claude_dir)) == sorted(
        [*bundle_files(), "orchestrate/install-manifest.txt"])


def test_help_mentions_project(home, make_env):
    result = run(["bash", str(INSTALL), "--help"], make_env(home))
    assert result.returncode == 0, describe(result)
    assert "--project" in result.stdout and ".claude" in result.stdout


def test_refuses_to_overwrite_a_command_it_did_not_install(home, make_env):
    mine = home / ".claude" / bundle_files()[0]
    mine.parent.mkdir(parents=True)
    mine.write_text("my own command\n")
    result = run(["bash", str(INSTALL)], make_env(home))
    assert result.returncode != 0
    assert "was not installed by" in result.stderr, describe(result)
    assert mine.read_text() == "my own command\n"
    assert not (home / ".local").exists(), "nothing may be installed after the refusal"


@pytest.mark.slow
def test_install_puts_every_command_and_agent_under_home_then_uninstall_removes_them(
        home, make_env):
    env = make_env(home)
    claude_dir = home / ".claude"
    first = run(["bash", str(INSTALL)], env)
    assert first.returncode == 0, describe(first)
    assert_bundle_installed(claude_dir)
    assert_version(home / ".local" / "bin" / "orchestrate", env)

    # What the user adds or changes survives a reinstall and the uninstall.
    (claude_dir / "agents" / "mine.md").write_text("mine\n")
    (claude_dir / "settings.json").write_text("{}\n")
    changed = claude_dir / bundle_files()[-1]
    changed.write_text(changed.read_text() + "\nmy change\n")
    second = run(["bash", str(INSTALL)], env)
    assert second.returncode == 0, describe(second)
    assert f"Kept {changed}" in second.stdout, describe(second)
    assert changed.read_text().endswith("\nmy change\n")

    removed = run(["bash", str(INSTALL), "--uninstall"], env)
    assert removed.returncode == 0, describe(removed)
    assert f"Kept {changed}" in removed.stdout, describe(removed)
    assert installed_files(claude_dir) == sorted(
        ["agents/mine.md", "settings.json", bundle_files()[-1]])
    assert not (claude_dir / "orchestrate").exists()
    assert not (claude_dir / "commands").exists(), "the empty directory it made is removed"


@pytest.mark.slow
def test_install_with_project_puts_the_bundle_in_the_project(tmp_path, home, make_env):
    project = tmp_path / "my project"
    project.mkdir()
    env = make_env(home)
    args = ["bash", str(INSTALL), "--project", str(project)]
    result = run(args, env)
    assert result.returncode == 0, describe(result)
    assert_bundle_installed(project / ".claude")
    assert not (home / ".claude").exists(), "--project must leave ~/.claude alone"
    assert_version(home / ".local" / "bin" / "orchestrate", env)

    removed = run([*args, "--uninstall"], env)
    assert removed.returncode == 0, describe(removed)
    assert not (project / ".claude").exists()
    assert list(project.iterdir()) == []
    assert not (home / ".local" / "share" / "orchestrate" / "venv").exists()
