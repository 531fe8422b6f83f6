"""Agent definitions: lookup order, frontmatter names, fallback, malformed files, bundle."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from orchestrator.agents.definitions import (
    BUNDLE_DIR,
    AgentDefinitionError,
    find_agent,
    load_agent,
    parse_agent,
)
from orchestrator.errors import OrchestrateError

KNOWN_TOOLS = {"Read", "Write", "Edit", "MultiEdit", "Bash", "Grep", "Glob", "WebFetch",
               "WebSearch", "TodoWrite", "NotebookEdit", "Task"}
UNKNOWN_WARNING = ("unknown owner {!r}: no agent definition in .claude/agents/ or "
                   "~/.claude/agents/; using the general implementer")


def agent_text(name: str, description: str = "Does one thing well.", extra: str = "",
               body: str = "You are a test agent.") -> str:
    return f"---\nname: {name}\ndescription: {description}\n{extra}---\n\n{body}\n"


@pytest.fixture
def dirs(tmp_path):
    """A project root and a home, each with an empty .claude/agents/ folder."""
    project, home = tmp_path / "project", tmp_path / "home"
    for root in (project, home):
        (root / ".claude" / "agents").mkdir(parents=True)

    def write(where: Path, file_name: str, text: str) -> Path:
        path = where / ".claude" / "agents" / file_name
        path.write_text(text, encoding="utf-8")
        return path

    return project, home, write


def test_project_definition_wins_over_user_and_bundle(dirs):
    project, home, write = dirs
    write(project, "implementer.md", agent_text("implementer", body="project body"))
    write(home, "implementer.md", agent_text("implementer", body="user body"))
    agent, warning = find_agent("implementer", project, home)
    assert warning is None
    assert (agent.source, agent.prompt) == ("project", "project body\n")
    assert agent.path == project / ".claude" / "agents" / "implementer.md"


def test_user_definition_wins_over_bundle(dirs):
    project, home, write = dirs
    write(home, "designer.md", agent_text("designer", body="user body"))
    agent, warning = find_agent("designer", project, home)
    assert (agent.source, agent.prompt, warning) == ("user", "user body\n", None)


def test_the_user_folder_is_claude_config_dir_when_it_is_set(dirs, tmp_path, monkeypatch):
    """As Claude Code does: $CLAUDE_CONFIG_DIR/agents, and ~/.claude/agents is not read."""
    project, home, write = dirs
    write(home, "designer.md", agent_text("designer", body="home body"))
    config = tmp_path / "config"
    (config / "agents").mkdir(parents=True)
    (config / "agents" / "designer.md").write_text(agent_text("designer", body="config body"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    agent, _ = find_agent("designer", project)
    assert (agent.source, agent.prompt) == ("user", "config body\n")
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    agent, _ = find_agent("designer", project)
    assert (agent.source, agent.prompt) == ("user", "home body\n")


def test_bundle_definition_when_nothing_else_matches(dirs):
    project, home, _ = dirs
    agent, warning = find_agent("designer", project, home)
    assert (agent.name, agent.source, warning) == ("designer", "bundle", None)
    assert agent.path == BUNDLE_DIR / "designer.md"


def test_missing_agent_folders_are_fine(tmp_path):
    agent, warning = find_agent("designer", tmp_path / "nowhere", tmp_path / "nohome")
    assert (agent.name, agent.source, warning) == ("designer", "bundle", None)


def test_match_by_frontmatter_name(dirs):
    project, home, write = dirs
    path = write(project, "rust_developer.md", agent_text("rust-dev"))
    write(project, "other.md", agent_text("someone-else"))
    agent, warning = find_agent("rust-dev", project, home)
    assert (agent.name, agent.path, warning) == ("rust-dev", path, None)


def test_frontmatter_name_in_project_wins_over_file_name_in_home(dirs):
    project, home, write = dirs
    write(project, "rust_developer.md", agent_text("rust-dev", body="project"))
    write(home, "rust-dev.md", agent_text("rust-dev", body="user"))
    agent, _ = find_agent("rust-dev", project, home)
    assert agent.source == "project"


def test_file_name_match_wins_within_a_folder(dirs):
    project, home, write = dirs
    write(project, "a-first.md", agent_text("reviewer", body="by name"))
    write(project, "reviewer.md", agent_text("code-reviewer", body="by file"))
    agent, _ = find_agent("reviewer", project, home)
    assert agent.prompt == "by file\n"


def test_a_broken_unrelated_file_does_not_stop_the_lookup(dirs):
    project, home, write = dirs
    write(project, "broken.md", "---\nname: [unclosed\n")
    (project / ".claude" / "agents" / "binary.md").write_bytes(b"\xff\xfe\x00garbage")
    path = write(project, "writer.md", agent_text("doc-writer"))
    agent, _ = find_agent("doc-writer", project, home)
    assert agent.path == path


def test_unknown_owner_falls_back_to_the_general_implementer(dirs):
    project, home, _ = dirs
    agent, warning = find_agent("backend-architect", project, home)
    assert (agent.name, agent.source) == ("implementer", "bundle")
    assert warning == UNKNOWN_WARNING.format("backend-architect")
    assert warning == ("unknown owner 'backend-architect': no agent definition in "
                       ".claude/agents/ or ~/.claude/agents/; using the general implementer")


def test_no_owner_gets_the_implementer_without_a_warning(dirs):
    project, home, _ = dirs
    agent, warning = find_agent(None, project, home)
    assert (agent.name, agent.source, warning) == ("implementer", "bundle", None)


def test_another_fallback_can_be_asked_for(dirs):
    project, home, _ = dirs
    agent, warning = find_agent("architect", project, home, fallback="designer")
    assert agent.name == "designer"
    assert warning.endswith("; using the bundled designer")


@pytest.mark.parametrize("owner", [
    "../../etc/passwd", "../evil", "a/b", "a\\b", ".hidden", "..", "", " implementer",
    "implementer\n", "Rust Developer", "/abs/path", "x" * 101, "na\x00me",
])
def test_owners_that_are_not_plain_names_are_not_found(dirs, owner):
    project, home, write = dirs
    (project / "evil.md").write_text(agent_text("evil"))
    (project / ".claude" / "agents" / "sub").mkdir()
    write(project, "sub/b.md", agent_text("a/b"))
    agent, warning = find_agent(owner, project, home)
    assert (agent.name, agent.source) == ("implementer", "bundle")
    assert warning == UNKNOWN_WARNING.format(owner)


def test_traversal_does_not_reach_a_file_outside_the_folders(dirs):
    project, home, _ = dirs
    (project / "evil.md").write_text(agent_text("evil"))
    agent, _ = find_agent("../../evil", project, home)
    assert agent.name == "implementer"


FRONTMATTERS = [
    ("tools: Read, Write, Bash\n", ["Read", "Write", "Bash"], None),
    ("tools:\n  - Read\n  - 'Write'\n  - \"Bash\"\n", ["Read", "Write", "Bash"], None),
    ("tools:\n- Read\n- Grep\nmodel: sonnet\n", ["Read", "Grep"], "sonnet"),
    ("tools: [Read, \"Glob\"]\nmodel: 'opus'\n", ["Read", "Glob"], "opus"),
    ("tools: []\n", [], None),
    ("# a comment\ncolor: blue\nmodel: haiku  # cheap\n", [], "haiku"),
    ("tools:\nmodel:\n", [], None),
]


@pytest.mark.parametrize("extra, tools, model", FRONTMATTERS)
def test_frontmatter_forms(tmp_path, extra, tools, model):
    agent = parse_agent(agent_text("x", extra=extra), tmp_path / "x.md")
    assert (agent.tools, agent.model) == (tools, model)


def test_quoted_and_multi_line_values(tmp_path):
    text = textwrap.dedent("""\
        ---
        name: "quoted-name"
        description: >
          Reviews code for
          security issues.
        model: 'it''s'
        ---
        Body line one.

        Body line two.
        """)
    agent = parse_agent(text, tmp_path / "a.md")
    assert agent.name == "quoted-name"
    assert agent.description == "Reviews code for security issues."
    assert agent.model == "it's"
    assert agent.prompt == "Body line one.\n\nBody line two.\n"


def test_a_value_on_the_next_lines(tmp_path):
    text = "---\nname: n\ndescription:\n  Use when the phase\n  touches the schema.\n---\n"
    agent = parse_agent(text, tmp_path / "a.md")
    assert agent.description == "Use when the phase touches the schema."
    assert agent.prompt == ""


def test_block_literal_keeps_lines(tmp_path):
    text = "---\nname: n\ndescription: |\n  first\n  second\ntools: Read\n---\nbody\n"
    agent = parse_agent(text, tmp_path / "a.md")
    assert (agent.description, agent.tools) == ("first\nsecond", ["Read"])


MALFORMED = [
    ("no frontmatter here\n", 1, "no frontmatter"),
    ("", 1, "no frontmatter"),
    ("---\nname: x\ndescription: y\n", 1, "the frontmatter has no closing '---'"),
    ("---\nname: x\ndescription: y\nthis is not a key\n---\n", 4, "expected 'key: value'"),
    ("---\nname: x\n---\n", 1, "missing 'description'"),
    ("---\ndescription: y\n---\n", 1, "missing 'name'"),
    ("---\nname: \"\"\ndescription: y\n---\n", 2, "'name' is empty"),
    ("---\nname: x\nname: z\ndescription: y\n---\n", 3, "'name' appears twice"),
    ("---\nname: x\ndescription: y\n- Read\n---\n", 4, "list item outside a list"),
    ("---\nname: x\ndescription: y\ntools: Read\n  - Bash\n---\n", 5, "list item outside"),
    ("---\nname: \"unterminated\ndescription: y\n---\n", 2, "bad double-quoted value"),
    ("---\nname: 'unterminated\ndescription: y\n---\n", 2, "unterminated quoted value"),
    ("---\nname:\n  - a\n  - b\ndescription: y\n---\n", 2, "'name' must be text"),
    ("---\n  indented: first\n---\n", 2, "unexpected indented line"),
]


@pytest.mark.parametrize("text, line, message", MALFORMED)
def test_malformed_files_name_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "agent.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AgentDefinitionError, match=f"agent.md:{line}: {message}") as caught:
        load_agent(path)
    assert (caught.value.path, caught.value.line) == (str(path), line)
    assert isinstance(caught.value, OrchestrateError) and caught.value.exit_code == 2


def test_a_malformed_matching_definition_is_an_error_not_a_fallback(dirs):
    project, home, write = dirs
    write(project, "rust-dev.md", "---\nname: rust-dev\n---\n")
    with pytest.raises(AgentDefinitionError, match=r"rust-dev\.md:1: missing 'description'"):
        find_agent("rust-dev", project, home)


def test_a_malformed_file_matched_by_frontmatter_name_is_an_error(dirs):
    project, home, write = dirs
    write(project, "rd.md", "---\nname: rust-dev\ndescription: x\nbroken line\n---\n")
    with pytest.raises(AgentDefinitionError, match=r"rd\.md:4: expected 'key: value'"):
        find_agent("rust-dev", project, home)


def test_binary_and_huge_files_are_rejected(tmp_path):
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"---\nname: x\n\xff\xfe\n---\n")
    with pytest.raises(AgentDefinitionError, match=r"binary\.md:3: not UTF-8 text"):
        load_agent(binary)
    huge = tmp_path / "huge.md"
    huge.write_text(agent_text("x", body="y" * (300 << 10)))
    with pytest.raises(AgentDefinitionError, match=r"huge\.md: larger than 256 KiB"):
        load_agent(huge)
    with pytest.raises(AgentDefinitionError, match=r"gone\.md: cannot read"):
        load_agent(tmp_path / "gone.md")


def test_byte_order_mark_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "win.md"
    path.write_bytes("\ufeff---\r\nname: win\r\ndescription: d\r\n---\r\nbody\r\n".encode())
    agent = load_agent(path)
    assert (agent.name, agent.description, agent.prompt) == ("win", "d", "body\n")


@pytest.mark.parametrize("path", sorted(BUNDLE_DIR.glob("*.md")), ids=lambda p: p.name)
def test_bundled_definitions_parse_and_follow_the_house_style(path):
    agent = load_agent(path, "bundle")
    assert agent.name == path.stem
    assert len(agent.description) > 80
    assert agent.tools and set(agent.tools) <= KNOWN_TOOLS
    assert agent.model in (None, "sonnet", "opus", "haiku")  # the config may override it
    assert agent.prompt.startswith("You are the ")
    assert "STATUS: done | blocked" in agent.prompt
    assert "FILES:" in agent.prompt and "NOTES:" in agent.prompt
    assert len(path.read_text().splitlines()) < 70
    assert "MUST" not in agent.prompt and "CRITICAL" not in agent.prompt


def test_the_bundle_holds_the_implementer_the_designer_and_every_workflow_role():
    from orchestrator.engine.workflow import ROLES

    assert {p.stem for p in BUNDLE_DIR.glob("*.md")} >= {"implementer", "designer", *ROLES}
    designer = load_agent(BUNDLE_DIR / "designer.md")
    assert "design phase" in designer.description
    assert "write no behaviour" in designer.prompt


def test_an_agent_reply_nested_a_hundred_thousand_deep_is_a_failed_reply_not_a_crash():
    from orchestrator.agents.backend import ClaudeBackend

    hostile = "{" + '"a":{' * 100_000 + "}" * 100_001
    reply = ClaudeBackend("claude").read(hostile + "\n", 0)
    assert not reply.ok
