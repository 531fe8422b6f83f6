"""Which failures are worth retrying, how long to wait, and what to tell the user.

``classify_error`` reads what a failed agent or command left behind (its error text, the HTTP
status of an API failure, Claude Code's result ``subtype``, the exit code) and returns a
``Classification``: *transient* (waiting can fix it: rate limits, overload, 5xx, timeouts,
dropped connections), *permanent* (it fails again until someone acts: login, billing,
permissions, a bad request, a spent budget) or *unknown*; ``format_error_report`` turns a
classification into a few lines for people. How long to wait before retrying a transient
failure is engine/backoff.py's business.

Evidence is weighed in this order: an explicit HTTP ``status``; a ``subtype`` that names its
own failure (``error_max_budget_usd``, ``error_max_turns``); a status written in the text
("API Error: 529", "HTTP/1.1 503"); the text's wording; the exit code. A status decides the
kind, and the wording may only narrow the category within that kind: 400 with "credit balance
is too low" is ``billing``, but 429 stays ``rate_limit`` whatever the text says.

Spend and usage limits ("spend limit", "usage limit reached", "hit your limit") are permanent:
they reset after hours or at the end of a billing period, far beyond any retry budget, so
waiting inside the run only delays the report. Resume the run once the limit is raised or reset.

Pure: no I/O and nothing read from the environment. The caller redacts any text it prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CATEGORIES",
    "Classification",
    "classify_error",
    "format_error_report",
    "parse_retry_after",
]

TRANSIENT, PERMANENT, UNKNOWN = "transient", "permanent", "unknown"

# category -> (kind, one-line description, what the user should do)
CATEGORIES: dict[str, tuple[str, str, str]] = {
    "rate_limit": (TRANSIENT, "rate limited by the API",
                   "orchestrate waits and retries; lower --jobs if it persists"),
    "overloaded": (TRANSIENT, "the API is overloaded",
                   "orchestrate waits and retries; nothing to change on your side"),
    "server_error": (TRANSIENT, "the API failed with a server error",
                     "orchestrate waits and retries; if it persists, check "
                     "https://status.anthropic.com"),
    "timeout": (TRANSIENT, "the request timed out",
                "orchestrate waits and retries; if it persists, check the network or proxy"),
    "connection": (TRANSIENT, "the network connection failed",
                   "orchestrate waits and retries; if it persists, check the network, proxy "
                   "(HTTPS_PROXY) or VPN"),
    "conflict": (TRANSIENT, "the request conflicted with another one",
                 "orchestrate waits and retries"),
    "authentication": (PERMANENT, "authentication failed: the API key or login is invalid "
                                  "or expired",
                       "Check ANTHROPIC_API_KEY, or log in again with `claude` (then /login), "
                       "and resume the run"),
    "not_logged_in": (PERMANENT, "Claude Code is not logged in",
                      "Log in with `claude` (then /login) or set ANTHROPIC_API_KEY, and resume "
                      "the run"),
    "billing": (PERMANENT, "the account cannot be billed: the credit balance is too low or "
                           "billing is not set up",
                "Check the account's billing and credit balance (console.anthropic.com, "
                "Billing), then resume the run"),
    "permission": (PERMANENT, "permission denied",
                   "Check the API key's permissions (workspace, model access) and the tool "
                   "permissions in the config (allowed tools, permission mode), then resume "
                   "the run"),
    "invalid_request": (PERMANENT, "the API rejected the request as invalid",
                        "This is a bug in the request: check the model name and the flags "
                        "passed to claude in the config, then resume the run"),
    "not_found": (PERMANENT, "not found: the model or resource does not exist",
                  "Check the model name in the config (or the command's path), then resume "
                  "the run"),
    "context_length": (PERMANENT, "the prompt is too long for the model's context window",
                       "Split the step into smaller ones or give it fewer files, then resume "
                       "the run"),
    "spend_limit": (PERMANENT, "a spend or usage limit was reached",
                    "Raise `--max-cost` or the workspace's spend limit (or wait until the "
                    "usage limit resets), then resume the run"),
    "budget_exceeded": (PERMANENT, "the agent used up its cost budget",
                        "Raise `--max-cost`, or split the step into smaller ones, then resume "
                        "the run"),
    "max_turns": (PERMANENT, "the agent reached its turn limit",
                  "Raise the turn limit (--max-turns in the agent args) or split the step, "
                  "then resume the run"),
    "interrupted": (PERMANENT, "the command was interrupted",
                    "Resume the run when you are ready"),
    "unknown": (UNKNOWN, "an error orchestrate does not recognise",
                "Read the error text and the step's log; resume the run once the cause is "
                "fixed"),
}

_UNIT = r"(?:ms|milliseconds?|msecs?|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)(?![a-z])"
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(" + _UNIT + r")?", re.IGNORECASE)
_RETRY_AFTER = re.compile(
    r"(?:retry[-_ ]after(?P<ms>[-_]ms)?[\"']?[ \t]*[:=]?[ \t]*[\"']?"
    r"|\b(?:re)?try(?:[ \t]+again)?[ \t]+(?:in|after)[ \t]+)"
    r"(?P<d>\d+(?:\.\d+)?[ \t]*(?:" + _UNIT + r"(?:[ \t]*\d+(?:\.\d+)?[ \t]*" + _UNIT + r")*)?)"
    r"(?![ \t]*(?:attempts?|tries|times|retries|more|%))",
    re.IGNORECASE)
_SECONDS_PER = {"s": 1.0, "m": 60.0, "h": 3600.0}

_REASONS = (r"too many requests|service unavailable|bad gateway|gateway time-?out|"
            r"internal server error|request time-?out|conflict|unauthori[sz]ed|forbidden|"
            r"bad request|not found|payment required|request entity too large")
_STATUS_IN_TEXT = re.compile(
    r"(?:\bapi[ _]error(?:[ _]status)?[\"']?\s*[:=(]?\s*"
    r"|\bhttp(?:/[\d.]+)?[ \t]*(?:status[ \t]*)?(?:code[ \t]*)?[:=]?[ \t]*"
    r"|\bstatus(?:[ _]?code)?[\"']?[ \t]*[:=]?[ \t]*"
    r"|\berror[: \t][ \t]*(?=\d{3}\b))(?P<a>\d{3})\b"
    r"|\b(?P<b>[45]\d\d)[ \t]+(?:" + _REASONS + r")\b",
    re.IGNORECASE)

# (category, pattern) in order: the first match names the category of the text.
_TEXT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (category, re.compile(pattern, re.IGNORECASE)) for category, pattern in (
        ("budget_exceeded", r"error_max_budget_usd|max[-_ ]budget|budget (?:was |has been )?"
                            r"(?:exceeded|exhausted|used up)|exceeded (?:the |its |your )?"
                            r"(?:cost )?budget"),
        ("max_turns", r"error_max_turns|max(?:imum)?[-_ ]turns|turn limit"),
        ("context_length", r"prompt is too long|context (?:length|window|limit)|"
                           r"maximum context|request_too_large|request entity too large"),
        ("not_logged_in", r"not logged in"),
        ("authentication", r"invalid (?:x-)?api[-_ ]key|authentication_error|"
                           r"authentication failed|oauth token (?:has )?expired|"
                           r"token (?:has )?expired|invalid bearer token|"
                           r"(?:missing|no) api[-_ ]key|unauthori[sz]ed"),
        ("not_logged_in", r"run /login"),
        ("billing", r"credit balance|billing|payment required|insufficient[_ ]"
                    r"(?:credits?|funds|quota)"),
        ("rate_limit", r"rate[-_ ]limit|too many requests|throttl"),
        ("spend_limit", r"spend(?:ing)? limit|usage limit|hit your (?:usage )?limit|"
                        r"\d+-hour limit|weekly limit"),
        ("permission", r"permission_error|permission denied|does not have access|"
                       r"not authori[sz]ed to|forbidden|organization has been disabled"),
        ("not_found", r"not_found_error|model[: ]\s*\S+ (?:was )?not found|"
                      r"model not found|no such model|unknown model"),
        ("invalid_request", r"invalid_request_error|invalid request|bad request|"
                            r"unknown option|unrecognized (?:option|argument)"),
        ("overloaded", r"overloaded"),
        ("timeout", r"timed? ?out|etimedout|esockettimedout|deadline exceeded"),
        ("connection", r"econnreset|econnrefused|econnaborted|enetunreach|ehostunreach|"
                       r"eai_again|enotfound|epipe|socket hang up|network|fetch failed|"
                       r"getaddrinfo|connection (?:reset|refused|closed|error|aborted|lost)|"
                       r"other side closed|und_err_socket"),
        ("server_error", r"internal server error|\bapi_error\b|bad gateway|"
                         r"service unavailable|server error|upstream connect error"),
        ("conflict", r"\bconflict\b"),
    ))

_SUBTYPES = {"error_max_budget_usd": "budget_exceeded", "error_max_turns": "max_turns"}
_EXIT_CODES = {
    124: ("timeout", "the command timed out (exit 124)"),
    126: ("permission", "the command could not be executed (exit 126)"),
    127: ("not_found", "the command was not found (exit 127)"),
    130: ("interrupted", "the command was interrupted (exit 130)"),
}
_EXIT_SUGGESTIONS = {
    126: "Check that the command is executable (chmod +x) and the path is right",
    127: "Check the command's name and PATH",
}


@dataclass(frozen=True, slots=True)
class Classification:
    """What a failure is and what to do about it."""

    kind: str  # "transient", "permanent" or "unknown"
    category: str  # a key of CATEGORIES
    retryable: bool  # True only for transient failures
    retry_after_s: float | None  # the wait the error asked for, when it named one
    message: str  # one line: what went wrong
    suggestion: str  # one line: what the user should do
    status: int | None = None  # the HTTP status the verdict rests on, when there was one

    def to_dict(self) -> dict:
        return {"kind": self.kind, "category": self.category, "retryable": self.retryable,
                "retry_after_s": self.retry_after_s, "status": self.status,
                "message": self.message, "suggestion": self.suggestion}


def parse_retry_after(text: str) -> float | None:
    """Seconds from "retry-after: 30", "retry after 5 seconds", "try again in 1m30s", ...

    A bare number is seconds (milliseconds after "retry-after-ms"); an HTTP date is not read.
    """
    match = _RETRY_AFTER.search(text or "")
    if match is None:
        return None
    total = 0.0
    for number, unit in _DURATION_PART.findall(match["d"]):
        unit = unit.lower()
        if not unit:
            scale = 0.001 if match["ms"] else 1.0
        elif unit.startswith(("ms", "mil", "msec")):
            scale = 0.001
        else:
            scale = _SECONDS_PER[unit[0]]
        total += float(number) * scale
    return total


def _status_category(status: int) -> str:
    if status == 529:
        return "overloaded"
    if status >= 500:
        return "server_error"
    return {400: "invalid_request", 401: "authentication", 402: "billing", 403: "permission",
            404: "not_found", 408: "timeout", 409: "conflict", 413: "context_length",
            429: "rate_limit"}.get(status, "invalid_request")


def _error_status(value) -> int | None:
    """``value`` when it is an HTTP error status (400-599), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599:
        return value
    return None


