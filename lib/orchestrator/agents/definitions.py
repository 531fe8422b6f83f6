"""Finding the agent definition for a phase's owner, and reading agent files.

An agent file is Markdown with a frontmatter block between ``---`` lines (``name``,
``description``, ``tools``, ``model``) and the agent's prompt as its body, as Claude Code
reads it. Owners are looked up in ``<project>/.claude/agents/``, then ``~/.claude/agents/``,
then the definitions bundled with this package; an owner with no definition gets the bundled
general implementer, with a warning.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import OrchestrateError

__all__ = ["AgentDefinition", "AgentDefinitionError", "BUNDLE_DIR", "SOURCES", "find_agent",
           "load_agent", "parse_agent"]

BUNDLE_DIR = Path(__file__).resolve().parent / "definitions"
SOURCES = ("project", "user", "bundle")
FALLBACK = "implementer"
MAX_BYTES = 256 << 10  # an agent file is a page of prose; anything this big is not one
PEEK_BYTES = 8 << 10  # enough of a file to read its frontmatter name when scanning a folder

_OWNER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")  # one path component, no dot files
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]+(.*))?$")
_BLOCK = re.compile(r"[|>][+-]?$")
_COMMENT = re.compile(r"[ \t]+#.*$")


class AgentDefinitionError(OrchestrateError):
    """An agent file that cannot be read as one; names the file and line (0: the whole file)."""

    def __init__(self, path: Path | str, line: int, problem: str):
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {problem}")


@dataclass(slots=True)
class AgentDefinition:
    """One subagent: what Claude Code would load from its file."""

    name: str
    description: str
    tools: list[str] = field(default_factory=list)  # empty: the agent inherits every tool
    model: str | None = None
    prompt: str = ""  # the Markdown body after the frontmatter
    path: Path | None = None
    source: str = "bundle"  # one of SOURCES


def _unquote(value: str, path: Path, line: int) -> str:
    """A YAML scalar as text: quoted forms decoded, a plain one without its comment."""
    if value.startswith('"'):
        try:
            decoded = json.loads(value)
        except ValueError:
            raise AgentDefinitionError(path, line, f"bad double-quoted value {value[:60]}")\
                from None
        if not isinstance(decoded, str):
            raise AgentDefinitionError(path, line, f"bad double-quoted value {value[:60]}")
        return decoded
    if value.startswith("'"):
        if len(value) < 2 or not value.endswith("'"):
            raise AgentDefinitionError(path, line, f"unterminated quoted value {value[:60]}")
        return value[1:-1].replace("''", "'")
    return _COMMENT.sub("", value).strip()


def _flow_list(value: str, path: Path, line: int) -> list[str]:
    """``[Read, "Write"]`` as a list of strings."""
    inner = value[1:-1].strip()
    if not inner:
        return []
    return [_unquote(item.strip(), path, line) for item in inner.split(",")]


def _frontmatter(lines: list[str], path: Path) -> tuple[dict, dict[str, int]]:
    """``key: value`` pairs (values are str or list[str]) and the line each key is on.

    ``lines`` are the frontmatter lines; the first is line 2 of the file.
    """
    values: dict = {}
    where: dict[str, int] = {}
    key = None  # the key the indented lines that follow belong to
    block: list[str] | None = None  # lines of a ``|`` or ``>`` value being read
    folded = False
    for number, raw in enumerate(lines, start=2):
        stripped = raw.strip()
        indented = raw[:1] in (" ", "\t")
        if block is not None:
            if indented or not stripped:
                block.append(stripped)
                continue
            values[key] = (" " if folded else "\n").join(block).strip()
            block = None
        if not stripped or stripped.startswith("#"):
            continue
        if stripped == "-" or stripped.startswith("- "):
            if key is None or not isinstance(values.get(key), list):
                raise AgentDefinitionError(path, number, "list item outside a list")
            values[key].append(_unquote(stripped[1:].strip(), path, number))
            continue
        if indented:  # a value on the lines after its key, or the rest of one
            current = values.get(key)
            if current == []:
                values[key] = _unquote(stripped, path, number)
            elif isinstance(current, str) and current:
                values[key] = f"{current} {_unquote(stripped, path, number)}"
            else:
                raise AgentDefinitionError(path, number, "unexpected indented line")
            continue
        match = _KEY.match(raw.rstrip())
        if not match:
            raise AgentDefinitionError(path, number, f"expected 'key: value', found "
                                                     f"{stripped[:60]!r}")
        key, value = match.group(1), (match.group(2) or "").strip()
        if key in values:
            raise AgentDefinitionError(path, number, f"{key!r} appears twice "
                                                     f"(first on line {where[key]})")
        where[key] = number
        if not value or value.startswith("#"):
            values[key] = []  # a list follows, or nothing does
        elif _BLOCK.match(value):
            block, folded = [], value.startswith(">")
            values[key] = ""
        elif value.startswith("[") and value.endswith("]"):
            values[key] = _flow_list(value, path, number)
        else:
            values[key] = _unquote(value, path, number)
    if block is not None:
        values[key] = (" " if folded else "\n").join(block).strip()
    return values, where


def _text_field(values: dict, where: dict, key: str, path: Path, required: bool) -> str | None:
    value = values.get(key)
    if value is None or value == []:
        if required:
            raise AgentDefinitionError(path, where.get(key, 1), f"missing {key!r} in the "
                                                               f"frontmatter")
        return None
    if not isinstance(value, str):
        raise AgentDefinitionError(path, where[key], f"{key!r} must be text, not a list")
    if required and not value.strip():
        raise AgentDefinitionError(path, where[key], f"{key!r} is empty")
    return value.strip() or None


def parse_agent(text: str, path: Path | str, source: str = "project") -> AgentDefinition:
    """An agent file's text as an AgentDefinition; AgentDefinitionError when malformed."""
    path = Path(path)
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise AgentDefinitionError(path, 1, "no frontmatter: the first line must be '---'")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise AgentDefinitionError(path, 1, "the frontmatter has no closing '---' line")
    values, where = _frontmatter(lines[1:end], path)
    name = _text_field(values, where, "name", path, required=True)
    description = _text_field(values, where, "description", path, required=True)
    model = _text_field(values, where, "model", path, required=False)
    tools = values.get("tools", [])
    if isinstance(tools, str):
        tools = tools.split(",")
    tools = [tool.strip() for tool in tools if tool.strip()]
    prompt = "\n".join(lines[end + 1:]).strip("\n")
    return AgentDefinition(name=name, description=description, tools=tools, model=model,
                           prompt=prompt + "\n" if prompt else "", path=path, source=source)


