"""The Claude Code plugin: its manifests, the real binary's validator and installer, and the
bin/orchestrate shim that sets up the CLI on first use.

The slow tests run the real ``claude`` (tests/claude_code.py; skipped when it cannot be had)
with HOME and the XDG directories in a temporary directory; ``plugin validate``,
``plugin marketplace add`` and ``plugin install`` from a local path need no network. The shim
test pip-installs the package, so it needs the package index (or a pip cache).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import claude_code
from tests.model_server import ModelServer, Turn

REPO = Path(__file__).resolve().parent.parent
PLUGIN_JSON = REPO / ".claude-plugin" / "plugin.json"
MARKETPLACE_JSON = REPO / ".claude-plugin" / "marketplace.json"
SHIM = REPO / "bin" / "orchestrate"
TIMEOUT = 600


def package_version() -> str:
    text = (REPO / "lib" / "orchestrator" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    assert match, "no __version__ in lib/orchestrator/__init__.py"
    return match.group(1)


def manifest() -> dict:
    return json.loads(PLUGIN_JSON.read_text(encoding="utf-8"))


def marketplace() -> dict:
    return json.loads(MARKETPLACE_JSON.read_text(encoding="utf-8"))


def describe(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def copy_worktree(destination: Path) -> Path:
    """Copy the files git would see (tracked and untracked, not ignored); links stay links."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs the git checkout of the project")
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True).stdout.decode()
    for name in sorted(set(filter(None, listing.split("\0")))):
        source = REPO / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree but still in the index
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return destination


@pytest.fixture(scope="module")
def claude() -> str:
    binary = claude_code.install()
    if binary is None:
        pytest.skip(f"the real Claude Code is not available: {claude_code.last_failure}")
    return binary


def offline_env(home: Path) -> dict[str, str]:
    """The headless environment with every per-user directory under ``home``; no model
    server is needed (nothing here talks to a model), so the base URL is a closed port."""
    home.mkdir(parents=True, exist_ok=True)
    return claude_code.headless_env(home, "http://127.0.0.1:9", {
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
    })


