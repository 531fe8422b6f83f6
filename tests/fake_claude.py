"""A stand-in for `claude -p --output-format json`: the model is the only thing simulated.

Scripted by a JSON scenario (``$FAKE_CLAUDE_SCENARIO``): ``{"steps": {"2": [reply, ...]},
"default": [reply, ...]}``. Each call of a step takes that step's next reply (the last one
repeats). A reply may ``write`` files (relative to the working directory), ``sleep``, and
set ``is_error``, ``subtype``, ``result``, ``cost``, ``api_error_status``, ``exit`` and
``structured_output`` (the reply a ``--json-schema`` call returns).
Every call is appended to ``$FAKE_CLAUDE_SCENARIO.calls.jsonl`` with its argv, step,
prompt (stdin), start and end times.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path


def main() -> int:
    scenario_path = Path(os.environ["FAKE_CLAUDE_SCENARIO"])
    scenario = json.loads(scenario_path.read_text())
    step = os.environ.get("ORCHESTRATE_STEP", "?")
    prompt = sys.stdin.read()
    calls_path = scenario_path.with_name(scenario_path.name + ".calls.jsonl")
    earlier = 0
    if calls_path.exists():
        earlier = sum(1 for line in calls_path.read_text().splitlines()
                      if json.loads(line)["step"] == step)
    replies = scenario.get("steps", {}).get(step) or scenario.get("default") or [{}]
    reply = replies[min(earlier, len(replies) - 1)]
    started = time.time()
    time.sleep(reply.get("sleep", 0))
    for name, content in reply.get("write", {}).items():
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    with calls_path.open("a") as out:
        out.write(json.dumps({"step": step, "argv": sys.argv[1:], "prompt": prompt,
                              "start": started, "end": time.time()}) + "\n")
    is_error = reply.get("is_error", False)
    structured = {"structured_output": reply["structured_output"]} \
        if "structured_output" in reply else {}  # what `--json-schema` asked for
    print(json.dumps({**structured,
        "type": "result",
        "subtype": reply.get("subtype", "success"),
        "is_error": is_error,
        "api_error_status": reply.get("api_error_status"),
        "duration_ms": int((time.time() - started) * 1000),
        "duration_api_ms": 0,
        "num_turns": 3,
        "result": reply.get("result", "Done. STATUS: done"),
        "stop_reason": "end_turn",
        "session_id": str(uuid.uuid4()),
        "total_cost_usd": reply.get("cost", 0.01),
        "usage": {"input_tokens": 100, "output_tokens": 50},
        "terminal_reason": "completed",
    }))
    return reply.get("exit", 1 if is_error else 0)


if __name__ == "__main__":
    sys.exit(main())
