"""Run storage: one conformance suite over the file store and its in-memory twin, then what
only real files can show (torn lines, damage left untouched, locks across processes).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from orchestrator.engine.state import StateError, replay
from orchestrator.redact import Redactor
from orchestrator.store import (
    FileRunStore,
    InvalidRunName,
    MemoryRunStore,
    MemorySpace,
    RunExists,
    RunLock,
    RunLocked,
    RunNotFound,
    SchemaMismatch,
    StateCorrupt,
    errors_dir,
    list_runs,
    project_root,
    read_journal,
    run_name,
    runs_dir,
    state_root,
)
from orchestrator.store.journal import encode_event

STEPS = [
    {"id": "1", "title": "A", "depends_on": [], "kind": "command", "phase_hash": "abc",
     "max_attempts": 1, "timeout_s": None},
    {"id": "2", "title": "B", "depends_on": ["1"], "kind": "agent", "phase_hash": "def",
     "max_attempts": 2, "timeout_s": 60},
]
T0 = 1700000000.0
SECRET = "sk-ant-api03-" + "x" * 90


def started(name: str = "demo", schema: int = 1) -> dict:
    return {"type": "run_started", "seq": 1, "at": T0, "schema": schema, "name": name,
            "plan_path": "plan.md", "plan_format": "plan", "plan_hash": "h1",
            "project_root": "/p", "jobs": 4, "steps": copy.deepcopy(STEPS)}


LATER = [
    {"type": "step_started", "seq": 2, "at": T0 + 1, "step": "1"},
    {"type": "step_finished", "seq": 3, "at": T0 + 2, "step": "1", "outcome": "completed",
     "duration_s": 1.0},
    {"type": "step_started", "seq": 4, "at": T0 + 3, "step": "2"},
]


def fill(store, events=LATER, snapshot: bool = True) -> list[dict]:
    """Create the run, append ``events``, save the snapshot; returns all events."""
    everything = [started(store.name), *copy.deepcopy(events)]
    store.create(everything[0])
    for event in everything[1:]:
        store.append(event)
    if snapshot:
        store.save_snapshot(replay(copy.deepcopy(everything)))
    return everything


@pytest.fixture(params=["file", "memory"])
def make_store(request, tmp_path):
    """A factory of stores over one backing (a runs dir, or a MemorySpace)."""
    space = MemorySpace()

    def make(name: str = "demo", redactor: Redactor | None = None):
        redactor = redactor or Redactor({})
        if request.param == "file":
            return FileRunStore(tmp_path / "runs", name, redactor)
        return MemoryRunStore(name, redactor, space)

    return make


# Conformance: both stores behave alike.

def test_a_new_run_does_not_exist(make_store):
    store = make_store()
    assert not store.exists()
    with pytest.raises(RunNotFound, match="no run named demo; no runs are stored yet"):
        store.load()
    with pytest.raises(RunNotFound):
        store.append(LATER[0])


def test_round_trip(make_store):
    events = fill(make_store())
    loaded = make_store().load()
    assert loaded.events == events
    assert loaded.state.to_dict() == replay(copy.deepcopy(events)).to_dict()
    assert loaded.warnings == []
    assert loaded.state.steps["1"].status == "completed"
    assert loaded.state.steps["2"].status == "running"


def test_create_refuses_an_existing_run(make_store):
    store = make_store()
    store.create(started())
    with pytest.raises(RunExists, match="run demo already exists; resume it with --resume demo"):
        store.create(started())
    with pytest.raises(RunExists):
        make_store().create(started())


def test_create_checks_the_first_event_before_writing(make_store):
    store = make_store()
    with pytest.raises(ValueError, match="starts with run_started"):
        store.create(LATER[0])
    with pytest.raises(StateError, match="malformed"):
        store.create({"type": "run_started", "at": T0})
    assert not store.exists()


def test_snapshot_equals_replay(make_store):
    store = make_store()
    events = fill(store)
    assert store.read_snapshot() == replay(copy.deepcopy(events)).to_dict()


def test_a_lagging_snapshot_is_expected_and_refreshed_on_repair(make_store):
    store = make_store()
    fill(store, snapshot=False)  # create() saved a snapshot at seq 1; three events since
    loaded = store.load()
    assert loaded.warnings == []  # snapshots are written at a bounded rate: lagging is normal
    assert loaded.state.seq == 4
    assert store.read_snapshot()["seq"] == 1  # not rewritten without repair=True
    assert store.load(repair=True).warnings == []
    assert store.read_snapshot() == loaded.state.to_dict()


def test_a_snapshot_ahead_of_the_journal_is_rebuilt_with_a_warning(make_store):
    store = make_store()
    fill(store)
    data = store.read_snapshot()
    data["seq"] = 99
    store._snapshot_write(json.dumps(data).encode())
    assert store.load().warnings == [f"{store.snapshot_label} is out of date (seq 99, the "
                                      "journal has 4); rebuilt from the journal"]


def test_an_event_that_does_not_fit_is_corruption(make_store):
    store = make_store()
    fill(store)
    store.append({"type": "step_started", "seq": 5, "at": T0 + 4, "step": "nope"})
    with pytest.raises(StateCorrupt, match=r"journal.jsonl:5: event 'step_started' does not "
                                           r"fit the run \(.*unknown step 'nope'"):
        store.load()


def test_a_future_schema_is_refused(make_store):
    store = make_store()
    store.create(started(schema=7))
    with pytest.raises(SchemaMismatch, match="schema 7, this version reads 1"):
        store.load(repair=True)


def test_lock_conflict(make_store):
    first, second = make_store(), make_store()
    with first.lock() as held:
        assert held.notice is None
        message = rf"run demo is in use by another orchestrate process \(pid {os.getpid()}\)"
        with pytest.raises(RunLocked, match=message) as caught, second.lock():
            pass
        assert caught.value.pid == os.getpid()
    with second.lock():
        pass


def test_remove(make_store):
    store, other = make_store(), make_store()
    fill(store)
    with other.lock(), pytest.raises(RunLocked):
        store.remove()
    assert store.exists()
    store.remove()  # takes the lock itself
    assert not store.exists() and store.read_snapshot() is None
    with store.lock():
        store.create(started())  # --fresh: remove and create under one lock
        store.remove()
        store.create(started())
        store.append(LATER[0])
    assert [e["type"] for e in other.load().events] == ["run_started", "step_started"]


def test_secrets_are_redacted_before_storing(make_store):
    store = make_store(redactor=Redactor({"MY_TOKEN": "hunter2hunter2"}))
    failure = {"type": "step_finished", "seq": 3, "at": T0 + 2, "step": "1",
               "outcome": "failed", "duration_s": 1.0, "error": f"401 for {SECRET} hunter2hunter2"}
    events = [LATER[0], failure, {"type": "note", "seq": 4, "at": T0 + 3, "text": SECRET}]
    fill(store, events)
    loaded = store.load()
    text = json.dumps([loaded.events, store.read_snapshot()])
    assert SECRET not in text and "hunter2" not in text
    assert loaded.state.steps["1"].error == "401 for [REDACTED:anthropic-key] [REDACTED:MY_TOKEN]"
    assert loaded.state.notes == ["[REDACTED:anthropic-key]"]


def test_run_names_must_be_safe(make_store):
    for bad in ("../up", "a/b", "", ".hidden", "Upper"):
        with pytest.raises(InvalidRunName, match="not a valid run name"):
            make_store(bad)


def test_not_found_lists_known_runs(make_store):
    fill(make_store("beta"))
    fill(make_store("alpha"))
    with pytest.raises(RunNotFound, match="no run named gamma; known runs: alpha, beta"):
        make_store("gamma").load()


# File store: real files.

@pytest.fixture
def runs(tmp_path) -> Path:
    return tmp_path / "runs"


def file_store(runs: Path, name: str = "demo") -> FileRunStore:
    return FileRunStore(runs, name, Redactor({}))


def append_bytes(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def fingerprint(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_files_and_step_logs(runs):
    store = file_store(runs)
    fill(store)
    assert sorted(p.name for p in store.run_dir.iterdir()) == ["journal.jsonl", "state.json"]
    lines = store.journal_path.read_bytes().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4]
    assert store.step_log_path("1", 2) == store.run_dir / "steps" / "1.2.log"
    odd = store.step_log_path("../a b", 1).name
    assert odd.startswith("_a_b-") and odd.endswith(".1.log")
    assert MemoryRunStore("demo", space=MemorySpace()).step_log_path("1", 1) is None


@pytest.mark.parametrize("torn", [b'{"type":"step_fin', b'{"type":"note","at":1,"text":"x"}',
                                  b"\x00\x00\x00\n", b"\n"])
def test_torn_last_line_is_dropped_and_cut_only_on_repair(runs, torn):
    store = file_store(runs)
    events = fill(store)
    good = store.journal_path.read_bytes()
    append_bytes(store.journal_path, torn)
    before = fingerprint(store.journal_path)
    loaded = store.load()
    assert loaded.events == events
    assert loaded.warnings == [f"{store.journal_path}:5: dropped the torn last line (a write "
                               f"that never finished); left it in the file"]
    assert fingerprint(store.journal_path) == before
    assert store.load(repair=True).warnings[0].endswith("cut it off")
    assert store.journal_path.read_bytes() == good
    store.append({"type": "note", "seq": 5, "at": T0 + 5, "text": "after"})
    loaded = file_store(runs).load()
    assert [event["seq"] for event in loaded.events] == [1, 2, 3, 4, 5]
    assert not any("dropped the torn" in warning for warning in loaded.warnings)


@pytest.mark.parametrize("line, problem", [
    (b"{garbage", "journal line is not valid JSON"),
    (b"[1, 2]", "journal line is not a JSON object"),
    (b'{"seq": 2}', 'journal event has no "type"'),
    (b"\xff\xfe{}", "journal line is not valid JSON"),
    (b"", "journal line is not valid JSON"),
])
def test_damage_before_the_last_line_is_refused_untouched(runs, line, problem):
    store = file_store(runs)
    fill(store)
    lines = store.journal_path.read_bytes().split(b"\n")
    lines[2] = line
    store.journal_path.write_bytes(b"\n".join(lines))
    before = fingerprint(store.journal_path), fingerprint(store.snapshot_path)
    for repair in (False, True):
        with pytest.raises(StateCorrupt, match=f"journal.jsonl:3: {problem}; the run cannot be "
                                               f"read \\(file left untouched\\)"):
            store.load(repair=repair)
    assert (fingerprint(store.journal_path), fingerprint(store.snapshot_path)) == before


@pytest.mark.parametrize("content", [b"", b'{"type":"run_star'])
def test_an_empty_journal_is_refused_untouched(runs, content):
    store = file_store(runs)
    store.run_dir.mkdir(parents=True)
    store.journal_path.write_bytes(content)
    before = fingerprint(store.journal_path)
    with pytest.raises(StateCorrupt, match="journal is empty: the run never started"):
        store.load(repair=True)
    assert fingerprint(store.journal_path) == before


def test_future_schema_in_the_journal_is_left_untouched(runs):
    store = file_store(runs)
    store.run_dir.mkdir(parents=True)
    store.journal_path.write_bytes(encode_event(started(schema=7)) + b'{"type":"x","new":')
    before = fingerprint(store.journal_path)
    with pytest.raises(SchemaMismatch, match=rf"^{store.journal_path}: written by a newer "
                                             r"orchestrate \(schema 7, this version reads 1\); "
                                             r"file left untouched$"):
        store.load(repair=True)
    assert fingerprint(store.journal_path) == before
    assert store.snapshot_path.exists() is False


def test_future_schema_in_the_snapshot_is_left_untouched(runs):
    store = file_store(runs)
    fill(store, snapshot=False)
    data = json.loads(store.snapshot_path.read_bytes())
    data["schema"] = 7
    store.snapshot_path.write_text(json.dumps(data))
    append_bytes(store.journal_path, b'{"torn')
    before = fingerprint(store.journal_path), fingerprint(store.snapshot_path)
    with pytest.raises(SchemaMismatch, match="state.json: written by a newer orchestrate"):
        store.load(repair=True)
    assert (fingerprint(store.journal_path), fingerprint(store.snapshot_path)) == before


@pytest.mark.parametrize("content, problem", [
    (None, "is missing"),
    (b"", "is empty"),
    (b'{"name": "demo", "st', "is not valid JSON"),
    (b"[1, 2]", "does not hold a JSON object"),
    (b'{"seq": "x"}', "is out of date (seq 'x', the journal has 4)"),
])
def test_a_bad_snapshot_is_rebuilt_from_the_journal(runs, content, problem):
    store = file_store(runs)
    events = fill(store)
    if content is None:
        store.snapshot_path.unlink()
    else:
        store.snapshot_path.write_bytes(content)
    loaded = store.load()
    assert loaded.warnings == [f"{store.snapshot_path} {problem}; rebuilt from the journal"]
    assert loaded.state.to_dict() == replay(copy.deepcopy(events)).to_dict()
    store.load(repair=True)
    assert store.read_snapshot() == loaded.state.to_dict()
    assert list(store.run_dir.glob(".*.tmp")) == []


def test_no_trace_of_a_secret_in_any_file(runs):
    store = FileRunStore(runs, "demo")  # the default redactor, from os.environ
    events = [LATER[0], {"type": "step_finished", "seq": 3, "at": T0 + 2, "step": "1",
                         "outcome": "failed", "duration_s": 0.5, "error": f"bad key {SECRET}"}]
    everything = fill(store, events, snapshot=False)
    store.save_snapshot(replay(everything))  # a state that still holds the secret
    for path in store.run_dir.rglob("*"):
        assert b"x" * 90 not in path.read_bytes(), path


def test_remove_moves_the_run_to_the_trash_and_keeps_the_lock(runs):
    store = file_store(runs)
    fill(store)
    store.step_log_path("1", 1).write_text("log")
    neighbour = file_store(runs, "other")
    fill(neighbour)
    with store.lock() as held:
        store.remove()
        assert [p.name for p in store.run_dir.iterdir()] == ["lock"]
        assert held.held and json.loads(store.lock_path.read_text())["pid"] == os.getpid()
    assert list((runs / ".trash").iterdir()) == []
    assert neighbour.load().warnings == []


def test_list_runs(runs):
    fill(file_store(runs, "alpha"))
    beta = file_store(runs, "beta")
    fill(beta, LATER[:1])
    beta.snapshot_path.unlink()  # read from the journal instead
    broken = file_store(runs, "broken")
    fill(broken)
    broken.snapshot_path.write_bytes(b"")
    broken.journal_path.write_bytes(b"{nope\n" + broken.journal_path.read_bytes())
    (runs / "not-a-run").mkdir()
    warnings: list[str] = []
    with beta.lock():  # beta has a live runner; nobody drives alpha any more
        infos = list_runs(runs, warnings)
    assert [(i.name, i.status, i.counts) for i in infos] == [
        ("alpha", "interrupted", {"pending": 1, "completed": 1}),
        ("beta", "running", {"pending": 1, "running": 1}),
    ]
    assert infos[0].to_dict()["plan_path"] == "plan.md" and infos[0].updated_at == T0 + 3
    assert len(warnings) == 1 and warnings[0].startswith("skipped run broken: ")
    assert list_runs(runs / "missing") == []


def test_reading_a_hundred_thousand_events_is_quick(runs):
    store = file_store(runs)
    store.create(started())
    lines = [encode_event(started())]
    for number in range(2, 100_001):
        step = STEPS[number % 2]["id"]
        lines.append(encode_event({"type": "note", "seq": number, "at": T0 + number,
                                   "text": f"step {step} says something unremarkable"}))
    store.journal_path.write_bytes(b"".join(lines))
    loaded = store.load()
    assert loaded.state.seq == 100_000 and len(loaded.events) == 100_000


def test_read_journal(runs):
    store = file_store(runs)
    events = fill(store)
    append_bytes(store.journal_path, b"{")
    assert read_journal(store.journal_path) == (events, [
        f"{store.journal_path}:5: dropped the torn last line (a write that never finished); "
        f"left it in the file"])


FILL_THE_DISK = """
import resource, signal, sys
from pathlib import Path
from orchestrator.store.journal import Journal, encode_event
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, like ENOSPC
old, new = Path(sys.argv[1]), Path(sys.argv[2])
hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
for path, limit in ((old, old.stat().st_size + 10), (new, 10)):
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        Journal(path).append_line(encode_event({"type": "note", "text": "y" * 100}))
    except OSError as exc:
        print(type(exc).__name__)
