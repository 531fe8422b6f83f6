"""Run settings: defaults, overridden by the project's config file, overridden by flags.

The config file is ``.claude/orchestrate.yaml`` (read with PyYAML's safe loader; errors
name the file and line). The older ``.claude/orchestrate/config.json`` is still read when
there is no YAML file, with a note that it is deprecated; when both exist the YAML file
alone counts and the JSON file is named as ignored. ``$ORCHESTRATE_CONFIG`` names one file
instead of both: JSON when it ends in ``.json``, else YAML. Every key: docs/config.md.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path

from orchestrator.errors import OrchestrateError
from orchestrator.jsonio import JSONTooDeep, loads_bounded

__all__ = ["Config", "ConfigError", "load_config", "read_config", "config_path",
           "yaml_config_path", "detect_test_command", "CONFIG_ENV", "MAX_YAML_BYTES"]

CONFIG_ENV = "ORCHESTRATE_CONFIG"
MAX_YAML_BYTES = 1 << 20  # a settings file; anything larger is not one


class ConfigError(OrchestrateError):
    """The config file cannot be used."""


@dataclass(frozen=True, slots=True)
class Config:
    jobs: int = 4
    default_timeout_s: int = 1800  # a step's Timeout when the plan gives none
    command_attempts: int = 1  # shell steps are deterministic: no retries by default
    agent_attempts: int = 3
    blast_radius_command: str | None = None  # e.g. "cargo test {pattern}"
    max_cost_usd: float | None = None  # no agent step starts once the run has spent this
    agent_cmd: str | None = None  # a command template for another agent CLI
    claude_command: str = "claude"
    model: str | None = None  # --model for every agent step without a more specific one
    models: dict | None = None  # owner (agent name) -> model
    permission_mode: str | None = "acceptEdits"
    allowed_tools: list | None = None  # default: the agent definition's tools
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 60.0
    backoff_budget_s: float = 300.0
    test_command: str | None = None  # the project's tests; detected when not set
    lint_command: str | None = None  # the project's linter, e.g. "ruff check ."
    preflight_tests: bool = False  # /execute-plan runs the tests first without asking
    isolate: bool = False  # each step of a new run in a git worktree of its own
    routing: list | None = None  # tasks: [{role, risk, area, model, reason}], first match wins
    routing_default: str | None = None  # tasks: the model when no routing rule matches
    quality_gate: list | None = None  # tasks: the gate's commands (default: what the project has)

    def routing_rules(self) -> list:
        from orchestrator.engine.routing import Rule

        return [Rule(**rule) for rule in self.routing or []]

    def model_for(self, owner: str | None, definition_model: str | None) -> str | None:
        """Per-owner model from config, else the config's model, else the definition's."""
        if owner and self.models and isinstance(self.models.get(owner), str):
            return self.models[owner]
        return self.model or definition_model

    def with_overrides(self, **values) -> Config:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def config_path(project_root: Path) -> Path:
    """``$ORCHESTRATE_CONFIG``, else the legacy ``.claude/orchestrate/config.json``."""
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else project_root / ".claude" / "orchestrate" / "config.json"


def yaml_config_path(project_root: Path) -> Path:
    """``.claude/orchestrate.yaml`` in the project: the config file."""
    return Path(project_root) / ".claude" / "orchestrate.yaml"


def load_config(project_root: Path) -> Config:
    """The project's settings; notes about the files read (a deprecated config.json) are
    printed on stderr, once per process."""
    config, notes = read_config(project_root)
    for note in notes:
        if note not in _NOTED:
            _NOTED.add(note)
            print(f"orchestrate: warning: {note}", file=sys.stderr)
    return config


_NOTED: set[str] = set()


def read_config(project_root: Path) -> tuple[Config, list[str]]:
    """The project's settings and notes about where they came from (see the module's
    docstring for which file wins)."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        path = Path(override)
        config = _load_json(path) if path.suffix == ".json" else _load_yaml(path)
        return (Config() if config is None else config), []
    yaml_path = yaml_config_path(project_root)
    json_path = config_path(project_root)
    config = _load_yaml(yaml_path)
    if config is not None:
        notes = []
        if json_path.exists():
            notes.append(f"{json_path} is ignored: {yaml_path} takes precedence; move any "
                         f"settings still in it there and delete it")
        return config, notes
    config = _load_json(json_path)
    if config is None:
        return Config(), []
    return config, [f"{json_path} is deprecated: move these settings to {yaml_path}"]


