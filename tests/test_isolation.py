"""`orchestrate run --isolate` with real git and processes: each step in its own worktree,
merged back in dependency order, the user's tree untouched until the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.run_helpers import REPO, journal, runner_env, write

FAKE = REPO / "tests" / "fake_claude.py"


def agent_phase(phase_id: str, files: str, depends: str = "none", verify: str = "") -> str:
    text = (f"## Phase {phase_id}: Work {phase_id}\n\n- **Owner:** implementer\n"
            f"- **Type:** implementation\n- **Depends on:** {depends}\n- **Files:** {files}\n\n"
            f"Do phase {phase_id}.\n\n")
    if verify:
        text += f"**Verify:**\n```bash\n{verify}\n```\n\n"
    return text


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          cwd=root, check=True, capture_output=True, text=True).stdout


def project_with(tmp_path: Path, plan: str, steps: dict) -> tuple[Path, Path]:
    root = tmp_path / "project"
    write(root / "plan.md", plan)
    write(root / "shared.txt", "one\ntwo\nthree\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"steps": steps, "default": [{}]}))
    return root, scenario


def run(root: Path, scenario: Path) -> subprocess.CompletedProcess:
    env = runner_env(FAKE_CLAUDE_SCENARIO=str(scenario))
    return subprocess.run([sys.executable, "-m", "orchestrator", "run", "plan.md", "--isolate",
                           "--jobs", "2", "--agent-cmd", f"{sys.executable} {FAKE}"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


def notes(root: Path) -> list[str]:
    return [e["text"] for e in journal(root, "plan") if e["type"] == "note"]


def calls(scenario: Path) -> list[dict]:
    path = scenario.with_name(scenario.name + ".calls.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_parallel_steps_each_work_in_their_own_worktree_and_both_merge(tmp_path):
    plan = "# Plan: two at once\n\n" + agent_phase("1", "a.txt") + agent_phase("2", "b.txt") \
        + agent_phase("3", "c.txt", "Phase 1, Phase 2", verify="test -f a.txt && test -f b.txt")
    root, scenario = project_with(tmp_path, plan, {
        "1": [{"write": {"a.txt": "a\n"}, "sleep": 0.3}],
        "2": [{"write": {"b.txt": "b\n"}, "sleep": 0.3}],
        "3": [{"write": {"c.txt": "c\n"}}]})
    head = git(root, "rev-parse", "HEAD").strip()
    done = run(root, scenario)
    assert done.returncode == 0, done.stdout + done.stderr
    said = notes(root)
    assert any("step 1: merged" in n and "credited with 1 file(s): a.txt" in n for n in said)
    assert any("step 2: merged" in n and "credited with 1 file(s): b.txt" in n for n in said)
    assert any("step 3: merged" in n and "1 file(s): c.txt" in n for n in said)
    assert any("fast-forwarded into the current branch" in n for n in said)
    summary = (root / ".claude" / "orchestrate" / "runs" / "plan" / "summary.md").read_text()
    section = summary.split("## Worktrees", 1)[1].split("##", 1)[0]
    assert "- step 1: merged into orchestrate/plan/integration" in section
    assert "credited with 1 file(s): b.txt" in section
    # every agent worked in a worktree of its own, never in the project itself
    prompts = {c["step"]: c["prompt"] for c in calls(scenario)}
    for step in ("1", "2", "3"):
        assert f"/.claude/worktrees/plan-{step}/" in prompts[step]
    # the user's branch got all of it at the end, on top of where it was
    assert git(root, "merge-base", "--is-ancestor", head, "HEAD") == ""
    assert (root / "a.txt").read_text() == "a\n" and (root / "c.txt").exists()
    assert len(git(root, "worktree", "list").splitlines()) == 1
    assert "orchestrate/" not in git(root, "branch", "--list")
    seen = git(root, "status", "--porcelain", "--untracked-files=all")
    assert ".claude/worktrees" not in seen and "a.txt" not in seen


def test_conflicting_edits_are_named_and_nothing_is_lost(tmp_path):
    # each declares a file of its own, so they run at once; both also edit shared.txt
    plan = "# Plan: clash\n\n" + agent_phase("1", "a.txt") + agent_phase("2", "b.txt")
    root, scenario = project_with(tmp_path, plan, {
        "1": [{"write": {"a.txt": "a", "shared.txt": "one\nleft\nthree\n"}, "sleep": 0.2}],
        "2": [{"write": {"b.txt": "b", "shared.txt": "one\nright\nthree\n"},
               "sleep": 0.4}]})
    head = git(root, "rev-parse", "HEAD").strip()
    done = run(root, scenario)
    assert done.returncode == 3, done.stdout + done.stderr  # awaiting the user's choice
    finished = {e["step"]: e for e in journal(root, "plan") if e["type"] == "step_finished"}
    assert finished["1"]["outcome"] == "completed"
    assert "merge conflict" in finished["2"]["error"] and "shared.txt" in finished["2"]["error"]
    (asked,) = [e for e in journal(root, "plan") if e["type"] == "ask_opened"]
    assert asked["id"] == "merge-conflict" and "shared.txt" in asked["question"]
    assert git(root, "rev-parse", "HEAD").strip() == head  # the user's branch: untouched
    assert "left" in git(root, "show", "orchestrate/plan/integration:shared.txt")
    kept = [b.strip() for b in git(root, "branch", "--list", "orchestrate/plan/2-conflict-*")
            .splitlines()]
    assert len(kept) == 1 and "right" in git(root, "show", f"{kept[0]}:shared.txt")
    assert len(git(root, "worktree", "list").splitlines()) == 1
    # retry on the new base: the step runs again where step 1's work already is
    env = runner_env(FAKE_CLAUDE_SCENARIO=str(scenario))
    answered = subprocess.run([sys.executable, "-m", "orchestrator", "wf", "answer", "plan",
                               "merge-conflict", "retry", "--json"], cwd=root, env=env,
                              capture_output=True, text=True, timeout=60)
    assert answered.returncode == 0, answered.stderr
    resumed = subprocess.run([sys.executable, "-m", "orchestrator", "run", "--resume", "plan",
                              "--agent-cmd", f"{sys.executable} {FAKE}"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (root / "shared.txt").read_text() == "one\nright\nthree\n"
    assert (root / "a.txt").exists() and (root / "b.txt").exists()
    assert kept[0] in git(root, "branch", "--list")  # the first attempt's work: still there
    assert len(git(root, "worktree", "list").splitlines()) == 1


def test_an_agent_committing_on_another_branch_fails_its_step(tmp_path):
    plan = "# Plan: stray\n\n" + agent_phase("1", "a.txt")
    root, scenario = project_with(tmp_path, plan, {"1": [{"write": {"a.txt": "a\n"}}]})
    hook = tmp_path / "bin" / "git-stray"
    write(hook, "")
    wrapper = tmp_path / "agent.sh"
    wrapper.write_text(f'#!/bin/sh\n"{sys.executable}" "{FAKE}" "$@" && '
                       'git checkout -q -b elsewhere && git add -A && '
                       'git -c user.name=a -c user.email=a@b commit -qm stray >/dev/null\n')
    wrapper.chmod(0o755)
    env = runner_env(FAKE_CLAUDE_SCENARIO=str(scenario))
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", "plan.md", "--isolate",
                           "--agent-cmd", str(wrapper)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    (finished,) = [e for e in journal(root, "plan") if e["type"] == "step_finished"]
    assert "not on its branch orchestrate/plan/1" in finished["error"]
    assert not (root / "a.txt").exists()
    assert os.path.exists(root / "plan.md")


def test_a_killed_isolated_run_resumes_and_leaves_no_worktree_behind(tmp_path):
    import signal
    import time

    plan = "# Plan: killed\n\n" + agent_phase("1", "a.txt") + agent_phase("2", "b.txt",
                                                                           "Phase 1")
    root, scenario = project_with(tmp_path, plan, {
        "1": [{"write": {"a.txt": "a\n"}, "sleep": 3}, {"write": {"a.txt": "a\n"}}],
        "2": [{"write": {"b.txt": "b\n"}}]})
    env = runner_env(FAKE_CLAUDE_SCENARIO=str(scenario))
    argv = [sys.executable, "-m", "orchestrator", "run", "plan.md", "--isolate",
            "--agent-cmd", f"{sys.executable} {FAKE}"]
    runner = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (
            root / ".claude" / "worktrees" / "plan-1").exists():
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(runner.pid, signal.SIGKILL)
    runner.wait()
    assert len(git(root, "worktree", "list").splitlines()) == 2  # the killed step's
    resumed = subprocess.run([sys.executable, "-m", "orchestrator", "run", "--resume", "plan",
                              "--agent-cmd", f"{sys.executable} {FAKE}"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert len(git(root, "worktree", "list").splitlines()) == 1
    assert (root / "a.txt").exists() and (root / "b.txt").exists()
    assert "orchestrate/" not in git(root, "branch", "--list")


def test_under_wf_each_agent_action_names_its_worktree_and_both_merge(tmp_path):
    from tests.wf_helpers import Wf

    plan = "# Plan: two at once\n\n" + agent_phase("1", "a.txt") + agent_phase("2", "b.txt")
    root, scenario = project_with(tmp_path, plan, {"1": [{"write": {"a.txt": "a\n"}}],
                                                   "2": [{"write": {"b.txt": "b\n"}}]})
    write(root / ".claude" / "orchestrate.yaml", "isolate: true\n")
    wf = Wf(root, scenario)
    started = wf.call("start", "--plan", "plan.md")
    first = wf.call("next", started["run"])
    agents = [a for a in first["actions"] if a["type"] == "agent"]
    assert sorted(a["worktree"] for a in agents) == [
        str(root / ".claude" / "worktrees" / f"plan-{n}") for n in (1, 2)]
    assert all(a["worktree"] in a["prompt"] for a in agents)
    for action in agents:
        wf.perform(action)
        assert not (root / "a.txt").exists()  # the user's tree: untouched meanwhile
    reports = [wf.call("report", started["run"], a["id"]) for a in agents]
    assert [r["outcome"] for r in reports] == ["completed", "completed"], reports
    done = wf.drive(started["run"])
    assert done["status"] == "completed", done
    assert (root / "a.txt").exists() and (root / "b.txt").exists()
    assert len(git(root, "worktree", "list").splitlines()) == 1


def _conflicted_run(tmp_path: Path) -> tuple[Path, Path, str]:
    """A run whose step 2 conflicts with step 1 in shared.txt and waits for an answer;
    (root, scenario, the branch step 2's work is kept on)."""
    plan = "# Plan: clash\n\n" + agent_phase("1", "a.txt") + agent_phase("2", "b.txt") + \
        agent_phase("3", "c.txt", depends="2")
    root, scenario = project_with(tmp_path, plan, {
        "1": [{"write": {"a.txt": "a", "shared.txt": "one\nleft\nthree\n"}, "sleep": 0.2}],
        "2": [{"write": {"b.txt": "b", "shared.txt": "one\nright\nthree\n"}, "sleep": 0.4}],
        "3": [{"write": {"c.txt": "c"}}]})
    assert run(root, scenario).returncode == 3
    (kept,) = [b.strip() for b in git(root, "branch", "--list", "orchestrate/plan/2-conflict-*")
               .splitlines()]
    return root, scenario, kept


def _orchestrate(root: Path, scenario: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=root,
                          env=runner_env(FAKE_CLAUDE_SCENARIO=str(scenario)),
                          capture_output=True, text=True, timeout=120)


def _resume(root: Path, scenario: Path) -> subprocess.CompletedProcess:
    return _orchestrate(root, scenario, "run", "--resume", "plan", "--agent-cmd",
                        f"{sys.executable} {FAKE}")


def test_a_conflict_prints_its_question_and_a_resume_before_the_answer_runs_nothing_again(
        tmp_path):
    root, scenario, kept = _conflicted_run(tmp_path)
    for shown in (_orchestrate(root, scenario, "status", "plan"), _resume(root, scenario)):
        assert "waiting for an answer to merge-conflict: Step 2 conflicts with " \
               "orchestrate/plan/integration in shared.txt" in shown.stdout, shown.stdout
        for choice in ("retry", "resolved", "abandon"):
            assert f"orchestrate wf answer plan merge-conflict {choice}" in shown.stdout
    assert _resume(root, scenario).returncode == 3  # still waiting
    assert [call["step"] for call in calls(scenario)].count("2") == 1  # not retried unasked
    status = json.loads(_orchestrate(root, scenario, "status", "plan", "--json").stdout)
    assert status["ask"]["id"] == "merge-conflict"
    assert [o["id"] for o in status["ask"]["options"]] == ["retry", "resolved", "abandon"]
    assert _orchestrate(root, scenario, "wf", "answer", "plan", "merge-conflict",
                        "retry", "--json").returncode == 0
    resumed = _resume(root, scenario)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (root / "shared.txt").read_text() == "one\nright\nthree\n"


def test_a_conflict_resolved_by_hand_counts_once_the_kept_branch_is_merged(tmp_path):
    root, scenario, kept = _conflicted_run(tmp_path)
    early = _orchestrate(root, scenario, "wf", "answer", "plan", "merge-conflict", "resolved",
                         "--json")
    assert early.returncode == 0, early.stderr
    events = journal(root, "plan")
    reasked = [e for e in events if e["type"] == "ask_opened"][-1]
    assert f"{kept} is not merged into orchestrate/plan/integration yet" in reasked["question"]
    assert "in shared.txt" in reasked["question"]  # the files named again
    assert not any(e["type"] == "step_settled" for e in events)

    # The user merges the kept branch into the integration branch in a scratch worktree.
    scratch = tmp_path / "scratch"
    git(root, "worktree", "add", "-q", str(scratch), "orchestrate/plan/integration")
    merging = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                              "merge", "-q", kept], cwd=scratch, capture_output=True, text=True)
    assert "CONFLICT" in merging.stdout, merging.stdout + merging.stderr
    write(scratch / "shared.txt", "one\nleft and right\nthree\n")
    git(scratch, "commit", "-qam", "resolve step 2 by hand")
    git(root, "worktree", "remove", str(scratch))

    answered = _orchestrate(root, scenario, "wf", "answer", "plan", "merge-conflict",
                            "resolved", "--json")
    assert answered.returncode == 0, answered.stderr
    (settled,) = [e for e in journal(root, "plan") if e["type"] == "step_settled"]
    assert (settled["step"], settled["status"]) == ("2", "completed")
    resumed = _resume(root, scenario)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    ran = [call["step"] for call in calls(scenario)]
    assert ran.count("2") == 1 and "3" in ran  # not run again; its dependent went on
    assert (root / "shared.txt").read_text() == "one\nleft and right\nthree\n"
    assert (root / "c.txt").exists() and (root / "b.txt").exists()
    assert len(git(root, "worktree", "list").splitlines()) == 1


