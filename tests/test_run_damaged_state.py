"""Damaged run state through the CLI: torn, corrupt, empty and future-version files."""

from __future__ import annotations

import json

import pytest

from tests.run_helpers import run_dir, shell_phase, statuses, write


@pytest.fixture
def failed_run(cli, tmp_path, monkeypatch):
    """A run whose step 2 failed once; resuming it (with `fixed` present) completes it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCHESTRATE_STATE_DIR", raising=False)
    write(tmp_path / "d.md", shell_phase("1", "true") + shell_phase("2", "test -e fixed", "1"))
    assert cli("run", "d.md").code == 1
    (tmp_path / "fixed").touch()
    return run_dir(tmp_path, "d")


def test_torn_last_journal_line_is_dropped_with_a_warning(cli, failed_run):
    journal = failed_run / "journal.jsonl"
    with journal.open("a") as out:
        out.write('{"type": "step_started", "seq": 99, "at": 1')  # a write cut short
    result = cli("run", "--resume", "d")
    assert result.code == 0, result.out + result.err
    assert "torn" in (result.out + result.err).lower()
    assert all(json.loads(line) for line in journal.read_text().splitlines())


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text.replace('"step_started"', '"step_started', 1), "not valid JSON"),
        (lambda text: "", "journal is empty"),
        (lambda text: text.replace('"schema":1,', '"schema":99,', 1), "newer orchestrate"),
    ],
    ids=["corrupt", "empty", "future-version"],
)
def test_unreadable_journal_is_refused_and_left_untouched(cli, failed_run, damage, message):
    journal = failed_run / "journal.jsonl"
    original = journal.read_text()
    journal.write_text(damage(original))
    before = journal.read_bytes()
    assert before != original.encode()
    for args in (("run", "--resume", "d"), ("status", "d")):
        result = cli(*args)
        assert result.code == 2, args
        assert message in result.err
        assert "Traceback" not in result.err
        assert journal.read_bytes() == before


@pytest.mark.parametrize(
    "content", ["", '{"schema": 1, "name": "d", "st', "not json at all", "[1, 2]"],
    ids=["empty", "torn", "corrupt", "not-an-object"],
)
def test_bad_snapshot_is_rebuilt_from_the_journal(cli, failed_run, content):
    snapshot = failed_run / "state.json"
    snapshot.write_text(content)
    status = cli("status", "d", "--json")
    assert status.code == 0
    assert "rebuilt from the journal" in status.err
    assert status.json()["steps"][1]["status"] == "failed"
    assert snapshot.read_text() == content  # reading does not repair
    assert cli("run", "--resume", "d").code == 0
    assert statuses(failed_run.parents[3], "d") == {"1": "completed", "2": "completed"}


def test_future_version_snapshot_is_refused_and_left_untouched(cli, failed_run):
    snapshot = failed_run / "state.json"
    data = json.loads(snapshot.read_text())
    data["schema"] = 42
    snapshot.write_text(json.dumps(data))
    before = snapshot.read_bytes()
    result = cli("run", "--resume", "d")
    assert result.code == 2
    assert "newer orchestrate" in result.err
    assert snapshot.read_bytes() == before
