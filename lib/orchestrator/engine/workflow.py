"""The `/orchestrate` workflow as the steps of one run, and how it grows as it goes.

research (one step per topic, together) -> overview -> plan -> the plan's own phases (in
dependency order) -> tests -> a debug loop while they fail (3 rounds at most, then a
question) -> docs -> summary -> pull request. Every step is a Phase like a plan's, so the
prompts, the evidence checks and both drivers treat it as any other: a research report
must exist and carry its sections, the plan must validate, a fix must change the tree.

Pure: ``Workflow`` holds the facts (kept in the run's folder), and the functions here turn
them, and what has happened, into new phases. The drivers journal what they return.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field

from orchestrator.plan.model import Phase, Plan, Script

__all__ = ["Workflow", "ROLES", "initial_phases", "plan_phases", "debug_round",
           "closing_phases", "after_finish", "answer_ask", "SOFT_PREFIXES", "is_soft",
           "MAX_DEBUG_ROUNDS", "TESTS_ASK", "NO_TESTS_ASK"]

ROLES = ("research-specialist", "research-synthesizer", "plan-architect", "code-writer",
         "debug-analyst", "doc-writer")
MAX_DEBUG_ROUNDS = 3
REPORT_SECTIONS = ("Summary", "Findings", "Recommendations")
OVERVIEW_SECTIONS = ("Summary", "Key Findings", "Recommendations")
DEBUG_SECTIONS = ("Root Cause", "Proposed Fix", "Confidence")
SOFT_PREFIXES = ("research:", "tests")  # their failure does not block what follows
TESTS_ASK = "tests-still-failing"
NO_TESTS_ASK = "no-test-command"


@dataclass(slots=True)
class Workflow:
    """What an /orchestrate run is built from."""

    description: str
    topic_dir: str  # relative to the project root: specs/NNN_slug
    number: int
    slug: str
    workflow_type: str
    complexity: int  # the seed's score
    thinking_mode: str | None
    topics: list[str] = field(default_factory=list)
    create_pr: bool = False
    test_command: str | None = None
    cli: str = "orchestrate"  # how the engine's own steps call it
    complexity_band: str = ""  # low, medium, high or critical
    docs_file: str = "README.md"  # the doc the docs step must update, at least

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Workflow:
        return cls(**{name: data[name] for name in cls.__slots__ if name in data})

    def artifact(self, kind: str, name: str, number: int = 1) -> str:
        return f"{self.topic_dir}/{kind}/{number:03d}_{name}.md"

    @property
    def plan_path(self) -> str:
        return f"{self.topic_dir}/plans/{self.number:03d}_implementation.md"

    @property
    def overview_path(self) -> str:
        return self.artifact("reports", "research_overview", len(self.topics) + 1)

    @property
    def summary_path(self) -> str:
        return f"{self.topic_dir}/summaries/{self.number:03d}_workflow_summary.md"


def is_soft(step_id: str) -> bool:
    return step_id.startswith(SOFT_PREFIXES)


def _report_phase(step_id: str, title: str, owner: str, path: str, sections, objective: str,
                  depends: list[str], tasks: list[str]) -> Phase:
    """A report the engine checks for existence and for a heading per section."""
    return Phase(id=step_id, title=title, line=0, owner=owner, type="design",
                 depends_on=depends, depends_stated=True, files=[path],
                 sections={path: list(sections)}, objective=objective, tasks=tasks)


def initial_phases(wf: Workflow) -> list[Phase]:
    """Research (one step per topic), the overview, and the plan."""
    phases = []
    thinking = f" ({wf.thinking_mode})" if wf.thinking_mode else ""
    for index, topic in enumerate(wf.topics, 1):
        phases.append(_report_phase(
            f"research:{topic}", f"Research {topic.replace('_', ' ')}", "research-specialist",
            wf.artifact("reports", topic, index), REPORT_SECTIONS,
            f"Research {topic.replace('_', ' ')} for: {wf.description}{thinking}",
            [], ["Look at the project's code and docs for what bears on the topic",
                 "Write the report with the sections the checks name; keep it short"]))
    research = [phase.id for phase in phases]
    if research:
        phases.append(_report_phase(
            "overview", "Research overview", "research-synthesizer", wf.overview_path,
            OVERVIEW_SECTIONS, f"One overview of the research for: {wf.description}",
            research, ["Read the research reports in " + f"{wf.topic_dir}/reports/",
                       "Write one overview; name any topic without a report"]))
    plan = Phase(
        id="plan", title="Implementation plan", line=0, owner="plan-architect",
        type="design", depends_on=["overview"] if research else [], depends_stated=True,
        files=[wf.plan_path],
        scripts=[Script("verify", f"{wf.cli} plan validate --format implementation-plan "
                                  f"{shlex.quote(wf.plan_path)}\n", 0)],
        objective=f"A plan for: {wf.description}",
        tasks=["Write the plan in the implementation-plan format: `### Phase N: Title` "
               "sections with Objective, Tasks, `dependencies: [..]` and Files lines, and a "
               "fenced ```bash block under `Verify:` where a command proves the phase",
               "Phases that do not depend on each other say so, so they run together"])
    phases.append(plan)
    return phases


def plan_phases(wf: Workflow, plan: Plan) -> list[Phase]:
    """The plan's phases as steps (``phase:<id>``), then the tests."""
    steps = []
    runnable = plan.dependencies()  # a dependency on a deferred phase is not one
    for phase in plan.phases:
        depends = [f"phase:{dep}" for dep in runnable[phase.id]] or ["plan"]
        steps.append(Phase(
            id=f"phase:{phase.id}", title=phase.title, line=phase.line,
            owner=phase.owner or "code-writer", type=phase.type, depends_on=depends,
            depends_stated=True, files=list(phase.files), blast_radius=phase.blast_radius,
            verify=list(phase.verify), scripts=[s for s in phase.scripts if s.field == "verify"],
            procedures=list(phase.procedures), timeout_s=phase.timeout_s,
            estimated_hours=phase.estimated_hours, acceptance=list(phase.acceptance),
            tasks=list(phase.tasks), objective=phase.objective,
            dependencies_to_add=list(phase.dependencies_to_add),
            sections={name: list(names) for name, names in phase.sections.items()}))
    last = [step.id for step in steps] or ["plan"]
    return steps + ([tests_phase(wf, "tests", last)] if wf.test_command else [])


