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


def test_inline_verify_code_spans_are_not_commands_but_reach_the_agent():
    text = "## Phase 1: A\n- **Verify:** `make test` and `make lint`\n"
    plan, warnings = parse_plan_text(text, "p.md", None)
    phase = plan.phases[0]
    assert (phase.verify, phase.scripts) == ([], [])
    assert phase.procedures == ["make test and make lint"]
    assert [(w.line, "inline code under Verify is not run" in w.message)
            for w in warnings] == [(2, True)]


def plan_of(text: str, fmt: str | None = None):
    return parse_plan_text(text, "p.md", fmt)


def test_testing_block_is_a_procedure_not_a_command():
    text = """\
### Phase 1: Rate limiter
dependencies: []

Testing:
```bash
# with the server running
ab -n 200 -c 20 http://localhost:9000/quote
tail -n 5 logs/limiter.log
```
"""
    phase = phases_of(text)[0]
    assert (phase.verify, phase.run, phase.scripts) == ([], [], [])
    assert phase.procedures == ["# with the server running\n"
                                "ab -n 200 -c 20 http://localhost:9000/quote\n"
                                "tail -n 5 logs/limiter.log"]


def test_testing_prose_and_list_are_procedures():
    text = """\
### Phase 1: Banner
dependencies: []

**Manual testing:**
Log in as a guest and
wait for the banner.

- Dismiss it; it must not come back
- Reload the page
"""
    assert phases_of(text)[0].procedures == [
        "Log in as a guest and wait for the banner.",
        "Dismiss it; it must not come back",
        "Reload the page",
    ]


@pytest.mark.parametrize("field_line", [
    "Verify: the output looks right",
    "**Verification:** the numbers add up in the summary table",
    "- **Checkpoint:** Parser ready - later phases can start",
])
def test_prose_verify_gives_no_command(field_line):
    text = f"## Phase 1: Summary\n- **Depends on:** none\n{field_line}\n"
    plan, warnings = plan_of(text)
    phase = plan.phases[0]
    assert (phase.verify, phase.run, phase.scripts) == ([], [], [])
    assert len(phase.procedures) == 1
    assert not any("not run" in w.message for w in warnings)  # prose is not a command


def test_prose_under_an_empty_verify_field_is_a_procedure():
    text = "## Phase 1: A\n- **Depends on:** none\n\n**Verify:**\n\nThe chart shows 3 bars.\n"
    phase = phases_of(text)[0]
    assert (phase.verify, phase.procedures) == ([], ["The chart shows 3 bars."])


@pytest.mark.parametrize("tasks_heading", ["", "Tasks:\n"])
def test_inline_run_in_a_task_list_gives_no_run(tasks_heading):
    text = f"""\
### Phase 1: Generate the lexer
dependencies: []

{tasks_heading}- [ ] Add `grammar/lexer.g4`
- [ ] Run: `make generate`
- [ ] Commit the generated files
"""
    phase = phases_of(text)[0]
    assert (phase.run, phase.verify, phase.scripts) == ([], [], [])


def test_list_items_with_code_spans_under_verify_are_not_commands():
    text = "## Phase 1: A\n- **Depends on:** none\n\n**Verify:**\n- `npm test`\n- `npm run lint`\n"
    plan, warnings = plan_of(text)
    phase = plan.phases[0]
    assert (phase.verify, phase.scripts) == ([], [])
    assert phase.procedures == ["npm test", "npm run lint"]
    assert sum("inline code under Verify is not run" in w.message for w in warnings) == 1


def test_multi_line_verify_block_is_one_script_with_its_line():
    text = """\
## Phase 1: Fixtures
- **Depends on:** none

**Verify:**
```bash
cd tests/fixtures
expected=4
for name in a b c d; do
  test -s "$name.json"
done
test "$(ls *.json | wc -l)" -eq "$expected"
```
"""
    phase = phases_of(text)[0]
    script_text = ('cd tests/fixtures\nexpected=4\nfor name in a b c d; do\n'
                   '  test -s "$name.json"\ndone\n'
                   'test "$(ls *.json | wc -l)" -eq "$expected"\n')
    assert [(s.field, s.text, s.line) for s in phase.scripts] == [("verify", script_text, 6)]
    assert phase.verify == ["cd tests/fixtures", "expected=4", "for name in a b c d; do",
                            'test -s "$name.json"', "done",
                            'test "$(ls *.json | wc -l)" -eq "$expected"']
    assert phase.to_dict()["scripts"] == [
        {"field": "verify", "text": script_text, "line": 6}]


