"""Named checkpoints: the core in orchestrator.store.checkpoints and `orchestrate checkpoint`."""

from __future__ import annotations

import json
import re
import threading

import pytest
from orchestrator.store.checkpoints import (
    SCHEMA,
    CheckpointCorrupt,
    CheckpointError,
    CheckpointNotFound,
    delete_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)

SECRET = "sk-ant-api03-" + "x" * 90
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATE_STATE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def folder(state_dir):
    return state_dir / "checkpoints"


def test_save_writes_the_schema_name_time_and_data(folder):
    record = save_checkpoint("auth", {"plan_path": "specs/013.md", "current_phase": 2})
    stored = json.loads((folder / "auth.json").read_text())
    assert stored == record
    assert list(stored) == ["schema", "name", "updated_at", "data"]
    assert stored["schema"] == SCHEMA == "orchestrate/checkpoint@1"
    assert stored["name"] == "auth"
    assert ISO_UTC.fullmatch(stored["updated_at"])
    assert stored["data"] == {"plan_path": "specs/013.md", "current_phase": 2}
    assert load_checkpoint("auth") == record


def test_save_merges_top_level_keys_unless_replace():
    save_checkpoint("wf", {"plan_path": "a.md", "completed_phases": [1], "meta": {"x": 1}})
    save_checkpoint("wf", {"completed_phases": [1, 2], "meta": {"y": 2}})
    assert load_checkpoint("wf")["data"] == {"plan_path": "a.md", "completed_phases": [1, 2],
                                             "meta": {"y": 2}}
    save_checkpoint("wf", {"current_phase": 3}, replace=True)
    assert load_checkpoint("wf")["data"] == {"current_phase": 3}


def test_save_leaves_no_temporary_files(folder):
    for phase in range(3):
        save_checkpoint("wf", {"phase": phase})
    assert sorted(path.name for path in folder.iterdir()) == [".lock", "wf.json"]


@pytest.mark.parametrize("name, stored", [
    ("../../etc/passwd", "etc-passwd"),
    ("/etc/passwd", "etc-passwd"),
    ("..", "run"),
    ("a/../../b", "a-.-.-b"),
    ("C:\\Windows\\x", "c-windows-x"),
    ("nul\x00byte", "nul-byte"),
    ("My Workflow!", "my-workflow"),
    ("orchestrate_auth_20251013", "orchestrate_auth_20251013"),
])
def test_any_name_is_one_file_inside_the_checkpoints_folder(name, stored, folder, state_dir):
    record = save_checkpoint(name, {"a": 1})
    assert record["name"] == stored
    assert [path.name for path in folder.glob("*.json")] == [f"{stored}.json"]
    assert [path for path in state_dir.rglob("*") if path.is_file()
            and path.parent != folder] == []
    assert load_checkpoint(name)["data"] == {"a": 1}


def test_an_empty_name_is_refused():
    with pytest.raises(CheckpointError, match="must not be empty"):
        save_checkpoint("  ", {"a": 1})


def test_secrets_never_reach_the_file(folder, monkeypatch):
    monkeypatch.setenv("DEPLOY_API_KEY", "hunter2-hunter2")
    save_checkpoint("wf", {"token": SECRET, "nested": {"list": [f"key={SECRET}"]},
                           SECRET: "as a key", "deploy": "uses hunter2-hunter2"})
    save_checkpoint(f"name {SECRET}", {"a": 1})
    text = "".join(path.read_text() for path in folder.glob("*.json"))
    assert "sk-ant-api03" not in text and "hunter2" not in text
    data = load_checkpoint("wf")["data"]
    assert data["token"] == "[REDACTED:anthropic-key]"
    assert data["nested"] == {"list": ["key=[REDACTED:anthropic-key]"]}
    assert data["[REDACTED:anthropic-key]"] == "as a key"
    assert data["deploy"] == "uses [REDACTED:DEPLOY_API_KEY]"


def test_data_must_be_a_json_object_without_nan(folder):
    with pytest.raises(CheckpointError, match="must be a JSON object, not list"):
        save_checkpoint("wf", [1, 2])
    save_checkpoint("wf", {"a": 1})
    before = (folder / "wf.json").read_bytes()
    with pytest.raises(CheckpointError, match="NaN"):
        save_checkpoint("wf", {"b": float("nan")})
    assert (folder / "wf.json").read_bytes() == before


def test_a_missing_checkpoint_names_the_known_ones(folder):
    with pytest.raises(CheckpointNotFound, match="no checkpoint named absent; no checkpoints "
                                                 "are stored under") as caught:
        load_checkpoint("absent")
    assert caught.value.exit_code == 2
    save_checkpoint("beta", {})
    save_checkpoint("alpha", {})
    with pytest.raises(CheckpointNotFound,
                       match=r"no checkpoint named absent-one \(from 'Absent One'\); "
                             r"known checkpoints: alpha, beta$") as caught:
        load_checkpoint("Absent One")
    assert caught.value.known == ["alpha", "beta"]


