"""Secret redaction for everything the project writes: logs, journals, reports, error files.

Two kinds of secret are replaced: the values of secret-looking environment variables
(``[REDACTED:GITHUB_TOKEN]``) and strings shaped like known credentials
(``[REDACTED:anthropic-key]``). One precompiled regex does both in a single pass.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping

__all__ = ["KNOWN_SECRET_VARS", "Redactor", "StreamRedactor", "default_redactor", "redact"]

KNOWN_SECRET_VARS = (
    "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "OPENAI_API_KEY",
    "GITHUB_TOKEN", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "NPM_TOKEN",
)
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|ACCESS_KEY", re.I)
MIN_SECRET_LEN = 8  # shorter values would turn ordinary words into markers

_PEM_HEAD = r"----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"
_PEM_TAIL = r"-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"
# A block up to its END line (within 64 KiB); failing that, as far as the text still looks
# like key material, so a truncated key is not left half visible.
_PEM_BODY = r"(?:(?s:.){0,65536}?" + _PEM_TAIL + r"|[A-Za-z0-9+/=\s:,\\-]*)"
_TOKEN = r"[A-Za-z0-9._~+/=-]"
_NO_WORD_BEFORE = r"(?<![A-Za-z0-9].)"  # placed after the first char, which it skips
# (name, marker label, first chars, the rest of the pattern). Each alternative of the combined
# regex starts with a plain char, which lets `re` skip quickly over text that cannot match.
# A group "s" inside marks the secret part; what precedes it is kept.
_SHAPES = (
    ("pem", "private-key", "-", _PEM_HEAD + _PEM_BODY),
    ("anthropic", "anthropic-key", "s", _NO_WORD_BEFORE + r"k-ant-[A-Za-z0-9_-]{20,}"),
    ("openai", "openai-key", "s",
     _NO_WORD_BEFORE + r"k-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
    ("github", "github-token", "g",
     _NO_WORD_BEFORE + r"(?:h[pousr]_[A-Za-z0-9]{30,}|ithub_pat_[A-Za-z0-9_]{22,})"),
    ("awsid", "aws-access-key", "A", r"(?<![A-Z0-9].)(?:KIA|SIA)[0-9A-Z]{16}(?![0-9A-Z])"),
    ("awssecret", "aws-secret-key", "aA",
     r"(?i:ws_secret_access_key)[\"']?\s*[=:]\s*[\"']?(?P<s>[A-Za-z0-9/+=]{40})"),
    ("auth", "authorization", "aA",
     r"(?i:uthorization)[\"']?\s*[:=]\s*[\"']?(?i:bearer|basic|token)[ \t]+"
     r"(?P<s>" + _TOKEN + "{8,})"),
    ("apikey", "api-key-header", "xX",
     r"(?i:-api-key)[\"']?\s*[:=]\s*[\"']?(?P<s>" + _TOKEN + "{8,})"),
)


def _shape_branches() -> tuple[list[str], dict[str, tuple[str, str | None]]]:
    """The regex alternatives, and group name -> (label, name of its secret group)."""
    branches, groups = [], {}
    for name, label, firsts, rest in _SHAPES:
        for index, first in enumerate(firsts):
            group = f"{name}{index}"
            secret = f"{group}s" if "(?P<s>" in rest else None
            body = rest.replace("(?P<s>", f"(?P<{secret}>")
            branches.append(f"{re.escape(first)}(?P<{group}>{body})")
            groups[group] = (label, secret)
    return branches, groups


_BRANCHES, _GROUPS = _shape_branches()

MAX_LINE = 1 << 20  # a stream flushes a line without newline in pieces past this size
OVERLAP = 256  # chars kept back at such a cut, so a key across it is still seen whole
HOLD = 64 << 10  # how long a stream waits for the rest of a secret (a PEM block's END)
_PEM_REST = re.compile(_PEM_BODY)
_PEM_END = re.compile(_PEM_TAIL)


def _secret_values(env: Mapping[str, str]) -> dict[str, str]:
    """Secret value -> variable name; known variables first, so they name shared values."""
    names = [n for n in KNOWN_SECRET_VARS if n in env]
    names += sorted(n for n in env if n not in KNOWN_SECRET_VARS and _SECRET_NAME.search(n))
    found: dict[str, str] = {}
    for name in names:
        value = env[name]
        # A multi-line value is also matched line by line: streams see one line at a time.
        for piece in (value, *value.splitlines()):
            piece = piece.strip()
            if len(piece) >= MIN_SECRET_LEN and not piece.isdigit():
                found.setdefault(piece, name)
    return found


class Redactor:
    """Replaces secrets in text; built once from an environment, then reused."""

    __slots__ = ("_values", "_pattern", "longest_value")

    def __init__(self, env: Mapping[str, str] | None = None):
        self._values = _secret_values(os.environ if env is None else env)
        self.longest_value = max(map(len, self._values), default=0)
        # Values come first and ungrouped (a match with no group is a value); longest first.
        literals = sorted(self._values, key=len, reverse=True)
        self._pattern = re.compile("|".join([*map(re.escape, literals), *_BRANCHES]))

    @property
    def secret_names(self) -> list[str]:
        """The environment variables whose values are redacted."""
        return sorted(set(self._values.values()))

    def _replace(self, match: re.Match) -> str:
        group = match.lastgroup
        if group is None:
            return f"[REDACTED:{self._values[match.group()]}]"
        label, secret = _GROUPS[group]
        kept = match.string[match.start():match.start(secret)] if secret else ""
        return f"{kept}[REDACTED:{label}]"

    def redact(self, text: str) -> str:
        return self._pattern.sub(self._replace, text)

    def redact_data(self, obj):
        """A copy of ``obj`` with every string redacted, dict keys included."""
        if isinstance(obj, str):
            return self._pattern.sub(self._replace, obj)
        if isinstance(obj, dict):
            return {self.redact_data(k): self.redact_data(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.redact_data(item) for item in obj]
        if isinstance(obj, tuple):
            return tuple(self.redact_data(item) for item in obj)
        return obj

    def stream(self, write: Callable[[str], None], max_line: int = MAX_LINE) -> StreamRedactor:
        """A writer that redacts process output arriving in chunks; see StreamRedactor."""
        return StreamRedactor(self, write, max_line)

    def _redact_prefix(self, text: str, start: int, end: int,
                       final: bool) -> tuple[int, str, bool]:
        """Redact ``text[start:cut]`` for the largest safe ``cut <= end``: no secret may go
        on past the cut, as what follows the text is not known yet (unless ``final``).
        ``text[:start]`` is look-behind context only. Returns the cut, the redacted text and
        whether it ends inside a private key block whose END has not been seen.
        """
        out, pos, cut, open_pem = [], start, end, False
        for match in self._pattern.finditer(text, start):
            begin, stop = match.span()
            if begin >= cut:
                break
            if not final and (stop > cut or stop == len(text)):  # may go on past the data
                if begin > start or len(text) - start <= HOLD:
                    cut = begin  # keep it back until it is complete
                    break
                cut = stop  # waited long enough: out it goes, redacted as it stands
                open_pem = match.lastgroup == "pem0" and not _PEM_END.search(text, begin, stop)
            out.append(text[pos:begin])
            out.append(self._replace(match))
            pos = stop
        out.append(text[pos:cut])
        return cut, "".join(out), open_pem


class StreamRedactor:
    """Redacts output that arrives in arbitrary chunks and passes on whole lines.

    ``feed`` writes only complete lines (redacted); ``close`` writes the rest. A line longer
    than ``max_line`` goes out in pieces, each cut keeping back enough text that a secret
    spanning it is matched whole in the next piece.
    """

    __slots__ = ("_redactor", "_write", "_max_line", "_overlap", "_parts", "_size",
                 "_before", "_in_pem", "_closed")

    def __init__(self, redactor: Redactor, write: Callable[[str], None],
                 max_line: int = MAX_LINE):
        self._redactor = redactor
        self._write = write
        self._max_line = max_line
        self._overlap = max(OVERLAP, redactor.longest_value)
        self._parts: list[str] = []
        self._size = 0
        self._before = ""  # the last char written: look-behind context for the next piece
        self._in_pem = False  # inside a key block whose start went out already
        self._closed = False

    def feed(self, chunk: str) -> None:
        if self._closed:
            raise ValueError("feed() after close()")
        if not chunk:
            return
        self._parts.append(chunk)
        self._size += len(chunk)
        if "\n" in chunk or self._size > self._max_line:
            self._drain(final=False)

    def close(self) -> None:
        if not self._closed:
            self._drain(final=True)
            self._closed = True

    def __enter__(self) -> StreamRedactor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _drain(self, final: bool) -> None:
        start = len(self._before)
        text = self._before + "".join(self._parts)
        if self._in_pem:  # swallow the rest of the block; its marker is out already
            stop = _PEM_REST.match(text, start).end()
            if stop == len(text) and not final and not _PEM_END.search(text, start):
                self._parts, self._size = [], 0
                return
            self._in_pem = False
            if stop > start:
                text, start = text[stop - 1:], 1
        if final:
            end = len(text)
        else:
            end = max(text.rfind("\n") + 1, start)
            if len(text) - end > self._max_line:
                end = max(len(text) - self._overlap, start)
        cut, out, self._in_pem = self._redactor._redact_prefix(text, start, end, final)
        if out:
            self._write(out)
        if cut > 0:
            self._before = text[cut - 1]
        rest = text[cut:]
        self._parts = [rest] if rest else []
        self._size = len(rest)


_default: Redactor | None = None


def default_redactor() -> Redactor:
    """A Redactor over ``os.environ`` as it was on first use."""
    global _default
    if _default is None:
        _default = Redactor()
    return _default


def redact(text: str) -> str:
    """Redact ``text`` with the default Redactor."""
    return default_redactor().redact(text)
