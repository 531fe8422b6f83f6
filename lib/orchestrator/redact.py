"""Secret redaction for everything the project writes: logs, journals, reports, error files.

Three kinds of secret are replaced, in a single pass of one precompiled regex:

- the values of secret-looking environment variables (``[REDACTED:GITHUB_TOKEN]``);
- strings shaped like known credentials (``[REDACTED:anthropic-key]``), wherever they start:
  after a letter, a digit, an escape such as ``\\n`` inside JSON or ``%3D`` in a URL. Being
  safe beats being pretty: ``task-ant-<20 chars>`` is redacted too. The generic ``sk-`` shape
  needs an upper-case letter or a digit in its body (every real key has many), so that
  hyphenated words such as ``risk-management-...`` stay;
- the values of fields whose name says they hold a secret (``secret``, ``token``,
  ``password``, ``passwd``, ``passphrase``, ``api_key``/``apikey``/``api-key``,
  ``private_key``, in any case, anywhere in the name): JSON ``"SessionToken": "..."``,
  ``KEY=value`` (env files, CLI ``--password=...``, ``%3D`` in URLs) and ``key: value``
  (YAML, headers). The name stays visible: ``"SessionToken": "[REDACTED:secret]"``. A quoted
  value runs to its closing quote, a bare one to the next space, quote or ``, ; & | < > ( )
  { } [ ]``. ``redact_data`` treats a dict the same way: the string under a secret-named key
  is replaced whole. Left as they are: values shorter than MIN_SECRET_LEN, ``null``/
  ``true``/``false``/``none``/``nil``/``undefined``, numbers, shell references (``$NAME``,
  ``${NAME}``), placeholders (``<your-token>``) and markers already redacted.
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
# A field named like a secret: the rest of its name, the separator (quotes, `:`, `=`, `%3D`,
# an auth scheme), then the value. Lookbehinds tell which quote, if any, opened the value.
_FIELD_SEP = (r"[A-Za-z0-9_-]*(?:\\?[\"'])?[ \t]*(?:[:=]|%3[ADad])[ \t]*(?:\\?[\"'])?"
              r"(?:(?i:bearer|basic|token)[ \t]+)?")
_BARE = r"[^\s\"'`\\,;&|<>(){}\[\]]"
_VALUE_END = r"(?!" + _BARE + ")"
_NON_SECRETS = (r"(?i:null|none|nil|true|false|undefined)|[0-9.]+|\$\{[^}\s]*\}"
                r"|\$[A-Z_][A-Z0-9_]*|<[^<>\s]*>")
_NOT_SECRET = (r"(?!(?:" + _NON_SECRETS + ")" + _VALUE_END
               + r"|\[REDACTED|-----BEGIN )")  # a key block is the "pem" shape's
# The same rules for a string under a dict key (redact_data): the name, and the whole value.
_SECRET_KEY = re.compile(r"secret|token|passw(?:or)?d|passphrase|api[_-]?key|private[_-]?key",
                         re.I)
_NON_SECRET_VALUE = re.compile(r"\s*(?:" + _NON_SECRETS + r")\s*|\s*\[REDACTED.*", re.S)
_AT_LEAST = f"{{{MIN_SECRET_LEN},}}"
_FIELD = (_FIELD_SEP + r"(?P<s>" + _NOT_SECRET
          + r"(?:(?<=\\\")(?:[^\"\\\n]|\\[^\"\n])" + _AT_LEAST  # JSON in a JSON string
          + r"|(?<=\")(?<!\\\")(?:[^\"\\\n]|\\.)" + _AT_LEAST
          + r"|(?<=')[^'\n]" + _AT_LEAST
          + r"|(?<![\"'])" + _BARE + _AT_LEAST + "))")
FIELD_LABEL = "secret"
# (name, marker label, first chars, the rest of the pattern). Each alternative of the combined
# regex starts with a plain char, which lets `re` skip quickly over text that cannot match.
# A group "s" inside marks the secret part; what precedes it is kept. No shape looks at what
# comes before it: a key is redacted wherever it starts.
_SHAPES = (
    ("pem", "private-key", "-", _PEM_HEAD + _PEM_BODY),
    ("anthropic", "anthropic-key", "s", r"k-ant-[A-Za-z0-9_-]{20,}"),
    ("openai", "openai-key", "s",
     r"k-(?!ant-)(?:proj-|svcacct-|admin-)?(?=[a-z_-]*[A-Z0-9])[A-Za-z0-9_-]{20,}"),
    ("github", "github-token", "g",
     r"(?:h[pousr]_[A-Za-z0-9]{30,}|ithub_pat_[A-Za-z0-9_]{22,})"),
    ("awsid", "aws-access-key", "A", r"(?:KIA|SIA)[0-9A-Z]{16}"),
    ("awssecret", "aws-secret-key", "aA",
     r"(?i:ws_secret_access_key)[\"']?\s*[=:]\s*[\"']?(?P<s>[A-Za-z0-9/+=]{40})"),
    ("auth", "authorization", "aA",
     r"(?i:uthorization)\\?[\"']?\s*[:=]\s*\\?[\"']?(?i:bearer|basic|token)[ \t]+"
     r"(?P<s>" + _TOKEN + "{8,})"),
    # A bearer token wherever it stands (an escaped header, a curl line): 20+ token chars.
    ("bearer", "bearer-token", "bB", r"(?i:earer)[ \t]+(?P<s>" + _TOKEN + "{20,})"),
    ("slack", "slack-token", "x", r"ox[abposr]-[A-Za-z0-9-]{10,}"),
    ("stripe", "stripe-key", "sr", r"k_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("npm", "npm-token", "n", r"pm_[A-Za-z0-9]{36}"),
    ("google", "google-api-key", "A", r"Iza[0-9A-Za-z_-]{35}"),
    # The password of a URL: scheme://user:PASSWORD@host (the user name stays).
    ("urlpass", "url-password", ":",
     r"//[^\s:/@\"'`]{0,256}:(?P<s>[^\s/\"'`]{1,256})(?=@[^\s@/\"'`]+)"),
    ("apikey", "api-key-header", "xX",
     r"(?i:-api-key)[\"']?\s*[:=]\s*[\"']?(?P<s>" + _TOKEN + "{8,})"),
    # Fields start at a rare letter of the telling word (its start is checked by look-behind),
    # so the scan stays fast. A shape that starts earlier wins; a value that is a shape or a
    # variable's value is named after it (Redactor._label_of).
    ("keyfield", FIELD_LABEL, "kK",
     r"(?i:e)(?:(?i:n)(?<=(?i:token))|(?i:y)(?:(?<=(?i:apikey))|(?<=(?i:api[_-]key))))"
     + _FIELD),
    ("secretfield", FIELD_LABEL, "cC", r"(?i:ret)(?<=(?i:secret))" + _FIELD),
    ("passfield", FIELD_LABEL, "wW",
     r"(?:(?i:ord)(?<=(?i:password))|(?i:d)(?<=(?i:passwd)))" + _FIELD),
    ("phrasefield", FIELD_LABEL, "pP", r"(?i:hrase)(?<=(?i:passphrase))" + _FIELD),
    ("privatefield", FIELD_LABEL, "vV", r"(?i:ate)(?<=(?i:private))[_-]?(?i:key)" + _FIELD),
)


def _shape_branches() -> tuple[list[str], dict[str, tuple[str, str | None]]]:
    """The regex alternatives, one per first char (fewer alternatives to try at each place
    that may start a secret), and group name -> (label, name of its secret group)."""
    bodies: dict[str, list[str]] = {}
    groups = {}
    for name, label, firsts, rest in _SHAPES:
        for index, first in enumerate(firsts):
            group = f"{name}{index}"
            secret = f"{group}s" if "(?P<s>" in rest else None
            body = rest.replace("(?P<s>", f"(?P<{secret}>")
            bodies.setdefault(first, []).append(f"(?P<{group}>{body})")
            groups[group] = (label, secret)
    branches = [f"{re.escape(first)}(?:{'|'.join(alternatives)})"
                for first, alternatives in bodies.items()]
    return branches, groups


_BRANCHES, _GROUPS = _shape_branches()

MAX_LINE = 1 << 20  # a stream flushes a line without newline in pieces past this size
OVERLAP = 256  # chars kept back at such a cut, so a key across it is still seen whole
HOLD = 64 << 10  # how long a stream waits for the rest of a secret (a PEM block's END)
CONTEXT = 16  # chars written that a stream keeps as look-behind context (field names)
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
        if label == FIELD_LABEL:
            label = self._label_of(match.group(secret))
        return f"{kept}[REDACTED:{label}]"

    def _label_of(self, value: str) -> str:
        """A field value's marker label: the variable or key shape it is, if it is one."""
        if value in self._values:
            return self._values[value]
        whole = self._pattern.fullmatch(value)
        if whole is not None and whole.lastgroup is not None:
            return _GROUPS[whole.lastgroup][0]
        return FIELD_LABEL

    def redact(self, text: str) -> str:
        return self._pattern.sub(self._replace, text)

    def redact_data(self, obj):
        """A copy of ``obj`` with every string redacted, dict keys included, and the string
        values of secret-named keys replaced whole."""
        if isinstance(obj, str):
            return self._pattern.sub(self._replace, obj)
        if isinstance(obj, dict):
            return {self.redact_data(k): self._redact_value(k, v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.redact_data(item) for item in obj]
        if isinstance(obj, tuple):
            return tuple(self.redact_data(item) for item in obj)
        return obj

    def _redact_value(self, key, value):
        """A dict value; a secret-named key's string is a secret whatever its shape."""
        if (isinstance(value, str) and isinstance(key, str) and _SECRET_KEY.search(key)
                and len(value.strip()) >= MIN_SECRET_LEN
                and not _NON_SECRET_VALUE.fullmatch(value)):
            return f"[REDACTED:{self._label_of(value.strip())}]"
        return self.redact_data(value)

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
        self._before = ""  # the last chars written: look-behind context for the next piece
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
            self._before = text[max(cut - CONTEXT, 0):cut]
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