def tests_phase(wf: Workflow, step_id: str, depends: list[str]) -> Phase:
    """The project's tests, run by the engine; the output is kept under outputs/, in the
    project even when the tests run in a worktree of an isolated run."""
    output = f"{wf.topic_dir}/outputs/{step_id.replace(':', '_')}.log"
    script = (f"set -o pipefail\n{wf.test_command} 2>&1 | "
              f'tee "${{ORCHESTRATE_PROJECT_ROOT:-.}}"/{shlex.quote(output)}\n')
    return Phase(id=step_id, title="Run the tests", line=0, type="implementation",
                 depends_on=depends, depends_stated=True,
                 scripts=[Script("run", script, 0)])


def debug_round(wf: Workflow, number: int, after: str, guidance: str | None = None) -> list[Phase]:
    """Round ``number`` of the debug loop: analyse, fix, test again."""
    report = wf.artifact("debug", f"debug_round_{number}", number)
    analyse = _report_phase(
        f"debug:{number}", f"Debug round {number}: find the cause", "debug-analyst", report,
        DEBUG_SECTIONS, f"Why the tests fail (round {number} of {MAX_DEBUG_ROUNDS})",
        [after], [f"Read the test output in {wf.topic_dir}/outputs/",
                  "Find the root cause; propose the smallest fix; say how confident you are"])
    if guidance:
        analyse.procedures.append(f"The user's guidance: {guidance}")
    fix = Phase(id=f"fix:{number}", title=f"Debug round {number}: apply the fix", line=0,
                owner="code-writer", type="implementation", depends_on=[analyse.id],
                depends_stated=True, objective=f"Apply the fix proposed in {report}",
                tasks=[f"Read {report} and apply its proposed fix"])
    return [analyse, fix, tests_phase(wf, f"tests:{number + 1}", [fix.id])]


