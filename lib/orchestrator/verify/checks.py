"""Checks of a step's evidence: added dependencies and check commands (files: contract.py).

In-process checks return CheckResults; command checks are returned as (name, command) for
the execution to run like any other step process.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.plan.model import Phase

__all__ = ["CheckResult", "Command", "dependency_checks", "check_commands",
           "run_commands",
           "parse_dependency_entry", "DEFAULT_MANIFESTS"]

DEFAULT_MANIFESTS = ("Cargo.toml", "package.json", "pyproject.toml", "requirements.txt",
                     "go.mod", "Gemfile", "composer.json", "pom.xml", "build.gradle")


@dataclass(slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str = ""
    command: str | None = None  # the script, for a command check
    error: str | None = None  # a failed command: the message naming its failing line
    tail: list[str] = field(default_factory=list)  # a failed command's last output lines

    def to_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def _resolve(root: Path, name: str) -> Path:
    """A path named by the plan: relative ones are under the project root."""
    return root / Path(name).expanduser()


_ENTRY = re.compile(r"^(?P<packages>.+?)(?:\s+(?:in|to|into)\s+(?P<manifest>\S+))?\s*$")


def parse_dependency_entry(entry: str) -> tuple[list[str], str | None]:
    """``"oxc, oxc_ast in lib/Cargo.toml"`` -> (["oxc", "oxc_ast"], "lib/Cargo.toml")."""
    found = _ENTRY.match(entry.strip().strip("`"))
    if not found:
        return [], None
    packages = [p.strip("`'\" ") for p in re.split(r",|\band\b", found.group("packages"))]
    packages = [p.split()[0] for p in packages if p]
    return packages, found.group("manifest")


def _mentions(text: str, package: str) -> bool:
    pattern = r"(?<![A-Za-z0-9_.\-])" + re.escape(package) + r"(?![A-Za-z0-9_\-])"
    return re.search(pattern, text) is not None


def dependency_checks(phase: Phase, root: Path) -> list[CheckResult]:
    """Each dependency the phase adds appears in its manifest (or a usual one)."""
    results = []
    for entry in phase.dependencies_to_add:
        packages, manifest = parse_dependency_entry(entry)
        names = [manifest] if manifest else list(DEFAULT_MANIFESTS)
        texts = []
        for name in names:
            path = _resolve(root, name)
            if path.is_file():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
        for package in packages:
            label = f"dependency {package}" + (f" in {manifest}" if manifest else "")
            if not texts:
                where = manifest or "any usual manifest"
                results.append(CheckResult(label, False, f"{where} not found"))
            elif any(_mentions(text, package) for text in texts):
                results.append(CheckResult(label, True))
            else:
                results.append(CheckResult(label, False, "not in the manifest"))
    return results


@dataclass(frozen=True, slots=True)
class Command:
    """A script the engine runs for a step, and where in the plan it came from."""

    field: str  # "run", "verify" or "blast_radius"
    script: str  # run as one bash script (set -e, pipefail, stdin closed)
    line: int | None  # plan line of the script's first line (None: from the config)

    @property
    def label(self) -> str:
        """How the step log and error messages name it."""
        first = next((text.strip() for text in self.script.splitlines() if text.strip()), "")
        where = f" (plan line {self.line})" if self.line else ""
        if self.field == "blast_radius":
            return f"blast radius: {first}"
        return f"{self.field}{where}: {first}"

    def to_dict(self) -> dict:
        return {"field": self.field, "line": self.line, "script": self.script}


def run_commands(phase: Phase) -> list[Command]:
    """The phase's Run blocks, in plan order."""
    return [Command("run", script.text, script.line) for script in phase.scripts
            if script.field == "run"]


def check_commands(phase: Phase, blast_radius_command: str | None) -> list[Command]:
    """The commands that must exit 0: Verify/Checkpoint blocks, then the blast-radius tests."""
    commands = [Command("verify", script.text, script.line) for script in phase.scripts
                if script.field == "verify"]
    if phase.blast_radius and blast_radius_command:
        command = blast_radius_command.replace("{pattern}", shlex.quote(phase.blast_radius))
        commands.append(Command("blast_radius", command, None))
    return commands
