"""The engine's git worktrees with real git: created at the integration commit, credited
with exactly their diff, merged atomically in order, conflicts named with nothing lost,
strays caught, and none left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from orchestrator.store import landing
from orchestrator.store import worktrees as wt


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "shared.txt").write_text("one\ntwo\nthree\n")
    (root / "README.md").write_text("# r\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    return root


def test_a_worktree_starts_at_the_integration_commit_and_is_credited_with_its_diff(repo):
    base = wt.start_integration(repo, "run-1")
    branch = "refs/heads/orchestrate/run-1/integration"
    assert base == wt.rev_parse(repo) == wt.rev_parse(repo, branch)
    a = wt.create(repo, "run-1", "2a", base)
    assert a.path == repo / ".claude" / "worktrees" / "run-1-2a"
    assert a.branch == "orchestrate/run-1/2a" and wt.rev_parse(a.path) == base
    (a.path / "a.txt").write_text("a\n")  # uncommitted, new
    (a.path / "README.md").write_text("# changed\n")
    git(a.path, "add", "README.md")
    git(a.path, "commit", "-qm", "readme")  # committed by the agent
    (a.path / "later.txt").write_text("x\n")
    found = wt.diff(a)
    assert found.files == ["README.md", "a.txt", "later.txt"] and len(found.commits) == 1
    assert git(repo, "status", "--porcelain") == ""  # the user's tree sees nothing of it


def test_two_steps_on_different_files_both_merge_and_the_user_tree_is_untouched(repo):
    base = wt.start_integration(repo, "r")
    user_head = wt.rev_parse(repo)
    steps = [wt.create(repo, "r", step, base) for step in ("2a", "2b")]
    for step, name in zip(steps, ("a.txt", "b.txt"), strict=True):
        (step.path / name).write_text(name)
        assert wt.commit_all(step, f"step {name}") is not None
        assert landing.stray_commits(repo, step, user_head) is None
    first = wt.merge(repo, "r", steps[0], "merge 2a")
    second = wt.merge(repo, "r", steps[1], "orchestrate: merge step 2b")
    assert (first.kind, second.kind) == ("fast-forward", "merge")
    assert git(repo, "log", "-1", "--format=%s", "orchestrate/r/integration").strip() == \
        "orchestrate: merge step 2b"
    merged = git(repo, "ls-tree", "--name-only", "orchestrate/r/integration").split()
    assert {"a.txt", "b.txt"} <= set(merged)
    assert wt.rev_parse(repo) == user_head and not (repo / "a.txt").exists()
    for step in steps:
        wt.remove(repo, step)
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert "orchestrate/r/2a" not in git(repo, "branch", "--list")


def test_a_conflict_is_named_and_both_branches_keep_their_work(repo):
    base = wt.start_integration(repo, "r")
    steps = [wt.create(repo, "r", step, base) for step in ("2a", "2b")]
    for step, word in zip(steps, ("left", "right"), strict=True):
        (step.path / "shared.txt").write_text(f"one\n{word}\nthree\n")
        wt.commit_all(step, word)
    assert wt.merge(repo, "r", steps[0], "2a").kind == "fast-forward"
    before = wt.rev_parse(repo, "refs/heads/orchestrate/r/integration")
    clash = wt.merge(repo, "r", steps[1], "2b")
    assert clash.kind == "conflict" and clash.conflicts == ["shared.txt"]
    assert wt.rev_parse(repo, "refs/heads/orchestrate/r/integration") == before  # nothing half-done
    wt.remove(repo, steps[1], keep_branch=True)
    assert "right" in git(repo, "show", "orchestrate/r/2b:shared.txt")
    assert "left" in git(repo, "show", "orchestrate/r/integration:shared.txt")
    # retry on the new base: a fresh worktree at the integration commit, then it merges
    again = wt.create(repo, "r", "2b-retry", before)
    (again.path / "shared.txt").write_text("one\nleft and right\nthree\n")
    wt.commit_all(again, "2b again")
    assert wt.merge(repo, "r", again, "2b").kind == "fast-forward"


def test_work_committed_elsewhere_is_caught(repo):
    base = wt.start_integration(repo, "r")
    user_head = wt.rev_parse(repo)
    step = wt.create(repo, "r", "1", base)
    git(step.path, "checkout", "-q", "-b", "somewhere-else")
    assert "not on its branch orchestrate/r/1" in landing.stray_commits(repo, step, user_head)
    git(step.path, "checkout", "-q", "orchestrate/r/1")
    (repo / "main.txt").write_text("oops\n")
    git(repo, "add", "main.txt")
    git(repo, "commit", "-qm", "committed to main by mistake")
    assert "main working tree" in landing.stray_commits(repo, step, user_head)


def test_a_killed_run_leaves_a_reusable_worktree_and_prune_cleans_up(repo):
    base = wt.start_integration(repo, "r")
    first = wt.create(repo, "r", "1", base)
    (first.path / "x.txt").write_text("x")
    again = wt.create(repo, "r", "1", base)  # the resume: the same one, work kept
    assert again == first and (again.path / "x.txt").exists()
    wt.create(repo, "other", "1", base)
    assert [Path(e["path"]).name for e in wt.listed(repo)] == ["other-1", "r-1"]
    assert [Path(p).name for p in wt.prune(repo, {"r"})] == ["r-1"]
    assert [Path(p).name for p in wt.prune(repo)] == ["other-1"]
    assert len(git(repo, "worktree", "list").splitlines()) == 1


KILLED_MERGE = """
import sys
from pathlib import Path
from orchestrator.store import worktrees as wt
root, n = Path(sys.argv[1]), int(sys.argv[2])
base = wt.rev_parse(root, "refs/heads/orchestrate/r/integration")
step = wt.create(root, "r", f"s{n}", base)
(step.path / f"f{n}.txt").write_text(str(n))
wt.commit_all(step, f"s{n}")
print("ready", flush=True)
sys.stdin.readline()
wt.merge(root, "r", step, f"merge s{n}")
print("merged", flush=True)
"""


def test_sigkill_during_a_merge_leaves_the_branch_before_or_after_it(repo, tmp_path):
    wt.start_integration(repo, "r")
    other = wt.create(repo, "r", "other", wt.rev_parse(repo))
    (other.path / "other.txt").write_text("o")
    wt.commit_all(other, "other")  # so that each later merge is a real merge commit
    script = tmp_path / "merge.py"
    script.write_text(KILLED_MERGE)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "lib"))
    outcomes = set()
    for n in range(8):
        before = wt.rev_parse(repo, "refs/heads/orchestrate/r/integration")
        child = subprocess.Popen([sys.executable, str(script), str(repo), str(n)], env=env,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("\n")
        child.stdin.flush()
        time.sleep(0.004 * n)  # from at once to after the merge
        child.send_signal(signal.SIGKILL)
        child.wait()
        after = wt.rev_parse(repo, "refs/heads/orchestrate/r/integration")
        if after == before:
            outcomes.add("before")
        else:
            parents = git(repo, "rev-list", "--parents", "-n", "1", after).split()
            assert parents[1] == before and f"f{n}.txt" in git(
                repo, "ls-tree", "--name-only", after)
            outcomes.add("after")
        assert git(repo, "fsck", "--no-progress").strip() == ""
    print(f"outcomes over 8 kills: {sorted(outcomes)}")
    wt.prune(repo)
    assert len(git(repo, "worktree", "list").splitlines()) == 1


def test_the_worktrees_command_lists_and_prunes(repo):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "lib"))

    def orchestrate(*args):
        done = subprocess.run([sys.executable, "-m", "orchestrator", "worktrees", *args],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "No worktrees" in orchestrate()
    base = wt.start_integration(repo, "r")
    wt.create(repo, "r", "1", base)
    wt.create(repo, "r", "2", base)
    import json

    shown = json.loads(orchestrate("--json"))["worktrees"]
    assert [e["branch"] for e in shown] == ["orchestrate/r/1", "orchestrate/r/2"]
    pruned = json.loads(orchestrate("--prune", "--json"))
    assert len(pruned["removed"]) == 2 and pruned["kept"] == []
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert git(repo, "branch", "--list", "orchestrate/r/1") == ""


def _one_step_run(repo: Path, run: str, name: str, text: str) -> str:
    """A run whose only step writes ``name``, merged into its integration branch; the
    user's HEAD at its start."""
    user_head = wt.rev_parse(repo)
    base = wt.start_integration(repo, run)
    step = wt.create(repo, run, "1", base)
    (step.path / name).write_text(text)
    wt.commit_all(step, f"{run} writes {name}")
    assert wt.merge(repo, run, step, f"merge {run}").kind == "fast-forward"
    wt.remove(repo, step)
    return user_head


