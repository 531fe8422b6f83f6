"""The CLI contract: --version, --help everywhere, the --json shapes, text output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from orchestrator import __version__

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = str(REPO / "examples" / "feature-plan.md")

PHASE_KEYS = {
    "id", "title", "line", "owner", "type", "depends_on", "files", "blast_radius", "verify",
    "run", "scripts", "procedures", "timeout_s", "estimated_hours", "acceptance", "tasks",
    "objective", "dependencies_to_add",
}
REPORT_KEYS = {
    "schema", "plan", "valid", "format", "title", "phases", "deferred", "parallel_groups",
    "waves", "critical_path", "critical_path_length", "metrics", "errors", "warnings",
}


def test_version(cli):
    result = cli("--version")
    assert (result.code, result.out) == (0, f"orchestrate {__version__}\n")


@pytest.mark.parametrize(
    "args",
    [[], ["plan"], ["plan", "validate"], ["plan", "waves"], ["plan", "graph"]],
)
def test_help_everywhere(cli, args):
    result = cli(*args, "--help")
    assert result.code == 0
    assert result.out.startswith("usage: orchestrate")


@pytest.mark.parametrize("args", [[], ["plan"], ["bogus"], ["plan", "waves"]])
def test_usage_errors_exit_2(cli, args):
    result = cli(*args)
    assert result.code == 2
    assert "usage:" in result.err


def test_validate_json_contract(cli):
    data = cli("plan", "validate", EXAMPLE, "--json").json()
    assert set(data) == REPORT_KEYS
    assert data["schema"] == "orchestrate/plan@1"
    assert data["valid"] is True
    assert all(set(phase) == PHASE_KEYS for phase in data["phases"])
    assert all(isinstance(phase["id"], str) for phase in data["phases"])
    assert data["parallel_groups"] == [{"name": "A", "phases": ["2", "3"], "line": 69}]


def test_waves_json_contract(cli):
    data = cli("plan", "waves", EXAMPLE, "--json").json()
    assert set(data) == REPORT_KEYS
    assert data["schema"] == "orchestrate/waves@1"
    assert data["waves"] == [["1"], ["2", "3"], ["4"], ["5"]]
    assert data["critical_path"] == ["1", "3", "4", "5"]
    assert data["metrics"] == {
        "phases": 5,
        "waves": 4,
        "max_parallelism": 2,
        "unit": "hours",
        "sequential_time": 9.375,
        "parallel_time": 6.375,
        "time_savings_percentage": 32.0,
    }


def test_waves_text(cli):
    result = cli("plan", "waves", EXAMPLE)
    assert result.code == 0
    assert "Wave 2 (2 in parallel)" in result.out
    assert " * 3  HTTP endpoint" in result.out
    assert "Critical path (*): 1 -> 3 -> 4 -> 5" in result.out
    assert "(32% saved)" in result.out


def test_graph_is_a_mermaid_flowchart(cli):
    result = cli("plan", "graph", EXAMPLE)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "flowchart TD"
    assert '    p_1["1: Export contract (design)"]' in lines
    assert "    p_3 --> p_4" in lines
    assert lines[-1] == "    class p_1,p_3,p_4,p_5 critical"


def test_graph_labels_are_escaped(cli, write_plan):
    path = write_plan('## Phase 1: Say "hi" <b>[v2]</b>; #1\n- **Depends on:** none\n')
    result = cli("plan", "graph", path)
    node = result.out.splitlines()[1]
    assert node.startswith('    p_1["1: Say ') and node.endswith('"]')
    label = node[len('    p_1["'):-len('"]')]
    assert not set(label) & set('"<>`#;[]')
    assert "(v2)" in label


@pytest.mark.parametrize("amount", ["inf", "nan", "NaN", "1e309", "Infinity"])
def test_max_cost_must_be_finite(cli, tmp_path, monkeypatch, amount):
    monkeypatch.chdir(tmp_path)
    result = cli("run", "plan.md", "--max-cost", amount)
    assert result.code == 2
    assert result.err.splitlines()[-1] == ("orchestrate run: error: argument --max-cost: "
                                           f"expected a finite amount in USD, got {amount!r}")
    assert not (tmp_path / ".claude").exists()


@pytest.mark.parametrize("amount, message", [("-1", "must be 0 or more"),
                                             ("ten", "expected an amount in USD, got 'ten'")])
def test_max_cost_must_be_an_amount(cli, amount, message):
    result = cli("run", "plan.md", "--max-cost", amount)
    assert result.code == 2
    assert result.err.splitlines()[-1].endswith(f"argument --max-cost: {message}")


def _run(*args, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(REPO / "lib"))
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], capture_output=True,
                          text=True, env=env, timeout=60, **kwargs)


def test_end_to_end_waves_json_through_a_process():
    proc = _run("plan", "waves", EXAMPLE, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["critical_path"] == ["1", "3", "4", "5"]


def test_end_to_end_invalid_plan_through_a_process(tmp_path):
    plan = tmp_path / "bad plan.md"
    plan.write_text("## Phase 1: A\n- **Depends on:** Phase 1\n")
    proc = _run("plan", "validate", str(plan))
    assert proc.returncode == 2
    assert proc.stderr == f"{plan}:2: phase 1 depends on itself\n"
    assert proc.stdout == ""


def test_end_to_end_closed_stdout_is_not_a_crash():
    proc = subprocess.run(
        f"{sys.executable} -m orchestrator plan graph {EXAMPLE} | head -c1",
        shell=True, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO / "lib")), timeout=60,
    )
    assert "Traceback" not in proc.stderr


def test_arguments_that_do_not_fit_together_are_a_usage_error(cli, write_plan):
    plan = write_plan("## Phase 1: A\n\n**Run:**\n```bash\ntrue\n```\n")
    both = cli("run", plan, "--resume", "x")
    assert both.code == 2
    assert both.err.strip() == "orchestrate: run: give either PLAN or --resume NAME, not both"
    neither = cli("run", "--json")
    assert neither.code == 2
    assert neither.json() == {"schema": "orchestrate/error@1", "exit_code": 2,
                              "message": "run: a PLAN to run, or --resume NAME, is required"}
