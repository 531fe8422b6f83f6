"""install.sh against a hostile repository: a planted manifest, folder links under --project.

The manifest is trusted only when this installer wrote it for this user (every line one it
writes, sealed with a key kept outside every project); the folders it writes into are never
links. Each attack is refused with exit 2 before anything is removed or written, and the
files outside the project stay byte for byte the same.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.test_install import INSTALL, describe, run

BASHRC = "# ~/.bashrc: executed by bash(1) for non-login shells.\n"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def victim(tmp_path, make_env):
    """A user's HOME with a stock dotfile and agents of their own, and a cloned repo."""
    home = tmp_path / "home"
    (home / ".claude" / "agents").mkdir(parents=True)
    (home / ".bashrc").write_text(BASHRC)
    (home / ".claude" / "agents" / "implementer.md").write_text("my own agent\n")
    (home / "important").mkdir()
    repo = tmp_path / "repo"
    (repo / ".claude" / "orchestrate").mkdir(parents=True)
    return home, repo, make_env(home)


def tree(root: Path) -> dict[str, str]:
    """Every file and link under ``root`` with its content's digest (links: target)."""
    found = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = sha(path)
        else:
            found[key] = "dir"
    return found


@pytest.mark.parametrize("action", [["--project"], ["--uninstall", "--project"]])
@pytest.mark.parametrize("lines", [
    ["file {bashrc} ../../home/.bashrc"],
    ["file {bashrc} /{home}/.bashrc"],
    ["file {agent} ../../home/.claude/agents/implementer.md"],
    ["dir - ../../home/important"],
    ["file {agent} agents/../../../home/.claude/agents/implementer.md"],
    # Only lines the installer writes, but no seal, or one it could not have made.
    ["file {agent} agents/implementer.md"],
    ["file {agent} agents/implementer.md", "seal " + "0" * 64],
])
def test_a_planted_manifest_is_refused_and_nothing_is_removed(victim, action, lines):
    home, repo, env = victim
    values = {"bashrc": sha(home / ".bashrc"),
              "agent": sha(home / ".claude" / "agents" / "implementer.md"),
              "home": str(home).lstrip("/")}
    manifest = repo / ".claude" / "orchestrate" / "install-manifest.txt"
    manifest.write_text("".join(line.format(**values) + "\n" for line in lines))
    # The same agent file in the repo's .claude, as an attacker would add to match it.
    (repo / ".claude" / "agents").mkdir()
    (repo / ".claude" / "agents" / "implementer.md").write_text("my own agent\n")
    before_home, before_repo = tree(home), tree(repo)
    result = run(["bash", str(INSTALL), *action, str(repo)], env)
    assert result.returncode == 2, describe(result)
    assert str(manifest) in result.stderr and "not written by this installer" in result.stderr
    assert tree(home) == before_home
    assert tree(repo) == before_repo


@pytest.mark.parametrize("linked", [".claude", ".claude/commands", ".claude/agents",
                                    ".claude/orchestrate"])
@pytest.mark.parametrize("action", [[], ["--uninstall"]])
def test_a_folder_link_under_project_is_refused_and_nothing_outside_changes(
        tmp_path, victim, linked, action):
    home, repo, env = victim
    outside = tmp_path / "outside"
    (outside / "commands").mkdir(parents=True)
    (outside / "commands" / "orchestrate.md").write_text("outside, untouched\n")
    (outside / "orchestrate").mkdir()
    (outside / "orchestrate" / "install-manifest.txt").write_text("outside manifest\n")
    target = repo / linked
    if target.exists():
        subprocess.run(["rm", "-rf", str(target)], check=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(outside if linked == ".claude" else outside / Path(linked).name)
    before = tree(outside)
    result = run(["bash", str(INSTALL), *action, "--project", str(repo)], env)
    assert result.returncode == 2, describe(result)
    assert "is a symbolic link" in result.stderr and str(repo / linked) in result.stderr
    assert tree(outside) == before


@pytest.mark.slow
def test_a_manifest_edited_after_a_real_install_is_refused(victim):
    """The installer's own manifest passes; once edited (a line added), it is refused."""
    home, repo, env = victim
    installed = run(["bash", str(INSTALL), "--project", str(repo)], env)
    assert installed.returncode == 0, describe(installed)
    manifest = repo / ".claude" / "orchestrate" / "install-manifest.txt"
    text = manifest.read_text()
    assert text.splitlines()[-1].startswith("seal ")
    again = run(["bash", str(INSTALL), "--project", str(repo)], env)  # its own: trusted
    assert again.returncode == 0, describe(again)
    lines = manifest.read_text().splitlines()
    lines.insert(0, f"file {sha(home / '.bashrc')} agents/bashrc.md")
    manifest.write_text("\n".join(lines) + "\n")
    before = tree(repo / ".claude")
    refused = run(["bash", str(INSTALL), "--uninstall", "--project", str(repo)], env)
    assert refused.returncode == 2, describe(refused)
    assert "its seal does not match" in refused.stderr
    assert tree(repo / ".claude") == before
    assert (home / ".bashrc").read_text() == BASHRC