def _read_text(path: Path, limit: int | None = None) -> str | None:
    from orchestrator.plan.source import NotRegularFile, read_regular_bytes

    try:
        limit = 8 * MAX_YAML_BYTES if limit is None else limit
        raw = read_regular_bytes(path, limit)
    except FileNotFoundError:
        return None
    except NotRegularFile as exc:
        raise ConfigError(f"{path}: {exc}: not a settings file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise ConfigError(f"{path}: larger than {limit // 1024} KiB: not a settings file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from None


def _load_json(path: Path) -> Config | None:
    """The settings in the JSON file ``path``, None when it is missing."""
    text = _read_text(path)
    if text is None:
        return None
    try:
        data = loads_bounded(text, str(path))
    except JSONTooDeep as exc:
        raise ConfigError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a JSON object of settings")
    return _settings(data, lambda key: str(path))


def yaml_node(loader, path, error: type[OrchestrateError]):
    """The one document ``loader`` holds, as a node (None when it is empty), or ``error``
    naming the file, and the line when YAML knows it."""
    import yaml

    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{where}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise error(f"{path}: YAML nested too deeply") from None


def _load_yaml(path: Path) -> Config | None:
    """The settings in the YAML file ``path``, None when it is missing."""
    text = _read_text(path, MAX_YAML_BYTES)
    if text is None:
        return None
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        document = yaml_node(loader, path, ConfigError)
        if document is None or document.tag == "tag:yaml.org,2002:null":  # empty
            return Config()
        if not isinstance(document, yaml.MappingNode):
            raise ConfigError(f"{path}:{document.start_mark.line + 1}: expected a mapping "
                              f"of settings (`name: value` lines)")
        data, lines = _yaml_settings(loader, document, path)
    finally:
        loader.dispose()
    return _settings(data, lambda key: f"{path}:{lines[key]}")


def _yaml_settings(loader, document, path: Path) -> tuple[dict, dict]:
    """The top-level settings of a YAML mapping node, and the line of each one's key."""
    import yaml

    data: dict = {}
    lines: dict = {}
    for key_node, value_node in document.value:
        line = key_node.start_mark.line + 1
        if not (isinstance(key_node, yaml.ScalarNode)
                and key_node.tag == "tag:yaml.org,2002:str"):
            raise ConfigError(f"{path}:{line}: a setting's name must be a plain string, "
                              f"got {str(key_node.value)[:40]!r}")
        key = key_node.value
        if key in data:
            raise ConfigError(f"{path}:{line}: setting {key!r} is given twice (first on "
                              f"line {lines[key]})")
        try:
            data[key] = loader.construct_object(value_node, deep=True)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}:{line}: setting {key!r}: {exc}") from None
        except RecursionError:
            raise ConfigError(f"{path}:{line}: setting {key!r} nested too deeply") from None
        lines[key] = line
    return data, lines


def _settings(data: dict, where) -> Config:
    """A Config from parsed settings; ``where(key)`` is the file (and line) for messages."""
    known = {f.name for f in fields(Config)}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{where(key)}: unknown setting {key!r} "
                              f"(known: {', '.join(sorted(known))})")
        kind = _KINDS[key]
        if not _fits(kind, value):
            raise ConfigError(f"{where(key)}: setting {key!r} must be {_KIND_WORDS[kind]}")
    template = data.get("blast_radius_command")
    if template is not None and _quoted_placeholder(template):
        raise ConfigError(
            f"{where('blast_radius_command')}: setting 'blast_radius_command' puts {PATTERN} "
            f"inside quotes or after a backslash ({template!r}); write it bare, e.g. "
            f"\"pytest {PATTERN}\": the scope is shell-quoted when it is filled in, and "
            f"quoting it again would run plan text as shell code")
    return Config(**data)


PATTERN = "{pattern}"


def _quoted_placeholder(template: str) -> bool:
    """Whether a ``{pattern}`` in the shell command ``template`` sits inside single or double
    quotes, or right after a backslash, where the quoting of the filled-in value breaks."""
    quote, index = "", 0
    while index < len(template):
        if template.startswith(PATTERN, index) and quote:
            return True
        char = template[index]
        if char == "\\" and quote != "'":
            if template.startswith(PATTERN, index + 1):
                return True
            index += 2
            continue
        if char in "'\"" and quote in ("", char):
            quote = "" if quote else char
        index += 1
    return False