def closing_phases(wf: Workflow, after: list[str]) -> list[Phase]:
    """Docs, the engine's summary and, when asked for, the pull request."""
    docs = Phase(id="docs", title="Update the documentation", line=0, owner="doc-writer",
                 type="implementation", depends_on=after, depends_stated=True,
                 files=[wf.docs_file],
                 objective=f"Document what changed for: {wf.description}",
                 tasks=["Update the project's README or docs where the change shows"])
    summary = Phase(id="summary", title="Workflow summary", line=0, depends_on=["docs"],
                    depends_stated=True, files=[wf.summary_path],
                    scripts=[Script("run", f"{wf.cli} workflow summary\n", 0)])
    phases = [docs, summary]
    if wf.create_pr:
        phases.append(Phase(id="pr", title="Pull request", line=0, depends_on=["summary"],
                            depends_stated=True,
                            scripts=[Script("run", f"{wf.cli} workflow pr\n", 0)]))
    return phases


def _round_of(step_id: str) -> int:
    """``tests`` is round 0's run, ``tests:N`` the run after debug round N - 1."""
    return int(step_id.split(":", 1)[1]) - 1 if ":" in step_id else 0


def after_finish(wf: Workflow, step_id: str, status: str, plan: Plan | None,
                 existing: set[str]) -> tuple[list[Phase], dict | None]:
    """What the workflow adds once ``step_id`` is over: (new phases, a question to ask)."""
    if step_id == "plan" and status == "completed" and plan is not None:
        phases = plan_phases(wf, plan)
        if wf.test_command:
            return phases, None
        return phases, {"id": NO_TESTS_ASK,
                        "question": "No test command is configured or detected; set "
                                    "test_command in .claude/orchestrate.yaml, or go on?",
                        "options": [{"id": "continue", "label": "Go on without tests"},
                                    {"id": "stop", "label": "Stop here"}]}
    if not step_id.startswith("tests"):
        return [], None
    if status == "completed":
        return [p for p in closing_phases(wf, [step_id]) if p.id not in existing], None
    rounds = _round_of(step_id)
    if rounds < MAX_DEBUG_ROUNDS:
        return debug_round(wf, rounds + 1, step_id), None
    return [], {"id": TESTS_ASK,
                "question": f"The tests still fail after {MAX_DEBUG_ROUNDS} debug rounds. "
                            "What now?",
                "options": [{"id": "guidance", "label": "Give guidance for another round"},
                            {"id": "revise", "label": "Revise the plan"},
                            {"id": "continue", "label": "Go on to the docs with the tests "
                                                        "failing"}]}


def answer_ask(wf: Workflow, ask_id: str, choice: str, text: str | None,
               steps: list[str]) -> list[Phase]:
    """The phases an answer adds (``steps``: the run's step ids, in order)."""
    last_tests = next((s for s in reversed(steps) if s.startswith("tests")), None)
    if choice == "continue":
        after = [last_tests] if last_tests else [s for s in steps if s.startswith("phase:")]
        return [p for p in closing_phases(wf, after or ["plan"]) if p.id not in steps]
    if ask_id == TESTS_ASK and choice == "guidance" and last_tests:
        number = _round_of(last_tests) + 1
        return debug_round(wf, number, last_tests, guidance=text)
    if ask_id == TESTS_ASK and choice == "revise":
        number = 1 + sum(s.startswith("revise:") for s in steps)
        return [Phase(id=f"revise:{number}", title="Revise the plan", line=0,
                      owner="plan-architect", type="implementation",
                      depends_on=[last_tests] if last_tests else [], depends_stated=True,
                      files=[wf.plan_path], objective="Revise the plan so the tests can pass",
                      tasks=[f"Revise {wf.plan_path} and the code it describes"] +
                            ([f"The user's guidance: {text}"] if text else []))] + \
            ([tests_phase(wf, f"tests:{_round_of(last_tests) + 2}", [f"revise:{number}"])]
             if wf.test_command and last_tests else [])
    return []