def test_a_run_landing_after_another_merges_onto_it_and_is_no_stray(repo):
    first, second = (_one_step_run(repo, run, f"{run}.txt", run) for run in ("r1", "r2"))
    said = landing.land(repo, "r1", first)
    assert "fast-forwarded" in said and (repo / "r1.txt").exists()
    step = wt.create(repo, "r2", "late", wt.rev_parse(repo, "orchestrate/r2/integration"))
    assert landing.stray_commits(repo, step, second) is None  # the main tree moved by a landing
    wt.remove(repo, step)
    said = landing.land(repo, "r2", second)
    assert "merged into the current branch, which had moved on" in said
    assert (repo / "r1.txt").read_text() == "r1" and (repo / "r2.txt").read_text() == "r2"
    parents = git(repo, "log", "-1", "--format=%P").split()
    assert len(parents) == 2 and git(repo, "status", "--porcelain") == ""
    assert git(repo, "branch", "--list", "orchestrate/*").strip() == ""
    git(repo, "commit", "--allow-empty", "-qm", "by hand")  # a user's commit is a stray
    step = wt.create(repo, "r3", "1", wt.start_integration(repo, "r3"))
    assert landing.stray_commits(repo, step, second) is not None


def test_a_landing_that_conflicts_with_the_moved_branch_keeps_the_work(repo):
    user_head = _one_step_run(repo, "r1", "shared.txt", "the run's\n")
    (repo / "shared.txt").write_text("the user's\n")
    git(repo, "commit", "-qam", "user edit")
    head = wt.rev_parse(repo)
    said = landing.land(repo, "r1", user_head)
    assert "conflicts with the run's work in shared.txt" in said
    assert "orchestrate/r1/integration" in said
    assert wt.rev_parse(repo) == head and (repo / "shared.txt").read_text() == "the user's\n"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "show", "orchestrate/r1/integration:shared.txt") == "the run's\n"