def test_an_abandoned_conflict_leaves_its_work_on_the_kept_branch_and_the_run_goes_on(tmp_path):
    root, scenario, kept = _conflicted_run(tmp_path)
    answered = _orchestrate(root, scenario, "wf", "answer", "plan", "merge-conflict",
                            "abandon", "--json")
    assert answered.returncode == 0, answered.stderr
    resumed = _resume(root, scenario)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    ran = [call["step"] for call in calls(scenario)]
    assert ran.count("2") == 1 and "3" in ran
    assert (root / "shared.txt").read_text() == "one\nleft\nthree\n"  # step 1's side
    assert not (root / "b.txt").exists()
    assert git(root, "show", f"{kept}:b.txt") == "b"  # nothing lost
    assert any(f"abandoned after a merge conflict; its work stays on {kept}" in text
               for text in notes(root))
    summary = (root / ".claude" / "orchestrate" / "runs" / "plan" / "summary.md").read_text()
    assert "| 2 | Work 2 | skipped |" in summary


def _wf_clash(tmp_path: Path):
    """Under wf, two steps handed out at once that both edit shared.txt, performed;
    (root, scenario, wf, run, their actions), not yet reported."""
    from tests.wf_helpers import Wf

    plan = "# Plan: clash\n\n" + agent_phase("1", "a.txt") + agent_phase("2", "b.txt")
    root, scenario = project_with(tmp_path, plan, {
        "1": [{"write": {"a.txt": "a", "shared.txt": "one\nleft\nthree\n"}}],
        "2": [{"write": {"b.txt": "b", "shared.txt": "one\nright\nthree\n"}}]})
    write(root / ".claude" / "orchestrate.yaml", "isolate: true\n")
    wf = Wf(root, scenario)
    name = wf.call("start", "--plan", "plan.md")["run"]
    agents = [a for a in wf.call("next", name)["actions"] if a["type"] == "agent"]
    for action in agents:
        wf.perform(action)
    return root, scenario, wf, name, agents


