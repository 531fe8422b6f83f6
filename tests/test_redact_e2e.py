"""Secrets end to end: keys printed by a Run step, returned by an agent and saved in a
checkpoint leave no trace in the project's state, through the real CLI as processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.run_helpers import runner_env, shell_phase, write

FAKE = Path(__file__).with_name("fake_claude.py")

# Fake secrets, assembled at test time so no key-shaped literal sits in the source.
ANTHROPIC = "sk-ant-api03-" + "Qw7_Er-" * 13 + "AA"
OPENAI = "sk-proj-" + "Zx9-Cv8_" * 12
GITHUB = "ghp_" + "Mn4Bv5Lk6J" * 3 + "h7G8"
AWS_ID = "ASIA" + "QWERTY7UIOP4ASDF"
STS_SECRET = "Jq8rXUtnFEMI/K7MDENG/bPxRfiCY" + "SECRETKEY1"
STS_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH" + "Ab+/Cd9=" * 30
# each one after what used to hide it: a JSON escape, a URL-encoded "=", a digit, a letter
SHAPED = [("\\n", ANTHROPIC), ("%3D", OPENAI), ("id:1", GITHUB), ("user", AWS_ID)]
SECRETS = [key for _, key in SHAPED] + [STS_SECRET, STS_TOKEN]
STS = {"Credentials": {"AccessKeyId": AWS_ID, "SecretAccessKey": STS_SECRET,
                       "SessionToken": STS_TOKEN, "Expiration": "2026-11-21T20:40:00Z"}}


def _fragments(secret: str) -> list[bytes]:
    """The secret, and a stretch of its body: a marker must have replaced all of it."""
    return [secret.encode(), secret[-16:].encode()]


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    fake, bin_dir = tmp_path / "fake", tmp_path / "bin"
    for folder in (root, fake, bin_dir):
        folder.mkdir()
    claude = bin_dir / "claude"
    claude.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    claude.chmod(0o755)
    # the steps' output comes from a script outside the project: the plan holds no key
    keys = [f"print({prefix + key!r} + ' <- in text')" for prefix, key in SHAPED]
    keys += [f"print(json.dumps({{'log': 'done\\n' + {key!r}}}))" for _, key in SHAPED]
    sts = [f"print(json.dumps({STS!r}, indent=4))", f"print(json.dumps({STS!r}))",
           f"print(json.dumps({{'stdout': json.dumps({STS!r}, indent=2)}}))"]
    write(tmp_path / "emit.py", "import json, sys\nif sys.argv[1] == 'keys':\n"
          + "".join(f"    {line}\n" for line in keys) + "else:\n"
          + "".join(f"    {line}\n" for line in sts))
    result = "Done.\n" + "\n".join(prefix + key for prefix, key in SHAPED) + "\nSTATUS: done"
    (fake / "scenario.json").write_text(json.dumps({"default": [
        {"result": result, "write": {"src/feature.py": "x = 1\n"}}]}))
    write(root / ".claude" / "orchestrate" / "config.json",
          json.dumps({"backoff_base_s": 0.05, "backoff_cap_s": 0.5, "backoff_budget_s": 5}))
    env = runner_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                     FAKE_CLAUDE_SCENARIO=str(fake / "scenario.json"))
    env.pop("ORCHESTRATE_CONFIG", None)
    assert not any(secret in value for value in env.values() for secret in SECRETS)
    return root, tmp_path / "emit.py", env


def _orchestrate(root: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _state_files(root: Path) -> list[Path]:
    """Every file orchestrate wrote: its state folder, and the debug log wherever it is."""
    state = root / ".claude" / "orchestrate"
    found = [p for p in state.rglob("*") if p.is_file()]
    found += [p for p in root.rglob("*debug-log*") if p.is_file() and state not in p.parents]
    return found


def _assert_no_trace(files: list[Path], secrets: list[str], outputs: str) -> None:
    for secret in secrets:
        assert secret not in outputs
        for path in files:
            data = path.read_bytes()
            assert not any(piece in data for piece in _fragments(secret)), (secret, path)


def test_keys_from_a_step_an_agent_and_a_checkpoint_leave_no_trace(project):
    root, emit, env = project
    plan = (shell_phase("1", f'"{sys.executable}" "{emit}" keys', title="Print keys")
            + "## Phase 2: Agent work\n\n- **Owner:** implementer\n- **Type:** implementation\n"
              "- **Depends on:** Phase 1\n- **Files:** `src/feature.py`\n\nDo the work.\n")
    write(root / "plan.md", plan)
    run = _orchestrate(root, env, "run", "plan.md")
    assert run.returncode == 0, run.stdout + run.stderr
    saved = _orchestrate(root, env, "checkpoint", "save", "wf",
                         *(f"k{n}={prefix}{key}" for n, (prefix, key) in enumerate(SHAPED)),
                         "--json", json.dumps({"sts": json.dumps(STS), **STS["Credentials"]}))
    assert saved.returncode == 0, saved.stderr
    loaded = _orchestrate(root, env, "checkpoint", "load", "wf")
    stored = json.loads(loaded.stdout)
    assert stored["k0"] == "\\n[REDACTED:anthropic-key]"
    assert stored["SessionToken"] == stored["SecretAccessKey"] == "[REDACTED:secret]"
    written = _state_files(root)
    assert {p.name for p in written} >= {"journal.jsonl", "debug-log.md", "1.1.log", "wf.json"}
    _assert_no_trace(written, SECRETS, run.stdout + run.stderr + saved.stdout + saved.stderr
                     + loaded.stdout)
    text = (root / ".claude" / "orchestrate" / "runs" / "plan" / "steps" / "1.1.log").read_text()
    assert "\\n[REDACTED:anthropic-key]" in text and "%3D[REDACTED:openai-key]" in text
    assert "id:1[REDACTED:github-token]" in text and "user[REDACTED:aws-access-key]" in text
    agent_output = b"".join(p.read_bytes() for p in written if "2." in p.name)
    assert b"[REDACTED:anthropic-key]" in agent_output  # the agent's result was kept, redacted


def test_sts_credentials_printed_by_a_step_leave_no_value_in_any_file(project):
    root, emit, env = project
    write(root / "sts.md", shell_phase("1", f'"{sys.executable}" "{emit}" sts; exit 1'))
    run = _orchestrate(root, env, "run", "sts.md")
    assert run.returncode == 1, run.stdout + run.stderr
    written = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "1.1.log" for p in written)
    _assert_no_trace(written, [STS_SECRET, STS_TOKEN, AWS_ID], run.stdout + run.stderr)
    text = (root / ".claude" / "orchestrate" / "runs" / "sts" / "steps" / "1.1.log").read_text()
    assert text.count('"SecretAccessKey": "[REDACTED:secret]"') == 2
    assert text.count('"SessionToken": "[REDACTED:secret]"') == 2
    assert '\\"SessionToken\\": \\"[REDACTED:secret]\\"' in text  # JSON inside JSON