def test_a_landing_over_uncommitted_changes_keeps_them_and_names_the_files(repo):
    user_head = _one_step_run(repo, "r1", "shared.txt", "the run's\n")
    (repo / "shared.txt").write_text("the user's, not committed\n")
    said = landing.land(repo, "r1", user_head)
    assert "shared.txt" in said and "commit or stash" in said
    assert "`git merge --ff-only orchestrate/r1/integration`" in said
    assert wt.rev_parse(repo) == user_head
    assert (repo / "shared.txt").read_text() == "the user's, not committed\n"
    git(repo, "stash", "-q")
    git(repo, "merge", "--ff-only", "-q", "orchestrate/r1/integration")  # as it says
    assert (repo / "shared.txt").read_text() == "the run's\n"


def _step_as(repo: Path, monkeypatch, *roles: str) -> wt.Worktree:
    """A step's worktree with a file to commit, git told that Ada is each of ``roles``
    (AUTHOR, COMMITTER) through its variables."""
    base = wt.start_integration(repo, "r1")
    step = wt.create(repo, "r1", "1", base)
    (step.path / "a.txt").write_text("a\n")
    for role in roles:
        monkeypatch.setenv(f"GIT_{role}_NAME", "Ada")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "ada@example.com")
    return step


def test_the_engines_commits_are_the_users_when_git_knows_them(repo, monkeypatch):
    step = _step_as(repo, monkeypatch, "COMMITTER", "AUTHOR")
    wt.commit_all(step, "as Ada")
    assert git(step.path, "log", "-1", "--format=%an <%ae>").strip() == "Ada <ada@example.com>"
    for name in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_AUTHOR_NAME",
                 "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(name)
    (step.path / "b.txt").write_text("b\n")
    wt.commit_all(step, "nobody configured")  # the tests' HOME has no git identity
    assert git(step.path, "log", "-1", "--format=%an").strip() == "orchestrate"


def test_a_landing_over_untracked_files_says_to_move_them(repo):
    user_head = _one_step_run(repo, "r1", "new.txt", "the run's\n")
    (repo / "new.txt").write_text("the user's, untracked\n")
    said = landing.land(repo, "r1", user_head)
    assert "new.txt" in said and "untracked" in said and "git stash -u" in said
    assert (repo / "new.txt").read_text() == "the user's, untracked\n"


def test_the_engines_commits_fall_back_when_git_knows_only_a_committer(repo, monkeypatch):
    step = _step_as(repo, monkeypatch, "COMMITTER")
    wt.commit_all(step, "half an identity")
    assert git(step.path, "log", "-1", "--format=%an").strip() == "orchestrate"


def test_branches_are_named_fully_even_beside_a_tag_of_the_same_name(repo):
    wt.start_integration(repo, "r1")
    git(repo, "tag", "orchestrate/r1/integration")
    assert wt.branches(repo) == ["orchestrate/r1/integration"]
