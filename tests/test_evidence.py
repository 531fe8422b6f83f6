"""Snapshots of the working tree before and after a step, on real repositories in tmp_path."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from orchestrator.verify import snapshot as evidence
from orchestrator.verify.snapshot import (
    Changes,
    EvidenceError,
    diff_snapshots,
    parse_status,
    take_snapshot,
)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path, monkeypatch):
    """No user or system git config, and no repository above tmp_path."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def init_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    git(path, "config", "user.name", "Test")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "commit.gpgsign", "false")
    for name, text in (files or {}).items():
        write(path / name, text)
    if files:
        commit_all(path, "initial")
    return path


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path) -> Path:
    return init_repo(tmp_path / "repo", {
        "README.md": "hello\n",
        "src/app.py": "print('app')\n",
        "src/util.py": "X = 1\n",
        "docs/guide.md": "guide\n",
    })


def changes_during(root: Path, action, exclude=()) -> Changes:
    before = take_snapshot(root, exclude)
    action()
    return diff_snapshots(before, take_snapshot(root, exclude))


# Git mode

def test_no_change_is_empty(repo):
    changes = changes_during(repo, lambda: None)
    assert changes.changed == []
    assert not changes.any
    assert not changes.committed
    assert changes.head_before == changes.head_after == git(repo, "rev-parse", "HEAD").strip()


def test_untracked_file_is_a_change(repo):
    changes = changes_during(repo, lambda: write(repo / "src/new/module.py", "x\n"))
    assert changes.changed == ["src/new/module.py"]
    assert changes.any


def test_modified_tracked_file(repo):
    changes = changes_during(repo, lambda: write(repo / "src/app.py", "print('changed')\n"))
    assert changes.changed == ["src/app.py"]


def test_modifying_an_already_modified_file_again(repo):
    write(repo / "src/app.py", "first edit\n")
    changes = changes_during(repo, lambda: write(repo / "src/app.py", "second edit\n"))
    assert changes.changed == ["src/app.py"]


def test_rewriting_the_same_content_is_no_change(repo):
    write(repo / "src/app.py", "edited\n")
    changes = changes_during(repo, lambda: write(repo / "src/app.py", "edited\n"))
    assert not changes.any


def test_reverting_a_modified_file_is_a_change(repo):
    write(repo / "src/app.py", "edited\n")
    changes = changes_during(repo, lambda: git(repo, "checkout", "--", "src/app.py"))
    assert changes.changed == ["src/app.py"]


def test_deleted_file(repo):
    changes = changes_during(repo, lambda: (repo / "src/util.py").unlink())
    assert changes.changed == ["src/util.py"]


def test_rename_staged_lists_both_paths(repo):
    changes = changes_during(repo, lambda: git(repo, "mv", "src/util.py", "src/helpers.py"))
    assert changes.changed == ["src/helpers.py", "src/util.py"]


def test_rename_unstaged_lists_both_paths(repo):
    changes = changes_during(repo, lambda: (repo / "src/util.py").rename(repo / "src/h.py"))
    assert changes.changed == ["src/h.py", "src/util.py"]


def test_commit_during_the_step_lists_the_committed_files(repo):
    def step():
        write(repo / "src/app.py", "print('v2')\n")
        write(repo / "src/added.py", "Y = 2\n")
        (repo / "docs/guide.md").unlink()
        commit_all(repo, "step work")

    head = git(repo, "rev-parse", "HEAD").strip()
    changes = changes_during(repo, step)
    assert git(repo, "status", "--porcelain") == ""
    assert changes.changed == ["docs/guide.md", "src/added.py", "src/app.py"]
    assert changes.committed
    assert changes.head_before == head
    assert changes.head_after == git(repo, "rev-parse", "HEAD").strip() != head


def test_commit_renaming_a_file_lists_both_paths(repo):
    def step():
        git(repo, "mv", "src/util.py", "src/helpers.py")
        git(repo, "commit", "-q", "-m", "rename")

    assert changes_during(repo, step).changed == ["src/helpers.py", "src/util.py"]