def _status_in_text(text: str) -> int | None:
    for match in _STATUS_IN_TEXT.finditer(text):
        status = _error_status(int(match["a"] or match["b"]))
        if status is not None:
            return status
    return None


def _text_category(text: str) -> str | None:
    for category, pattern in _TEXT_RULES:
        if pattern.search(text):
            return category
    return None


def classify_error(text: str = "", *, status: int | None = None, subtype: str | None = None,
                   exit_code: int | None = None) -> Classification:
    """Classify a failure from its text, HTTP status, Claude Code subtype and exit code.

    >>> classify_error("Not logged in · Please run /login", subtype="success").category
    'not_logged_in'
    >>> classify_error("overloaded", status=529).retryable
    True
    """
    text = text or ""
    by_text = _text_category(text)
    detail = None
    http = _error_status(status)
    if http is None and subtype not in _SUBTYPES:
        http = _status_in_text(text)
    if http is not None:
        category = _status_category(http)
        if by_text is not None and CATEGORIES[by_text][0] == CATEGORIES[category][0]:
            category = by_text
        detail = f"HTTP {http}"
    elif subtype in _SUBTYPES:
        category = _SUBTYPES[subtype]
        detail = subtype
    elif by_text is not None:
        category = by_text
    elif exit_code in _EXIT_CODES:
        category, message = _EXIT_CODES[exit_code]
        kind, _, suggestion = CATEGORIES[category]
        suggestion = _EXIT_SUGGESTIONS.get(exit_code, suggestion)
        return Classification(kind, category, kind == TRANSIENT, parse_retry_after(text),
                              message, suggestion)
    else:
        category = "unknown"
        if subtype == "error_during_execution":
            detail = subtype
        elif isinstance(exit_code, int) and exit_code != 0:
            detail = f"exit {exit_code}"
    kind, message, suggestion = CATEGORIES[category]
    if detail:
        message = f"{message} ({detail})"
    return Classification(kind, category, kind == TRANSIENT, parse_retry_after(text), message,
                          suggestion, http)