def load_agent(path: Path | str, source: str = "project") -> AgentDefinition:
    """Read and parse one agent file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise AgentDefinitionError(path, 0, f"cannot read the agent file: "
                                            f"{exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise AgentDefinitionError(path, 0, f"larger than {MAX_BYTES // 1024} KiB; not an "
                                            f"agent definition")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise AgentDefinitionError(path, line, "not UTF-8 text") from None
    return parse_agent(text, path, source)


def _declared_name(path: Path) -> str | None:
    """The ``name:`` in a file's frontmatter, read leniently; None when there is none."""
    try:
        with path.open("rb") as handle:
            head = handle.read(PEEK_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    lines = head.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for raw in lines[1:]:
        if raw.strip() == "---":
            break
        match = _KEY.match(raw.rstrip())
        if match and match.group(1) == "name" and match.group(2):
            try:
                return _unquote(match.group(2).strip(), path, 0)
            except AgentDefinitionError:
                return None
    return None


def _lookup(folder: Path, owner: str, source: str) -> AgentDefinition | None:
    """``<folder>/<owner>.md``, else a file in ``folder`` whose frontmatter names ``owner``."""
    exact = folder / f"{owner}.md"
    if exact.is_file():
        return load_agent(exact, source)
    try:
        candidates = sorted(folder.glob("*.md"))
    except OSError:
        return None
    for path in candidates:
        if path.is_file() and _declared_name(path) == owner:
            return load_agent(path, source)
    return None


def _folders(project_root: Path, home: Path | None) -> list[tuple[Path, str]]:
    """Where definitions are looked for, first match wins: the project's, the user's (as
    Claude Code finds it: ``$CLAUDE_CONFIG_DIR``, else ``~/.claude``), the bundle's."""
    folders = [(Path(project_root) / ".claude" / "agents", "project")]
    user = None
    if home is not None:
        user = Path(home) / ".claude"
    elif os.environ.get("CLAUDE_CONFIG_DIR"):
        user = Path(os.environ["CLAUDE_CONFIG_DIR"]).expanduser()
    else:
        try:
            user = Path.home() / ".claude"
        except RuntimeError:  # no HOME and no passwd entry: there is no user folder
            user = None
    if user is not None:
        folders.append((user / "agents", "user"))
    folders.append((BUNDLE_DIR, "bundle"))
    return folders


def find_agent(owner: str | None, project_root: Path, home: Path | None = None,
               fallback: str = FALLBACK) -> tuple[AgentDefinition, str | None]:
    """The definition for ``owner`` and a warning (or None).

    Looks in the project's ``.claude/agents/``, then the user's, then the bundle, by file
    name and then by frontmatter name. An owner that is not one plain path component, or that
    nothing defines, gets the bundled ``fallback`` (the general implementer) and a warning;
    no owner at all gets it silently. A malformed matching file raises AgentDefinitionError.
    """
    if owner is not None and _OWNER.fullmatch(owner):
        for folder, source in _folders(project_root, home):
            found = _lookup(folder, owner, source)
            if found is not None:
                return found, None
    default = load_agent(BUNDLE_DIR / f"{fallback}.md", "bundle")
    if owner is None:
        return default, None
    used = "the general implementer" if fallback == FALLBACK else f"the bundled {fallback}"
    return default, (f"unknown owner {owner!r}: no agent definition in .claude/agents/ or "
                     f"~/.claude/agents/; using {used}")