def test_first_commit_on_an_unborn_branch(tmp_path):
    repo = init_repo(tmp_path / "fresh")
    before = take_snapshot(repo)
    assert before.head is None
    write(repo / "a.txt", "a\n")
    write(repo / "b/c.txt", "c\n")
    commit_all(repo)
    changes = diff_snapshots(before, take_snapshot(repo))
    assert changes.changed == ["a.txt", "b/c.txt"]
    assert changes.committed and changes.head_before is None and changes.head_after


def test_reset_to_an_ancestor_is_not_a_commit(repo):
    write(repo / "src/app.py", "v2\n")
    commit_all(repo)
    changes = changes_during(repo, lambda: git(repo, "reset", "-q", "--hard", "HEAD~1"))
    assert changes.changed == ["src/app.py"]
    assert not changes.committed


def test_amended_commit_counts_as_committed(repo):
    def step():
        write(repo / "README.md", "amended\n")
        git(repo, "commit", "-q", "-a", "--amend", "-m", "amended")

    changes = changes_during(repo, step)
    assert changes.committed
    assert changes.changed == ["README.md"]


def test_empty_commit_changes_no_file(repo):
    changes = changes_during(repo, lambda: git(repo, "commit", "-q", "--allow-empty", "-m", "e"))
    assert changes.committed
    assert changes.changed == [] and not changes.any


@pytest.mark.parametrize("name", ["with space.txt", "naïve café/日本語 ファイル.md",
                                  "line\nbreak.txt", 'quote"and\\back.txt', "tab\there.txt"])
def test_unusual_file_names(repo, name):
    changes = changes_during(repo, lambda: write(repo / name, "content\n"))
    assert changes.changed == [name]
    commit_all(repo)
    changes = changes_during(repo, lambda: write(repo / name, "other\n"))
    assert changes.changed == [name]


def test_rename_of_a_file_with_spaces_and_unicode(repo):
    write(repo / "a b é.txt", "content\n")
    commit_all(repo)
    changes = changes_during(repo, lambda: git(repo, "mv", "a b é.txt", "c d ü.txt"))
    assert changes.changed == ["a b é.txt", "c d ü.txt"]


def test_symlink_target_is_the_fingerprint(repo):
    (repo / "link").symlink_to("README.md")
    changes = changes_during(repo, lambda: ((repo / "link").unlink(),
                                            (repo / "link").symlink_to("src")))
    assert changes.changed == ["link"]


def test_root_in_a_subdirectory_sees_only_its_own_paths(repo):
    root = repo / "src"
    write(repo / "docs/guide.md", "already modified outside\n")

    def step():
        write(repo / "docs/guide.md", "modified again outside\n")
        write(repo / "outside.txt", "new outside\n")
        write(root / "app.py", "inside\n")
        write(root / "pkg/new.py", "inside\n")

    changes = changes_during(root, step)
    assert changes.changed == ["app.py", "pkg/new.py"]


def test_root_in_a_subdirectory_with_a_commit(repo):
    root = repo / "src"

    def step():
        write(repo / "README.md", "outside\n")
        write(root / "util.py", "inside\n")
        commit_all(repo)

    changes = changes_during(root, step)
    assert changes.changed == ["util.py"]
    assert changes.committed


def test_commit_outside_the_root_only(repo):
    def step():
        write(repo / "README.md", "outside\n")
        commit_all(repo)

    changes = changes_during(repo / "src", step)
    assert changes.committed
    assert not changes.any


def test_excluded_state_folder_and_debug_log_are_ignored(repo):
    state = repo / ".claude" / "orchestrate"
    log = repo / "docs/implementation/feature-debug-log.md"
    write(state / "journal.jsonl", "{}\n")
    write(log, "start\n")
    exclude = [state, "docs/implementation/feature-debug-log.md"]

    def step():
        write(state / "journal.jsonl", "{}\n{}\n")
        write(state / "runs/r1/state.json", "{}\n")
        write(log, "start\nmore\n")

    assert not changes_during(repo, step, exclude).any
    changes = changes_during(repo, lambda: (step(), write(repo / "src/app.py", "x\n")), exclude)
    assert changes.changed == ["src/app.py"]