def _kind_line(classification: Classification) -> str:
    kind, category = classification.kind, classification.category
    if kind == TRANSIENT:
        return f"transient ({category}): waiting and retrying may fix it"
    if kind == PERMANENT:
        return f"permanent ({category}): retrying will not help"
    return "unknown: not a failure orchestrate recognises"


def format_error_report(classification: Classification, *, step: str | None = None,
                        attempt: int | str | None = None, context: str | None = None,
                        max_context_lines: int = 20) -> str:
    """A few lines for people: what failed, where, whether it is retried, what to do.

    ``context`` (the error text, say) is shown indented, its last ``max_context_lines``
    lines only; redact it first if it can hold secrets.
    """
    rows = []
    if step is not None and str(step) != "":
        rows.append(("step", str(step)))
    if attempt is not None and str(attempt) != "":
        rows.append(("attempt", str(attempt)))
    rows.append(("kind", _kind_line(classification)))
    if classification.retry_after_s is not None:
        rows.append(("retry after", f"{classification.retry_after_s:g} s"))
    lines = [f"error: {classification.message}"]
    lines += [f"  {label + ':':<13}{value}" for label, value in rows]
    context_lines = [line.rstrip() for line in (context or "").strip("\n").splitlines()]
    if any(context_lines):
        dropped = len(context_lines) - max_context_lines
        lines.append("  details:")
        if dropped > 0:
            lines.append(f"    [... {dropped} earlier lines]")
            context_lines = context_lines[-max_context_lines:]
        lines += [f"    {line[:300]}" for line in context_lines]
    lines.append(f"  {'what to do:':<13}{classification.suggestion}")
    return "\n".join(lines) + "\n"