def test_run_and_verify_blocks_are_scripts_in_plan_order():
    text = """\
## Phase 1: Build
- **Depends on:** none

**Run:**
~~~sh
make all
~~~

**Validation:**
```
test -x build/app
```
"""
    phase = phases_of(text)[0]
    assert [(s.field, s.text, s.line) for s in phase.scripts] == [
        ("run", "make all\n", 6), ("verify", "test -x build/app\n", 11)]
    assert (phase.run, phase.verify) == (["make all"], ["test -x build/app"])


def test_python_fence_under_verify_is_not_run_and_warned():
    text = """\
## Phase 1: Loader
- **Depends on:** none

**Verify:**
```python
import loader
assert loader.load("x.csv")
```
"""
    plan, warnings = plan_of(text)
    phase = plan.phases[0]
    assert (phase.verify, phase.scripts) == ([], [])
    assert phase.procedures == ['import loader\nassert loader.load("x.csv")']
    warning = next(w for w in warnings if "```python block under Verify" in w.message)
    assert (warning.path, warning.line) == ("p.md", 5)
    assert str(warning).startswith("p.md:5: warning: phase 1: the ```python block")


def test_indented_code_under_verify_is_not_run():
    text = "## Phase 1: A\n- **Depends on:** none\n\n**Verify:**\n\n    make check\n"
    plan, warnings = plan_of(text)
    assert (plan.phases[0].verify, plan.phases[0].procedures) == ([], ["make check"])
    assert any("indented code block under Verify" in w.message for w in warnings)


DESIGN_THEN_IMPLEMENTATION = """\
# Implementation Plan: Offline sync

## Technical Design

### Phase 1: Local journal
The client appends every edit to a journal.

### Phase 2: Merge rules
Last writer wins per field.

### Phase 3: Replay
Replay the journal on reconnect.

## Implementation Phases

### Phase 1: Journal storage
dependencies: []

### Phase 2: Merge engine
dependencies: [1]

### Phase 3: Reconnect replay
dependencies: [2]

## Notes
Nothing here is a phase.
"""


def test_only_the_implementation_section_gives_phases():
    plan, warnings = parse_plan(DESIGN_THEN_IMPLEMENTATION, "p.md")
    assert [(p.id, p.title, p.line) for p in plan.phases] == [
        ("1", "Journal storage", 16), ("2", "Merge engine", 19), ("3", "Reconnect replay", 22)]
    assert plan.deferred == []
    ignored = [w for w in warnings if "ignored" in w.message]
    assert len(ignored) == 1
    assert ignored[0].line == 5
    assert ignored[0].message.endswith("ignored: lines 5, 8, 11")
    assert "implementation section (line 14)" in ignored[0].message


def test_a_sub_heading_named_implementation_inside_a_phase_changes_nothing():
    text = """\
## Phase 1: A
- **Depends on:** none
### Implementation
Write it.
## Phase 2: B
- **Depends on:** 1
"""
    assert [p.id for p in phases_of(text)] == ["1", "2"]


DEFERRED = """\
# Plan: Search

## Phase 1: Index
- **Depends on:** none

## Phase 2: Query API [DEFERRED]
- **Depends on:** 1

## Phase 3: Ranking
- **Depends on:** 1

## Future Enhancements

### Phase 4: Synonyms
- **Depends on:** 3

### Phase 5: Spelling
"""


def test_deferred_phases_are_kept_apart():
    plan, warnings = parse_plan(DEFERRED, "p.md")
    assert plan.ids == ["1", "3"]
    assert [(p.id, p.title, p.line) for p in plan.deferred] == [
        ("2", "Query API", 6), ("4", "Synonyms", 14), ("5", "Spelling", 17)]
    assert plan.deferred[1].depends_on == ["3"]
    assert not any("phase 5" in w.message for w in warnings)  # never run: no warnings


@pytest.mark.parametrize("section", ["Future Work", "Out of Scope", "Deferred", "Backlog",
                                     "Later", "Nice to have", "Nice-to-haves"])
def test_deferred_section_titles(section):
    text = f"## Phase 1: A\n- **Depends on:** none\n## {section}\n### Phase 2: B\n"
    plan, _ = plan_of(text)
    assert (plan.ids, [p.id for p in plan.deferred]) == (["1"], ["2"])


