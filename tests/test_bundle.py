"""Static checks of the bundle's Markdown: the slash commands stay short and only call
commands the CLI has, and every agent the engine can name has a definition."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMMANDS = sorted((REPO / ".claude" / "commands").glob("*.md"))
# an invocation: in inline code or at the start of a line of a code block, not prose
INVOCATION = re.compile(r"(?:`|^)orchestrate((?: [a-z][a-z-]*){1,2})", re.M)


def frontmatter(path: Path) -> dict[str, str]:
    text = path.read_text()
    assert text.startswith("---\n")
    head = text.split("---\n", 2)[1]
    return dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_a_command_is_short_narrow_and_never_uses_slashcommand(path):
    text = path.read_text()
    assert len(text.splitlines()) < 150
    assert "SlashCommand" not in text
    meta = frontmatter(path)
    assert meta["description"] and meta["argument-hint"]
    tools = [tool.strip() for tool in meta["allowed-tools"].split(",")]
    assert all(tool == "Agent" or tool.startswith("Bash(orchestrate ") for tool in tools), tools
    assert "MUST" not in text and "CRITICAL" not in text


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_every_orchestrate_invocation_is_a_real_subcommand(path):
    calls = {match.group(1).split()[:2][0] if match.group(1).split()[0] != "wf" else
             " ".join(match.group(1).split()[:2])
             for match in INVOCATION.finditer(path.read_text())}
    assert calls
    for call in calls:
        done = subprocess.run([sys.executable, "-m", "orchestrator", *call.split(), "--help"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (call, done.stderr)


def test_every_agent_the_workflow_names_has_a_definition_the_session_finds():
    from orchestrator.engine.workflow import ROLES

    agents = REPO / ".claude" / "agents"
    found = {path.stem for path in agents.glob("*.md")}
    assert set(ROLES) | {"implementer", "designer"} <= found
    for role in ROLES:
        assert frontmatter(agents / f"{role}.md")["name"] == role


def test_every_test_the_guarantees_name_exists():
    text = (REPO / "docs" / "guarantees.md").read_text()
    named = re.findall(r"`(test_\w+\.py)(?:::(\w+))?", text)
    assert len(named) >= 15
    for file, name in named:
        source = (REPO / "tests" / file).read_text()
        assert not name or f"def {name}(" in source, f"{file}::{name}"
