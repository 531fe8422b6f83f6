"""The contract of an agent action: `expects` says everything the engine then checks.

For every kind of step of both slash commands (/orchestrate: research, overview, plan, a plan's
phases, debug, fix, docs; /execute-plan: design and implementation phases with files,
dependencies, Verify blocks and blast-radius tests), a stand-in agent that acts on nothing
but the action's `expects` gets `completed`, and one that leaves out any single item of it
gets `retry` naming that item. The stand-in writes each listed file with exactly the listed
sections and nothing more.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from orchestrator.verify.checks import parse_dependency_entry

from tests.wf_helpers import Wf

FEATURE = "Implement rate limiting architecture for the public API with security review"

MINIMAL_PLAN = """# Implementation Plan: the stand-in's plan

## Implementation Phases

### Phase 1: First part
**Objective**: Write the first file.
dependencies: []

Files: `src/one.txt`

Verify:
```bash
test -e .standin/phase_1.done
```

### Phase 2: Second part
**Objective**: Write the second file.
dependencies: [1]

Files: `src/two.txt`
"""


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t",
                    *args], check=True, capture_output=True)


class StandIn:
    """An agent that knows nothing but an action's `expects`, and does it all, or all but
    one item (``omit``: an item's index, or (index, section) for one section of a file)."""

    def __init__(self, root: Path):
        self.root = root

    def perform(self, action: dict, omit=None) -> list[Path]:
        """Do the action; returns the paths it created."""
        created: list[Path] = []
        wrote = False
        left_out = {Path(item["path"]) for index, item in enumerate(action["expects"])
                    if index == omit and item["kind"] == "file"}
        for index, item in enumerate(action["expects"]):
            kind = item["kind"]
            if omit == index:
                continue
            if kind == "file":
                sections = [name for name in item["sections"] if omit != (index, name)]
                body = f"# {Path(item['path']).stem}\n\n" + "".join(
                    f"## {name}\n\nWritten by the stand-in.\n\n" for name in sections)
                created += self._write(Path(item["path"]), body or "x\n")
            elif kind == "dependency":
                packages, manifest = parse_dependency_entry(item["entry"])
                path = self.root / (manifest or "requirements.txt")
                created += self._write(path, "".join(f"{name}\n" for name in packages),
                                       append=True)
            elif kind == "command":
                created += self._honour(item["script"], left_out)
            elif kind == "change":
                continue  # any write above is a change; one is made below if none was
            else:
                raise AssertionError(f"the stand-in cannot act on {item}")
            wrote = True
        kinds = [item["kind"] for item in action["expects"]]
        if "change" in kinds and omit != kinds.index("change") and not wrote:
            name = action["step"].replace(":", "_")
            created += self._write(self.root / ".standin" / f"{name}.txt", "changed\n")
        return created

    def _honour(self, script: str, left_out: set[Path]) -> list[Path]:
        """A check command of a shape the stand-in knows: `test -e PATH`, `plan validate`
        (never by writing a file it was told to leave out)."""
        words = shlex.split(script)
        if words[:2] == ["test", "-e"] and len(words) == 3:
            target, text = self.root / words[2], "done\n"
        elif "plan" in words and "validate" in words:
            target, text = self.root / words[-1], MINIMAL_PLAN
        else:
            raise AssertionError(f"the stand-in cannot honour {script!r}")
        return [] if target in left_out else self._write(target, text)

    def _write(self, path: Path, text: str, append: bool = False) -> list[Path]:
        new = not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a" if append else "w", encoding="utf-8") as handle:
            handle.write(text)
        return [path] if new else []


def variants(action: dict) -> list:
    """Every way to leave one item out: each item, and each section of each file."""
    found = []
    for index, item in enumerate(action["expects"]):
        if item["kind"] == "change" and len(action["expects"]) > 1:
            continue  # writing any other item is a change: it can be left out only alone
        found.append(index)
        if item["kind"] == "file":
            found += [(index, name) for name in item["sections"]]
    return found


def names_it(reason: str, item: dict, section: str | None) -> bool:
    """The retry's reason names the item left out."""
    if section is not None:
        return f"## {section}" in reason and Path(item["path"]).name in reason
    kind = item["kind"]
    if kind == "file":
        return Path(item["path"]).name in reason
    if kind == "dependency":
        return all(name in reason for name in parse_dependency_entry(item["entry"])[0])
    if kind == "command":
        return item["script"].splitlines()[0][:60] in reason
    if kind == "change":
        return "no changes on disk" in reason
    return False


def drive(wf: Wf, stand_in: StandIn, run: str, seen: dict[str, list]) -> dict:
    """next -> (each omission, then the whole contract) -> report, until done."""
    for _ in range(200):
        answer = wf.call("next", run)
        actions = answer["actions"]
        for action in actions:
            if action["type"] == "done":
                return action
            if action["type"] == "ask":
                wf.call("answer", run, action["id"], "continue")
            elif action["type"] == "command":
                wf.call("exec", run, action["id"])
        agents = [a for a in actions if a["type"] == "agent"]
        for action in agents:
            step = action["step"]
            if step not in seen:  # first attempt: every omission in turn, one attempt each
                seen[step] = action["expects"]
                leave_out = variants(action)
                if leave_out:
                    _omit(wf, stand_in, run, action, leave_out[0])
                    seen[step + "#pending"] = leave_out[1:]
                    continue
            pending = seen.get(step + "#pending", [])
            if pending:
                _omit(wf, stand_in, run, action, pending.pop(0))
                continue
            stand_in.perform(action)
            result = wf.call("report", run, action["id"])
            assert result["outcome"] == "completed", (action, result)
            seen[step + "#done"] = True
    raise AssertionError("the run did not reach done")


def _omit(wf: Wf, stand_in: StandIn, run: str, action: dict, leave_out) -> None:
    index, section = leave_out if isinstance(leave_out, tuple) else (leave_out, None)
    item = action["expects"][index]
    created = stand_in.perform(action, omit=leave_out)
    result = wf.call("report", run, action["id"])
    assert result["outcome"] == "retry", (action["step"], leave_out, result)
    assert names_it(result["reason"] or "", item, section), (item, section, result["reason"])
    for path in created:  # undo, so the next attempt's writes are a change again
        path.unlink()


def _config(root: Path, extra: str = "") -> None:
    (root / ".claude").mkdir(exist_ok=True)
    (root / ".claude" / "orchestrate.yaml").write_text(
        "agent_attempts: 12\n" + extra)


@pytest.fixture
def feature_project(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    # The tests pass once both phases wrote their files and debug round 1 made its fix.
    (root / "Makefile").write_text(
        "test:\n\ttest -s src/one.txt && test -s src/two.txt && test -e .standin/fix_1.txt\n")
    _config(root)
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "start")
    return root


def test_every_step_of_orchestrate_passes_on_its_contract_and_fails_without_any_item(
        feature_project, tmp_path):
    wf = Wf(feature_project, tmp_path / "none.json")
    answer = wf.call("start", FEATURE)
    stand_in = StandIn(feature_project)
    seen: dict[str, list] = {}
    done = drive(wf, stand_in, answer["run"], seen)
    assert done["status"] == "completed", done
    steps = [key for key in seen if "#" not in key]
    kinds = {step.split(":")[0] for step in steps}
    assert {"research", "overview", "plan", "phase", "debug", "fix", "docs"} <= kinds, steps
    assert all(seen.get(step + "#done") for step in steps)
    research = next(step for step in steps if step.startswith("research:"))
    assert seen[research][0]["sections"] == ["Summary", "Findings", "Recommendations"]
    assert [item["kind"] for item in seen["plan"]] == ["file", "command"]
    assert [item["kind"] for item in seen["phase:1"]] == ["file", "command", "change"]
    assert [item["kind"] for item in seen["fix:1"]] == ["change"]
    assert seen["debug:1"][0]["sections"] == ["Root Cause", "Proposed Fix", "Confidence"]


EXECUTE_PLAN = """# Plan: contract check

## Phase 1: Interface (design)

- **Owner:** designer
- **Type:** design
- **Depends on:** none
- **Files:** `docs/adr/0001-interface.md`

Write the interface decision.

## Phase 2: Parser dependency

- **Owner:** implementer
- **Depends on:** none
- **Dependencies to add:** `parsely` in `requirements.txt`
- **Blast radius:** `parser`

Add the parser.

## Phase 3: Analysis

- **Owner:** implementer
- **Depends on:** Phase 1, Phase 2
- **Files:** `src/analysis.py`, `tests/test_analysis.py`

**Verify:**
```bash
test -e .standin/analysis.checked
```
"""


def test_every_phase_of_execute_plan_passes_on_its_contract_and_fails_without_any_item(
        tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "requirements.txt").write_text("pyyaml\n")
    (root / "plan.md").write_text(EXECUTE_PLAN)
    _config(root, "blast_radius_command: test -e .standin/blast_{pattern}\n"
                  "test_command: test -s src/analysis.py\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "start")
    wf = Wf(root, tmp_path / "none.json")
    answer = wf.call("start", "--plan", "plan.md")
    seen: dict[str, list] = {}
    done = drive(wf, StandIn(root), answer["run"], seen)
    assert done["status"] == "completed", done
    assert [item["kind"] for item in seen["1"]] == ["file"]  # design: no change asked
    assert [item["kind"] for item in seen["2"]] == ["dependency", "command", "change"]
    assert seen["2"][1]["field"] == "blast_radius"
    assert [item["kind"] for item in seen["3"]] == ["file", "file", "command", "change"]
    assert all(seen.get(step + "#done") for step in ("1", "2", "3"))


@pytest.mark.parametrize(("text", "found"), [
    ("## Summary\n", True),
    ("### summary of the work\n", True),
    ("## 2. Summary: short\n", True),
    ("# Summary\n", False),  # the title level does not count
    ("#### Summary\n", False),
    ("## Summaryish\n", False),
    ("Summary\n", False),
    ("```\n## Summary\n```\n", False),  # inside a fence
    ("~~~~\n## Summary\n~~~~\n## Summary\n", True),
])
def test_a_section_is_a_level_two_or_three_heading_outside_fences(text, found):
    from orchestrator.verify.contract import has_section

    assert has_section(text, "Summary") is found


def test_the_prompts_checks_are_the_contract_in_words(tmp_path):
    """The Checks section of a report step's prompt names every section it is held to."""
    from orchestrator.engine import workflow
    from orchestrator.render.prompts import PromptContext, render_prompt
    from orchestrator.verify import contract

    wf = workflow.Workflow(description="x", topic_dir="specs/001_x", number=1, slug="x",
                           workflow_type="feature", complexity=5, thinking_mode=None,
                           topics=["security"])
    research = workflow.initial_phases(wf)[0]
    words = contract.describe(research, None)
    prompt = render_prompt(PromptContext(phase=research, plan_path="/p.md",
                                         project_root=tmp_path, checks=words))
    checks = prompt.split("## Checks", 1)[1]
    for name in ("Summary", "Findings", "Recommendations"):
        assert f"`## {name}`" in checks
    assert len(contract.expects(research, None, tmp_path)) == len(words)
