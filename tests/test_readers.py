"""Reading the three plan formats into the phase model."""

from __future__ import annotations

import pytest
from orchestrator.errors import PlanError
from orchestrator.plan import load_plan, parse_plan
from orchestrator.plan.readers import parse_plan_text


def phases_of(text: str, fmt: str | None = None):
    plan, _ = parse_plan_text(text, "p.md", fmt)
    return plan.phases


def test_headings_and_checkpoints_inside_fences_are_not_structure():
    text = """\
## Phase 1: Real

- **Depends on:** none

```markdown
## Phase 2: Fake
- **Depends on:** Phase 1
**Checkpoint:**
```

~~~
### BLOQUE 7: Also fake
~~~
"""
    phases = phases_of(text)
    assert [p.id for p in phases] == ["1"]
    assert phases[0].verify == []


@pytest.mark.parametrize(
    "field_line",
    [
        "**Depends on:** Phase 1, Phase 2",
        "- **Depends on:** Phase 1, Phase 2",
        "**Dependencies**: [1, 2]",
        "dependencies: [1, 2]",
        "depends_on: [1, 2]",
        "Depends on: 1, 2",
        "- Dependencies: Phases 1 and 2",
    ],
)
def test_dependency_spellings(field_line):
    text = f"""\
### Phase 1: A
Depends on: none

### Phase 2: B
Depends on: none

### Phase 3: C
{field_line}
"""
    assert phases_of(text)[2].depends_on == ["1", "2"]


@pytest.mark.parametrize("value", ["none", "None", "[]", "n/a", "-"])
def test_no_dependencies_spellings(value):
    text = f"## Phase 1: A\n\n## Phase 2: B\n- **Depends on:** {value}\n"
    assert phases_of(text)[1].depends_on == []


def test_ids_and_status_tags():
    text = """\
## Phase 1: Setup [COMPLETED]
Depends on: none
## Phase 2a: Left side [NOT STARTED]
Depends on: 1
## Phase 2b - Right side ✅
Depends on: 1
## Phase FINAL: Wrap up [IN PROGRESS]
Depends on: 2a, 2b
"""
    phases = phases_of(text)
    assert [(p.id, p.title) for p in phases] == [
        ("1", "Setup"),
        ("2a", "Left side"),
        ("2b", "Right side"),
        ("FINAL", "Wrap up"),
    ]
    assert phases[3].depends_on == ["2a", "2b"]


def test_bloque_final_depends_on_last_numbered_even_when_written_first():
    text = """\
### BLOQUE FINAL: Integration
### BLOQUE 0: Contracts
### BLOQUE 1: Backend
"""
    phases = {p.id: p for p in phases_of(text)}
    assert phases["FINAL"].depends_on == ["1"]
    assert phases["1"].depends_on == ["0"]
    assert phases["0"].depends_on == []


def test_all_fields_of_a_plan_phase():
    text = """\
## Phase 3: Analysis pass

- **Owner:** `rust-developer`
- **Type:** implementation
- **Depends on:** none
- **Files:**
  - `lib/src/pass.rs`
  - `lib/tests/pass_tests.rs`
- **Blast radius:** `analysis::`
- **Timeout:** 1h30m
- **Estimated Hours:** 2-3
- **Dependencies to add:** `oxc` in `lib/Cargo.toml`

**Objective:** Add the pass.

Tasks:
- [ ] Write the pass
- [x] Wire it up

Acceptance criteria:
- [ ] Tests pass
  on every platform
- [x] No warnings

**Verify:**
```bash
# run the tests
cargo test analysis::
```

**Run:**
```sh
make pass
```
"""
    phase = phases_of(text)[0]
    assert phase.owner == "rust-developer"
    assert phase.type == "implementation"
    assert phase.files == ["lib/src/pass.rs", "lib/tests/pass_tests.rs"]
    assert phase.blast_radius == "analysis::"
    assert phase.timeout_s == 5400
    assert phase.estimated_hours == 2.5
    assert phase.dependencies_to_add == ["oxc in lib/Cargo.toml"]
    assert phase.objective == "Add the pass."
    assert phase.tasks == ["Write the pass", "Wire it up"]
    assert phase.acceptance == ["Tests pass on every platform", "No warnings"]
    assert phase.verify == ["cargo test analysis::"]
    assert phase.run == ["make pass"]
    assert phase.line == 1


