"""Run settings: defaults, overridden by the project's config file, overridden by flags."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import OrchestrateError

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
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a JSON object of settings")
    known = {f.name: f for f in fields(Config)}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown setting {key!r} "
                              f"(known: {', '.join(sorted(known))})")
        expected = int if key != "blast_radius_command" else str
        if not isinstance(value, expected) or isinstance(value, bool) or (
            expected is int and value < 1
        ):
            kind = "a positive integer" if expected is int else "a string"
            raise ConfigError(f"{path}: setting {key!r} must be {kind}")
    return Config(**data)
