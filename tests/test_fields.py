"""Field recognition and value parsers, table-driven."""

from __future__ import annotations

import pytest
from orchestrator.plan import fields


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Phase 1, Phase 2", ["1", "2"]),
        ("[1, 2]", ["1", "2"]),
        ("[]", []),
        ("none", []),
        ("None.", []),
        ("N/A", []),
        ("1", ["1"]),
        ("Phase 2a", ["2a"]),
        ("BLOQUE FINAL", ["FINAL"]),
        ("Phases 1 and 3", ["1", "3"]),
        ("Phases 1-3", ["1", "2", "3"]),
        ("Phase 1 (design), Phase 2 (parser)", ["1", "2"]),
        ('["1", "2b"]', ["1", "2b"]),
        ("1, 1, 2", ["1", "2"]),
        ("Phase 2.1; Phase 3", ["2.1", "3"]),
        ("2.1, 2.2", ["2.1", "2.2"]),
        ("[2.1]", ["2.1"]),
        ("Phase 2.1.", ["2.1"]),
        ("2.1-2.3", ["2.1", "2.2", "2.3"]),
        ("Phases 2.1 – 2.2", ["2.1", "2.2"]),
        ("2.1-3.2", ["2.1-3.2"]),  # not one range: left whole, so validation names it
        ("α1, 2a", ["α1", "2a"]),
        ("Phase 1 – Phase 3", ["1", "3"]),
    ],
)
def test_parse_id_list(value, expected):
    assert fields.parse_id_list(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("6", 6.0),
        ("2-3", 2.5),
        ("2 - 4 hours", 3.0),
        ("30 min", 0.5),
        ("45 minutes", 0.75),
        ("1.5 hours", 1.5),
        ("~4h", 4.0),
        ("1 day", 8.0),
        ("unknown", None),
    ],
)
def test_parse_hours(value, expected):
    assert fields.parse_hours(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15m", 900),
        ("15 minutes", 900),
        ("1h30m", 5400),
        ("2h", 7200),
        ("90s", 90),
        ("90", 90),
        ("600000ms", 600),
        ("none", None),
        ("soon", None),
    ],
)
def test_parse_timeout(value, expected):
    assert fields.parse_timeout(value) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Depends on: Phase 1", ("depends_on", "Phase 1")),
        ("Dependencies: [1, 2]", ("depends_on", "[1, 2]")),
        ("dependencies: [1]", ("depends_on", "[1]")),
        ("depends_on: [2]", ("depends_on", "[2]")),
        ("Dependencies to add: oxc", ("dependencies_to_add", "oxc")),
        ("Files to modify:", ("files", "")),
        ("Checkpoint:", ("verify", "")),
        ("Validation:", ("verify", "")),
        ("Testing:", ("procedure", "")),
        ("Manual testing: open the page", ("procedure", "open the page")),
        ("Success Criteria:", ("acceptance", "")),
        ("Estimated Hours: 2-3", ("estimate", "2-3")),
        ("Note: this is prose", None),
        ("The plan: do things", None),
        ("no colon here", None),
    ],
)
def test_match_field(line, expected):
    assert fields.match_field(line) == expected


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("a\nb\n", ["a", "b"]),
        ("# comment\n\n  a  \n", ["a"]),
        ("cargo test \\\n  --all\n", ["cargo test \\\n  --all"]),
        ("cat > f <<'EOF'\n# kept\nx\nEOF\nls\n", ["cat > f <<'EOF'\n# kept\nx\nEOF", "ls"]),
        ("cat <<-END\n\tx\n\tEND\n", ["cat <<-END\n\tx\n\tEND"]),
        ("", []),
    ],
)
def test_split_commands(script, expected):
    assert fields.split_commands(script) == expected


@pytest.mark.parametrize(
    ("value", "codes", "expected"),
    [
        ("`a.py`, `b.py`", ["a.py", "b.py"], ["a.py", "b.py"]),
        ("a.py, b.py (new)", [], ["a.py", "b.py"]),
        ("none", [], []),
    ],
)
def test_parse_files(value, codes, expected):
    assert fields.parse_files(value, codes) == expected


@pytest.mark.parametrize(
    ("info", "expected"),
    [("", True), ("bash", True), ("sh", True), ("Shell", True), ("zsh", True),
     ("python", False), ("console", False), ("text", False), ("yaml", False)],
)
def test_is_shell_info(info, expected):
    assert fields.is_shell_info(info) is expected