def test_under_wf_a_conflict_is_an_ask_and_retry_hands_the_step_out_again(tmp_path):
    root, _, wf, name, agents = _wf_clash(tmp_path)
    reports = [wf.call("report", name, a["id"]) for a in agents]
    assert sorted(r["outcome"] for r in reports) == ["completed", "failed"]
    asked = wf.call("next", name)
    (ask,) = [a for a in asked["actions"] if a["type"] == "ask"]
    assert ask["id"] == "merge-conflict" and "shared.txt" in ask["question"]
    assert [o["id"] for o in ask["options"]] == ["retry", "resolved", "abandon"]
    wf.call("answer", name, "merge-conflict", "retry")
    again = wf.call("next", name)
    (redo,) = [a for a in again["actions"] if a["type"] == "agent"]
    assert redo["step"] == "2" and redo["worktree"].endswith("plan-2")
    wf.perform(redo)
    assert wf.call("report", name, redo["id"])["outcome"] == "completed"
    done = wf.drive(name)
    assert done["status"] == "completed", done
    assert (root / "shared.txt").read_text() == "one\nright\nthree\n"
    assert len(git(root, "worktree", "list").splitlines()) == 1


class _StepByStep:
    """An isolated `wf` run of phases 1..n, each needing the one before, driven one step at
    a time so that the user can commit between two steps or while one works."""

    def __init__(self, tmp_path: Path, count: int):
        from tests.wf_helpers import Wf

        plan = "# Plan: in turn\n\n" + "".join(
            agent_phase(str(n), f"f{n}.txt", depends=str(n - 1) if n > 1 else "none")
            for n in range(1, count + 1))
        self.root, scenario = project_with(tmp_path, plan, {
            str(n): [{"write": {f"f{n}.txt": f"{n}\n"}}] for n in range(1, count + 1)})
        write(self.root / ".claude" / "orchestrate.yaml", "isolate: true\n")
        self.wf = Wf(self.root, scenario)
        self.run = self.wf.call("start", "--plan", "plan.md")["run"]

    def step(self, meanwhile=None) -> dict:
        (action,) = [a for a in self.wf.call("next", self.run)["actions"]
                     if a["type"] == "agent"]
        self.wf.perform(action)
        if meanwhile:
            meanwhile()
        return self.wf.call("report", self.run, action["id"])

    def user_commit(self, name: str) -> None:
        write(self.root / name, "the user's\n")
        git(self.root, "add", name)
        git(self.root, "commit", "-qm", f"user adds {name}")