@pytest.mark.parametrize("content, problem", [
    (b'{"schema": ', "is not valid JSON"),
    (b"", "is not valid JSON"),
    (b"\xff\xfe", "is not valid JSON"),
    (b"[1, 2]", "does not hold a JSON object"),
    (b'{"data": {}}', 'is not a checkpoint (no "schema": "orchestrate/checkpoint@1")'),
    (b'{"schema": "orchestrate/checkpoint@2", "data": {}}',
     "has schema orchestrate/checkpoint@2; this version of orchestrate reads "
     "orchestrate/checkpoint@1"),
    (b'{"schema": "orchestrate/checkpoint@1", "data": [1]}', 'has no "data" object'),
])
def test_a_corrupt_checkpoint_is_named_and_left_untouched(content, problem, folder):
    folder.mkdir()
    path = folder / "wf.json"
    path.write_bytes(content)
    with pytest.raises(CheckpointCorrupt, match=re.escape(f"{path}: {problem}")) as caught:
        load_checkpoint("wf")
    assert caught.value.exit_code == 2
    assert caught.value.path == path
    with pytest.raises(CheckpointCorrupt):
        save_checkpoint("wf", {"a": 1})
    with pytest.raises(CheckpointCorrupt):
        save_checkpoint("wf", {"a": 1}, replace=True)
    assert path.read_bytes() == content
    warnings: list[str] = []
    assert list_checkpoints(warnings=warnings) == []
    assert warnings == [f"skipped {path}: {problem}"]
    assert delete_checkpoint("wf") == path
    assert not path.exists()


def test_a_directory_in_place_of_a_checkpoint_is_reported_not_removed(folder):
    (folder / "wf.json").mkdir(parents=True)
    with pytest.raises(CheckpointCorrupt, match=r"wf\.json: cannot be read \(Is a directory\)"):
        load_checkpoint("wf")
    with pytest.raises(CheckpointError, match=r"wf\.json: cannot be removed"):
        delete_checkpoint("wf")
    assert (folder / "wf.json").is_dir()


def test_list_checkpoints_by_name(folder):
    assert list_checkpoints() == []
    save_checkpoint("zeta", {"b": 1, "a": 2})
    save_checkpoint("alpha", {})
    infos = list_checkpoints()
    assert [(info.name, info.keys) for info in infos] == [("alpha", []), ("zeta", ["b", "a"])]
    assert infos[1].path == str(folder / "zeta.json")
    assert ISO_UTC.fullmatch(infos[1].updated_at)


def test_delete_checkpoint(folder, state_dir):
    with pytest.raises(CheckpointNotFound):
        delete_checkpoint("wf")
    assert not folder.exists()  # deleting nothing creates nothing
    save_checkpoint("wf", {"a": 1})
    assert delete_checkpoint("wf") == folder / "wf.json"
    with pytest.raises(CheckpointNotFound, match="no checkpoints are stored"):
        load_checkpoint("wf")


def test_concurrent_merges_keep_every_key():
    def worker(number: int) -> None:
        for index in range(5):
            save_checkpoint("shared", {f"w{number}-{index}": index})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(load_checkpoint("shared")["data"]) == 40


def test_cli_save_and_load(cli, folder):
    done = cli("checkpoint", "save", "auth", "plan_path=specs/013 auth.md", "current_phase=2",
               "completed_phases=[1, 2]", "done=false", "none=null", 'quoted="7"', "zero=007",
               "ratio=NaN", "expr=$(rm -rf /)", "eq=a=b", "empty=")
    assert (done.code, done.err) == (0, "")
    assert done.out == f"{folder / 'auth.json'}\n"
    loaded = cli("checkpoint", "load", "auth")
    assert loaded.code == 0
    assert loaded.json() == {"plan_path": "specs/013 auth.md", "current_phase": 2,
                             "completed_phases": [1, 2], "done": False, "none": None,
                             "quoted": "7", "zero": "007", "ratio": "NaN",
                             "expr": "$(rm -rf /)", "eq": "a=b", "empty": ""}
    assert cli("checkpoint", "load", "auth", "plan_path").out == "specs/013 auth.md\n"
    assert cli("checkpoint", "load", "auth", "completed_phases").out == "[1, 2]\n"
    assert cli("checkpoint", "load", "auth", "done").out == "false\n"
    assert cli("checkpoint", "load", "auth", "none").out == "null\n"


def test_cli_save_json_replace_and_merge(cli):
    assert cli("checkpoint", "save", "wf", "a=1").code == 0
    assert cli("checkpoint", "save", "wf", "a=2", "--json", '{"b": {"c": [1]}, "a": 5}').code == 0
    assert cli("checkpoint", "load", "wf").json() == {"a": 2, "b": {"c": [1]}}
    assert cli("checkpoint", "save", "--replace", "wf", "z=true").code == 0
    assert cli("checkpoint", "load", "wf").json() == {"z": True}