"""


def test_a_failed_append_leaves_the_journal_as_it_was(runs):
    store = file_store(runs)
    fill(store)
    before = store.journal_path.read_bytes()
    new = store.run_dir / "new.jsonl"
    done = subprocess.run([sys.executable, "-c", FILL_THE_DISK, str(store.journal_path),
                           str(new)], capture_output=True, text=True, timeout=30)
    assert done.stdout.split() == ["OSError", "OSError"], done.stderr
    assert store.journal_path.read_bytes() == before
    assert not new.exists()
    assert store.load().warnings == []


# Locks across processes.

HOLD_AND_REPORT = """
import sys
from orchestrator.store import RunLock, RunLocked
try:
    RunLock(sys.argv[1], "demo").acquire()
except RunLocked as exc:
    print(exc)
    sys.exit(3)
print("acquired")
"""


def try_lock_elsewhere(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HOLD_AND_REPORT, str(path)],
                          capture_output=True, text=True, timeout=30)


def test_a_second_process_fails_fast_with_the_holders_pid(tmp_path):
    with RunLock(tmp_path / "lock", "demo") as held:
        assert held.notice is None
        with pytest.raises(RunLocked, match=f"pid {os.getpid()}"):
            RunLock(tmp_path / "lock", "demo").acquire()  # a second descriptor, same process
        done = try_lock_elsewhere(tmp_path / "lock")  # answers while the lock is held
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip() == (f"run demo is in use by another orchestrate process "
                                   f"(pid {os.getpid()}); wait for it or stop it")
    assert try_lock_elsewhere(tmp_path / "lock").stdout.strip() == "acquired"


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(),
                                               "started_at": T0}))
    lock = RunLock(tmp_path / "lock", "demo")
    assert lock.acquire() == (f"took over the lock of run demo from pid {dead.pid}, which is "
                              f"no longer running")
    assert json.loads((tmp_path / "lock").read_text())["pid"] == os.getpid()
    lock.release()
    assert (tmp_path / "lock").read_text() == ""
    with RunLock(tmp_path / "lock") as again:
        assert again.notice is None


def test_garbage_in_a_lock_file_is_ignored(tmp_path):
    (tmp_path / "lock").write_bytes(b"\x00not json")
    with RunLock(tmp_path / "lock", "demo") as held:
        assert held.notice is None


@pytest.mark.skipif(shutil.which("sleep") is None, reason="needs sleep")
def test_child_processes_do_not_inherit_the_lock(tmp_path):
    lock = RunLock(tmp_path / "lock", "demo")
    lock.acquire()
    assert not os.get_inheritable(lock.fd)
    child = subprocess.Popen(["sleep", "30"], close_fds=False)
    try:
        lock.release()  # closes the descriptor; an inherited copy would keep the flock
        assert child.poll() is None
        done = try_lock_elsewhere(tmp_path / "lock")
        assert done.stdout.strip() == "acquired", done.stdout + done.stderr
    finally:
        child.kill()
        child.wait()


# Paths and names.

@pytest.mark.parametrize("text, expected", [
    ("phase-8.2", "phase-8.2"),
    ("My Plan!", "my-plan"),
    ("café au lait", "cafe-au-lait"),
    ("a--b..c__d", "a-b.c_d"),
    ("../../etc/passwd", "etc-passwd"),
    (".hidden", "hidden"),
    ("-x-", "x"),
    ("", "run"),
    ("!!!", "run"),
    ("日本", "run"),
    ("x" * 100, "x" * 64),
    ("a" * 63 + "-b", "a" * 63),
    ("_under_", "_under_"),
])
def test_run_name(text, expected):
    assert run_name(text) == expected
    assert run_name(expected) == expected


@pytest.fixture
def no_git_above(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_project_root_is_the_git_top_level(tmp_path, no_git_above):
    repo = tmp_path / "repo"
    (repo / "sub" / "dir").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert project_root(repo / "sub" / "dir") == repo.resolve()
    plain = tmp_path / "plain" / "sub"
    plain.mkdir(parents=True)
    assert project_root(plain) == plain.resolve()


def test_state_root(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRATE_STATE_DIR", raising=False)
    assert state_root(tmp_path) == tmp_path / ".claude" / "orchestrate"
    monkeypatch.setenv("ORCHESTRATE_STATE_DIR", str(tmp_path / "elsewhere"))
    root = state_root(tmp_path)
    assert root == (tmp_path / "elsewhere").resolve()
    assert runs_dir(root) == root / "runs" and errors_dir(root) == root / "errors"


def test_a_journal_line_nested_a_hundred_thousand_deep_is_corrupt_not_a_crash(runs):
    store = file_store(runs)
    fill(store)
    deep = b"[" * 100_000 + b"]" * 100_000
    store.journal_path.write_bytes(store.journal_path.read_bytes() + deep + b"\n"
                                   + encode_event({"type": "note", "seq": 5, "at": T0 + 9,
                                                   "text": "after"}))
    before = store.journal_path.read_bytes()
    with pytest.raises(StateCorrupt, match=r"journal.jsonl:5: journal line is not valid JSON"):
        store.load(repair=True)
    assert store.journal_path.read_bytes() == before


def test_a_snapshot_nested_a_hundred_thousand_deep_is_rebuilt_from_the_journal(runs):
    store = file_store(runs)
    fill(store)
    store.snapshot_path.write_bytes(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
    loaded = store.load()
    assert loaded.state.seq == 4
    assert any("not valid JSON" in warning for warning in loaded.warnings)


def test_runs_does_not_believe_a_snapshot_the_journal_contradicts(runs):
    store = file_store(runs)
    fill(store)
    store.append({"type": "run_finished", "seq": 5, "at": T0 + 5, "status": "failed"})
    forged = store.load().state.to_dict()
    forged["status"] = "completed"  # an old or edited state.json
    store.snapshot_path.write_text(json.dumps(forged))
    [info] = list_runs(runs)
    assert info.status == "failed"
    forged.update(status="running", seq=9)  # ahead of the journal
    store.snapshot_path.write_text(json.dumps(forged))
    assert [info.status for info in list_runs(runs)] == ["failed"]