def test_under_wf_a_commit_between_two_steps_is_no_stray_and_the_work_lands_on_it(tmp_path):
    """Between two `wf` calls no step is in flight: the user may commit (say, before the
    next session), the next step is judged against that HEAD, and the run's work is merged
    onto it at the end."""
    run = _StepByStep(tmp_path, 2)
    assert run.step()["outcome"] == "completed"
    run.user_commit("mine.txt")
    assert run.step()["outcome"] == "completed"
    done = run.wf.drive(run.run)
    assert done["status"] == "completed", done
    assert all((run.root / name).exists() for name in ("mine.txt", "f1.txt", "f2.txt"))
    assert len(git(run.root, "log", "-1", "--format=%P").split()) == 2  # merged onto it
    tracked = git(run.root, "ls-files").split()
    assert {"mine.txt", "f1.txt", "f2.txt"} <= set(tracked)  # committed, not left loose


def test_under_wf_a_commit_in_the_main_tree_while_a_step_works_fails_it(tmp_path):
    run = _StepByStep(tmp_path, 2)
    assert run.step()["outcome"] == "completed"
    late = run.step(meanwhile=lambda: run.user_commit("during.txt"))
    assert late["outcome"] == "failed" and "main working tree" in late["reason"]
    assert run.wf.drive(run.run)["status"] == "failed"
    assert not (run.root / "f1.txt").exists()  # a failed run lands nothing
    assert "f1.txt" in git(run.root, "ls-tree", "--name-only", "orchestrate/plan/integration")


