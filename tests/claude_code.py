"""The real Claude Code binary for tests: installed with npm at a pinned version, run headless.

``install()`` finds or installs ``@anthropic-ai/claude-code`` at ``VERSION`` under the test
cache (``$ORCHESTRATE_TEST_CACHE``, default the repo's ``.venv``) and returns the binary, or
None with the reason in ``last_failure`` (no npm, registry unreachable). A binary named by
``$ORCHESTRATE_REAL_CLAUDE_PATH`` (a PATH-style list of folders holding ``claude``) wins.

``headless_env()`` and ``run()`` start it the way the end-to-end tests need: a fresh empty
HOME, the scripted model server as ``ANTHROPIC_BASE_URL``, the venv's bin on PATH so the
Bash tool finds ``orchestrate``, and no telemetry, auto-update or other non-essential
traffic. See docs/testing.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["VERSION", "PACKAGE", "install", "last_failure", "headless_env", "run",
           "ClaudeResult", "QUIET_ENV"]

PACKAGE = "@anthropic-ai/claude-code"
VERSION = "2.1.332"  # the version the end-to-end tests were last checked with
REPO = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT_S = 300

# Documented switches, each one seen in the binary's own strings (2.1.332).
QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",  # the umbrella for the next four
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1",
    "DISABLE_COST_WARNINGS": "1",
    "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
}

last_failure = ""


def _cache() -> Path:
    return Path(os.environ.get("ORCHESTRATE_TEST_CACHE", REPO / ".venv"))


def _installed_version(prefix: Path) -> str | None:
    manifest = prefix / "node_modules" / "@anthropic-ai" / "claude-code" / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def install(version: str = VERSION) -> str | None:
    """The path of a working ``claude`` binary, installing it when needed; None if it
    cannot be had (the reason is in ``last_failure``)."""
    global last_failure
    override = os.environ.get("ORCHESTRATE_REAL_CLAUDE_PATH")
    if override:
        found = shutil.which("claude", path=override)
        if found:
            return found
    npm = shutil.which("npm")
    if npm is None:
        last_failure = "npm is not installed (tests/run installs nodejs and npm with apt-get)"
        return None
    prefix = _cache() / f"claude-npm-{version}"
    binary = prefix / "node_modules" / ".bin" / "claude"
    if not binary.exists() or _installed_version(prefix) != version:
        prefix.mkdir(parents=True, exist_ok=True)
        try:
            proc = subprocess.run(
                [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                 str(prefix), f"{PACKAGE}@{version}"],
                capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            last_failure = f"npm install {PACKAGE}@{version} took over {INSTALL_TIMEOUT_S} s"
            return None
        if proc.returncode != 0:
            last_failure = (f"npm install {PACKAGE}@{version} failed (is the npm registry "
                            f"reachable?): {proc.stderr.strip()[-1500:]}")
            print(last_failure, file=sys.stderr)
            return None
    if not binary.exists():
        last_failure = f"npm installed {PACKAGE}@{version} but {binary} is missing"
        return None
    return str(binary)


def headless_env(home: Path, base_url: str, extra: dict | None = None) -> dict:
    """The environment for one headless run against the scripted model at ``base_url``.

    Starts from this process's environment less every ``ANTHROPIC_*``/``CLAUDE*`` variable
    (a developer's real key or a parent Claude Code session must not leak in) and less the
    orchestrate state and config overrides.
    """
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("ANTHROPIC_", "CLAUDE"))
           and name not in ("ORCHESTRATE_STATE_DIR", "ORCHESTRATE_CONFIG")}
    venv_bin = str(Path(sys.executable).parent)
    env.update(QUIET_ENV)
    env.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "PATH": os.pathsep.join([venv_bin, env.get("PATH", "/usr/bin:/bin")]),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "test-key",
        "CLAUDE_CODE_TMPDIR": str(home / "tmp"),  # else it leaves files in /tmp/claude-UID
    })
    env.update(extra or {})
    return env


@dataclass
class ClaudeResult:
    """One headless run: exit code, the final JSON object (or None), stdout and stderr."""

    code: int
    result: dict | None
    out: str
    err: str
    seconds: float

    def explain(self) -> str:
        return f"exit {self.code} after {self.seconds:.1f}s\nstdout: {self.out[-3000:]}\n" \
               f"stderr: {self.err[-3000:]}"


def run(binary: str, prompt: str, *, cwd: Path, env: dict, args: list[str] | None = None,
        timeout: float = 120) -> ClaudeResult:
    """``claude -p PROMPT --output-format json [ARGS]`` in ``cwd``; stdin closed."""
    import time

    began = time.monotonic()
    proc = subprocess.run([binary, "-p", prompt, "--output-format", "json", *(args or [])],
                          cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)
    seconds = time.monotonic() - began
    result = None
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("type") == "result":
            result = value
            break
    return ClaudeResult(proc.returncode, result, proc.stdout, proc.stderr, seconds)
