"""The analysis of a feature description: workflow type, the seed's complexity score,
thinking mode and research topics. Table-driven: each row is a description and what the
documented rule gives for it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from orchestrator.playbooks.orchestrate.analysis import (
    WORKFLOW_TYPES,
    analyze,
    complexity_band,
    estimate_files,
    research_topics,
    thinking_mode,
    workflow_type,
)

TOPIC = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")


@pytest.mark.parametrize(("description", "kind"), [
    ("Add user authentication with OAuth2", "feature"),
    ("Implement a plugin system", "feature"),
    ("Fix the crash in the login form", "debug"),
    ("Login fails when the password is empty", "debug"),
    ("Refactor the payment module to fix the retry bug", "refactor"),  # the first word
    ("Clean up the config loader", "refactor"),
    ("Investigate why login fails", "investigation"),
    ("Compare Redis and Memcached for sessions", "investigation"),
    ("Dark mode for the settings page", "feature"),  # no telling word
    ("", "feature"),
])
def test_workflow_type(description, kind):
    assert workflow_type(description) == kind


@pytest.mark.parametrize(("description", "files"), [
    ("Fix typo in README.md", 2),  # one part: code and test
    ("Add login, logout and password reset", 6),  # three parts
    ("Update lib/a.py, lib/b.py, lib/c.py and docs/d.md", 4),  # four named files
    ("Rename config keys across the codebase", 12),  # one part, plus 10 for "across"
    ("", 0),
])
def test_estimate_files(description, files):
    assert estimate_files(description) == files


@pytest.mark.parametrize(("score", "band", "mode"), [
    (0, "low", None), (3, "low", None), (4, "medium", "think"), (6, "medium", "think"),
    (7, "high", "think hard"), (9, "high", "think hard"), (10, "critical", "think harder"),
    (40, "critical", "think harder"),
])
def test_bands_and_thinking_modes(score, band, mode):
    assert (complexity_band(score), thinking_mode(score)) == (band, mode)


# (description, score, thinking mode, research topics)
CASES = [
    # add x2, 2 files -> 0: base 2, low, no research
    ("Fix typo in README.md", 0, None, ()),
    ("Add a dark mode toggle", 2, None, ()),
    # implement x3 + security x4 = 7, 2 files -> 0: base 7, high: 3 topics, + (3-1) x 2
    ("Implement security audit logging", 11, "think harder",
     ("security_audit_logging", "existing_patterns", "best_practices")),
    # add x2 + improve x2 = 4, 4 files -> 0: base 4, medium: 2 topics, + 2
    ("Add retries and improve error messages", 6, "think",
     ("retries", "error_messages")),
    # implement x3, architecture x3, secure x4, breaking x4 = 14, 8 files -> 1: base 15
    ("Implement a plugin architecture with secure sandboxing, hot reload and breaking "
     "API changes", 21, "think harder",
     ("plugin_architecture", "secure_sandboxing", "hot_reload", "breaking_api_changes")),
    # an investigation gets one topic even when simple; (1-1) x 2 adds nothing
    ("Investigate why login fails", 0, None, ("login_fails",)),
    # security x4, 2 files -> 0: base 4, medium: 2 topics, + 2; a subject keeps three
    # words, and the debug workflow's generic topics fill in after the subjects
    ("Fix the security hole in session handling", 6, "think",
     ("security_hole_session", "failure_reproduction")),
    ("", 0, None, ()),
]


@pytest.mark.parametrize(("description", "score", "mode", "topics"), CASES)
def test_analyze(description, score, mode, topics):
    analysis = analyze(description)
    assert (analysis.score, analysis.thinking_mode, analysis.research_topics) == \
        (score, mode, topics)
    assert analysis.complexity == complexity_band(score)


def test_keywords_count_each_mention_and_their_inflections():
    assert analyze("implementing the implementation").keyword_points == 6
    assert analyze("adds added adding address additional").keyword_points == 6
    assert analyze("securing secure security; breaking").keyword_points == 16


def test_research_topics_fill_with_the_workflow_types_generic_ones():
    assert research_topics("Refactor", 4) == ("current_structure", "target_design",
                                              "migration_risks", "test_coverage")
    assert research_topics("Add caching with caching", 2) == ("caching", "existing_patterns")
    assert research_topics("anything", 0) == ()


def test_to_dict():
    assert analyze("Add retries and improve error messages").to_dict() == {
        "workflow_type": "feature", "score": 6, "complexity": "medium",
        "thinking_mode": "think", "research_topics": ["retries", "error_messages"],
        "estimated_files": 4, "keyword_points": 4}


@given(st.text())
def test_any_description_gives_a_bounded_analysis(description):
    analysis = analyze(description)
    assert analysis == analyze(description)  # deterministic
    assert analysis.workflow_type in WORKFLOW_TYPES
    assert 0 <= len(analysis.research_topics) <= 4
    assert len(set(analysis.research_topics)) == len(analysis.research_topics)
    assert all(TOPIC.fullmatch(t) and len(t) <= 40 for t in analysis.research_topics)
    assert analysis.thinking_mode == thinking_mode(analysis.score)
