"""`orchestrate run PLAN --dry-run`: the schedule a run would follow, computed, not run."""

from __future__ import annotations

from orchestrator.engine.scheduler import simulate
from orchestrator.engine.steps import plan_presets, step_specs
from orchestrator.plan.analysis import analyze_plan
from orchestrator.plan.model import Plan
from orchestrator.verify.checks import check_commands, run_commands

__all__ = ["dry_run_schedule"]


def dry_run_schedule(plan: Plan, jobs: int, default_timeout_s: int | None,
                     blast_radius_command: str | None = None) -> dict:
    """Every step in the order a run with ``jobs`` slots would start it (by estimates),
    with every command the engine would run for it, exactly, and where it came from."""
    analysis = analyze_plan(plan)
    simulation = simulate(plan.ids, plan.dependencies(), analysis.durations, jobs)
    wave_of = {step: index + 1 for index, wave in enumerate(analysis.waves) for step in wave}
    specs = {spec["id"]: spec for spec in step_specs(plan, default_timeout_s=default_timeout_s)}
    phases = {phase.id: phase for phase in plan.phases}
    presets = plan_presets(plan)
    order = sorted(plan.ids, key=simulation.starts.__getitem__)  # stable: plan order ties
    steps = []
    for step_id in order:
        phase = phases[step_id]
        steps.append({
            "id": step_id,
            "title": phase.title,
            "kind": specs[step_id]["kind"],
            "depends_on": list(phase.depends_on),
            "status": presets.get(step_id, {}).get("status", "pending"),
            "reason": presets.get(step_id, {}).get("reason"),
            "wave": wave_of[step_id],
            "start": round(simulation.starts[step_id], 4),
            "timeout_s": specs[step_id]["timeout_s"],
            "commands": [] if step_id in presets else  # skipped or blocked: nothing runs
                        [command.to_dict() for command in
                         run_commands(phase) + check_commands(phase, blast_radius_command)],
            "checks": len(phase.files) + len(phase.dependencies_to_add),
        })
    return {
        "schema": "orchestrate/dry-run@1",
        "plan": plan.path,
        "jobs": jobs,
        "steps": steps,
        "deferred": [{"id": phase.id, "title": phase.title, "line": phase.line}
                     for phase in getattr(plan, "deferred", [])],
        "waves": analysis.waves,
        "critical_path": analysis.critical_path,
        "makespan": round(simulation.makespan, 4),
        "unit": "hours" if analysis.estimated else "phases",
    }


def dry_run_text(schedule: dict) -> str:
    lines = [f"Dry run of {schedule['plan']} with {schedule['jobs']} jobs: nothing is run, "
             "nothing is written.", ""]
    width = max((len(s["id"]) for s in schedule["steps"]), default=1)
    for number, step in enumerate(schedule["steps"], 1):
        after = ", ".join(step["depends_on"]) or "-"
        settled = f"  [{step['status']}: {step['reason']}]" if step.get("reason") else ""
        lines.append(f"{number:3}. {step['id'].ljust(width)}  {step['kind']:<7}  "
                     f"after {after:<12} {step['title']}{settled}")
        for command in step["commands"]:
            where = f", plan line {command['line']}" if command["line"] else ", from the config"
            lines.append(f"{'':{width + 7}}{command['field']} (phase {step['id']}{where}):")
            lines += [f"{'':{width + 9}}{text}" for text in command["script"].splitlines()]
    unit = schedule["unit"]
    lines += ["", f"Critical path: {' -> '.join(schedule['critical_path'])}; estimated "
                  f"{schedule['makespan']:g} {unit} with {schedule['jobs']} jobs."]
    agents = [s["id"] for s in schedule["steps"] if s["kind"] == "agent"]
    if agents:
        lines.append(f"Agent steps (no Run block): {', '.join(agents)}.")
    count = sum(len(s["commands"]) for s in schedule["steps"])
    lines.append(f"Commands the engine would run: {count} (only fenced blocks under Run, "
                 "Verify or Checkpoint, and the configured blast-radius tests).")
    if schedule["deferred"]:
        lines.append("Deferred, never run: " + ", ".join(
            f"{d['id']} (line {d['line']})" for d in schedule["deferred"]) + ".")
    for status, said in (("skipped", "Skipped, marked complete in the plan"),
                         ("blocked", "Blocked by what the plan defers, not run")):
        ids = [s["id"] for s in schedule["steps"] if s.get("status") == status]
        if ids:
            lines.append(f"{said}: {', '.join(ids)}.")
    return "\n".join(lines) + "\n"