_KINDS = {"jobs": "count", "default_timeout_s": "count", "command_attempts": "count",
          "agent_attempts": "count", "blast_radius_command": "text", "max_cost_usd": "amount",
          "agent_cmd": "text", "claude_command": "text", "model": "text", "models": "mapping",
          "permission_mode": "text", "allowed_tools": "list", "backoff_base_s": "amount",
          "backoff_cap_s": "amount", "backoff_budget_s": "amount", "test_command": "text",
          "lint_command": "text", "preflight_tests": "flag", "isolate": "flag", "routing": "rules",
          "routing_default": "text", "quality_gate": "list"}
_KIND_WORDS = {"count": "a positive integer", "text": "a string",
               "amount": "a finite number >= 0",
               "mapping": "an object of strings", "list": "a list of strings",
               "flag": "true or false",
               "rules": "a list of rules, each a mapping of role, risk, area, model and "
                        "reason (strings) with a model"}


def _fits(kind: str, value) -> bool:
    if value is None:
        return kind in ("text", "amount", "mapping", "list")
    if kind == "flag" or isinstance(value, bool):
        return kind == "flag" and isinstance(value, bool)
    if kind == "count":
        return isinstance(value, int) and value >= 1
    if kind == "amount":
        return isinstance(value, int | float) and math.isfinite(value) and value >= 0
    if kind == "text":
        return isinstance(value, str)
    if kind == "mapping":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if kind == "rules":
        from orchestrator.engine.routing import RULE_KEYS

        return isinstance(value, list) and all(
            isinstance(rule, dict) and isinstance(rule.get("model"), str)
            and all(key in RULE_KEYS and isinstance(v, str) for key, v in rule.items())
            for rule in value)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_PROBE_BYTES = 256 * 1024  # what is read of a project file to guess its test command
_MAKE_TEST = re.compile(r"^(?:[^\s:#=]+[ \t]+)*test(?:[ \t]+[^\s:#=]+)*[ \t]*::?(?!=)",
                        re.MULTILINE)
_NPM_PLACEHOLDER = "no test specified"  # what `npm init` puts in scripts.test


def detect_test_command(project_root: Path, config: Config | None = None) -> str | None:
    """The command that runs the project's tests: the config's ``test_command``, else a
    guess from the files at the project's top level, the first of:

    - ``pytest``: a pytest.ini; a pyproject.toml, setup.cfg or tox.ini naming pytest; or
      a ``tests/`` folder holding ``test_*.py`` or ``*_test.py`` files
    - ``npm test``: a package.json with a ``scripts.test`` (not npm init's placeholder)
    - ``cargo test``: a Cargo.toml
    - ``go test ./...``: a go.mod
    - ``make test``: a Makefile (or makefile, GNUmakefile) with a ``test:`` target

    None when nothing fits. ``config`` saves reading the config again.
    """
    root = Path(project_root)
    config = load_config(root) if config is None else config
    if config.test_command:
        return config.test_command
    if _uses_pytest(root):
        return "pytest"
    if _has_npm_test(root):
        return "npm test"
    if (root / "Cargo.toml").is_file():
        return "cargo test"
    if (root / "go.mod").is_file():
        return "go test ./..."
    if any(_MAKE_TEST.search(_probe(root / name) or "")
           for name in ("GNUmakefile", "makefile", "Makefile")):
        return "make test"
    return None


def _probe(path: Path) -> str | None:
    """The start of a project file as text; None when it is missing or unreadable."""
    from orchestrator.plan.source import read_regular_bytes

    try:  # never blocks: a FIFO planted as package.json is no project file
        return read_regular_bytes(path, _PROBE_BYTES)[:_PROBE_BYTES].decode("utf-8", "replace")
    except OSError:
        return None


def _uses_pytest(root: Path) -> bool:
    if (root / "pytest.ini").is_file():
        return True
    if any("pytest" in (_probe(root / name) or "")
           for name in ("pyproject.toml", "setup.cfg", "tox.ini")):
        return True
    tests = root / "tests"
    if not tests.is_dir():
        return False
    seen = 0
    for _, folders, files in os.walk(tests):
        if any(name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
               for name in files):
            return True
        seen += len(files) + len(folders)
        if seen > 5000:  # a huge tree without a test file near the top: give up
            return False
    return False


def _has_npm_test(root: Path) -> bool:
    text = _probe(root / "package.json")
    if text is None:
        return False
    try:
        package = loads_bounded(text, "package.json")
    except ValueError:  # invalid, truncated or too deep
        return False
    scripts = package.get("scripts") if isinstance(package, dict) else None
    test = scripts.get("test") if isinstance(scripts, dict) else None
    return isinstance(test, str) and bool(test.strip()) and _NPM_PLACEHOLDER not in test
