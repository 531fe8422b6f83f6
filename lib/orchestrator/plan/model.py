"""The plan model shared by every reader: a plan is an ordered list of phases."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Phase", "ParallelGroup", "Plan", "Script", "PHASE_TYPES", "FORMATS",
           "SCRIPT_FIELDS"]

PHASE_TYPES = ("design", "implementation")
FORMATS = ("plan", "spec", "implementation-plan", "spec-kit", "superpowers")
SCRIPT_FIELDS = ("run", "verify")


@dataclass(frozen=True, slots=True)
class Script:
    """One fenced shell block under Run or Verify: the engine runs it as one bash script."""

    field: str  # one of SCRIPT_FIELDS
    text: str  # the block's content exactly as written
    line: int  # 1-based line of the block's first content line (the one after the fence)

    def to_dict(self) -> dict:
        return {"field": self.field, "text": self.text, "line": self.line}


@dataclass(slots=True)
class Phase:
    """One unit of work: a phase of a plan or a BLOQUE of a spec."""

    id: str
    title: str
    line: int  # line of the phase's heading, 1-based
    owner: str | None = None
    type: str = "implementation"  # one of PHASE_TYPES
    depends_on: list[str] = field(default_factory=list)
    depends_line: int | None = None  # line of the dependency field, when there is one
    depends_stated: bool = False  # False when the plan said nothing and a default applied
    files: list[str] = field(default_factory=list)
    blast_radius: str | None = None
    verify: list[str] = field(default_factory=list)  # the command lines of Verify scripts
    run: list[str] = field(default_factory=list)  # a Run block: the phase is a shell step
    scripts: list[Script] = field(default_factory=list)  # what the engine runs, in plan order
    procedures: list[str] = field(default_factory=list)  # Testing text, for the agent only
    timeout_s: int | None = None
    estimated_hours: float | None = None
    acceptance: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    objective: str | None = None
    dependencies_to_add: list[str] = field(default_factory=list)
    # the headings a file must carry, by its path as in ``files`` (reports the engine asks for)
    sections: dict[str, list[str]] = field(default_factory=dict)
    marked: str | None = None  # "complete" when the plan says the phase is done already
    verdicts: list[str] = field(default_factory=list)  # files that must hold a review verdict
    model: str | None = None  # the model routed to this step (tasks), over the config's

    def to_dict(self) -> dict:
        """The phase as JSON-ready data (the `phases` entries of `plan validate --json`)."""
        data = {
            "id": self.id,
            "title": self.title,
            "line": self.line,
            "owner": self.owner,
            "type": self.type,
            "depends_on": list(self.depends_on),
            "files": list(self.files),
            "blast_radius": self.blast_radius,
            "verify": list(self.verify),
            "run": list(self.run),
            "scripts": [script.to_dict() for script in self.scripts],
            "procedures": list(self.procedures),
            "timeout_s": self.timeout_s,
            "estimated_hours": self.estimated_hours,
            "acceptance": list(self.acceptance),
            "tasks": list(self.tasks),
            "objective": self.objective,
            "dependencies_to_add": list(self.dependencies_to_add),
        }
        if self.marked:
            data["marked"] = self.marked
        if self.sections:  # only the engine's own steps have them: plan@1 stays as it was
            data["sections"] = {name: list(names) for name, names in self.sections.items()}
        if self.verdicts:
            data["verdicts"] = list(self.verdicts)
        if self.model:
            data["model"] = self.model
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Phase:
        """A Phase from ``to_dict`` data (as a run keeps its plan's phases)."""
        data = dict(data)
        scripts = [Script(**raw) for raw in data.pop("scripts", [])]
        return cls(scripts=scripts, **data)

    def hash_data(self) -> dict:
        """``to_dict`` without line numbers: what the phase asks for, wherever it is written."""
        data = self.to_dict()
        data.pop("line", None)
        for script in data["scripts"]:
            script.pop("line", None)
        return data


@dataclass(slots=True)
class ParallelGroup:
    """A named set of phases the plan says may run at the same time."""

    name: str
    phase_ids: list[str]
    line: int


@dataclass(slots=True)
class Plan:
    """A parsed plan: its phases in the order they are written."""

    path: str
    format: str  # one of FORMATS
    title: str | None
    phases: list[Phase]
    parallel_groups: list[ParallelGroup] = field(default_factory=list)
    deferred: list[Phase] = field(default_factory=list)  # written in the plan, never run

    def phase(self, phase_id: str) -> Phase:
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(phase_id)

    @property
    def ids(self) -> list[str]:
        return [phase.id for phase in self.phases]

    @property
    def deferred_ids(self) -> set[str]:
        """The ids of deferred phases that no runnable phase shares."""
        return {phase.id for phase in self.deferred} - set(self.ids)

    def dependencies(self) -> dict[str, list[str]]:
        """Each phase id mapped to the ids it depends on that run, in plan order (a
        dependency on a deferred phase is not one: see ``waits_for``)."""
        deferred = self.deferred_ids
        return {phase.id: [dep for dep in phase.depends_on if dep not in deferred]
                for phase in self.phases}

    def waits_for(self, phase: Phase) -> list[str]:
        """The deferred phases ``phase`` depends on: it cannot run while they are deferred."""
        deferred = self.deferred_ids
        return [dep for dep in phase.depends_on if dep in deferred]