def test_excluded_paths_are_ignored_in_commits_too(repo):
    state = repo / ".claude/orchestrate"

    def step():
        write(state / "state.json", "{}\n")
        write(repo / "src/app.py", "x\n")
        commit_all(repo)

    assert changes_during(repo, step, [state]).changed == ["src/app.py"]


def test_excluded_paths_relative_to_a_subdirectory_root(repo):
    root = repo / "src"

    for exclude in ("./state/", repo / "src" / "state"):
        def step(exclude=exclude):
            write(root / "state/s.json", f"{exclude}\n")
            write(root / "app.py", f"{exclude}\n")

        assert changes_during(root, step, [exclude]).changed == ["app.py"]


def test_exclusions_do_not_catch_siblings_with_the_same_prefix(repo):
    changes = changes_during(repo, lambda: write(repo / "state-other/x", "x\n"), ["state"])
    assert changes.changed == ["state-other/x"]


def test_turning_the_tree_into_a_repository_is_an_incomplete_change(tmp_path):
    project = tmp_path / "project"
    write(project / "a.txt", "a\n")
    changes = changes_during(project, lambda: init_repo(project))
    assert not changes.complete
    assert changes.any


def test_git_environment_pointing_elsewhere_is_ignored(repo, tmp_path, monkeypatch):
    other = init_repo(tmp_path / "other", {"x.txt": "x\n"})
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    changes = changes_during(repo, lambda: write(repo / "src/app.py", "x\n"))
    assert changes.changed == ["src/app.py"]


# Walk mode

@pytest.fixture
def project(tmp_path) -> Path:
    project = tmp_path / "project"
    write(project / "a.txt", "aaaa\n")
    write(project / "sub/b.txt", "bbbb\n")
    write(project / "sub/deep/c.txt", "cccc\n")
    return project


def test_walk_mode_outside_git(project):
    snapshot = take_snapshot(project)
    assert snapshot.mode == "walk"
    assert snapshot.head is None
    assert sorted(snapshot.entries) == ["a.txt", "sub/b.txt", "sub/deep/c.txt"]
    assert not changes_during(project, lambda: None).any


def test_walk_mode_detects_a_new_file(project):
    changes = changes_during(project, lambda: write(project / "sub/new.txt", "n\n"))
    assert changes.changed == ["sub/new.txt"]
    assert not changes.committed and changes.head_before is None


def test_walk_mode_detects_same_size_rewrite_with_a_newer_mtime(project):
    path = project / "sub/b.txt"
    old = path.stat()

    def step():
        path.write_text("BBBB\n", encoding="utf-8")
        os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns + 1_000_000_000))

    changes = changes_during(project, step)
    assert path.stat().st_size == old.st_size and path.stat().st_ino == old.st_ino
    assert changes.changed == ["sub/b.txt"]


def test_walk_mode_detects_a_deletion(project):
    changes = changes_during(project, lambda: (project / "sub/deep/c.txt").unlink())
    assert changes.changed == ["sub/deep/c.txt"]


def test_walk_mode_skips_excluded_and_tool_directories(project):
    state = project / ".claude/orchestrate"

    def step():
        write(state / "state.json", "{}\n")
        write(project / "debug-log.md", "log\n")
        write(project / "node_modules/pkg/index.js", "x\n")
        write(project / ".venv/lib/site.py", "x\n")
        write(project / "sub/__pycache__/b.pyc", "x\n")
        write(project / ".git/HEAD", "x\n")

    exclude = [state, "debug-log.md"]
    assert not changes_during(project, step, exclude).any
    changes = changes_during(project, lambda: (step(), write(project / "a.txt", "changed\n")),
                             exclude)
    assert changes.changed == ["a.txt"]


def test_walk_mode_does_not_follow_symlinks(project, tmp_path):
    outside = tmp_path / "outside"
    write(outside / "big.txt", "x\n")
    (project / "linked").symlink_to(outside, target_is_directory=True)
    snapshot = take_snapshot(project)
    assert "linked" in snapshot.entries
    assert not any(name.startswith("linked/") for name in snapshot.entries)
    write(outside / "big.txt", "y\n")
    assert not diff_snapshots(snapshot, take_snapshot(project)).any


