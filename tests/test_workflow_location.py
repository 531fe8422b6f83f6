"""Topic folders (specs/NNN_slug/) and artifact paths: numbering, concurrency, hostile
descriptions, planted links, and the `orchestrate topic` commands over them."""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from orchestrator.playbooks.orchestrate.location import (
    ARTIFACT_KINDS,
    LocationError,
    Topic,
    allocate_topic,
    get_or_create_topic,
    next_artifact_path,
    project_dir,
    slugify,
)
from orchestrator.store.safefs import UnsafePath

from tests.conftest import REPO

SLUG = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path.resolve()


@pytest.mark.parametrize(("text", "slug"), [
    ("Add user authentication with OAuth2", "add_user_authentication_with_oauth2"),
    ("  Fix: the   LOGIN bug!! ", "fix_the_login_bug"),
    ("Añadir caché à la base", "anadir_cache_a_la_base"),
    ("$(touch /tmp/x) `id` ../../etc; rm -rf ~", "touch_tmp_x_id_etc_rm_rf"),
    ("--help", "help"),
    ("line one\nline two\ttab", "line_one_line_two_tab"),
    ("", "feature"),
    ("../../..", "feature"),
    ("日本語 ✓ 🚀", "feature"),
    ("\udcff\udcfe odd bytes", "odd_bytes"),
    ("word " * 30, "_".join(["word"] * 10)),  # 49 characters: the 11th word does not fit
    ("x" * 80, "x" * 50),  # one long word is cut
])
def test_slugify(text, slug):
    assert slugify(text) == slug


@given(st.text())
def test_a_slug_is_always_short_safe_and_not_empty(text):
    slug = slugify(text)
    assert SLUG.fullmatch(slug) and len(slug) <= 50


def test_a_topic_has_its_artifact_folders_and_the_next_number(root):
    first = allocate_topic(root, "Add caching")
    assert (first.number, first.slug, first.path) == ("001", "add_caching",
                                                      root / "specs" / "001_add_caching")
    assert sorted(p.name for p in first.path.iterdir()) == sorted(ARTIFACT_KINDS)
    assert first.reports == first.path / "reports"
    assert allocate_topic(root, "Add caching").number == "002"  # a new topic each time
    (root / "specs" / "041_by_hand").mkdir()
    assert allocate_topic(root, "after").path.name == "042_after"


def test_numbers_go_past_999(root):
    (root / "specs" / "999_last").mkdir(parents=True)
    assert allocate_topic(root, "next").path.name == "1000_next"


def test_to_dict_is_the_seeds_location_context(root):
    topic = allocate_topic(root, "auth")
    assert topic.to_dict() == {
        "topic_path": str(topic.path), "topic_number": "001", "topic_name": "auth",
        "artifact_paths": {kind: f"{topic.path}/{kind}/" for kind in ARTIFACT_KINDS}}


def test_a_hostile_description_stays_inside_specs(root):
    topic = allocate_topic(root, "$(touch pwned) `touch pwned2`; ../../etc/passwd\n-rf")
    assert topic.path.parent == root / "specs"
    assert SLUG.fullmatch(topic.slug)
    assert sorted(p.name for p in root.iterdir()) == ["specs"]


def test_dry_run_makes_nothing(root):
    topic = allocate_topic(root, "preview", dry_run=True)
    assert topic.path == root / "specs" / "001_preview"
    assert not (root / "specs").exists()
    assert next_artifact_path(topic, "plans", "plan", dry_run=True) == \
        topic.path / "plans" / "001_plan.md"
    assert not (root / "specs").exists()


def _allocate_in_child(root, description, barrier, results):
    barrier.wait()
    results.put(allocate_topic(root, description).path.name)


