"""The quality gate's checks: the config's ``quality_gate`` commands, else those of pytest,
mypy and ruff that the project is set up for."""

from __future__ import annotations

from pathlib import Path

__all__ = ["gate_commands"]


def _mentions(path: Path, *words: str) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:256 * 1024]
    except OSError:
        return False
    return any(word in text for word in words)


def gate_commands(root: Path, config) -> list[str]:
    """The commands the gate runs, in order; each must exit 0."""
    if config.quality_gate is not None:
        return list(config.quality_gate)
    from orchestrator.config import _uses_pytest

    found = []
    if _uses_pytest(root):
        found.append("pytest -q")
    if (root / "mypy.ini").is_file() or (root / ".mypy.ini").is_file() \
            or _mentions(root / "pyproject.toml", "[tool.mypy]") \
            or _mentions(root / "setup.cfg", "[mypy]"):
        found.append("mypy .")
    if (root / "ruff.toml").is_file() or (root / ".ruff.toml").is_file() \
            or _mentions(root / "pyproject.toml", "[tool.ruff"):
        found.append("ruff check .")
    return found
