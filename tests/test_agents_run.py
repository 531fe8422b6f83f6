"""Agent steps end to end with a stand-in `claude` on PATH (only the model is simulated)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from tests import claude_code
from tests.run_helpers import journal, run_dir, statuses, write

FAKE = Path(__file__).with_name("fake_claude.py")


class Agents:
    """A project folder, a scripted stand-in `claude`, and what it was asked."""

    def __init__(self, root: Path, fake_dir: Path):
        self.root = root
        self.scenario_path = fake_dir / "scenario.json"

    def script(self, steps: dict | None = None, default: list | None = None) -> None:
        self.scenario_path.write_text(json.dumps({"steps": steps or {},
                                                  "default": default or [{}]}))

    def calls(self, step: str | None = None) -> list[dict]:
        path = self.scenario_path.with_name("scenario.json.calls.jsonl")
        if not path.exists():
            return []
        found = [json.loads(line) for line in path.read_text().splitlines()]
        return [c for c in found if step is None or c["step"] == step]


@pytest.fixture
def agents(tmp_path, monkeypatch):
    root = tmp_path / "project"
    fake_dir = tmp_path / "fake"
    bin_dir = tmp_path / "bin"
    for folder in (root, fake_dir, bin_dir):
        folder.mkdir()
    claude = bin_dir / "claude"
    claude.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    claude.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", str(fake_dir / "scenario.json"))
    monkeypatch.delenv("ORCHESTRATE_STATE_DIR", raising=False)
    monkeypatch.delenv("ORCHESTRATE_CONFIG", raising=False)
    monkeypatch.chdir(root)
    write(root / ".claude" / "orchestrate" / "config.json",
          json.dumps({"backoff_base_s": 0.05, "backoff_cap_s": 0.5, "backoff_budget_s": 5}))
    helper = Agents(root, fake_dir)
    helper.script()
    return helper


def agent_phase(phase_id: str, files: str = "", depends: str = "none", *,
                kind: str = "implementation", owner: str = "implementer",
                verify: str = "") -> str:
    text = (f"## Phase {phase_id}: Agent work {phase_id}\n\n- **Owner:** {owner}\n"
            f"- **Type:** {kind}\n- **Depends on:** {depends}\n")
    if files:
        text += f"- **Files:** {files}\n"
    text += f"\nDo the work of phase {phase_id}.\n\n"
    if verify:
        text += f"**Verify:**\n```bash\n{verify}\n```\n\n"
    return text


def test_an_agent_that_claims_success_and_writes_nothing_fails(cli, agents):
    agents.script(default=[{"result": "All done! STATUS: done"}])
    write(agents.root / "plan.md", agent_phase("1", "`src/feature.py`")
          + agent_phase("2", "`src/other.py`", "Phase 1"))
    result = cli("run", "plan.md")
    assert result.code == 1
    assert statuses(agents.root, "plan") == {"1": "failed", "2": "blocked"}
    prompts = [call["prompt"] for call in agents.calls("1")]
    assert len(prompts) == 3
    assert "no changes on disk" in prompts[1]
    assert "src/feature.py" in prompts[1].split("Do the work")[0] or \
        "src/feature.py" in prompts[1]
    step = cli("status", "plan", "--json").json()["steps"][0]
    assert step["attempts"] == 3
    assert step["error"].startswith("no changes on disk")
    reports = list((agents.root / ".claude" / "orchestrate" / "errors").glob("*.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    assert report["step"] == "1" and report["attempts"] == 3
    assert any("no changes on disk" in failure for failure in report["failures"])
    assert "src/feature.py" in json.dumps(report)


def test_an_agent_that_succeeds_on_its_second_attempt(cli, agents):
    agents.script(steps={"1": [{"result": "done"},
                               {"write": {"src/feature.py": "print('hi')\n"}}]})
    write(agents.root / "plan.md", agent_phase("1", "`src/feature.py`",
                                               verify="python3 src/feature.py"))
    result = cli("run", "plan.md")
    assert result.code == 0, result.out + result.err
    step = cli("status", "plan", "--json").json()["steps"][0]
    assert (step["status"], step["attempts"]) == ("completed", 2)
    log = (run_dir(agents.root, "plan") / "debug-log.md").read_text()
    assert "attempt 2" in log.lower()
    assert "Attempt 1 failed" in log


def test_overloaded_twice_then_success_uses_one_attempt(cli, agents):
    overloaded = {"is_error": True, "api_error_status": 529, "cost": 0,
                  "result": "API Error: 529 {\"type\":\"overloaded_error\"}"}
    agents.script(steps={"1": [overloaded, overloaded,
                               {"write": {"out.txt": "ok\n"}}]})
    write(agents.root / "plan.md", agent_phase("1", "`out.txt`"))
    began = time.monotonic()
    result = cli("run", "plan.md")
    assert result.code == 0, result.out + result.err
    assert time.monotonic() - began < 15
    step = cli("status", "plan", "--json").json()["steps"][0]
    assert (step["status"], step["attempts"]) == ("completed", 1)
    waits = [e for e in journal(agents.root, "plan") if e["type"] == "step_waited"]
    assert len(waits) == 2
    assert all(0 <= w["delay_s"] <= 0.5 for w in waits)  # within the configured cap
    assert "overloaded" in waits[0]["reason"]
    assert len(agents.calls("1")) == 3


def test_a_permanent_error_fails_at_once_with_advice(cli, agents):
    agents.script(default=[{"is_error": True, "api_error_status": 401, "cost": 0,
                            "result": "Invalid API key · Fix external API key"}])
    write(agents.root / "plan.md", agent_phase("1", "`out.txt`"))
    assert cli("run", "plan.md").code == 1
    step = cli("status", "plan", "--json").json()["steps"][0]
    assert step["attempts"] == 1
    assert "Invalid API key" in step["error"]
    assert len(agents.calls()) == 1


def test_a_previous_runs_error_report_opens_the_next_first_prompt(cli, agents):
    agents.script(steps={"1": [{"write": {"one.txt": "1\n"}}],
                         "2": [{"result": "cannot find module 'left-pad'", "is_error": True,
                                "subtype": "error_during_execution"}]})
    plan = agent_phase("1", "`one.txt`") + agent_phase("2", "`two.txt`", "Phase 1")
    write(agents.root / "plan.md", plan)
    assert cli("run", "plan.md").code == 1
    first_run = agents.calls("2")
    assert "earlier run" not in first_run[0]["prompt"].lower()
    agents.script(steps={"1": [{"write": {"one.txt": "again\n"}}],
                         "2": [{"write": {"two.txt": "2\n"}}]})
    assert cli("run", "plan.md", "--fresh").code == 0
    prompt = agents.calls("2")[len(first_run)]["prompt"]
    head = prompt[: prompt.find("Do the work")] if "Do the work" in prompt else prompt
    assert "left-pad" in head
    assert prompt.lower().find("left-pad") < prompt.find("two.txt")


def test_cost_cap_pauses_the_run_and_a_higher_cap_resumes_it(cli, agents):
    agents.script(default=[{"cost": 0.03}], steps={
        "1": [{"cost": 0.03, "write": {"a.txt": "a"}}],
        "2": [{"cost": 0.03, "write": {"b.txt": "b"}}],
        "3": [{"cost": 0.03, "write": {"c.txt": "c"}}],
    })
    write(agents.root / "plan.md", agent_phase("1", "`a.txt`") + agent_phase("2", "`b.txt`")
          + agent_phase("3", "`c.txt`"))
    result = cli("run", "plan.md", "--max-cost", "0.05", "--jobs", "1")
    assert result.code == 3, result.out + result.err
    assert len(agents.calls()) == 2
    status = cli("status", "plan", "--json").json()
    assert status["status"] == "awaiting_human"
    assert status["cost_usd"] == pytest.approx(0.06)
    assert "cost cap reached" in result.out
    budgets = [call["argv"][call["argv"].index("--max-budget-usd") + 1]
               for call in agents.calls()]
    assert budgets == ["0.0500", "0.0200"]
    resumed = cli("run", "--resume", "plan", "--max-cost", "1")
    assert resumed.code == 0, resumed.out + resumed.err
    assert len(agents.calls()) == 3
    assert cli("status", "plan", "--json").json()["cost_usd"] == pytest.approx(0.09)


def test_agents_with_overlapping_files_never_overlap_in_time(cli, agents):
    agents.script(default=[{"sleep": 0.4}], steps={
        "1": [{"sleep": 0.4, "write": {"src/shared.py": "1"}}],
        "2": [{"sleep": 0.4, "write": {"src/shared.py": "2", "src/two.py": "2"}}],
        "3": [{"sleep": 0.4, "write": {"docs/three.md": "3"}}],
    })
    write(agents.root / "plan.md", agent_phase("1", "`src/shared.py`")
          + agent_phase("2", "`src/shared.py`, `src/two.py`")
          + agent_phase("3", "`docs/three.md`"))
    assert cli("run", "plan.md", "--jobs", "3").code == 0
    spans = {}
    for event in journal(agents.root, "plan"):
        if event["type"] == "step_started":
            spans[event["step"]] = [event["at"], None]
        elif event["type"] == "step_finished":
            spans[event["step"]][1] = event["at"]
    (s1, e1), (s2, e2), (s3, e3) = spans["1"], spans["2"], spans["3"]
    assert e1 <= s2 or e2 <= s1, "steps 1 and 2 share a file and overlapped"
    assert s3 < e1 and s1 < e3, "step 3 shares nothing and should run alongside"


def test_a_design_phase_is_checked_on_its_artifacts_only(cli, agents):
    agents.script(steps={"1": [{"write": {"docs/adr.md": "# ADR\n"}}]})
    write(agents.root / "plan.md", agent_phase("1", "`docs/adr.md`", kind="design",
                                               owner="designer"))
    assert cli("run", "plan.md").code == 0
    prompt = agents.calls("1")[0]["prompt"]
    assert str(agents.root / "docs" / "adr.md") in prompt


def test_agent_definition_and_flags_reach_claude(cli, agents):
    write(agents.root / ".claude" / "agents" / "rust-dev.md",
          "---\nname: rust-dev\ndescription: Writes Rust.\ntools: Read, Edit\n"
          "model: opus\n---\nYou are a careful Rust developer.\n")
    agents.script(steps={"1": [{"write": {"lib.rs": "fn main() {}\n"}}]})
    write(agents.root / "plan.md", agent_phase("1", "`lib.rs`", owner="rust-dev"))
    assert cli("run", "plan.md").code == 0
    argv = agents.calls("1")[0]["argv"]
    assert argv[:3] == ["-p", "--output-format", "json"]
    assert argv[argv.index("--append-system-prompt") + 1].startswith("You are a careful")
    assert argv[argv.index("--model") + 1] == "opus"
    assert "Read,Edit" in argv[argv.index("--allowedTools") + 1]
    assert "--max-budget-usd" not in argv  # no cap, no budget flag


def test_unknown_owner_falls_back_with_a_warning(cli, agents):
    agents.script(steps={"1": [{"write": {"x.txt": "x"}}]})
    write(agents.root / "plan.md", agent_phase("1", "`x.txt`", owner="nobody-knows"))
    result = cli("run", "plan.md")
    assert result.code == 0
    assert "unknown owner 'nobody-knows'" in result.out + result.err


def test_agent_command_template_runs_another_cli(cli, agents, tmp_path):
    other = tmp_path / "bin" / "other-agent"
    other.write_text('#!/bin/sh\ncat "$1" > /dev/null\necho "$2" > made-by-other.txt\n'
                     'echo finished\n')
    other.chmod(0o755)
    write(agents.root / "plan.md", agent_phase("1", "`made-by-other.txt`"))
    result = cli("run", "plan.md", "--agent-cmd", "other-agent {prompt_file} {agent}")
    assert result.code == 0, result.out + result.err
    assert (agents.root / "made-by-other.txt").read_text().strip() == "implementer"


@pytest.mark.slow
def test_real_claude_with_an_empty_home_fails_once_naming_the_login_problem(
        cli, tmp_path, monkeypatch):
    claude = claude_code.install()
    if claude is None:
        pytest.skip(f"Claude Code {claude_code.VERSION} is not available: "
                    f"{claude_code.last_failure}")
    home = tmp_path / "empty home"
    home.mkdir()
    project = tmp_path / "p"
    project.mkdir()
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "CLAUDE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("ORCHESTRATE_STATE_DIR", raising=False)
    monkeypatch.delenv("ORCHESTRATE_CONFIG", raising=False)
    monkeypatch.chdir(project)
    write(project / ".claude" / "orchestrate" / "config.json",
          json.dumps({"claude_command": claude}))
    write(project / "plan.md", agent_phase("1", "`out.txt`"))
    began = time.monotonic()
    result = cli("run", "plan.md")
    elapsed = time.monotonic() - began
    assert result.code == 1, result.out + result.err
    assert elapsed < 30
    step = cli("status", "plan", "--json").json()["steps"][0]
    assert step["attempts"] == 1
    assert "not logged in" in step["error"].lower()
    assert "log in" in step["error"].lower() or "/login" in step["error"]


def test_progress_shows_cost_and_waits(cli, agents):
    overloaded = {"is_error": True, "api_error_status": 529, "cost": 0, "result": "Overloaded"}
    agents.script(steps={"1": [overloaded, {"cost": 0.25, "write": {"x.txt": "x"}}]})
    write(agents.root / "plan.md", agent_phase("1", "`x.txt`"))
    out = cli("run", "plan.md").out
    assert "PROGRESS: 1 waiting" in out and "overloaded" in out
    assert "PROGRESS: 1 completed in" in out and "(cost $0.25)" in out
    assert "plan: completed, 1/1 steps done, cost $0.25" in out.splitlines()


def test_a_bad_agent_command_template_is_refused_before_anything_is_written(cli, agents):
    write(agents.root / "plan.md", agent_phase("1", "`x.txt`"))
    result = cli("run", "plan.md", "--agent-cmd", "'unclosed")
    assert result.code == 2
    assert "No closing quotation" in result.err
    assert not (agents.root / ".claude" / "orchestrate" / "runs").exists()


def test_a_malformed_agent_definition_fails_only_its_step(cli, agents):
    write(agents.root / ".claude" / "agents" / "broken.md", "---\nname broken\n---\nbody\n")
    agents.script(steps={"2": [{"write": {"two.txt": "2"}}]})
    write(agents.root / "plan.md", agent_phase("1", "`one.txt`", owner="broken")
          + agent_phase("2", "`two.txt`"))
    result = cli("run", "plan.md")
    assert result.code == 1
    assert statuses(agents.root, "plan") == {"1": "failed", "2": "completed"}
    step = cli("status", "plan", "--json").json()["steps"][0]
    assert step["attempts"] == 1 and "broken.md:" in step["error"]


def test_an_agent_that_outlives_its_timeout_is_killed(cli, agents):
    agents.script(steps={"1": [{"sleep": 30, "write": {"late.txt": "too late"}}]})
    write(agents.root / "plan.md",
          agent_phase("1", "`late.txt`").replace("- **Type:**", "- **Timeout:** 1s\n- **Type:**")
          + agent_phase("2", "`two.txt`", "Phase 1"))
    began = time.monotonic()
    result = cli("run", "plan.md")
    assert result.code == 1
    assert time.monotonic() - began < 15
    assert statuses(agents.root, "plan") == {"1": "timeout", "2": "blocked"}
    time.sleep(0.5)
    assert not (agents.root / "late.txt").exists(), "the agent kept running after its timeout"
    assert agents.calls("1") == []  # killed before it could even log its call


def test_models_per_owner_come_from_config(cli, agents):
    write(agents.root / ".claude" / "orchestrate" / "config.json",
          json.dumps({"model": "sonnet", "models": {"architect": "opus"}}))
    agents.script(default=[{"write": {"a.txt": "a", "b.txt": "b"}}],
                  steps={"1": [{"write": {"a.txt": "a"}}], "2": [{"write": {"b.txt": "b"}}]})
    write(agents.root / "plan.md", agent_phase("1", "`a.txt`", owner="architect")
          + agent_phase("2", "`b.txt`", "Phase 1"))
    assert cli("run", "plan.md").code == 0
    models = {c["step"]: c["argv"][c["argv"].index("--model") + 1] for c in agents.calls()}
    assert models == {"1": "opus", "2": "sonnet"}