def run_claude(claude: str, args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([claude, *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)


# --- the manifests -------------------------------------------------------------------------


def test_manifest_version_is_the_package_version():
    assert manifest()["version"] == package_version()


def test_marketplace_lists_this_repository_as_the_plugin():
    listing = marketplace()
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", listing["name"])
    entries = [p for p in listing["plugins"] if p["name"] == manifest()["name"]]
    assert len(entries) == 1, listing["plugins"]
    assert entries[0]["source"] == "./"
    assert entries[0].get("version", package_version()) == package_version()


def test_manifest_points_at_the_bundle():
    data = manifest()
    assert data["name"] == "orchestrate"
    assert data["commands"] == "./.claude/commands/"
    # The validator wants agents as a list of .md files, so every agent must be listed.
    agents = sorted(f"./.claude/agents/{p.name}"
                    for p in (REPO / ".claude" / "agents").glob("*.md"))
    assert data["agents"] == agents, "list every .claude/agents/*.md in plugin.json's agents"
    for path in [data["commands"], *data["agents"]]:
        assert path.startswith("./")
        assert (REPO / path).exists(), path
    # hooks/hooks.json is loaded by default; naming it again is an error or runs hooks twice.
    assert "hooks" not in data


def test_shim_is_an_executable_bash_script():
    assert os.access(SHIM, os.X_OK), "bin/orchestrate must be executable"
    assert SHIM.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")


def test_shim_reports_a_missing_python(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "CLAUDE_PLUGIN_DATA": str(tmp_path / "data"),
           "PYTHON": str(tmp_path / "no-such-python3")}
    result = subprocess.run([str(SHIM), "--version"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1, describe(result)
    assert "Python interpreter not found" in result.stderr, describe(result)
    assert result.stdout == ""
    assert not (tmp_path / "data" / "venv").exists()


# --- the real Claude Code ------------------------------------------------------------------


@pytest.mark.slow
def test_validate_strict_passes(claude, tmp_path):
    copy = copy_worktree(tmp_path / "copy")
    assert (copy / ".claude" / "agents").is_symlink()
    result = run_claude(claude, ["plugin", "validate", "--strict", "."],
                        offline_env(tmp_path / "h"), cwd=copy)
    assert result.returncode == 0, describe(result)
    for name in ["orchestrate", *(p.stem for p in (REPO / ".claude" / "agents").glob("*.md"))]:
        assert f"orchestrate:{name}" in result.stdout, describe(result)


@pytest.mark.slow
def test_installs_from_a_local_marketplace_into_an_empty_home(claude, tmp_path):
    copy = copy_worktree(tmp_path / "copy")
    home = tmp_path / "home"
    env = offline_env(home)
    name = marketplace()["name"]

    added = run_claude(claude, ["plugin", "marketplace", "add", str(copy)], env, cwd=tmp_path)
    assert added.returncode == 0, describe(added)
    installed = run_claude(claude, ["plugin", "install", f"orchestrate@{name}"], env, cwd=tmp_path)
    assert installed.returncode == 0, describe(installed)

    listed = run_claude(claude, ["plugin", "list", "--json"], env, cwd=tmp_path)
    assert listed.returncode == 0, describe(listed)
    ours = [p for p in json.loads(listed.stdout) if p["id"] == f"orchestrate@{name}"]
    assert len(ours) == 1 and ours[0]["enabled"], listed.stdout
    assert ours[0]["version"] == package_version()
    root = Path(ours[0]["installPath"])
    assert root.is_relative_to(home), root
    for kind in ("commands", "agents"):
        expected = sorted(p.name for p in (REPO / ".claude" / kind).glob("*.md"))
        assert expected and sorted(p.name for p in (root / ".claude" / kind).glob("*.md")) \
            == expected, kind
    assert os.access(root / "bin" / "orchestrate", os.X_OK)

    # A session in that HOME offers the plugin's command and every agent to the model.
    with ModelServer(_Quiet()) as server:
        session_env = dict(env, ANTHROPIC_BASE_URL=server.url)
        work = tmp_path / "work"
        work.mkdir()
        ran = claude_code.run(claude, "hello", cwd=work, env=session_env)
        assert ran.code == 0, ran.explain()
        requests = server.model_requests("main")
        assert requests, ran.explain()
        offered = json.dumps(requests[0].request.body)
    for kind in ("commands", "agents"):
        for path in (REPO / ".claude" / kind).glob("*.md"):
            assert f"orchestrate:{path.stem}" in offered, f"{kind}/{path.name} not offered"


class _Quiet:
    """A model that only ever answers with a word."""

    def respond(self, request) -> Turn:
        return Turn.text("ok")


# --- bin/orchestrate -----------------------------------------------------------------------


def shim_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLAUDE", "XDG_", "PIP_")) and k not in ("VIRTUAL_ENV", "PYTHON")}
    base = Path(getattr(sys, "_base_executable", "") or sys.executable).resolve()
    env.update(HOME=str(tmp_path / "home"), PYTHON=str(base),
               PIP_CACHE_DIR=str(tmp_path / "pip-cache"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.update(extra)
    return env


@pytest.mark.slow
def test_shim_sets_up_once_and_again_when_the_version_changes(tmp_path):
    data = tmp_path / "data"
    env = shim_env(tmp_path, CLAUDE_PLUGIN_DATA=str(data))
    # Two first uses at once: one sets up, the other waits for it and reuses the venv.
    runs = [subprocess.Popen([str(SHIM), "--version"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(p.wait(timeout=TIMEOUT), *p.communicate()) for p in runs]
    for code, out, err in outcomes:
        assert code == 0, err
        assert out.strip() == f"orchestrate {package_version()}", (out, err)
    assert sum("first use" in err for _, _, err in outcomes) == 1, outcomes
    assert (data / "venv" / "pyvenv.cfg").is_file()

    again = subprocess.run([str(SHIM), "--version"], env=env, capture_output=True, text=True,
                           timeout=TIMEOUT, check=False)
    assert again.returncode == 0 and again.stderr == "", describe(again)

    # A new version of the plugin (CLAUDE_PLUGIN_ROOT elsewhere) is installed over it.
    copy = copy_worktree(tmp_path / "newer")
    init = copy / "lib" / "orchestrator" / "__init__.py"
    init.write_text(init.read_text().replace(package_version(), "99.0.0"))
    newer = subprocess.run([str(SHIM), "--version"], env=dict(env, CLAUDE_PLUGIN_ROOT=str(copy)),
                           capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert newer.returncode == 0, describe(newer)
    assert newer.stdout.strip() == "orchestrate 99.0.0", describe(newer)
    assert "updating" in newer.stderr
    assert not (copy / "build").exists() and not list(copy.glob("lib/*.egg-info"))


@pytest.mark.slow
def test_shim_falls_back_to_the_xdg_data_directory(tmp_path):
    env = shim_env(tmp_path, XDG_DATA_HOME=str(tmp_path / "xdg"))
    result = subprocess.run([str(SHIM), "--version"], env=env, capture_output=True, text=True,
                            timeout=TIMEOUT, check=False)
    assert result.returncode == 0, describe(result)
    assert (tmp_path / "xdg" / "orchestrate" / "plugin-venv" / "pyvenv.cfg").is_file()
