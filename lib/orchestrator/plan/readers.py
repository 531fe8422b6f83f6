"""Turning the block stream of a plan document into the plan model.

The three native formats share one section finder (``sections``) and one field reader
(``field_reader``): they differ in which headings start a phase and in the dependencies a
phase gets when it states none. Plans written by other tools (spec-kit, superpowers) are
detected first and read by ``tool_readers``, which share the same two modules.
"""

from __future__ import annotations

import re

from orchestrator.errors import Diagnostic, PlanError
from orchestrator.plan import fields
from orchestrator.plan.field_reader import FieldReader
from orchestrator.plan.markdown import Block, blocks_from_markdown
from orchestrator.plan.model import FORMATS, ParallelGroup, Phase, Plan
from orchestrator.plan.sections import Section, choose_sections, split_sections

__all__ = ["parse_plan_text", "detect_format"]

_GROUP_LINE = re.compile(r"^group\s+([\w.\-]+)\s*[:\-–—]\s*(.+)$", re.IGNORECASE)

def detect_format(sections: list[Section], blocks: list[Block]) -> str:
    """Guess the format: BLOQUE headings mean a spec; owners or level-2 phases a plan."""
    if any(section.word == "bloque" for section in sections):
        return "spec"
    for section in sections:
        if section.level <= 2:
            return "plan"
        for block in section.blocks:
            found = block.kind == "text" and fields.match_field(block.text)
            if found and found[0] == "owner":
                return "plan"
    return "implementation-plan"


def _parallel_groups(blocks: list[Block]) -> list[ParallelGroup]:
    groups = []
    for block in blocks:
        if block.kind != "text":
            continue
        found = _GROUP_LINE.match(block.text.strip())
        if not found:
            continue
        value = re.split(r"\s[-–—]\s|\(|:", found.group(2))[0]
        groups.append(ParallelGroup(found.group(1), fields.parse_id_list(value), block.line))
    return groups


def _apply_default_dependencies(plan_format: str, phases: list[Phase], path: str,
                                warnings: list[Diagnostic]) -> None:
    """Fill in the dependencies a phase gets when it states none.

    Spec BLOQUEs run in order and FINAL after the last numbered one. In the other formats a
    phase that says nothing follows the phase before it: the safe reading of a plan written
    top to bottom; ``Depends on: none`` makes a phase independent.
    """
    if plan_format == "spec":
        numbered = [phase for phase in phases if phase.id.upper() != "FINAL"]
        for previous, phase in zip(numbered, numbered[1:], strict=False):
            if previous.id not in phase.depends_on:
                phase.depends_on.insert(0, previous.id)
        for phase in phases:
            if phase.id.upper() == "FINAL" and numbered and numbered[-1].id not in phase.depends_on:
                phase.depends_on.insert(0, numbered[-1].id)
        return
    for previous, phase in zip(phases, phases[1:], strict=False):
        if not phase.depends_stated:
            phase.depends_on = [previous.id]
            warnings.append(Diagnostic(
                path, phase.line,
                f"phase {phase.id} states no dependencies; it is taken to follow phase "
                f"{previous.id} (write 'Depends on: none' to run it independently)",
                "warning"))


def _read_phase(section: Section, path: str, warnings: list[Diagnostic]) -> Phase:
    phase = Phase(id=section.id, title=section.title, line=section.line,
                  marked="complete" if section.complete else None)
    reader = FieldReader(phase, path, warnings)
    reader.read(section.blocks)
    if phase.objective is None and reader.description:
        phase.objective = " ".join(reader.description)[:2000]
    return phase


def _read_other_tool(blocks: list[Block], path: str, plan_format: str | None):
    """(Plan, warnings) for a spec-kit or superpowers document, else None."""
    from orchestrator.plan import tool_readers

    chosen = plan_format or tool_readers.detect_tool_format(blocks)
    if chosen not in ("spec-kit", "superpowers"):
        return None
    title = next((block.text for block in blocks
                  if block.kind == "heading" and block.level == 1), None)
    warnings: list[Diagnostic] = []
    if chosen == "spec-kit":
        phases = tool_readers.read_spec_kit(blocks, path, warnings)
    else:
        phases = tool_readers.read_superpowers(blocks)
    return Plan(path=path, format=chosen, title=title, phases=phases), warnings


def parse_plan_text(text: str, path: str, plan_format: str | None = None):
    """Parse plan text into (Plan, warnings). ``plan_format`` overrides detection."""
    if plan_format is not None and plan_format not in FORMATS:
        raise PlanError(path, 0, f"unknown format {plan_format!r} "
                                 f"(expected one of {', '.join(FORMATS)})")
    blocks = blocks_from_markdown(text)
    tool_plan = _read_other_tool(blocks, path, plan_format)
    if tool_plan is not None:
        return tool_plan
    title, sections, parallel_blocks = split_sections(blocks)
    warnings: list[Diagnostic] = []
    steps, later = choose_sections(sections, path, warnings)
    chosen = plan_format or detect_format(steps + later, blocks)
    phases = [_read_phase(section, path, warnings) for section in steps]
    deferred = [_read_phase(section, path, []) for section in later]  # never run: no warnings
    deferred += [phase for phase in phases if phase.marked == "deferred"]  # "Status: Deferred"
    phases = [phase for phase in phases if phase.marked != "deferred"]
    _apply_default_dependencies(chosen, phases, path, warnings)
    plan = Plan(path=path, format=chosen, title=title, phases=phases,
                parallel_groups=_parallel_groups(parallel_blocks), deferred=deferred)
    return plan, warnings
