"""Run settings: defaults, overridden by the project's config file, overridden by flags."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from orchestrator.errors import OrchestrateError
from orchestrator.jsonio import JSONTooDeep, loads_bounded

__all__ = ["Config", "ConfigError", "load_config", "config_path"]


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

    def model_for(self, owner: str | None, definition_model: str | None) -> str | None:
        """Per-owner model from config, else the config's model, else the definition's."""
        if owner and self.models and isinstance(self.models.get(owner), str):
            return self.models[owner]
        return self.model or definition_model

    def with_overrides(self, **values) -> Config:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def config_path(project_root: Path) -> Path:
    """``$ORCHESTRATE_CONFIG``, else ``.claude/orchestrate/config.json`` in the project."""
    override = os.environ.get("ORCHESTRATE_CONFIG")
    return Path(override) if override else project_root / ".claude" / "orchestrate" / "config.json"


def load_config(project_root: Path) -> Config:
    path = config_path(project_root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from None
    try:
        data = loads_bounded(text, str(path))
    except JSONTooDeep as exc:
        raise ConfigError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a JSON object of settings")
    known = {f.name for f in fields(Config)}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown setting {key!r} "
                              f"(known: {', '.join(sorted(known))})")
        kind = _KINDS[key]
        if not _fits(kind, value):
            raise ConfigError(f"{path}: setting {key!r} must be {_KIND_WORDS[kind]}")
    template = data.get("blast_radius_command")
    if template is not None and _quoted_placeholder(template):
        raise ConfigError(
            f"{path}: setting 'blast_radius_command' puts {PATTERN} inside quotes or after a "
            f"backslash ({template!r}); write it bare, e.g. \"pytest {PATTERN}\": the scope "
            f"is shell-quoted when it is filled in, and quoting it again would run plan text "
            f"as shell code")
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
          "backoff_cap_s": "amount", "backoff_budget_s": "amount"}
_KIND_WORDS = {"count": "a positive integer", "text": "a string",
               "amount": "a finite number >= 0",
               "mapping": "an object of strings", "list": "a list of strings"}


def _fits(kind: str, value) -> bool:
    if value is None:
        return kind in ("text", "amount", "mapping", "list")
    if isinstance(value, bool):
        return False
    if kind == "count":
        return isinstance(value, int) and value >= 1
    if kind == "amount":
        return isinstance(value, int | float) and math.isfinite(value) and value >= 0
    if kind == "text":
        return isinstance(value, str)
    if kind == "mapping":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
