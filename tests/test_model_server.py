"""The scripted model server on its own: its HTTP/SSE wire and its policies' decisions.

The end-to-end tests (tests/test_claude_code_e2e.py) put the real Claude Code in front of
it; these check, without the binary, that it speaks the Messages API and that the obedient
model reads the protocol and the rendered prompts the way the end-to-end tests rely on.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from orchestrator.plan.model import Phase
from orchestrator.render.prompts import PromptContext, render_prompt

from tests.model_server import (
    ModelRequest,
    ModelServer,
    Scenario,
    ScriptedModel,
    Turn,
    orchestrate_answers,
    parse_expects,
    phase_of,
)

ROOT = Path("/work/project")
TOOLS = [{"name": name, "input_schema": {"type": "object", "properties": props}}
         for name, props in [("Bash", {"command": {}}), ("Write", {"file_path": {}}),
                             ("Agent", {"prompt": {}, "run_in_background": {}})]]
MAIN_SYSTEM = [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332;"}]
SUB_SYSTEM = [{"type": "text",
               "text": "x-anthropic-billing-header: cc_version=2.1.332; cc_is_subagent=true;"}]


def post(url: str, body: dict, path: str = "/v1/messages?beta=true"):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("content-type"), response.read().decode()


def sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for chunk in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def body(messages: list[dict], system=MAIN_SYSTEM, tools=TOOLS, **extra) -> dict:
    return {"model": "m", "max_tokens": 32000, "system": system, "tools": tools,
            "messages": messages, **extra}


def user(*texts: str) -> dict:
    return {"role": "user", "content": [{"type": "text", "text": t} for t in texts]}


def assistant(turn: Turn) -> dict:
    return {"role": "assistant", "content": turn.content}


def results(turn: Turn, *texts: str) -> dict:
    uses = [b for b in turn.content if b["type"] == "tool_use"]
    assert len(uses) == len(texts)
    return {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": use["id"], "content": text}
        for use, text in zip(uses, texts, strict=True)]}


def agent_action(step: str) -> dict:
    return {"type": "agent", "id": f"{step}@1", "step": step, "subagent_type": "implementer",
            "description": f"Phase {step}", "expects": [],
            "prompt": f"Read .claude/orchestrate/runs/p/steps/{step}.1.prompt.md and do what "
                      "it says."}


def wf_next(*actions: dict) -> str:
    return json.dumps({"schema": "orchestrate/wf-next@1", "run": "p",
                       "actions": list(actions), "in_flight": []})


# --- the wire ---------------------------------------------------------------------------

def test_a_streamed_turn_is_a_well_formed_event_sequence():
    with ModelServer() as server:
        kind, text = post(server.url, body([user("Run `echo hi` with Bash.")], stream=True))
    assert kind == "text/event-stream"
    events = sse(text)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert names[1] == "content_block_start" and names[-3] == "content_block_stop"
    assert set(names[2:-3]) == {"content_block_delta"} and len(names[2:-3]) > 1
    start = events[1][1]["content_block"]
    assert start["type"] == "tool_use" and start["name"] == "Bash" and start["input"] == {}
    deltas = [data["delta"] for _, data in events[2:-3]]
    assert {delta["type"] for delta in deltas} == {"input_json_delta"}
    assert json.loads("".join(d["partial_json"] for d in deltas))["command"] == "echo hi"
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    assert events[-2][1]["usage"]["output_tokens"] > 0
    assert server.requests[0].kind == "main"


def test_long_text_streams_in_deltas_that_add_up():
    turn = Turn.text("x" * 200)
    policy = type("Fixed", (), {"respond": lambda self, request: turn})()
    with ModelServer(policy) as server:
        _, text = post(server.url, body([user("hi")], stream=True))
    deltas = [data["delta"]["text"] for name, data in sse(text)
              if name == "content_block_delta"]
    assert len(deltas) > 1 and "".join(deltas) == "x" * 200


def test_non_streaming_count_tokens_side_and_unknown_requests():
    with ModelServer() as server:
        kind, text = post(server.url, body([user("Run `true`.")]))
        message = json.loads(text)
        _, counted = post(server.url, {"messages": [user("hello")]},
                          "/v1/messages/count_tokens")
        _, side = post(server.url, body([user("Write a title")], tools=[], max_tokens=50))
        with pytest.raises(urllib.error.HTTPError) as missing:
            post(server.url, {}, "/v1/nothing")
        head = urllib.request.Request(server.url + "/api/hello", method="HEAD")
        with urllib.request.urlopen(head, timeout=10) as hello:
            assert hello.status == 200
    assert kind == "application/json" and message["stop_reason"] == "tool_use"
    assert message["content"][0]["input"]["command"] == "true"
    assert json.loads(counted)["input_tokens"] > 0
    assert json.loads(side)["content"] == [{"type": "text", "text": "Scripted session"}]
    assert missing.value.code == 404
    assert json.loads(missing.value.read())["type"] == "error"
    assert [r.kind for r in server.requests] == ["main", "count_tokens", "side", "other",
                                                 "other"]


def test_a_policy_that_fails_answers_500_and_is_recorded():
    broken = type("Broken", (), {"respond": lambda self, request: 1 / 0})()
    with ModelServer(broken) as server, pytest.raises(urllib.error.HTTPError) as error:
        post(server.url, body([user("hi")]))
    assert error.value.code == 500
    assert server.errors == ["ZeroDivisionError: division by zero"]


# --- reading the protocol and the prompts --------------------------------------------------

def test_answers_are_found_in_any_text():
    text = 'before {"a": 1} {"schema": "orchestrate/wf-start@1", "next": "x"} {broken ' \
           '{"schema": "other"} and {"schema": "orchestrate/wf-next@1", "actions": []}'
    assert [a["schema"] for a in orchestrate_answers(text)] == [
        "orchestrate/wf-start@1", "orchestrate/wf-next@1"]


def test_the_files_and_sections_of_a_rendered_prompt_are_read_back():
    phase = Phase(id="2a", title="Research", line=1, files=["docs/research.md", "src/x.py"],
                  acceptance=["the report has a `## Findings` section",
                              "the report has a `## Risks` section"])
    prompt = render_prompt(PromptContext(phase=phase, plan_path="/work/project/plan.md",
                                         project_root=ROOT, attempt=2, max_attempts=3))
    assert parse_expects(prompt) == [
        {"path": "/work/project/docs/research.md", "sections": ["Findings", "Risks"]},
        {"path": "/work/project/src/x.py", "sections": ["Findings", "Risks"]}]
    assert phase_of(prompt) == ("2a", 2)


def test_a_prompt_without_files_expects_nothing():
    phase = Phase(id="1", title="Think", line=1)
    prompt = render_prompt(PromptContext(phase=phase, plan_path="/p.md", project_root=ROOT))
    assert parse_expects(prompt) == []


# --- the obedient main model ----------------------------------------------------------------

def test_the_main_model_follows_next_and_sends_all_agents_in_one_message():
    model = ScriptedModel()
    start = '{"schema": "orchestrate/wf-start@1", "run": "p", "steps": 2, ' \
            '"next": "orchestrate wf next p --json"}'
    history = [user("<command-name>/run-plan</command-name>", "Started:\n" + start)]
    first = model.respond(ModelRequest(body(history)))
    assert first.content[0]["input"]["command"] == "orchestrate wf next p --json"

    history += [assistant(first), results(first, wf_next(agent_action("2a"),
                                                         agent_action("2b")))]
    launch = model.respond(ModelRequest(body(history)))
    assert launch.stop_reason == "tool_use"
    assert [(b["name"], b["input"]["subagent_type"], b["input"]["run_in_background"])
            for b in launch.content] == [("Agent", "implementer", False)] * 2
    assert len({b["id"] for b in launch.content}) == 2

    history += [assistant(launch), results(launch, "STATUS: done", "STATUS: done")]
    report = model.respond(ModelRequest(body(history)))
    assert [b["input"]["command"] for b in report.content] == [
        "orchestrate wf report p 2a@1 --json", "orchestrate wf report p 2b@1 --json"]

    reported = '{"schema": "orchestrate/wf-report@1", "run": "p", "action": "%s", ' \
               '"outcome": "completed", "reason": null, "next": "orchestrate wf next p --json"}'
    history += [assistant(report), results(report, reported % "2a@1", reported % "2b@1")]
    again = model.respond(ModelRequest(body(history)))
    assert again.content[0]["input"]["command"] == "orchestrate wf next p --json"

    done = {"type": "done", "id": "done@9", "status": "completed", "summary": "/s.md",
            "message": "run completed: 2 of 2 steps done"}
    history += [assistant(again), results(again, wf_next(done))]
    final = model.respond(ModelRequest(body(history)))
    assert final.stop_reason == "end_turn"
    assert "run completed: 2 of 2 steps done" in final.content[0]["text"]


def test_commands_go_to_exec_and_agents_are_reported_after_the_exec_answer():
    model = ScriptedModel()
    command = {"type": "command", "id": "1@1", "step": "1", "title": "Prep"}
    history = [user("go"), {"role": "assistant", "content": [
        {"type": "tool_use", "id": "t0", "name": "Bash", "input": {"command": "x"}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t0",
                                             "content": wf_next(command, agent_action("2"))}]}]
    launch = model.respond(ModelRequest(body(history)))
    assert [b["name"] for b in launch.content] == ["Bash", "Agent"]
    assert launch.content[0]["input"]["command"] == "orchestrate wf exec p 1@1 --json"
    executed = '{"schema": "orchestrate/wf-exec@1", "run": "p", "action": "1@1", ' \
               '"outcome": "completed", "next": "orchestrate wf next p --json"}'
    history += [assistant(launch), results(launch, executed, "STATUS: done")]
    report = model.respond(ModelRequest(body(history)))
    assert [b["input"]["command"] for b in report.content] == [
        "orchestrate wf report p 2@1 --json"]


def test_an_ask_is_answered_with_the_scenario_choice_or_the_first_option():
    ask = {"type": "ask", "id": "cost-cap", "question": "cap?",
           "options": [{"id": "raise", "label": "r"}, {"id": "stop", "label": "s"}]}
    history = [user("go", wf_next(ask))]
    first = ScriptedModel().respond(ModelRequest(body(history)))
    chosen = ScriptedModel(Scenario(answers={"cost-cap": "stop"})).respond(
        ModelRequest(body(history)))
    assert first.content[0]["input"]["command"] == "orchestrate wf answer p cost-cap raise --json"
    assert chosen.content[0]["input"]["command"] == "orchestrate wf answer p cost-cap stop --json"


def test_an_error_answer_ends_the_turn_quoting_it():
    error = '{"schema": "orchestrate/error@1", "message": "run p is locked", "exit_code": 2}'
    turn = ScriptedModel().respond(ModelRequest(body([user("go", error)])))
    assert turn.stop_reason == "end_turn" and "run p is locked" in turn.content[0]["text"]


# --- the obedient subagent --------------------------------------------------------------------

def subagent_turns(scenario: Scenario, prompt: str, write_error: bool = False) -> list[Turn]:
    model = ScriptedModel(scenario)
    history = [user("Read steps/2a.1.prompt.md and do what it says.")]
    turns = [model.respond(ModelRequest(body(history, system=SUB_SYSTEM)))]
    history += [assistant(turns[0]), results(turns[0], prompt)]
    turns.append(model.respond(ModelRequest(body(history, system=SUB_SYSTEM))))
    if turns[-1].stop_reason == "tool_use":
        outcome = results(turns[-1], *["ok"] * len(turns[-1].content))
        if write_error:
            outcome["content"][0]["is_error"] = True
        history += [assistant(turns[-1]), outcome]
        turns.append(model.respond(ModelRequest(body(history, system=SUB_SYSTEM))))
    return turns


PROMPT = "## Phase 2a: Notes\nYou are ... (attempt 1 of 3).\n\nFiles to create or change:\n" \
         "- `/work/project/notes/a.md`\n\nAcceptance criteria:\n- has a `## Summary` section\n"


def test_the_subagent_reads_its_prompt_writes_the_files_and_reports():
    read, write, report = subagent_turns(Scenario(), PROMPT)
    assert read.content[0]["input"]["command"] == "cat steps/2a.1.prompt.md"
    (block,) = write.content
    assert block["name"] == "Write" and block["input"]["file_path"] == "/work/project/notes/a.md"
    assert "\n## Summary\n" in block["input"]["content"]
    assert report.stop_reason == "end_turn" and "STATUS: done" in report.content[0]["text"]


def test_a_lazy_subagent_claims_success_and_writes_nothing():
    read, claim = subagent_turns(Scenario(lazy={"2a": {1}}), PROMPT)
    assert claim.stop_reason == "end_turn"
    assert "STATUS: done" in claim.content[0]["text"]
    assert "/work/project/notes/a.md" in claim.content[0]["text"]
    assert len(subagent_turns(Scenario(lazy={"2a": {2}}), PROMPT)) == 3


def test_a_subagent_whose_write_fails_reports_blocked():
    *_, report = subagent_turns(Scenario(), PROMPT, write_error=True)
    assert "STATUS: blocked" in report.content[0]["text"]


def test_before_any_answer_the_main_model_runs_what_it_was_told():
    inline = ScriptedModel().respond(ModelRequest(body([user("Run `echo hello` with Bash.")])))
    fenced = ScriptedModel().respond(ModelRequest(body([user(
        "The `orchestrate` engine decides. Run this:\n\n```bash\norchestrate wf start --json "
        "--arguments-stdin <<'END'\nadd a flag\nEND\n```\n")])))
    assert inline.content[0]["input"]["command"] == "echo hello"
    assert fenced.content[0]["input"]["command"] == \
        "orchestrate wf start --json --arguments-stdin <<'END'\nadd a flag\nEND"
