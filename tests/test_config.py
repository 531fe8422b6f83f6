"""Run settings from the project's config file: what is accepted, and what is refused how."""

from __future__ import annotations

import json

import pytest
from orchestrator.config import Config, ConfigError, config_path, load_config

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
