"""Bounded JSON reading: deep nesting is a ValueError, never a RecursionError."""

from __future__ import annotations

import json

import pytest
from orchestrator.jsonio import MAX_DEPTH, JSONTooDeep, loads_bounded, nesting_depth


@pytest.mark.parametrize("text, depth", [
    ("1", 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4), ('["]]]]", "[[[", "{"]', 1),
    ('["a\\"[[", "\\\\", [[]]]', 3), ('[""]', 1), ('"\\\\"', 0), ("[" * 5, 5),
    ('{"é": ["ü[", {"x": "\\u005b"}]}', 3),
])
def test_nesting_depth_skips_strings(text, depth):
    assert nesting_depth(text) == depth


@pytest.mark.parametrize("data", [
    "[" * 100_000 + "]" * 100_000, "[" * 100_000, '{"a": ' * 100_000,
    ("[" * 100_000).encode(), ("[" * 100_000).encode("utf-16"),
    "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
])
def test_too_deep_is_a_value_error_naming_the_label(data):
    with pytest.raises(JSONTooDeep, match=r"^state\.json: JSON nested more than 64 levels deep$") \
            as caught:
        loads_bounded(data, "state.json")
    assert isinstance(caught.value, ValueError) and caught.value.max_depth == MAX_DEPTH


def test_within_the_limit_it_is_json_loads():
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert loads_bounded(nested, "x") == json.loads(nested)
    doc = {"a": ["[[[", {"b": None}], "c": 1.5, "d": "é"}
    for data in (json.dumps(doc), json.dumps(doc).encode(), json.dumps(doc).encode("utf-16"),
                 bytearray(json.dumps(doc).encode())):
        assert loads_bounded(data, "x") == doc
    assert loads_bounded("[[[1]]]", "x", max_depth=3) == [[[1]]]
    with pytest.raises(JSONTooDeep, match="more than 2 levels"):
        loads_bounded("[[[1]]]", "x", max_depth=2)


def test_bad_json_raises_what_json_loads_raises():
    with pytest.raises(json.JSONDecodeError):
        loads_bounded('{"a": ', "x")
    with pytest.raises(UnicodeDecodeError):
        loads_bounded(b"\xff\xfe\x00", "x")

    def no_constants(name: str):
        raise ValueError(f"no {name}")

    with pytest.raises(ValueError, match="no NaN"):
        loads_bounded("[NaN]", "x", parse_constant=no_constants)
