"""Random input never raises anything but the project's own error."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orchestrator.errors import OrchestrateError
from orchestrator.plan import parse_plan
from orchestrator.plan.analysis import analyze_plan
from orchestrator.plan.check import check_plan
from orchestrator.plan.source import decode_plan_bytes
from orchestrator.render.mermaid import flowchart

IDS = st.sampled_from(["1", "2", "2a", "3", "FINAL", "0", "x", "", "1.5", "99", "-", "Phase"])
WORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=20
)

LINE = st.one_of(
    st.builds(lambda h, w, i, t: f"{h} {w} {i}: {t}",
              st.sampled_from(["#", "##", "###", "####", ""]),
              st.sampled_from(["Phase", "BLOQUE", "phase", "Fase", "Step"]), IDS, WORDS),
    st.builds(lambda b, k, v: f"{b}**{k}:** {v}",
              st.sampled_from(["", "- ", "  - ", "> "]),
              st.sampled_from(["Depends on", "Dependencies", "Files", "Owner", "Type",
                               "Checkpoint", "Verify", "Run", "Timeout", "Estimated Hours",
                               "Blast radius", "Tasks", "Acceptance criteria"]),
              st.one_of(WORDS, st.builds(lambda a, b: f"Phase {a}, Phase {b}", IDS, IDS),
                        st.builds(lambda a: f"[{a}]", IDS))),
    st.builds(lambda i: f"dependencies: [{i}]", IDS),
    st.sampled_from(["```", "```bash", "~~~", "    indented code", "", "---", "- [ ] task",
                     "## Parallelization", "- Group A: Phase 1, Phase 2", "<div>", "|a|b|",
                     "Tasks:", "**Checkpoint:**", "Testing:", "* * *", "1. item"]),
    WORDS,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, max_size=40))
def test_random_markdown_parses_or_raises_our_error(lines):
    text = "\n".join(lines)
    try:
        plan, _ = parse_plan(text, "fuzz.md")
    except OrchestrateError:
        return
    analysis = analyze_plan(plan)
    flowchart(plan, analysis.critical_path)
    assert sorted(i for wave in analysis.waves for i in wave) == sorted(plan.ids)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_decode_or_raise_our_error(data):
    try:
        text = decode_plan_bytes("fuzz.md", data)
    except OrchestrateError:
        return
    with contextlib.suppress(OrchestrateError):
        parse_plan(text, "fuzz.md")


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=500))
def test_random_files_through_check_plan(tmp_path, data):
    path = tmp_path / "random.md"
    path.write_bytes(data)
    check = check_plan(str(path))
    assert check.valid == (check.analysis is not None)
    for diagnostic in check.errors:
        assert diagnostic.path == str(path)