def test_sub_headings_name_fields():
    text = """\
### Phase 1: A

#### Checkpoint
```bash
pytest -q
```

#### Tasks
- write code
"""
    phase = phases_of(text)[0]
    assert phase.verify == ["pytest -q"]
    assert phase.tasks == ["write code"]


def test_code_block_not_labelled_as_checkpoint_is_ignored():
    text = """\
### BLOQUE 0: A

**New data structures:**
```python
x = 1
```

Some prose.

**Checkpoint:**
```bash
true
```
"""
    assert phases_of(text)[0].verify == ["true"]


def test_a_section_ends_at_a_heading_of_the_same_level():
    text = """\
## Phase 1: A
Depends on: none
## Notes
**Checkpoint:**
```bash
rm -rf /
```
"""
    assert phases_of(text)[0].verify == []


def test_missing_dependency_field_follows_previous_phase_with_warning():
    plan, warnings = parse_plan_text("## Phase 1: A\n## Phase 2: B\n", "p.md", None)
    assert plan.phases[1].depends_on == ["1"]
    assert plan.phases[0].depends_on == []
    assert any("phase 2 states no dependencies" in w.message for w in warnings)
    assert warnings[0].line == 2


def test_parallel_groups_are_read():
    text = """\
## Phase 1: A
Depends on: none
## Phase 2: B
Depends on: none

## Parallelization

- Group A: Phase 1, Phase 2 - launch together
- Group B: Phases [3] (later)
"""
    plan, _ = parse_plan_text(text, "p.md", None)
    assert [(g.name, g.phase_ids, g.line) for g in plan.parallel_groups] == [
        ("A", ["1", "2"], 8),
        ("B", ["3"], 9),
    ]


def test_format_detection():
    assert parse_plan_text("## Phase 1: A\n", "p", None)[0].format == "plan"
    assert parse_plan_text("### Phase 1: A\n", "p", None)[0].format == "implementation-plan"
    owned = "### Phase 1: A\n- **Owner:** me\n"
    assert parse_plan_text(owned, "p", None)[0].format == "plan"
    assert parse_plan_text("### BLOQUE 0: A\n", "p", None)[0].format == "spec"


def test_format_override_chains_phases_as_a_spec():
    text = "## Phase 1: A\nDepends on: none\n## Phase 2: B\nDepends on: none\n"
    phases = phases_of(text, "spec")
    assert phases[1].depends_on == ["1"]


def test_unknown_format_is_an_error():
    with pytest.raises(PlanError, match="unknown format 'yaml'"):
        parse_plan_text("## Phase 1: A\n", "p.md", "yaml")


def test_invalid_utf8_is_replaced_not_fatal(tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes("## Phase 1: Caf\xe9 r\xe9sum\xe9\n- **Depends on:** none\n".encode("latin-1"))
    plan, _ = load_plan(str(path))
    assert plan.phases[0].title == "Caf\ufffd r\ufffdsum\ufffd"


def test_byte_order_mark_and_front_matter_are_skipped():
    text = "\ufeff---\ntitle: x\n---\n## Phase 1: A\n- **Depends on:** none\n"
    plan, _ = parse_plan(text.lstrip("\ufeff"), "p.md")
    assert [p.id for p in plan.phases] == ["1"]
    assert plan.phases[0].line == 4


def test_unknown_type_warns_and_defaults_to_implementation():
    plan, warnings = parse_plan_text("## Phase 1: A\n- **Type:** research\n", "p.md", None)
    assert plan.phases[0].type == "implementation"
    assert "unknown type 'research'" in warnings[0].message
    assert warnings[0].line == 2


def test_inline_verify_value_takes_code_spans():
    text = "## Phase 1: A\n- **Verify:** `make test` and `make lint`\n"
    assert phases_of(text)[0].verify == ["make test", "make lint"]
