"""Agent backends behind one small interface: the argv to run and how to read its output.

The default runs Claude Code headless (`claude -p --output-format json`, prompt on stdin);
a command template runs any other agent CLI. The process itself is run by the runner.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

from orchestrator.config import ConfigError

__all__ = ["AgentRequest", "AgentReply", "ClaudeBackend", "TemplateBackend", "make_backend"]


@dataclass(slots=True)
class AgentRequest:
    prompt_file: str  # the rendered prompt; also given on stdin
    agent_name: str
    system_prompt: str | None = None  # the agent definition's body
    model: str | None = None
    max_budget_usd: float | None = None
    allowed_tools: list[str] = field(default_factory=list)
    permission_mode: str | None = None
    extra_args: list[str] = field(default_factory=list)
    agent_source: str = "bundle"  # where the definition came from: bundle, user or project
    json_schema: dict | None = None  # the shape of the structured reply (a reviewer's verdict)


@dataclass(slots=True)
class AgentReply:
    """What the agent process reported, read from its final JSON object when it has one."""

    exit_code: int
    is_error: bool
    subtype: str | None = None
    result: str = ""
    cost_usd: float = 0.0
    usage: dict | None = None
    session_id: str | None = None
    api_error_status: int | None = None
    num_turns: int | None = None
    parsed: bool = False  # False when no result object was found in the output
    structured: dict | None = None  # the reply `--json-schema` asked for, when one came

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.is_error


def _result_object(output: str) -> dict | None:
    """The last line of ``output`` that is a JSON object of type "result"."""
    for line in reversed(output.splitlines()):
        line = line.strip()
        if not (line.startswith("{") and line.endswith("}")):
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict) and (data.get("type") == "result" or "is_error" in data):
            return data
    return None


def _number(value, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else default


def read_reply(output: str, exit_code: int) -> AgentReply:
    """Read a Claude Code style final object; ``is_error`` first, then the rest."""
    data = _result_object(output)
    if data is None:
        tail = "\n".join(line for line in output.splitlines()[-5:] if line.strip())
        return AgentReply(exit_code, True, None, tail or f"agent exited with status "
                          f"{exit_code} and printed no result", parsed=False)
    status = data.get("api_error_status")
    return AgentReply(
        exit_code=exit_code,
        is_error=bool(data.get("is_error")) or exit_code != 0,
        subtype=data.get("subtype") if isinstance(data.get("subtype"), str) else None,
        result=str(data.get("result") or ""),
        cost_usd=_number(data.get("total_cost_usd")),
        usage=data.get("usage") if isinstance(data.get("usage"), dict) else None,
        session_id=data.get("session_id") if isinstance(data.get("session_id"), str) else None,
        api_error_status=int(status) if isinstance(status, int) else None,
        num_turns=data.get("num_turns") if isinstance(data.get("num_turns"), int) else None,
        parsed=True,
        structured=data["structured_output"]
        if isinstance(data.get("structured_output"), dict) else None,
    )


class ClaudeBackend:
    """`claude -p` with the prompt on stdin and one JSON object on stdout."""

    name = "claude"

    def __init__(self, executable: str = "claude"):
        self.executable = executable

    def argv(self, request: AgentRequest) -> list[str]:
        argv = [self.executable, "-p", "--output-format", "json"]
        if request.system_prompt:
            argv += ["--append-system-prompt", request.system_prompt]
        if request.model:
            argv += ["--model", request.model]
        if request.max_budget_usd is not None:
            argv += ["--max-budget-usd", f"{max(request.max_budget_usd, 0.0):.4f}"]
        if request.allowed_tools:
            argv += ["--allowedTools", ",".join(request.allowed_tools)]
        if request.permission_mode:
            argv += ["--permission-mode", request.permission_mode]
        if request.json_schema is not None:
            argv += ["--json-schema", json.dumps(request.json_schema, separators=(",", ":"))]
        return argv + list(request.extra_args)

    def read(self, output: str, exit_code: int) -> AgentReply:
        return read_reply(output, exit_code)


class TemplateBackend:
    """Any agent CLI, from a template such as ``codex exec --json {prompt_file}``.

    Placeholders: ``{prompt_file}``, ``{agent}``, ``{model}``, ``{budget}``; each is passed
    as one argument, never through a shell. The prompt is also on stdin. A Claude-style
    result object in the output is read; otherwise exit status 0 means success.
    """

    name = "template"

    def __init__(self, template: str):
        try:
            self.words = shlex.split(template)
        except ValueError as exc:
            raise ConfigError(f"agent command template {template!r}: {exc}") from None
        if not self.words:
            raise ConfigError("the agent command template is empty")

    def argv(self, request: AgentRequest) -> list[str]:
        values = {"prompt_file": request.prompt_file, "agent": request.agent_name,
                  "model": request.model or "",
                  "budget": "" if request.max_budget_usd is None
                  else f"{request.max_budget_usd:.4f}"}
        argv = []
        for word in self.words:
            for key, value in values.items():
                word = word.replace("{" + key + "}", value)
            argv.append(word)
        return argv

    def read(self, output: str, exit_code: int) -> AgentReply:
        reply = read_reply(output, exit_code)
        if reply.parsed:
            return reply
        lines = [line for line in output.splitlines() if line.strip()]
        return AgentReply(exit_code, exit_code != 0, None, "\n".join(lines[-5:]), parsed=False)


def make_backend(agent_cmd: str | None, claude: str = "claude"):
    return TemplateBackend(agent_cmd) if agent_cmd else ClaudeBackend(claude)
