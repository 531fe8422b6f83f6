"""The plans in shared/formats give their .expected.json; seed 000 reads as a spec."""

from __future__ import annotations

import json

import pytest

FORMAT_EXAMPLES = ["plan-example", "spec-example", "implementation-plan-example"]


def _assert_subset(expected, actual, where="$"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing"
            _assert_subset(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list) and expected and isinstance(expected[0], dict):
        assert len(actual) == len(expected), where
        for index, (exp, act) in enumerate(zip(expected, actual, strict=True)):
            _assert_subset(exp, act, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"


@pytest.mark.parametrize("name", FORMAT_EXAMPLES)
@pytest.mark.parametrize("command", ["validate", "waves"])
def test_format_example_matches_expected(cli, shared_dir, name, command):
    expected = json.loads((shared_dir / "formats" / f"{name}.expected.json").read_text())
    result = cli("plan", command, str(shared_dir / "formats" / f"{name}.md"), "--json")
    assert result.code == 0, result.err
    _assert_subset(expected, result.json())


@pytest.mark.parametrize("name", FORMAT_EXAMPLES)
def test_format_is_detected_and_override_agrees(cli, shared_dir, name):
    path = str(shared_dir / "formats" / f"{name}.md")
    detected = cli("plan", "validate", path, "--json").json()["format"]
    forced = cli("plan", "validate", path, "--json", "--format", detected).json()
    assert forced["format"] == detected
    assert forced["phases"] == cli("plan", "validate", path, "--json").json()["phases"]


def test_seed_000_read_as_spec(cli, shared_dir):
    seed = shared_dir / "seeds" / "000_51ff2ebb54e62b80.txt"
    result = cli("plan", "waves", str(seed), "--format", "spec", "--json")
    assert result.code == 0, result.err
    data = result.json()
    phases = data["phases"]
    assert [p["id"] for p in phases] == ["0", "1", "2", "3", "4", "FINAL"]
    assert [p["depends_on"] for p in phases] == [[], ["0"], ["1"], ["2"], ["3"], ["4"]]
    assert data["waves"] == [["0"], ["1"], ["2"], ["3"], ["4"], ["FINAL"]]
    first = phases[0]
    assert first["title"] == "Contracts & Architecture"
    assert len(first["verify"]) == 1
    assert first["verify"][0].startswith('python3 -c "import sys; sys.path.insert(0, ')
    assert first["verify"][0].endswith("print('Imports OK')\"")
    # The comment lines of BLOQUE 1's checkpoint are not commands.
    assert phases[1]["verify"][0] == "orchestrate docs/specs/test-debug-log.md"
    assert not any(cmd.startswith("#") for p in phases for cmd in p["verify"])
    # "**Checkpoint:**"-like text and headings inside code blocks create nothing: the
    # FINAL BLOQUE's integration-test code blocks are not labelled Checkpoint.
    assert phases[-1]["verify"] == []


def test_seed_000_is_detected_as_spec(cli, shared_dir):
    seed = shared_dir / "seeds" / "000_51ff2ebb54e62b80.txt"
    assert cli("plan", "validate", str(seed), "--json").json()["format"] == "spec"