SPEC_KIT_TASKS = """\
# Tasks: Recipe scaler

**Input**: Design documents from `/specs/004-recipe-scaler/`

## Format: `[ID] [P?] [Story] Description`

## Phase 1: Setup (Shared Infrastructure)

- [ ] T001 Create `src/scaler/` package
- [ ] T002 [P] Add pytest configuration

---

## Phase 2: Foundational (Blocking Prerequisites)

- [ ] T003 Unit model in `src/scaler/units.py`

**Checkpoint**: Foundation ready - user story work can begin

---

## Phase 3: User Story 1 - Scale a recipe (Priority: P1) 🎯 MVP

**Goal**: Scale every quantity by a factor

### Tests for User Story 1

- [ ] T004 [P] [US1] Test scaling in `tests/test_scale.py`

### Implementation for User Story 1

- [ ] T005 [US1] Implement `scale()` in `src/scaler/scale.py`

---

## Dependencies & Execution Order

### Phase Dependencies

- **Setup (Phase 1)**: No dependencies
- **Foundational (Phase 2)**: Depends on Setup
- **User Stories (Phase 3+)**: Depend on Foundational

### User Story Dependencies

- **User Story 1 (P1)**: Can start after Foundational

### Within Each User Story

- Tests before implementation

### Parallel Opportunities

- Tasks marked [P] can run in parallel
"""


def test_spec_kit_tasks_have_no_dependencies_phase():
    plan, _ = parse_plan(SPEC_KIT_TASKS, "tasks.md")
    assert plan.format == "spec-kit"  # read task by task (tests/test_readers_other_tools.py)
    assert [(p.id, p.depends_on) for p in plan.phases] == [
        ("T001", []), ("T002", []), ("T003", ["T001", "T002"]), ("T004", ["T003"]),
        ("T005", ["T004"])]
    assert all(p.verify == [] and p.scripts == [] for p in plan.phases)
    assert plan.phases[2].procedures == ["Foundation ready - user story work can begin"]


def test_phase_shaped_headings_under_execution_order_are_not_phases():
    text = """\
## Phase 1: A
- **Depends on:** none

## Execution Order

### Phase 2: is started only after 1
"""
    assert [p.id for p in phases_of(text)] == ["1"]


@pytest.mark.parametrize(("heading", "expected"), [
    ("## Phase 2.1: Split the parser", ("2.1", "Split the parser")),
    ("## Phase α1: Greek track", ("α1", "Greek track")),
    ("## Phase 1.2.3 - Deep", ("1.2.3", "Deep")),
    ("## Phase 1. Title", ("1", "Title")),
    ("## Phase 1 - Title", ("1", "Title")),
    ("## Phase 2a: T", ("2a", "T")),
    ("### BLOQUE FINAL: T", ("FINAL", "T")),
    ("## Phase 3) T", ("3", "T")),
    ("## Phase 4 — T", ("4", "T")),
    ("## Phase 7", ("7", "")),
    ("## Phase Two: Build", ("Two", "Build")),
    ("## Phase 5 [IN PROGRESS]: Wiring", ("5", "Wiring")),
])
def test_phase_heading_ids(heading, expected):
    phases = phases_of(heading + "\n")
    assert [(p.id, p.title) for p in phases] == [expected]


@pytest.mark.parametrize("heading", ["### Phase Dependencies", "## Phase Overview",
                                     "### Phase Fails", "## Phases: overview"])
def test_headings_that_are_not_phases(heading):
    assert phases_of(heading + "\n") == []


def test_dotted_ids_as_dependencies():
    text = """\
## Phase 2.1: A
- **Depends on:** none
## Phase 2.2: B
- **Depends on:** none
## Phase 2.3: C
- **Depends on:** 2.1, 2.2
## Phase α1: D
- **Depends on:** [2.1-2.3]
"""
    plan, _ = parse_plan(text, "p.md")
    assert plan.ids == ["2.1", "2.2", "2.3", "α1"]
    assert plan.dependencies()["2.3"] == ["2.1", "2.2"]
    assert plan.dependencies()["α1"] == ["2.1", "2.2", "2.3"]


def test_hash_data_leaves_out_every_line_number():
    text = "## Phase 1: A\n- **Depends on:** none\n**Verify:**\n```bash\nmake test\n```\n"
    moved = phases_of("\n\n\n" + text)[0]
    phase = phases_of(text)[0]
    assert phase.scripts[0].line != moved.scripts[0].line
    assert phase.hash_data() == moved.hash_data()
    assert phase.hash_data()["scripts"] == [{"field": "verify", "text": "make test\n"}]
    assert "line" not in phase.hash_data()
    assert phase.to_dict()["scripts"][0]["line"] == 5  # to_dict keeps it


def test_an_inline_testing_value_continues_on_the_next_line():
    text = """\
### Phase 1: Banner
dependencies: []
**Testing**: start the dev server, log in and wait
two minutes; the banner must appear.

Prose about the phase.
"""
    phase = phases_of(text)[0]
    assert phase.procedures == [
        "start the dev server, log in and wait two minutes; the banner must appear."]
