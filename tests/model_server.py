"""A scripted model behind the Anthropic Messages API, on 127.0.0.1, for the real Claude Code.

The end-to-end tests run the real `claude` binary with ``ANTHROPIC_BASE_URL`` pointed here:
this module is the only mock, at the edge where Claude Code talks to the model. It has two
halves that know nothing of each other's insides:

- ``ModelServer`` speaks HTTP: ``POST /v1/messages`` (SSE streaming, or one JSON object),
  ``POST /v1/messages/count_tokens``, the ``/api/hello`` reachability probe Claude Code
  sends at start, and a quick JSON 404 for anything else so the client never waits. It
  records every request (``server.requests``) for assertions and for measuring what the
  driving model read.
- A policy (``ScriptedModel`` by default) turns one request into the next assistant turn.
  It is deterministic and stateless: the turn is decided from the request's messages alone,
  so a retried request gets the same answer. ``ScriptedModel`` sends subagent requests
  (``cc_is_subagent=true`` in the system prompt's billing line) to ``ObedientSubagent``,
  side requests (titles, summaries, quota checks) to a short text, and the rest to
  ``ObedientMain``, which follows the ``orchestrate wf`` protocol (docs/protocol.md).

Misbehaviours for tests are chosen per step in a ``Scenario``: a subagent that writes
nothing and claims success (``lazy``), a main model that ends its turn after its first
report (``quit_after_first_report``, until a Stop hook's feedback names the `wf next`
to go on with, which it then follows).
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

__all__ = ["Turn", "ModelRequest", "Recorded", "ModelServer", "Policy", "Scenario",
           "ScriptedModel", "ObedientMain", "DelegateMain", "ObedientSubagent",
           "orchestrate_answers", "parse_expects", "phase_of", "sse_events", "text_of"]

MODEL = "claude-scripted-1"
_SCHEMA_PREFIX = "orchestrate/"


# --- the wire --------------------------------------------------------------------------

@dataclass
class Turn:
    """One assistant message: content blocks (``text`` or ``tool_use``) and why it stops."""

    content: list[dict]
    stop_reason: str = "end_turn"

    @classmethod
    def text(cls, text: str) -> Turn:
        return cls([{"type": "text", "text": text}], "end_turn")

    @classmethod
    def tools(cls, *uses: dict) -> Turn:
        return cls(list(uses), "tool_use")


def text_of(content) -> str:
    """The text in a message's or tool result's content (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_result":
            parts.append(text_of(block.get("content")))
    return "\n".join(parts)


@dataclass
class ModelRequest:
    """One ``POST /v1/messages`` body, with what a policy needs to read it."""

    body: dict

    @property
    def messages(self) -> list[dict]:
        return [m for m in self.body.get("messages") or [] if isinstance(m, dict)]

    @property
    def system_text(self) -> str:
        return text_of(self.body.get("system"))

    @property
    def tools(self) -> dict[str, dict]:
        return {t.get("name"): t for t in self.body.get("tools") or [] if isinstance(t, dict)}

    @property
    def is_subagent(self) -> bool:
        billing = next((line for line in self.system_text.splitlines()
                        if "billing-header" in line), "")
        return "cc_is_subagent=true" in billing

    @property
    def is_side(self) -> bool:
        """A title, summary or quota request: the main session and subagents send tools."""
        return not self.tools

    @property
    def kind(self) -> str:
        if self.is_side:
            return "side"
        return "subagent" if self.is_subagent else "main"

    def tool_uses(self) -> list[tuple[int, dict]]:
        """Every tool_use block the assistant sent, with the index of its message."""
        return [(index, block) for index, message in enumerate(self.messages)
                if message.get("role") == "assistant"
                for block in _blocks(message) if block.get("type") == "tool_use"]

    def tool_results(self) -> dict[str, str]:
        """tool_use_id -> the result's text."""
        return {block.get("tool_use_id"): text_of(block.get("content"))
                for message in self.messages if message.get("role") == "user"
                for block in _blocks(message) if block.get("type") == "tool_result"}

    def tool_errors(self) -> set[str]:
        """The ids of the tool results marked ``is_error`` (a denied or failed call)."""
        return {block.get("tool_use_id")
                for message in self.messages if message.get("role") == "user"
                for block in _blocks(message)
                if block.get("type") == "tool_result" and block.get("is_error")}

    def first_user_text(self) -> str:
        """What the user said first, without Claude Code's system reminders."""
        for message in self.messages:
            if message.get("role") != "user":
                continue
            content = message.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) \
                else _blocks(message)
            texts = [str(b.get("text", "")) for b in blocks if b.get("type") == "text"
                     and not str(b.get("text", "")).lstrip().startswith("<system-reminder>")]
            return "\n".join(texts)
        return ""


