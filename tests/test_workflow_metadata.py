"""Report metadata: what is taken from a research report, and the bounds that hold
whatever the file is."""

from __future__ import annotations

import json
import os
import textwrap

import pytest
from orchestrator.playbooks.orchestrate.metadata import (
    MAX_FINDING,
    MAX_FINDINGS,
    MAX_SECTIONS,
    MAX_SUMMARY,
    MAX_TITLE,
    READ_LIMIT,
    SUMMARY_WORDS,
    MetadataError,
    extract_report_metadata,
)
from orchestrator.store.safefs import UnsafePath

REPORT = """\
---
title: front matter is not the title
---
# Research Report: OAuth *patterns*

Date: 2026-01-01

## Executive Summary

PKCE is the current practice for public clients. Tokens should be
short-lived and refresh tokens rotated.

## 2. Key Findings:

- PKCE everywhere,
  for every client
  - a nested detail, left out
- **Rotate** refresh tokens ([RFC](https://example.com))

```
## Not a heading
```

## Recommendations

- not these: the findings came first
"""


def _write(tmp_path, text, name="report.md"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_typical_report(tmp_path):
    path = _write(tmp_path, REPORT)
    assert extract_report_metadata(path) == {
        "path": str(path),
        "title": "Research Report: OAuth patterns",
        "summary": "PKCE is the current practice for public clients. Tokens should be "
                   "short-lived and refresh tokens rotated.",
        "key_findings": ["PKCE everywhere, for every client", "Rotate refresh tokens (RFC)"],
        "sections": ["Executive Summary", "2. Key Findings:", "Recommendations"],
        "truncated": False, "binary": False}


@pytest.mark.parametrize(("text", "summary"), [
    ("# T\n\nFirst paragraph.\n\nSecond.\n", "First paragraph."),
    ("# T\n\n- a list is not a summary\n\nThe paragraph.\n", "The paragraph."),
    ("# T\n\nIntro.\n\n## Overview\n\nThe overview wins.\n", "The overview wins."),
    ("# T\n\n## Summary\n\n- listed summary\n", "listed summary"),
    ("No heading at all.\n\nMore.\n", "No heading at all."),
    ("# Only a title\n", None),
    ("", None),
])
def test_summary(tmp_path, text, summary):
    assert extract_report_metadata(_write(tmp_path, text))["summary"] == summary


@pytest.mark.parametrize(("text", "findings"), [
    ("## Findings\n\n1. one\n2. two\n", ["one", "two"]),
    ("## Key findings\n\nProse first.\n\n* a\n* b\n", ["a", "b"]),
    ("## Recommendations\n- do x\n", ["do x"]),
    ("## Findings\n\nno list here\n\n## Recommendations\n- r\n", ["r"]),
    ("## Findings elsewhere\n- f\n", ["f"]),
    ("## Related findings\n- not a findings section\n", []),
    ("## Key Findings\n", []),
])
def test_findings(tmp_path, text, findings):
    assert extract_report_metadata(_write(tmp_path, text))["key_findings"] == findings


def test_everything_is_bounded(tmp_path):
    long = "word " * 400
    items = "".join(f"- {long}\n" for _ in range(20))
    sections = "".join(f"## Section {n} {long}\n" for n in range(50))
    text = f"# {long}\n\n## Summary\n\n{long}\n\n## Key Findings\n\n{items}\n{sections}"
    data = extract_report_metadata(_write(tmp_path, text))
    assert len(data["title"]) <= MAX_TITLE and data["title"].endswith("…")
    assert len(data["summary"]) <= MAX_SUMMARY + 1
    assert len(data["summary"].split()) <= SUMMARY_WORDS
    assert len(data["key_findings"]) == MAX_FINDINGS
    assert all(len(item) <= MAX_FINDING for item in data["key_findings"])
    assert len(data["sections"]) == MAX_SECTIONS
    assert len(json.dumps(data)) < 6000


def test_a_ten_megabyte_file_is_read_in_part(tmp_path):
    path = tmp_path / "big.md"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("# Big\n\nThe start.\n\n")
        chunk = ("filler " * 100 + "\n\n") * 100
        while handle.tell() < 10 * READ_LIMIT:
            handle.write(chunk)
    data = extract_report_metadata(path)
    assert (data["title"], data["summary"], data["truncated"]) == ("Big", "The start.", True)


def test_binary_junk_gives_empty_metadata(tmp_path):
    data = extract_report_metadata(_write(tmp_path, b"\x89PNG\r\n\x1a\n\0\0" + os.urandom(4096)))
    assert data["binary"] is True
    assert (data["title"], data["summary"], data["key_findings"], data["sections"]) == \
        (None, None, [], [])


def test_text_that_is_not_utf8_or_has_control_characters(tmp_path):
    data = extract_report_metadata(_write(tmp_path, b"# T\xff\x1b[31mred\n\nok\x07 bell\n"))
    assert data["title"] == "T red" and data["summary"] == "ok bell"


def test_deep_nesting_does_not_break_it(tmp_path):
    text = ">" * 100_000 + " x\n" + "- " * 50_000 + "y\n" + "[" * 100_000 + "\n"
    data = extract_report_metadata(_write(tmp_path, text))
    assert data["title"] is None


def test_a_missing_file_or_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(MetadataError, match=r"nope\.md: no such file$") as caught:
        extract_report_metadata(tmp_path / "nope.md")
    assert caught.value.exit_code == 2
    with pytest.raises(MetadataError, match="cannot read: Is a directory"):
        extract_report_metadata(tmp_path)


def test_a_planted_link_is_not_summarised(tmp_path):
    secret = _write(tmp_path, "# private key\n\nsecret\n", "secret.md")
    (tmp_path / "report.md").symlink_to(secret)
    with pytest.raises(UnsafePath, match="report.md"):
        extract_report_metadata(tmp_path / "report.md")


def test_a_fifo_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "pipe.md")
    with pytest.raises(MetadataError, match="not a regular file"):
        extract_report_metadata(tmp_path / "pipe.md")


def test_cli_metadata(cli, tmp_path):
    path = _write(tmp_path, REPORT)
    data = cli("topic", "metadata", str(path), "--json").json()
    assert data["schema"] == "orchestrate/report-metadata@1"
    assert set(data) == {"schema", "path", "title", "summary", "key_findings", "sections",
                         "truncated", "binary"}
    text = cli("topic", "metadata", str(path)).out.splitlines()
    assert text[0] == "Research Report: OAuth patterns"
    assert text[2] == "- PKCE everywhere, for every client"
    assert text[-1] == "sections: Executive Summary; 2. Key Findings:; Recommendations"
    missing = cli("topic", "metadata", str(tmp_path / "gone.md"))
    assert missing.code == 2 and "gone.md: no such file" in missing.err
