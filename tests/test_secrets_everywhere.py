"""Every secret shape, in every place the engine keeps or passes text on: a feature
description (workflow.json, folder and run names, prompts, the PR's title and body), an
agent's note, the user's note with an answer, and what the hooks record. None survives on
disk or in the argv of `gh`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_orchestrate_workflow import research_topics, scenario_for, topic_of
from tests.wf_helpers import Wf, write_scenario

REPO = Path(__file__).resolve().parents[1]

# Assembled at run time, so no key-shaped literal sits in the source.
SECRETS = {
    "slack-bot": "xoxb-" + "2718281828-" * 2 + "QwErTyUiOp",
    "slack-user": "xoxp-" + "31415" * 4 + "-" + "Kk" * 8,
    "stripe": "sk_live_" + "9fJq2LmN7xPa4RtY8vWz",
    "npm": "npm_" + "Xy7" * 12,
    "google": "AIza" + "SyQ-" * 8 + "zzz",
    "url-password": "Hunter2Hunter2",
    "bearer": "eyJhbGciOiJIUzI1NiJ9" + "abc123XYZ" * 2,
}
DESCRIPTION = (
    f"Add a webhook relay with research into security, using slack {SECRETS['slack-bot']}, "
    f"stripe {SECRETS['stripe']}, npm {SECRETS['npm']}, maps {SECRETS['google']} and "
    f"postgres://relay:{SECRETS['url-password']}@db:5432/relay")
NOTE = (f"used {SECRETS['slack-user']} and "
        f'{{\\"Authorization\\": \\"Bearer {SECRETS["bearer"]}\\"}}')


def leaks(root: Path, extra: list[str] = ()) -> list[str]:
    """Where a secret's value (or its lower-cased form) still shows: file contents, names."""
    found = []
    values = [v for v in SECRETS.values()] + [v.lower() for v in SECRETS.values()]
    for path in root.rglob("*"):
        if any(value in str(path) for value in values):
            found.append(f"name: {path}")
        if path.is_file() and not path.is_symlink() and ".git" not in path.parts:
            text = path.read_bytes().decode("utf-8", "replace")
            found += [f"{path}: {name}" for name, value in SECRETS.items()
                      if value in text or value.lower() in text]
    found += [f"{where}: {name}" for where in extra for name, value in SECRETS.items()
              if value in where or value.lower() in where]
    return found


def test_no_secret_of_a_description_or_a_note_lands_anywhere(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "Makefile").write_text("test:\n\ttest -s src/one.txt && test -s src/two.txt\n")
    (project / "README.md").write_text("# Project\n")
    subprocess.run(["git", "-C", str(project), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(project), "-c", "user.email=t@t", "-c", "user.name=t",
                    "commit", "-qm", "start"], check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh_log = tmp_path / "gh.log"
    (bin_dir / "gh").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{gh_log}"\n'
                                'case "$1" in pr) echo https://example.invalid/pr/1;; esac\n')
    (bin_dir / "gh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    wf = Wf(project, tmp_path / "scenario.json")
    preview = wf.call("start", DESCRIPTION, "--dry-run")
    assert not leaks(tmp_path, [json.dumps(preview)])
    answer = wf.call("start", DESCRIPTION, "--create-pr")
    assert not leaks(tmp_path, [json.dumps(answer)])
    topic = topic_of(answer, project)
    write_scenario(wf.scenario, scenario_for(topic, research_topics(project, answer["run"])))
    run = answer["run"]
    for _ in range(100):
        actions = wf.call("next", run)["actions"]
        if any(a["type"] == "done" for a in actions):
            break
        for action in actions:
            if action["type"] == "command":
                wf.call("exec", run, action["id"])
            elif action["type"] == "agent":
                wf.perform(action)
                wf.call("report", run, action["id"], "--note", NOTE)
    else:
        raise AssertionError("no done")
    hook = subprocess.run(
        [sys.executable, "-m", "orchestrator", "hook", "record"], cwd=project,
        input=json.dumps({"hook_event_name": "PostToolUse", "tool_name": "Write",
                          "tool_input": {"file_path": f"/tmp/{SECRETS['npm']}.txt"},
                          "cwd": str(project), "session_id": "s"}),
        capture_output=True, text=True, timeout=60)
    assert hook.returncode == 0, hook.stderr
    assert gh_log.read_text().count("pr create") == 1
    assert not leaks(tmp_path), leaks(tmp_path)
    assert "[REDACTED:" in gh_log.read_text() or "webhook relay" in gh_log.read_text()