def _blocks(message: dict) -> list[dict]:
    content = message.get("content")
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


class Policy(Protocol):
    def respond(self, request: ModelRequest) -> Turn: ...


@dataclass
class Recorded:
    """One HTTP request the server answered, and for model requests the turn it sent."""

    method: str
    path: str
    headers: dict
    body: object
    kind: str = "other"  # main | subagent | side | count_tokens | other
    reply: Turn | None = None

    @property
    def request(self) -> ModelRequest:
        return ModelRequest(self.body if isinstance(self.body, dict) else {})


class ModelServer:
    """The Messages API on 127.0.0.1 (port 0) in a thread; a context manager.

    ``requests`` lists every request answered, in order. ``url`` is the base URL for
    ``ANTHROPIC_BASE_URL``.
    """

    def __init__(self, policy: Policy | None = None):
        self.policy = policy or ScriptedModel()
        self.requests: list[Recorded] = []
        self.errors: list[str] = []  # policy exceptions, answered as HTTP 500
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "the server is not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ModelServer:
        handler = type("Handler", (_Handler,), {"model_server": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    # --- views for assertions ----------------------------------------------------------

    def model_requests(self, kind: str | None = None) -> list[Recorded]:
        with self._lock:
            found = [r for r in self.requests if r.kind in ("main", "subagent", "side")]
        return [r for r in found if kind is None or r.kind == kind]

    def tool_results(self, kind: str | None = "main") -> dict[str, str]:
        """Every tool result the model was sent (tool_use_id -> text), from all requests."""
        results: dict[str, str] = {}
        for recorded in self.model_requests(kind):
            results.update(recorded.request.tool_results())
        return results

    def tool_uses(self, kind: str | None = "main") -> list[dict]:
        """Every tool_use block this server sent, in order."""
        return [block for recorded in self.model_requests(kind)
                for block in (recorded.reply.content if recorded.reply else [])
                if block.get("type") == "tool_use"]

    def assistant_turns(self, kind: str | None = "main") -> list[Turn]:
        return [r.reply for r in self.model_requests(kind) if r.reply is not None]

    def read_chars(self, kind: str = "main") -> int:
        """How much tool output the model of ``kind`` read: characters of distinct results."""
        return sum(len(text) for text in self.tool_results(kind).values())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    model_server: ModelServer  # set on the subclass made per server

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_HEAD(self):
        self._record("HEAD", None)
        self._send_json({}, 200, head=True)

    def do_GET(self):
        self._record("GET", None)
        if self._route() == "/api/hello":
            self._send_json({}, 200)
        else:
            self._not_found()

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = raw.decode("utf-8", "replace")
        route = self._route()
        if route == "/v1/messages/count_tokens":
            self._record("POST", body, "count_tokens")
            size = len(raw) // 4 + 1
            return self._send_json({"input_tokens": size})
        if route != "/v1/messages" or not isinstance(body, dict):
            self._record("POST", body)
            return self._not_found()
        request = ModelRequest(body)
        entry = self._record("POST", body, request.kind)
        try:
            turn = self.model_server.policy.respond(request)
        except Exception as error:  # a broken policy must fail the test, not hang it
            self.model_server.errors.append(f"{type(error).__name__}: {error}")
            return self._send_json({"type": "error", "error": {
                "type": "api_error", "message": f"scripted model failed: {error}"}}, 500)
        entry.reply = turn
        message = _message(turn, request, len(raw))
        if body.get("stream"):
            self._stream(message)
        else:
            self._send_json(message)

    def _route(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def _record(self, method: str, body, kind: str = "other") -> Recorded:
        entry = Recorded(method, self.path, dict(self.headers), body, kind)
        self.model_server._record(entry)
        return entry

    def _not_found(self):
        self._send_json({"type": "error", "error": {
            "type": "not_found_error", "message": f"no such endpoint: {self._route()}"}}, 404)

    def _send_json(self, payload, status: int = 200, head: bool = False):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", "req_scripted")
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _stream(self, message: dict):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        for event, data in sse_events(message):
            self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()


def _message(turn: Turn, request: ModelRequest, request_bytes: int) -> dict:
    output = sum(len(json.dumps(block)) for block in turn.content) // 4 + 1
    return {"id": "msg_" + _digest(json.dumps(request.body.get("messages"))[-4000:],
                                   len(request.messages)),
            "type": "message", "role": "assistant",
            "model": request.body.get("model") or MODEL, "content": turn.content,
            "stop_reason": turn.stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": request_bytes // 4 + 1, "output_tokens": output,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}


def sse_events(message: dict):
    """The SSE events that stream ``message``, as (event name, data) pairs."""
    usage = message["usage"]
    start = dict(message, content=[], stop_reason=None,
                 usage=dict(usage, output_tokens=1))
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            opening = dict(block, input={})
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": opening}
            text = json.dumps(block["input"])
            for chunk in _chunks(text, 64):
                yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "input_json_delta",
                                                        "partial_json": chunk}}
        else:
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {"type": "text", "text": ""}}
            for chunk in _chunks(block.get("text", ""), 64):
                yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "text_delta", "text": chunk}}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": message["stop_reason"],
                                      "stop_sequence": None},
                            "usage": {"output_tokens": usage["output_tokens"]}}
    yield "message_stop", {"type": "message_stop"}