def test_worktrees_lists_the_branches_that_hold_work_and_prune_keeps_them(tmp_path):
    root, scenario, kept = _conflicted_run(tmp_path)
    listed = _orchestrate(root, scenario, "worktrees", "--json")
    assert listed.returncode == 0, listed.stderr
    branches = json.loads(listed.stdout)["branches"]
    assert kept in branches and "orchestrate/plan/integration" in branches
    assert kept in _orchestrate(root, scenario, "worktrees").stdout
    assert _orchestrate(root, scenario, "worktrees", "--prune").returncode == 0
    assert kept in git(root, "branch", "--list")  # the conflicting work is not deleted


def test_isolation_without_a_commit_is_refused_before_anything_is_written(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q")
    write(root / "plan.md", "# Plan: x\n\n" + agent_phase("1", "a.txt"))
    write(root / ".claude" / "orchestrate.yaml", "isolate: true\n")
    refused = _orchestrate(root, tmp_path / "none.json", "run", "plan.md")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "isolate: true" in refused.stderr and "at least one commit" in refused.stderr
    assert not (root / ".claude" / "orchestrate").exists()


def test_both_drivers_give_an_isolated_steps_checks_the_project_as_orchestrate_project_root(
        tmp_path):
    """The checks run in the step's worktree; ORCHESTRATE_PROJECT_ROOT is the project, where
    a file the worktree lacks (untracked here) is found."""
    from tests.wf_helpers import Wf

    verify = 'test -f "$ORCHESTRATE_PROJECT_ROOT/local.only" && test -f a.txt'
    plan = "# Plan: where\n\n" + agent_phase("1", "a.txt", verify=verify)
    for driver in ("headless", "wf"):
        root, scenario = project_with(tmp_path / driver, plan,
                                      {"1": [{"write": {"a.txt": "a\n"}}]})
        write(root / "local.only", "untracked\n")
        if driver == "headless":
            done = run(root, scenario)
            assert done.returncode == 0, done.stdout + done.stderr
            continue
        write(root / ".claude" / "orchestrate.yaml", "isolate: true\n")
        wf = Wf(root, scenario)
        started = wf.call("start", "--plan", "plan.md")
        assert wf.drive(started["run"])["status"] == "completed"


def test_a_fresh_start_sets_an_earlier_runs_unlanded_work_aside(tmp_path):
    plan = "# Plan: again\n\n" + agent_phase("1", "a.txt", verify="false")
    root, scenario = project_with(tmp_path, plan, {"1": [{"write": {"a.txt": "a\n"}}]})
    first = run(root, scenario)
    assert first.returncode == 1, first.stdout  # its checks fail; nothing was merged
    git(root, "branch", "orchestrate/plan/integration-by-hand", "HEAD")
    # an earlier run whose merged work never landed
    scratch = tmp_path / "scratch"
    git(root, "worktree", "add", "-q", str(scratch), "orchestrate/plan/integration")
    write(scratch / "old.txt", "old\n")
    git(scratch, "add", "old.txt")
    git(scratch, "commit", "-qm", "the earlier run's work")
    git(root, "worktree", "remove", str(scratch))
    write(root / "plan.md", "# Plan: again\n\n" + agent_phase("1", "a.txt"))
    git(root, "commit", "-qam", "plan fixed")
    again = _orchestrate(root, scenario, "run", "plan.md", "--isolate", "--fresh",
                         "--agent-cmd", f"{sys.executable} {FAKE}")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "holds work your branch does not have" in again.stdout + again.stderr
    assert (root / "a.txt").exists() and not (root / "old.txt").exists()
    (aside,) = [b.strip() for b in git(root, "branch", "--list", "orchestrate/plan/integr*-*")
                .splitlines() if "by-hand" not in b]
    assert git(root, "show", f"{aside}:old.txt") == "old\n"  # nothing lost


def test_a_status_of_a_wf_run_waiting_on_a_conflict_names_both_ways_to_go_on(tmp_path):
    root, scenario, wf, name, agents = _wf_clash(tmp_path)
    for action in agents:
        wf.call("report", name, action["id"])
    shown = _orchestrate(root, scenario, "status", name).stdout
    assert f"orchestrate wf answer {name} merge-conflict retry" in shown
    assert f"`orchestrate wf next {name}`" in shown and f"run --resume {name}" in shown


def test_work_that_cannot_land_over_uncommitted_changes_waits_and_a_resume_lands_it(tmp_path):
    plan = "# Plan: over\n\n" + agent_phase("1", "shared.txt")
    root, scenario = project_with(tmp_path, plan, {
        "1": [{"write": {"shared.txt": "the run's\n"}, "sleep": 0.3}]})
    env = runner_env(FAKE_CLAUDE_SCENARIO=str(scenario))
    runner = subprocess.Popen([sys.executable, "-m", "orchestrator", "run", "plan.md",
                               "--isolate", "--agent-cmd", f"{sys.executable} {FAKE}"],
                              cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    write(root / "shared.txt", "mine, not committed\n")  # while the step works
    out, _ = runner.communicate(timeout=120)
    assert runner.returncode == 3, out  # a person has to make room for it
    assert "paused: the work is kept on orchestrate/plan/integration" in out
    assert "shared.txt" in out and "orchestrate run --resume plan" in out
    assert (root / "shared.txt").read_text() == "mine, not committed\n"
    git(root, "stash", "-q")
    resumed = _resume(root, scenario)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (root / "shared.txt").read_text() == "the run's\n"
    assert [call["step"] for call in calls(scenario)] == ["1"]  # landed, not run again


def test_under_wf_work_that_cannot_land_says_so_in_its_done_action(tmp_path):
    from tests.wf_helpers import Wf

    plan = "# Plan: over\n\n" + agent_phase("1", "shared.txt")
    root, scenario = project_with(tmp_path, plan, {"1": [{"write": {"shared.txt": "run\n"}}]})
    write(root / ".claude" / "orchestrate.yaml", "isolate: true\n")
    wf = Wf(root, scenario)
    name = wf.call("start", "--plan", "plan.md")["run"]
    (action,) = [a for a in wf.call("next", name)["actions"] if a["type"] == "agent"]
    wf.perform(action)
    write(root / "shared.txt", "mine, not committed\n")
    assert wf.call("report", name, action["id"])["outcome"] == "completed"
    done = wf.drive(name)
    assert done["status"] == "awaiting_human", done
    assert "paused: the work is kept on" in done["message"] and "shared.txt" in done["message"]
    assert (root / "shared.txt").read_text() == "mine, not committed\n"
    git(root, "checkout", "--", "shared.txt")  # the user gives their edit up
    assert _resume(root, scenario).returncode == 0
    assert (root / "shared.txt").read_text() == "run\n"