def test_concurrent_processes_never_share_a_number(root):
    count = 12
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(count)
    results = context.Queue()
    descriptions = ["same feature"] * (count // 2) + [f"feature {i}" for i in range(count // 2)]
    children = [context.Process(target=_allocate_in_child,
                                args=(root, text, barrier, results))
                for text in descriptions]
    for child in children:
        child.start()
    names = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    numbers = sorted(name.split("_", 1)[0] for name in names)
    assert numbers == [f"{n:03d}" for n in range(1, count + 1)]
    folders = sorted(p.name for p in (root / "specs").iterdir() if p.is_dir())
    assert folders == sorted(names)


def test_get_or_create_reuses_the_latest_topic_with_the_slug(root):
    topic, created = get_or_create_topic(root, "Add caching")
    assert created and topic.number == "001"
    allocate_topic(root, "add caching")  # 002, same slug
    allocate_topic(root, "other")  # 003
    (root / "specs" / "002_add_caching" / "debug").rmdir()
    again, created = get_or_create_topic(root, "ADD caching!")
    assert not created and again.number == "002"
    assert (again.path / "debug").is_dir()  # missing artifact folders are made again
    assert get_or_create_topic(root, "new one", dry_run=True) == (
        Topic.at(root / "specs" / "004_new_one"), False)


def test_a_planted_specs_link_is_refused(root, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (root / "specs").symlink_to(elsewhere)
    with pytest.raises(UnsafePath, match="specs"):
        allocate_topic(root, "feature")
    with pytest.raises(UnsafePath):
        allocate_topic(root, "feature", dry_run=True)
    assert list(elsewhere.iterdir()) == []


def test_a_planted_topic_or_kind_link_is_refused(root, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (root / "specs").mkdir()
    (root / "specs" / "001_auth").symlink_to(elsewhere)
    with pytest.raises(UnsafePath, match="001_auth"):
        get_or_create_topic(root, "auth")
    with pytest.raises(UnsafePath):
        next_artifact_path(root / "specs" / "001_auth", "reports", "x")
    topic = allocate_topic(root, "real")
    (topic.path / "plans").rmdir()
    (topic.path / "plans").symlink_to(elsewhere)
    with pytest.raises(UnsafePath, match="plans"):
        next_artifact_path(topic, "plans", "x")
    assert list(elsewhere.iterdir()) == []


def test_artifacts_are_numbered_within_their_folder(root):
    topic = allocate_topic(root, "auth")
    first = next_artifact_path(topic, "reports", "Existing patterns")
    assert first == topic.path / "reports" / "001_existing_patterns.md"
    assert next_artifact_path(topic, "reports", "other") == topic.path / "reports" / "001_other.md"
    first.write_text("# report\n")
    assert next_artifact_path(topic.path, "reports", "best_practices.md").name == \
        "002_best_practices.md"
    (topic.path / "debug").rmdir()
    assert next_artifact_path(str(topic.path), "debug", "$(rm -rf ~)").name == "001_rm_rf.md"
    assert (topic.path / "debug").is_dir()
    assert next_artifact_path(topic, "outputs", "").name == "001_artifact.md"


@pytest.mark.parametrize(("folder", "message"), [
    ("/etc", "not a topic folder"),
    ("specs/auth", "not a topic folder"),
    ("specs/001_Auth", "not a topic folder"),
    ("other/001_auth", "not a topic folder"),
    ("specs/001_missing", "no such topic folder"),
])
def test_a_folder_that_is_no_topic_is_refused(root, folder, message):
    with pytest.raises(LocationError, match=message) as caught:
        next_artifact_path(root / folder, "reports", "x")
    assert caught.value.exit_code == 2


def test_an_unknown_kind_is_refused(root):
    topic = allocate_topic(root, "auth")
    with pytest.raises(LocationError, match=r"unknown artifact kind 'secrets' \(known: reports"):
        next_artifact_path(topic, "secrets", "x")


def test_project_dir_honours_claude_project_dir(root, monkeypatch):
    (root / ".git").mkdir()
    (root / "sub").mkdir()
    assert project_dir(root / "sub") == root
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(root / "sub"))
    assert project_dir() == root / "sub"
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(root / "nope"))
    with pytest.raises(LocationError, match="CLAUDE_PROJECT_DIR='.*nope' is not a directory"):
        project_dir()


def test_cli_topic_new_json_contract(cli, root):
    result = cli("topic", "new", "Add caching", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert set(data) == {"schema", "topic_path", "topic_number", "topic_name",
                         "artifact_paths", "created", "exists", "dry_run"}
    assert data["schema"] == "orchestrate/topic@1"
    assert (data["topic_number"], data["created"], data["exists"], data["dry_run"]) == \
        ("001", True, True, False)
    assert data["artifact_paths"]["reports"] == f"{root}/specs/001_add_caching/reports/"
    again = cli("topic", "new", "Add caching", "--reuse", "--json").json()
    assert (again["topic_number"], again["created"]) == ("001", False)


def test_cli_topic_new_text_fields_and_dry_run(cli, root):
    text = cli("topic", "new", "one")
    assert text.out.splitlines()[:3] == [f"{root}/specs/001_one", "  number: 001",
                                         "  name: one"]
    fields = cli("topic", "new", "--field", "topic_name", "--field", "topic_number",
                 "--field", "plans", "--", "--two")
    assert fields.out == f"two\n002\n{root}/specs/002_two/plans/\n"
    dry = cli("topic", "new", "three", "--dry-run", "--json")
    assert (dry.json()["topic_number"], dry.json()["exists"]) == ("003", False)
    assert "dry run: nothing was made" in dry.err
    assert not (root / "specs" / "003_three").exists()


def test_cli_topic_show_and_artifact(cli, root):
    cli("topic", "new", "auth")
    topic = root / "specs" / "001_auth"
    shown = cli("topic", "show", str(topic), "--json").json()
    assert (shown["topic_name"], shown["exists"], shown["created"]) == ("auth", True, False)
    assert cli("topic", "show", "specs/002_x", "--json").json()["exists"] is False
    result = cli("topic", "artifact", str(topic), "reports", "Best practices")
    assert result.out == f"{topic}/reports/001_best_practices.md\n"
    data = cli("topic", "artifact", "--json", "--", str(topic), "plans", "--impl").json()
    assert data == {"schema": "orchestrate/artifact@1", "kind": "plans", "number": "001",
                    "path": f"{topic}/plans/001_impl.md", "topic_path": str(topic)}
    bad = cli("topic", "artifact", str(root), "reports", "x")
    assert bad.code == 2 and "not a topic folder" in bad.err


def test_cli_topic_project_dir(cli, root, monkeypatch):
    assert cli("topic", "project-dir").out == f"{root}\n"
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", "/nonexistent/project")
    result = cli("topic", "project-dir", "--json")
    assert result.code == 2
    assert result.json()["schema"] == "orchestrate/error@1"


def test_end_to_end_through_python_m_orchestrator(root):
    env = {key: value for key, value in os.environ.items() if key != "CLAUDE_PROJECT_DIR"}
    env["PYTHONPATH"] = str(REPO / "lib")
    done = subprocess.run([sys.executable, "-m", "orchestrator", "topic", "new", "--json",
                           "--", "$(touch pwned); `id`"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert '"topic_name": "touch_pwned_id"' in done.stdout
    assert not (root / "pwned").exists()