def _chunks(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def _tool_use(request: ModelRequest, index: int, name: str, tool_input: dict) -> dict:
    """A tool_use block with an id that is unique in the conversation and deterministic."""
    seed = _digest(len(request.messages), index, name, tool_input)
    return {"type": "tool_use", "id": f"toolu_{len(request.messages):03d}{index:02d}{seed}",
            "name": name, "input": tool_input}


def _bash(request: ModelRequest, index: int, command: str, description: str) -> dict:
    return _tool_use(request, index, "Bash", {"command": command,
                                              "description": description[:60]})


# --- reading the protocol out of a conversation ------------------------------------------

def orchestrate_answers(text: str) -> list[dict]:
    """Every JSON object in ``text`` whose ``schema`` starts with ``orchestrate/``, in order."""
    decoder = json.JSONDecoder()
    found, position = [], 0
    while True:
        start = text.find("{", position)
        if start < 0:
            return found
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            position = start + 1
            continue
        if isinstance(value, dict) and str(value.get("schema", "")).startswith(_SCHEMA_PREFIX):
            found.append(value)
            position = end
        else:
            position = start + 1


def _answers_in_order(request: ModelRequest) -> list[tuple[int, dict]]:
    """(message index, answer) for every orchestrate answer the model was shown."""
    found = []
    for index, message in enumerate(request.messages):
        if message.get("role") != "user":
            continue
        text = text_of(message.get("content"))
        found += [(index, answer) for answer in orchestrate_answers(text)]
    return found


_HOOK_NEXT = re.compile(r"hook feedback:.*?`(orchestrate wf next \S+ --json)`", re.S | re.I)


def _hook_nudge(request: ModelRequest) -> tuple[int, str] | None:
    """(message index, command) of the latest `wf next` a Stop hook's feedback named: the
    real binary sends it as a user message ("Stop hook feedback: ...")."""
    for index in range(len(request.messages) - 1, -1, -1):
        message = request.messages[index]
        if message.get("role") == "user":
            match = _HOOK_NEXT.search(text_of(message.get("content")))
            if match:
                return index, match.group(1)
    return None


_FENCED_BASH = re.compile(r"^```(?:bash|sh)\n(.*?)^```", re.M | re.S)
_PATH_BULLET = re.compile(r"^- (`+) ?(/[^`]+?) ?\1\s*$")
_SECTION = re.compile(r"`## ([^`]+)`")
_PHASE = re.compile(r"^## Phase (\S+):", re.M)
_ATTEMPT = re.compile(r"\(attempt (\d+) of \d+\)")


def parse_expects(prompt: str) -> list[dict]:
    """The files a rendered agent prompt asks for, with the ``## `` sections it names.

    Reads the "Files to create or change:" list (absolute paths in inline code) and the
    acceptance criteria's ``## Section`` mentions, which apply to every file listed.
    """
    paths, sections, listing = [], [], False
    for line in prompt.splitlines():
        if line.startswith("Files to create or change:"):
            listing = True
            continue
        match = _PATH_BULLET.match(line)
        if listing and match:
            paths.append(match.group(2))
            continue
        listing = False
        sections += [name.strip() for name in _SECTION.findall(line)
                     if name.strip() not in sections]
    return [{"path": path, "sections": list(sections)} for path in paths]


def phase_of(prompt: str) -> tuple[str | None, int]:
    """The phase id and attempt number a rendered agent prompt is for."""
    phase = _PHASE.search(prompt)
    attempt = _ATTEMPT.search(prompt)
    return (phase.group(1) if phase else None, int(attempt.group(1)) if attempt else 1)


# --- the policies -----------------------------------------------------------------------

@dataclass
class Scenario:
    """How the scripted model behaves, step by step.

    ``lazy``: step id -> the attempts (None: every attempt) whose subagent writes nothing
    and claims success. ``quit_after_first_report``: the main model ends its turn once it
    has seen its first ``wf report`` answer. ``answers``: ask id -> the option chosen
    (default: the first option). ``contents``: file name (as the prompt lists it, or its
    last part) -> the text the subagent writes instead of the default Markdown.
    ``subagent_pause_s``: how long each subagent turn takes, so that agents that run
    together visibly overlap.
    """

    lazy: dict[str, set[int] | None] = field(default_factory=dict)
    quit_after_first_report: bool = False
    answers: dict[str, str] = field(default_factory=dict)
    contents: dict[str, str] = field(default_factory=dict)
    subagent_pause_s: float = 0.0

    def is_lazy(self, step: str | None, attempt: int) -> bool:
        if step not in self.lazy:
            return False
        attempts = self.lazy[step]
        return attempts is None or attempt in attempts


class ObedientMain:
    """The session that drives the loop: it does what each orchestrate answer says."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario

    def respond(self, request: ModelRequest) -> Turn:
        answers = _answers_in_order(request)
        uses = request.tool_uses()
        results = request.tool_results()
        nudge = _hook_nudge(request)
        if self.scenario.quit_after_first_report and nudge is None and any(
                a.get("schema") == "orchestrate/wf-report@1" for _, a in answers):
            return Turn.text("I have reported the first step; stopping here for now.")
        if nudge is not None and (not answers or nudge[0] > answers[-1][0]):
            return Turn.tools(_bash(request, 0, nudge[1], "Go on as the Stop hook says"))
        latest_next = next(((i, a) for i, a in reversed(answers)
                            if a.get("schema") == "orchestrate/wf-next@1"), None)
        if latest_next is not None:
            turn = self._next_business(request, latest_next, uses, results)
            if turn is not None:
                return turn
        if answers:
            index, latest = answers[-1]
            if latest_next is None or index > latest_next[0]:
                return self._follow(request, latest)
            return Turn.text("The orchestrate loop gave nothing more to do.")
        return self._told(request, uses, results)

    def _told(self, request: ModelRequest, uses, results) -> Turn:
        """No orchestrate answer yet: run the command the user's first message gives, in a
        fenced bash block (as a slash command's body does) or else in backticks."""
        if uses:
            last = results.get(uses[-1][1].get("id"), "")
            return Turn.text(f"Done. The command printed:\n{last.strip()[:500]}")
        told = request.first_user_text()
        if _token_block(told) is not None:  # a slash command: the token comes first
            return Turn.tools(_bash(request, 0, "orchestrate wf token --json",
                                    "Get a fresh here-document token"))
        match = _FENCED_BASH.search(told) or re.search(r"`([^`\n]+)`", told)
        if match is None:
            return Turn.text("There is no command for me to run.")
        return Turn.tools(_bash(request, 0, match.group(1).strip(), "Run the requested command"))

    def _follow(self, request: ModelRequest, answer: dict) -> Turn:
        schema = answer.get("schema")
        block = _token_block(request.first_user_text())
        if schema == "orchestrate/wf-token@1" and block is not None:
            lines = block.splitlines()  # TOKEN replaced in the first and last lines only
            token = str(answer.get("token"))
            lines[0], lines[-1] = lines[0].replace("TOKEN", token), token
            return Turn.tools(_bash(request, 0, "\n".join(lines), "Start the run"))
        if schema == "orchestrate/error@1":
            return Turn.text(f"orchestrate failed: {answer.get('message')}")
        command = answer.get("next")
        if not command:
            if answer.get("message"):
                return Turn.text(f"Finished: {answer['message']}")
            return Turn.text(f"orchestrate answered {schema} with nothing to run next.")
        return Turn.tools(_bash(request, 0, command, "Ask orchestrate what is next"))

    def _next_business(self, request: ModelRequest, latest_next, uses, results) -> Turn | None:
        """What is left to do for the latest ``wf next`` answer, or None when nothing is."""
        index, answer = latest_next
        run = answer.get("run", "")
        actions = answer.get("actions") or []
        after = [block for i, block in uses if i > index]
        agents_sent = {b["input"].get("prompt"): b for b in after if b.get("name") == "Agent"}
        commands = [str(b["input"].get("command", "")) for b in after if b.get("name") == "Bash"]
        launch, reports = [], []
        for action in actions:
            kind, aid = action.get("type"), action.get("id", "")
            if kind == "done":
                then = action.get("then")  # a task's run: the file's next task follows
                if then and then not in commands:
                    return Turn.tools(_bash(request, 0, then, "Start the next task"))
                if then:
                    return None
                return Turn.text(f"Finished: {action.get('message')} (summary: "
                                 f"{action.get('summary')})")
            if kind == "wait":  # a person decides, from a shell: the session stops
                return Turn.text(f"Stopping here: {action.get('message')}")
            if kind == "ask":
                options = [o.get("id") for o in action.get("options") or []]
                choice = self.scenario.answers.get(aid, options[0] if options else "")
                command = _wf("answer", run, aid, choice)
                if command not in commands:
                    return Turn.tools(_bash(request, 0, command, "Answer orchestrate"))
            elif kind == "command":
                command = _wf("exec", run, aid)
                if command not in commands:
                    launch.append(("bash", command, f"Run step {action.get('step')}"))
            elif kind == "agent":
                if action.get("prompt") not in agents_sent:
                    launch.append(("agent", action, None))
                else:
                    command = _wf("report", run, aid)
                    sent = agents_sent[action.get("prompt")]
                    if command not in commands:
                        reports.append((sent.get("id"), command, f"Report step {action['step']}"))
        if launch:
            return Turn.tools(*[self._launch(request, n, item) for n, item in enumerate(launch)])
        pending = [item for item in reports if item[0] in results]
        if len(pending) < len(reports):
            return Turn.text("Waiting for the agents to finish.")
        if reports:
            return Turn.tools(*[_bash(request, n, command, description)
                                for n, (_, command, description) in enumerate(reports)])
        return None

    def _launch(self, request: ModelRequest, index: int, item) -> dict:
        kind, payload, description = item
        if kind == "bash":
            return _bash(request, index, payload, description)
        tool_input = {"subagent_type": payload.get("subagent_type"),
                      "description": payload.get("description"),
                      "prompt": payload.get("prompt")}
        schema = request.tools.get("Agent", {}).get("input_schema", {})
        if "run_in_background" in (schema.get("properties") or {}):
            tool_input["run_in_background"] = False
        return _tool_use(request, index, "Agent", tool_input)


def _token_block(told: str) -> str | None:
    """The slash command's start block whose here-document a fresh token ends."""
    for match in _FENCED_BASH.finditer(told):
        block = match.group(1).strip("\n")
        if "--token TOKEN <<'TOKEN'" in block.splitlines()[0] and \
                block.splitlines()[-1] == "TOKEN":
            return block
    return None


def _wf(verb: str, run: str, *args: str) -> str:
    return " ".join(["orchestrate", "wf", verb, *map(shlex.quote, (run, *args)), "--json"])


class ObedientSubagent:
    """A subagent: reads its prompt file, writes every file it names, says it is done."""

    _READ = re.compile(r"Read (\S+) and do what it says")

    def __init__(self, scenario: Scenario):
        self.scenario = scenario

    def respond(self, request: ModelRequest) -> Turn:
        if self.scenario.subagent_pause_s:
            time.sleep(self.scenario.subagent_pause_s)
        uses = request.tool_uses()
        results = request.tool_results()
        task = request.first_user_text()
        if not uses:
            match = self._READ.search(task)
            if match is None:
                return Turn.text("STATUS: blocked\nFILES:\nNOTES: no prompt file was named")
            if "Bash" not in request.tools:  # an agent without Bash reads it with Read
                return Turn.tools(_tool_use(request, 0, "Read",
                                            {"file_path": match.group(1)}))
            return Turn.tools(_bash(request, 0, f"cat {shlex.quote(match.group(1))}",
                                    "Read the prompt file"))
        if len(uses) == 1 and uses[0][1].get("name") in ("Bash", "Read"):
            prompt = results.get(uses[0][1].get("id"), "")
            if uses[0][1].get("name") == "Read":  # numbered lines: "     1→text"
                prompt = re.sub(r"(?m)^ *\d+(?:→|\t)", "", prompt)
            expects = parse_expects(prompt)
            step, attempt = phase_of(prompt)
            files = ", ".join(item["path"] for item in expects)
            if self.scenario.is_lazy(step, attempt) or not expects:
                return Turn.text(f"All done.\n\nSTATUS: done\nFILES: {files}\n"
                                 "NOTES: everything is in place")
            return Turn.tools(*[
                _tool_use(request, n, "Write", {"file_path": item["path"],
                                                "content": self._content(item, step)})
                for n, item in enumerate(expects)])
        written = [b["input"].get("file_path") for _, b in uses if b.get("name") == "Write"]
        errors = request.tool_errors()
        failed = [results.get(b.get("id"), "") for _, b in uses
                  if b.get("name") == "Write" and b.get("id") in errors]
        if failed:
            return Turn.text(f"STATUS: blocked\nFILES:\nNOTES: Write failed: {failed[0][:200]}")
        return Turn.text(f"Wrote the files.\n\nSTATUS: done\nFILES: {', '.join(written)}\n"
                         "NOTES: written by the scripted subagent")

    def _content(self, item: dict, step: str | None) -> str:
        path = item["path"]
        for name, text in self.scenario.contents.items():
            if path == name or path.endswith("/" + name):
                return text
        lines = [f"# {path.rsplit('/', 1)[-1]}", "", f"Written for phase {step}.", ""]
        for section in item["sections"]:
            lines += [f"## {section}", "", "Scripted content.", ""]
        return "\n".join(lines)


class DelegateMain:
    """A main session that hands one task to a subagent, then quotes what it said."""

    def __init__(self, subagent_type: str, prompt: str, description: str = "Do the task"):
        self.tool_input = {"subagent_type": subagent_type, "description": description,
                           "prompt": prompt}

    def respond(self, request: ModelRequest) -> Turn:
        uses = request.tool_uses()
        if not uses:
            tool_input = dict(self.tool_input)
            schema = request.tools.get("Agent", {}).get("input_schema", {})
            if "run_in_background" in (schema.get("properties") or {}):
                tool_input["run_in_background"] = False
            return Turn.tools(_tool_use(request, 0, "Agent", tool_input))
        said = request.tool_results().get(uses[-1][1].get("id"), "")
        return Turn.text(f"The agent said:\n{said.strip()[:500]}")


class ScriptedModel:
    """The default policy: side requests get a short text, the rest go to the main model
    (the obedient one unless ``main`` is given) or the obedient subagent of the scenario."""

    def __init__(self, scenario: Scenario | None = None, main: Policy | None = None):
        self.scenario = scenario or Scenario()
        self.main = main or ObedientMain(self.scenario)
        self.subagent = ObedientSubagent(self.scenario)

    def respond(self, request: ModelRequest) -> Turn:
        kind = request.kind
        if kind == "side":
            return Turn.text("Scripted session")
        return (self.subagent if kind == "subagent" else self.main).respond(request)