def test_walk_mode_cap_marks_the_snapshot_partial(project, monkeypatch):
    for i in range(10):
        write(project / f"z/f{i:02}.txt", "x\n")
    monkeypatch.setattr(evidence, "MAX_WALK_FILES", 5)
    before = take_snapshot(project)
    assert before.partial and len(before.entries) == 5
    assert not diff_snapshots(before, take_snapshot(project)).complete
    assert diff_snapshots(before, take_snapshot(project)).any  # unknown counts as changed

    write(project / "a.txt", "changed!\n")
    changes = diff_snapshots(before, take_snapshot(project))
    assert changes.changed == ["a.txt"]  # within the walked part: seen exactly
    assert not changes.complete


def test_excluding_the_root_itself_sees_nothing(project):
    assert not changes_during(project, lambda: write(project / "x", "x"), [project]).any


def test_missing_root_is_an_error(tmp_path):
    with pytest.raises(EvidenceError, match="not a directory"):
        take_snapshot(tmp_path / "missing")


def test_snapshots_of_different_roots_cannot_be_compared(project, tmp_path):
    with pytest.raises(ValueError, match="different roots"):
        diff_snapshots(take_snapshot(project), take_snapshot(tmp_path))


# Changes and parsing

def test_touching():
    changes = Changes(changed=["docs/a.md", "src/app.py", "src/pkg/m.py", "srcx/y.py"])
    assert changes.touching(["src"]) == ["src/app.py", "src/pkg/m.py"]
    assert changes.touching(["src/app.py", Path("docs/")]) == ["docs/a.md", "src/app.py"]
    assert changes.touching(["./src/pkg/"]) == ["src/pkg/m.py"]
    assert changes.touching(["missing"]) == []
    assert changes.touching(["."]) == changes.changed
    assert changes.touching([]) == []


@pytest.mark.parametrize("output, paths", [
    (b"", []),
    (b" M a.txt\0?? dir/new file.txt\0", ["a.txt", "dir/new file.txt"]),
    (b"R  new name\0old name\0 D gone\0", ["new name", "old name", "gone"]),
    (b"RM new\0old\0", ["new", "old"]),
    (b" R new\0old\0", ["new", "old"]),
    (b"C  copy\0source\0M  x\0", ["copy", "x"]),
    (b"?? line\nbreak\0A  \xc3\xa9\0", ["line\nbreak", "é"]),
    (b" M sub/\0", ["sub"]),
])
def test_parse_status(output, paths):
    assert parse_status(output) == paths


# Speed

@pytest.mark.slow
def test_snapshot_of_a_large_repository_is_fast(tmp_path):
    repo = init_repo(tmp_path / "big")
    for d in range(50):
        folder = repo / f"pkg{d:02}"
        folder.mkdir()
        for f in range(100):
            (folder / f"mod{f:03}.py").write_text(f"VALUE = {d * 100 + f}\n" * 20)
    commit_all(repo)
    for d in range(50):
        for f in range(4):
            (repo / f"pkg{d:02}/mod{f:03}.py").write_text("edited\n" * 30)
    assert len(git(repo, "ls-files").splitlines()) == 5000

    timings = []
    for _ in range(5):
        start = time.perf_counter()
        snapshot = take_snapshot(repo, exclude=[repo / ".claude/orchestrate"])
        timings.append(time.perf_counter() - start)
    assert len(snapshot.entries) == 200
    best, worst = min(timings), max(timings)
    print(f"\nsnapshot of 5000 tracked / 200 modified files: best {best * 1000:.1f} ms, "
          f"worst {worst * 1000:.1f} ms")


@pytest.mark.parametrize("mode", ["walk", "git"])
def test_a_snapshot_survives_a_json_round_trip(tmp_path, mode):
    import json

    from orchestrator.verify.snapshot import Snapshot

    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.txt").write_text("a")
    if mode == "git":
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        (root / "new.txt").write_text("untracked")
    before = take_snapshot(root)
    again = Snapshot.from_dict(json.loads(json.dumps(before.to_dict())))
    assert again == before
    (root / "a.txt").write_text("changed")
    assert diff_snapshots(again, take_snapshot(root)).changed == ["a.txt"]
    assert not diff_snapshots(again, before).any