@pytest.mark.parametrize("args, message", [
    (["wf", "novalue"], "expected KEY=VALUE, got 'novalue'"),
    (["wf", "=value"], "expected KEY=VALUE, got '=value'"),
    (["wf", "--json", "[1]"], "--json must be a JSON object, not list"),
    (["wf", "--json", "{oops"], "--json is not valid JSON"),
])
def test_cli_save_usage_errors(cli, args, message, folder):
    done = cli("checkpoint", "save", *args)
    assert done.code == 2
    assert done.err.startswith(f"orchestrate checkpoint save: {message}")
    assert not folder.exists()


def test_cli_load_missing_checkpoint_and_key(cli):
    missing = cli("checkpoint", "load", "absent")
    assert (missing.code, missing.out) == (2, "")
    assert missing.err.startswith("orchestrate: no checkpoint named absent;")
    cli("checkpoint", "save", "wf", "a=1", "b=2")
    no_key = cli("checkpoint", "load", "wf", "c")
    assert (no_key.code, no_key.out) == (1, "")
    assert no_key.err == "orchestrate: checkpoint wf has no key 'c' (keys: a, b)\n"


def test_cli_corrupt_checkpoint_exits_2(cli, folder):
    folder.mkdir()
    (folder / "wf.json").write_text("{")
    done = cli("checkpoint", "load", "wf")
    assert done.code == 2
    assert done.err.startswith(f"orchestrate: {folder / 'wf.json'}: is not valid JSON")
    assert (folder / "wf.json").read_text() == "{"


def test_cli_list_text_and_json_contract(cli, folder):
    assert cli("checkpoint", "list").out == f"No checkpoints under {folder}.\n"
    cli("checkpoint", "save", "beta", "x=1")
    cli("checkpoint", "save", "alpha")
    text = cli("checkpoint", "list").out.splitlines()
    assert text[0].split() == ["NAME", "UPDATED", "KEYS"]
    assert text[1].split()[::2] == ["alpha", "-"]
    assert text[2].split()[::2] == ["beta", "x"]
    data = cli("checkpoint", "list", "--json").json()
    assert data["schema"] == "orchestrate/checkpoints@1"
    assert data["folder"] == str(folder)
    assert [sorted(item) for item in data["checkpoints"]] == \
        [["keys", "name", "path", "updated_at"]] * 2
    assert [(item["name"], item["keys"]) for item in data["checkpoints"]] == \
        [("alpha", []), ("beta", ["x"])]


def test_cli_delete(cli, folder):
    cli("checkpoint", "save", "wf", "a=1")
    done = cli("checkpoint", "delete", "wf")
    assert (done.code, done.out) == (0, f"deleted {folder / 'wf.json'}\n")
    again = cli("checkpoint", "delete", "wf")
    assert again.code == 2
    assert "no checkpoint named wf" in again.err


@pytest.mark.parametrize("command", [[], ["save"], ["load"], ["list"], ["delete"]])
def test_every_checkpoint_command_has_help(cli, command):
    done = cli("checkpoint", *command, "--help")
    assert done.code == 0
    assert done.out.startswith(f"usage: orchestrate checkpoint {' '.join(command)}".rstrip())


def test_deeply_nested_values_are_refused(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATE_STATE_DIR", str(tmp_path))
    result = cli("checkpoint", "save", "deep", "a=" + "[" * 900 + "]" * 900)
    assert result.code == 2
    assert "nest at most 32 levels" in result.err


@pytest.mark.parametrize("content", [
    b'{"schema": "orchestrate/checkpoint@1", "data": {"a": ' + b"[" * 100_000 + b"]" * 100_000
    + b"}}",
    b"[" * 100_000,
])
def test_a_checkpoint_file_nested_too_deeply_is_corrupt_not_a_crash(cli, content, folder):
    folder.mkdir()
    path = folder / "wf.json"
    path.write_bytes(content)
    with pytest.raises(CheckpointCorrupt, match=re.escape(f"{path}: nests more than 64 levels")):
        load_checkpoint("wf")
    result = cli("checkpoint", "load", "wf")
    assert result.code == 2 and "Traceback" not in result.err
    assert "nests more than 64 levels deep" in result.err
    listed = cli("checkpoint", "list")
    assert listed.code == 0 and f"skipped {path}: nests more than 64 levels" in listed.err
    assert path.read_bytes() == content


def test_deeply_nested_arguments_are_refused_not_a_crash(cli):
    deep = "[" * 60_000 + "]" * 60_000
    for args in (["a=" + deep], ["--json", '{"a": ' + deep + "}"]):
        result = cli("checkpoint", "save", "deep", *args)
        assert result.code == 2 and "nest at most 32 levels" in result.err
