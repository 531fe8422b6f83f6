"""Run settings from the project's config file: what is accepted, and what is refused how."""

from __future__ import annotations

import json
import textwrap

import orchestrator.config as config_module
import pytest
from orchestrator.config import (
    MAX_YAML_BYTES,
    Config,
    ConfigError,
    config_path,
    detect_test_command,
    load_config,
    read_config,
    yaml_config_path,
)

from tests.run_helpers import shell_phase, write


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRATE_CONFIG", raising=False)
    monkeypatch.delenv("ORCHESTRATE_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _config(project, text: str):
    path = config_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_is_the_defaults(project):
    assert load_config(project) == Config()


@pytest.mark.parametrize("template", [
    "pytest {pattern}", "cargo test -- {pattern}", "npx jest --testPathPattern={pattern}",
    "pytest {pattern} -k 'not slow'", 'echo "it\'s" && pytest {pattern}',
    "pytest 'a\\' {pattern}",
])
def test_a_bare_pattern_is_accepted(project, template):
    _config(project, json.dumps({"blast_radius_command": template}))
    assert load_config(project).blast_radius_command == template


@pytest.mark.parametrize("template", [
    "pytest '{pattern}'", 'pytest "{pattern}"', "sh -c 'pytest {pattern}'",
    'bash -c "cargo test {pattern}"', "pytest \\{pattern}", "pytest $'{pattern}'",
    "pytest {pattern} '{pattern}'",
])
def test_a_quoted_pattern_is_refused_naming_the_file(project, template):
    path = _config(project, json.dumps({"blast_radius_command": template}))
    with pytest.raises(ConfigError) as caught:
        load_config(project)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert message.startswith(f"{path}: setting 'blast_radius_command' puts {{pattern}} "
                              "inside quotes")
    assert repr(template) in message


def test_a_run_with_a_quoted_pattern_stops_before_any_step(cli, project):
    _config(project, json.dumps({"blast_radius_command": 'pytest "{pattern}"'}))
    write(project / "p.md", shell_phase("1", "touch ran"))
    result = cli("run", "p.md")
    assert result.code == 2
    assert "config.json: setting 'blast_radius_command' puts {pattern} inside quotes" \
        in result.err
    assert not (project / "ran").exists()


@pytest.mark.parametrize("nesting", ['{"models": ' * 100_000, "[" * 100_000 + "]" * 100_000,
                                     '{"models": {"a": ' + "[" * 70 + "]" * 70 + "}}"])
def test_deeply_nested_json_is_a_config_error(project, nesting):
    path = _config(project, nesting)
    with pytest.raises(ConfigError, match=rf"^{path}: JSON nested more than 64 levels deep$"):
        load_config(project)


@pytest.mark.parametrize("text", ['{"max_cost_usd": Infinity}', '{"backoff_cap_s": NaN}',
                                  '{"backoff_base_s": -Infinity}', '{"max_cost_usd": 1e999}'])
def test_amounts_must_be_finite(project, text):
    _config(project, text)
    with pytest.raises(ConfigError, match="must be a finite number >= 0"):
        load_config(project)


# --- .claude/orchestrate.yaml -------------------------------------------------------------

def _yaml(project, text: str):
    path = yaml_config_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def fresh_notes(monkeypatch):
    """Each test sees the once-per-process warnings afresh."""
    monkeypatch.setattr(config_module, "_NOTED", set())


def test_every_setting_is_read_from_yaml(project):
    _yaml(project, """
        # comments are fine
        jobs: 2
        default_timeout_s: 600
        command_attempts: 2
        agent_attempts: 5
        blast_radius_command: pytest {pattern}
        max_cost_usd: 2.5
        agent_cmd: null
        claude_command: /opt/claude
        model: sonnet
        models:
          rust-developer: opus
        permission_mode: acceptEdits
        allowed_tools: [Read, Edit]
        backoff_base_s: 1
        backoff_cap_s: 30.0
        backoff_budget_s: 120
        test_command: pytest -q
        lint_command: ruff check .
        """)
    assert load_config(project) == Config(
        jobs=2, default_timeout_s=600, command_attempts=2, agent_attempts=5,
        blast_radius_command="pytest {pattern}", max_cost_usd=2.5, claude_command="/opt/claude",
        model="sonnet", models={"rust-developer": "opus"}, allowed_tools=["Read", "Edit"],
        backoff_base_s=1, backoff_cap_s=30.0, backoff_budget_s=120, test_command="pytest -q",
        lint_command="ruff check .")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_an_empty_yaml_file_is_the_defaults(project, text):
    _yaml(project, text)
    assert load_config(project) == Config()


@pytest.mark.parametrize(("text", "line", "message"), [
    ("jobs: 0", 1, "setting 'jobs' must be a positive integer"),
    ("model: opus\n\njobs: yes", 3, "setting 'jobs' must be a positive integer"),
    ("test_command: 3", 1, "setting 'test_command' must be a string"),
    ("lint_command: [ruff]", 1, "setting 'lint_command' must be a string"),
    ("model: 2026-01-01", 1, "setting 'model' must be a string"),
    ("models:\n  a: 1", 1, "setting 'models' must be an object of strings"),
    ("allowed_tools: Read", 1, "setting 'allowed_tools' must be a list of strings"),
    ("max_cost_usd: .inf", 1, "setting 'max_cost_usd' must be a finite number >= 0"),
    ("jobs: 2\njbos: 3", 2, "unknown setting 'jbos' (known: agent_attempts, "),
    ("jobs: 1\njobs: 2", 2, "setting 'jobs' is given twice (first on line 1)"),
    ("on: true", 1, "a setting's name must be a plain string, got 'on'"),
    ("? [a]\n: 1", 1, "a setting's name must be a plain string"),
    ("- jobs: 2", 1, "expected a mapping of settings"),
    ("jobs: 2\nmodels: [a,\n", 3, "not valid YAML: "),
    ("jobs: 2\n  bad indent: 3", 2, "not valid YAML: "),
    ("blast_radius_command: pytest '{pattern}'", 1,
     "setting 'blast_radius_command' puts {pattern} inside quotes"),
])
def test_a_bad_yaml_setting_names_the_file_and_line(project, text, line, message):
    path = _yaml(project, text)
    with pytest.raises(ConfigError) as caught:
        load_config(project)
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(f"{path}:{line}: {message}")


@pytest.mark.parametrize("text", ["models: " + "[" * 5000 + "]" * 5000,
                                  "allowed_tools: " + "[" * 5000])
def test_deeply_nested_yaml_is_a_config_error(project, text):
    path = _yaml(project, text)
    with pytest.raises(ConfigError, match=rf"^{path}(:\d+)?: .*(nested too deeply|not valid)"):
        load_config(project)


def test_yaml_aliases_are_not_expanded(project):
    """A "billion laughs" of aliases: 4^30 strings if expanded; refused at once."""
    lines = ["allowed_tools:", "  - &a0 [x, x, x, x]"]
    lines += [f"  - &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}]" for n in range(1, 30)]
    _yaml(project, "\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=":1: setting 'allowed_tools' must be a list of str"):
        load_config(project)


def test_a_huge_or_binary_yaml_file_is_refused(project):
    path = yaml_config_path(project)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"# " + b"x" * (MAX_YAML_BYTES + 1))
    with pytest.raises(ConfigError, match=rf"^{path}: larger than 1024 KiB"):
        load_config(project)
    path.write_bytes(b"jobs: \xff\n")
    with pytest.raises(ConfigError, match=rf"^{path}: not UTF-8 text"):
        load_config(project)


def test_config_json_is_still_read_with_a_note(project, fresh_notes, capsys):
    json_path = _config(project, json.dumps({"jobs": 3}))
    config, notes = read_config(project)
    assert config.jobs == 3
    assert notes == [f"{json_path} is deprecated: move these settings to "
                     f"{yaml_config_path(project)}"]
    load_config(project)
    load_config(project)
    assert capsys.readouterr().err == f"orchestrate: warning: {notes[0]}\n"  # once


def test_when_both_exist_the_yaml_file_wins(project, fresh_notes):
    json_path = _config(project, json.dumps({"jobs": 3, "model": "haiku"}))
    _yaml(project, "jobs: 7\n")
    config, notes = read_config(project)
    assert (config.jobs, config.model) == (7, None)  # nothing is merged from the JSON file
    assert notes == [f"{json_path} is ignored: {yaml_config_path(project)} takes precedence; "
                     f"move any settings still in it there and delete it"]
    json_path.write_text("{broken")  # not even read
    assert load_config(project).jobs == 7


def test_orchestrate_config_names_a_yaml_or_a_json_file(project, monkeypatch, fresh_notes):
    chosen = project / "elsewhere.yml"
    chosen.write_text("jobs: 9\n")
    _yaml(project, "jobs: 1\n")
    monkeypatch.setenv("ORCHESTRATE_CONFIG", str(chosen))
    assert read_config(project) == (Config(jobs=9), [])
    chosen = project / "elsewhere.json"
    chosen.write_text('{"jobs": 8}')
    monkeypatch.setenv("ORCHESTRATE_CONFIG", str(chosen))
    assert read_config(project) == (Config(jobs=8), [])
    monkeypatch.setenv("ORCHESTRATE_CONFIG", str(project / "missing.yaml"))
    assert read_config(project) == (Config(), [])


def test_a_run_with_a_bad_yaml_setting_exits_2_naming_the_line(cli, project):
    _yaml(project, "jobs: 2\nmax_cost_usd: lots\n")
    write(project / "p.md", shell_phase("1", "touch ran"))
    result = cli("run", "p.md")
    assert result.code == 2
    assert "orchestrate.yaml:2: setting 'max_cost_usd' must be a finite number >= 0" \
        in result.err
    assert not (project / "ran").exists()


# --- detect_test_command ------------------------------------------------------------------

@pytest.mark.parametrize(("files", "command"), [
    ({}, None),
    ({"pytest.ini": "[pytest]\n"}, "pytest"),
    ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, "pytest"),
    ({"pyproject.toml": "[project]\nname = 'x'\n"}, None),
    ({"setup.cfg": "[tool:pytest]\n"}, "pytest"),
    ({"tests/unit/test_a.py": ""}, "pytest"),
    ({"tests/a_test.py": ""}, "pytest"),
    ({"tests/README.md": ""}, None),
    ({"package.json": '{"scripts": {"test": "jest"}}'}, "npm test"),
    ({"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'},
     None),
    ({"package.json": '{"scripts": {"build": "tsc"}}'}, None),
    ({"package.json": "{not json"}, None),
    ({"Cargo.toml": "[package]\n"}, "cargo test"),
    ({"go.mod": "module x\n"}, "go test ./..."),
    ({"Makefile": "all:\n\techo\n\ntest: all\n\t./run\n"}, "make test"),
    ({"Makefile": "unit test: x\n"}, "make test"),
    ({"makefile": "test::\n"}, "make test"),
    ({"Makefile": "test := yes\ntests:\n.PHONY: test\n"}, None),
    ({"Cargo.toml": "", "package.json": '{"scripts": {"test": "vitest"}}',
      "pytest.ini": ""}, "pytest"),  # the first in the documented order
    ({"Cargo.toml": "", "go.mod": ""}, "cargo test"),
    ({".claude/orchestrate.yaml": "test_command: tox -e py\n", "Cargo.toml": ""}, "tox -e py"),
])
def test_detect_test_command(project, files, command):
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert detect_test_command(project) == command


def test_detect_test_command_takes_a_loaded_config(project):
    (project / "go.mod").write_text("module x\n")
    assert detect_test_command(project, Config(test_command="just test")) == "just test"
    assert detect_test_command(project, Config()) == "go test ./..."
