"""orchestrator.engine.failures: classify_error, Backoff, backoff_delay, format_error_report
and the `orchestrate error` command."""

from __future__ import annotations

import io
import json
import math
import random
import sys

import pytest
from orchestrator.engine.backoff import (
    DEFAULT_BASE_S,
    DEFAULT_CAP_S,
    DEFAULT_MAX_RETRY_AFTER_S,
    Backoff,
    backoff_ceiling,
    backoff_delay,
)
from orchestrator.engine.failures import (
    CATEGORIES,
    Classification,
    classify_error,
    format_error_report,
    parse_retry_after,
)

NOT_LOGGED_IN = "Not logged in · Please run /login"
CLAUDE_NOT_LOGGED_IN_JSON = json.dumps({
    "type": "result", "subtype": "success", "is_error": True, "api_error_status": None,
    "result": NOT_LOGGED_IN, "total_cost_usd": 0, "session_id": "0f3c",
})
OVERLOADED = ('API Error: 529 {"type":"error","error":{"type":"overloaded_error",'
              '"message":"Overloaded"}}')

# (text, keyword arguments, kind, category)
CASES = [
    # Claude Code's own failures, as `claude -p --output-format json` reports them
    (NOT_LOGGED_IN, {"subtype": "success", "exit_code": 1}, "permanent", "not_logged_in"),
    (CLAUDE_NOT_LOGGED_IN_JSON, {}, "permanent", "not_logged_in"),
    ("Invalid API key · Please run /login", {}, "permanent", "authentication"),
    ("OAuth token has expired. Please obtain a new token or refresh your existing token.",
     {"status": 401}, "permanent", "authentication"),
    ("", {"subtype": "error_max_budget_usd"}, "permanent", "budget_exceeded"),
    ('{"type":"result","subtype":"error_max_budget_usd","is_error":true}', {}, "permanent",
     "budget_exceeded"),
    ("", {"subtype": "error_max_turns"}, "permanent", "max_turns"),
    ("", {"subtype": "error_during_execution"}, "unknown", "unknown"),
    ("Claude AI usage limit reached|1767225600", {}, "permanent", "spend_limit"),
    ("You've hit your limit · resets 3pm (Europe/Paris)", {}, "permanent", "spend_limit"),
    ("You have reached your specified workspace API usage limits.", {"status": 400},
     "permanent", "spend_limit"),
    ("spend limit exceeded for this organization", {}, "permanent", "spend_limit"),
    # API statuses, with and without their text
    (OVERLOADED, {}, "transient", "overloaded"),
    ("Overloaded", {"status": 529}, "transient", "overloaded"),
    ("", {"status": 529}, "transient", "overloaded"),
    ('API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"This '
     'request would exceed your organization\'s rate limit of 50,000 input tokens per '
     'minute."}}', {}, "transient", "rate_limit"),
    ("retry-after: 30", {"status": 429}, "transient", "rate_limit"),
    ("429 Too Many Requests", {}, "transient", "rate_limit"),
    ("503 Service Unavailable", {}, "transient", "server_error"),
    ("HTTP/1.1 502 Bad Gateway", {}, "transient", "server_error"),
    ('API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal '
     'server error"}}', {}, "transient", "server_error"),
    ("", {"status": 503}, "transient", "server_error"),
    ("", {"status": 599}, "transient", "server_error"),
    ("", {"status": 408}, "transient", "timeout"),
    ("", {"status": 409}, "transient", "conflict"),
    ("Request failed with status code 504", {}, "transient", "server_error"),
    ('API Error: 401 {"type":"error","error":{"type":"authentication_error","message":'
     '"invalid x-api-key"}}', {}, "permanent", "authentication"),
    ("invalid x-api-key", {"status": 401}, "permanent", "authentication"),
    ("", {"status": 403}, "permanent", "permission"),
    ('{"type":"error","error":{"type":"permission_error","message":"Your API key does not '
     'have permission to use the specified resource."}}', {}, "permanent", "permission"),
    ("Your organization does not have access to Claude Opus", {}, "permanent", "permission"),
    ('API Error: 400 {"type":"error","error":{"type":"invalid_request_error","message":'
     '"messages: text content blocks must be non-empty"}}', {}, "permanent",
     "invalid_request"),
    ("Your credit balance is too low to access the Anthropic API. Please go to Plans & "
     "Billing to upgrade or purchase credits.", {"status": 400}, "permanent", "billing"),
    ("Credit balance is too low", {}, "permanent", "billing"),
    ("", {"status": 402}, "permanent", "billing"),
    ("prompt is too long: 215000 tokens > 200000 maximum", {"status": 400}, "permanent",
     "context_length"),
    ('{"type":"error","error":{"type":"not_found_error","message":"model: claude-9"}}', {},
     "permanent", "not_found"),
    ("model not found: claude-opus-9", {}, "permanent", "not_found"),
    ("error: unknown option '--max-turnz'", {}, "permanent", "invalid_request"),
    # the network
    ("Error: read ECONNRESET", {}, "transient", "connection"),
    ("connect ECONNREFUSED 127.0.0.1:443", {}, "transient", "connection"),
    ("Error: socket hang up", {}, "transient", "connection"),
    ("getaddrinfo EAI_AGAIN api.anthropic.com", {}, "transient", "connection"),
    ("API Error: Connection error.", {}, "transient", "connection"),
    ("TypeError: fetch failed", {}, "transient", "connection"),
    ("Connection reset by peer", {}, "transient", "connection"),
    ("Network is unreachable", {}, "transient", "connection"),
    ("Request timed out.", {}, "transient", "timeout"),
    ("connect ETIMEDOUT 160.79.104.10:443", {}, "transient", "timeout"),
    ("context deadline exceeded", {}, "transient", "timeout"),
    # exit codes, used only when nothing else says anything
    ("", {"exit_code": 124}, "transient", "timeout"),
    ("bash: frobnicate: command not found", {"exit_code": 127}, "permanent", "not_found"),
    ("", {"exit_code": 126}, "permanent", "permission"),
    ("", {"exit_code": 130}, "permanent", "interrupted"),
    # nothing to go on
    ("", {}, "unknown", "unknown"),
    ("Segmentation fault (core dumped)", {"exit_code": 139}, "unknown", "unknown"),
    ("something odd happened", {"exit_code": 1}, "unknown", "unknown"),
    ("exit status 127", {}, "unknown", "unknown"),
]


@pytest.mark.parametrize(("text", "kwargs", "kind", "category"), CASES,
                         ids=[f"{c[3]}-{i}" for i, c in enumerate(CASES)])
def test_classify_error(text, kwargs, kind, category):
    verdict = classify_error(text, **kwargs)
    assert (verdict.kind, verdict.category) == (kind, category)
    assert verdict.retryable is (kind == "transient")
    assert verdict.message and "\n" not in verdict.message
    assert verdict.suggestion and "\n" not in verdict.suggestion


def test_every_category_has_a_kind_a_message_and_a_suggestion():
    for category, (kind, message, suggestion) in CATEGORIES.items():
        assert kind in ("transient", "permanent", "unknown"), category
        assert message and suggestion and "\n" not in message + suggestion


@pytest.mark.parametrize(("text", "status", "category"), [
    ("Overloaded", 401, "authentication"),  # a status decides the kind
    ("rate limit exceeded", 400, "invalid_request"),
    ("usage limit reached", 429, "rate_limit"),
    ("Not logged in", 503, "server_error"),
    ("read ECONNRESET", 503, "connection"),  # the text may narrow within the kind
    ("Not logged in", 401, "not_logged_in"),
    ("API Error: 529 overloaded", 401, "authentication"),  # over a status in the text
])
def test_the_status_wins_over_the_text(text, status, category):
    assert classify_error(text, status=status).category == category


def test_the_status_is_reported_and_named_in_the_message():
    verdict = classify_error("whatever", status=529)
    assert verdict.status == 529
    assert "HTTP 529" in verdict.message
    assert classify_error("API Error: 503 upstream").status == 503
    assert classify_error("ECONNRESET").status is None


def test_statuses_outside_the_error_range_are_ignored():
    assert classify_error("read ECONNRESET", status=200).category == "connection"
    assert classify_error("", status=302).category == "unknown"
    assert classify_error("", status=True).category == "unknown"


def test_a_status_wins_over_the_subtype():
    assert classify_error("", status=529, subtype="error_max_budget_usd").category == \
        "overloaded"


def test_the_subtype_wins_over_the_text():
    verdict = classify_error("rate limit", subtype="error_max_budget_usd")
    assert (verdict.kind, verdict.category) == ("permanent", "budget_exceeded")
    assert "error_max_budget_usd" in verdict.message


def test_text_patterns_ignore_case():
    assert classify_error("NOT LOGGED IN").category == "not_logged_in"
    assert classify_error("econnreset").category == "connection"
    assert classify_error("Rate Limit").category == "rate_limit"


def test_the_suggestions_say_what_to_do():
    assert classify_error(NOT_LOGGED_IN).suggestion == (
        "Log in with `claude` (then /login) or set ANTHROPIC_API_KEY, and resume the run")
    assert "billing" in classify_error("credit balance is too low").suggestion
    assert "--max-cost" in classify_error("", subtype="error_max_budget_usd").suggestion
    assert "--max-cost" in classify_error("spend limit reached").suggestion
    assert "--jobs" in classify_error("", status=429).suggestion
    assert "waits and retries" in classify_error("", status=529).suggestion
    assert "permission" in classify_error("", status=403).suggestion
    assert "model name" in classify_error("invalid_request_error").suggestion


@pytest.mark.parametrize(("text", "seconds"), [
    ("retry-after: 30", 30.0),
    ("Retry-After: 12", 12.0),
    ("HTTP/1.1 429\r\nretry-after: 7\r\nx-request-id: y", 7.0),
    ("retry-after-ms: 1500", 1.5),
    ('{"retry_after": 4}', 4.0),
    ("please retry after 5 seconds", 5.0),
    ("Please try again in 20s.", 20.0),
    ("try again in 6.5s", 6.5),
    ("try again in 250ms", 0.25),
    ("retry after 2 minutes", 120.0),
    ("Try again in 1m30s", 90.0),
    ("retry in 3 sec", 3.0),
    ("try again later", None),
    ("will retry after 3 attempts", None),
    ("Retry-After: Wed, 21 Oct 2026 07:28:00 GMT", None),
    ("", None),
])
def test_parse_retry_after(text, seconds):
    assert parse_retry_after(text) == seconds


def test_the_retry_after_is_part_of_the_classification():
    verdict = classify_error("rate_limit_error; retry-after: 30", status=429)
    assert verdict.retry_after_s == 30.0
    assert verdict.to_dict() == {
        "kind": "transient", "category": "rate_limit", "retryable": True,
        "retry_after_s": 30.0, "status": 429, "message": "rate limited by the API (HTTP 429)",
        "suggestion": "orchestrate waits and retries; lower --jobs if it persists"}


def test_a_classification_is_frozen():
    verdict = classify_error("ECONNRESET")
    assert isinstance(verdict, Classification)
    with pytest.raises(AttributeError):
        verdict.kind = "permanent"


def test_backoff_delays_stay_under_the_exponential_ceiling():
    for seed in range(50):
        backoff = Backoff(base_s=2.0, cap_s=60.0, budget_s=1e9, rng=random.Random(seed))
        for n in range(12):
            wait = backoff.next_delay()
            assert 0.0 <= wait <= min(60.0, 2.0 * 2 ** n)


def test_backoff_uses_full_jitter():
    backoff = Backoff(base_s=1.0, cap_s=8.0, rng=random.Random(7))
    waits = [backoff.delay(5) for _ in range(2000)]
    assert max(waits) <= 8.0
    assert min(waits) < 0.5 and max(waits) > 7.5  # spread over the whole [0, ceiling]
    assert 3.5 < sum(waits) / len(waits) < 4.5


def test_backoff_is_reproducible_with_a_seed():
    first = Backoff(rng=random.Random(42))
    second = Backoff(rng=random.Random(42))
    assert [first.next_delay() for _ in range(5)] == [second.next_delay() for _ in range(5)]


def test_backoff_honours_retry_after_up_to_its_cap():
    backoff = Backoff(base_s=0.5, cap_s=60.0, max_retry_after_s=120.0, budget_s=1000.0,
                      rng=random.Random(1))
    assert backoff.next_delay(retry_after=30.0) == 30.0
    assert backoff.next_delay(retry_after=500.0) == 120.0
    assert backoff.next_delay(retry_after=0.0) <= 2.0
    assert backoff.next_delay(retry_after=-5.0) >= 0.0
    assert backoff.next_delay(retry_after=math.nan) >= 0.0


def test_backoff_gives_up_when_the_budget_would_be_exceeded():
    backoff = Backoff(base_s=1.0, cap_s=10.0, budget_s=25.0, rng=random.Random(3))
    waits = []
    while (wait := backoff.next_delay(retry_after=4.0)) is not None:
        waits.append(wait)
    assert len(waits) >= 2
    assert backoff.waits == waits
    assert backoff.total_waited == pytest.approx(sum(waits))
    assert backoff.total_waited <= 25.0
    assert backoff.exhausted
    assert backoff.next_delay(retry_after=0.0) is None  # giving up is final


def test_backoff_with_no_budget_never_waits():
    backoff = Backoff(budget_s=0.0, rng=random.Random(0))
    assert backoff.next_delay(retry_after=1.0) is None
    assert backoff.waits == [] and backoff.total_waited == 0.0


def test_backoff_defaults_and_bad_parameters():
    backoff = Backoff()
    assert (backoff.base_s, backoff.cap_s, backoff.budget_s, backoff.max_retry_after_s) == \
        (2.0, 60.0, 300.0, 120.0)
    assert backoff.ceiling(0) == 2.0 and backoff.ceiling(3) == 16.0
    assert backoff.ceiling(10_000) == 60.0  # no overflow however many retries
    with pytest.raises(ValueError, match="base_s must be >= 0"):
        Backoff(base_s=-1.0)
    with pytest.raises(ValueError, match="budget_s"):
        Backoff(budget_s=math.nan)


def test_backoff_delay_is_what_backoff_hands_out():
    backoff = Backoff(base_s=1.0, cap_s=10.0, budget_s=1e9, rng=random.Random(5))
    rng = random.Random(5)
    afters = [None, 3.0, None, 0.5, 40.0, None]
    expected = [backoff_delay(n, base_s=1.0, cap_s=10.0, retry_after=after, rng=rng)
                for n, after in enumerate(afters)]
    assert [backoff.next_delay(after) for after in afters] == expected


def test_backoff_delay_alone():
    assert backoff_ceiling(0) == DEFAULT_BASE_S
    assert backoff_ceiling(10_000) == DEFAULT_CAP_S
    assert backoff_ceiling(2, base_s=0.5, cap_s=10.0) == 2.0
    for seed in range(20):
        assert 0.0 <= backoff_delay(3, base_s=1.0, cap_s=5.0, rng=random.Random(seed)) <= 5.0
    assert backoff_delay(0, base_s=1.0, retry_after=30.0) == 30.0
    assert backoff_delay(0, base_s=1.0, retry_after=1e6) == DEFAULT_MAX_RETRY_AFTER_S
    assert backoff_delay(0, base_s=0.0, retry_after=-1.0) == 0.0
    assert backoff_delay(0, base_s=0.0, retry_after=math.nan) == 0.0
    with pytest.raises(ValueError, match="backoff cap_s must be >= 0"):
        backoff_delay(0, cap_s=-1.0)
    with pytest.raises(ValueError, match="max_retry_after_s"):
        backoff_delay(0, max_retry_after_s=math.nan)


def test_format_error_report():
    verdict = classify_error("rate_limit_error; retry-after: 12", status=429)
    report = format_error_report(verdict, step="3", attempt=2,
                                 context="API Error: 429\nretry-after: 12\n")
    assert report == (
        "error: rate limited by the API (HTTP 429)\n"
        "  step:        3\n"
        "  attempt:     2\n"
        "  kind:        transient (rate_limit): waiting and retrying may fix it\n"
        "  retry after: 12 s\n"
        "  details:\n"
        "    API Error: 429\n"
        "    retry-after: 12\n"
        "  what to do:  orchestrate waits and retries; lower --jobs if it persists\n")


def test_format_error_report_without_step_or_context():
    report = format_error_report(classify_error(NOT_LOGGED_IN))
    assert report.splitlines() == [
        "error: Claude Code is not logged in",
        "  kind:        permanent (not_logged_in): retrying will not help",
        "  what to do:  Log in with `claude` (then /login) or set ANTHROPIC_API_KEY, and "
        "resume the run",
    ]
    assert "unknown: not a failure" in format_error_report(classify_error("odd"))


def test_format_error_report_keeps_the_last_lines_of_a_long_context():
    context = "\n".join(f"line {i}" for i in range(100))
    report = format_error_report(classify_error("odd"), context=context, max_context_lines=5)
    assert "[... 95 earlier lines]" in report
    assert "line 99" in report and "line 94" not in report


# The CLI: `orchestrate error classify|report`


def test_cli_classify_text(cli):
    result = cli("error", "classify", "503 Service Unavailable")
    assert result.code == 0
    assert result.out == (
        "transient server_error: the API failed with a server error (HTTP 503)\n"
        "suggestion: orchestrate waits and retries; if it persists, check "
        "https://status.anthropic.com\n")
    assert result.err == ""


def test_cli_classify_json_contract(cli):
    result = cli("error", "classify", "--json", "--status", "429", "retry-after: 30")
    assert result.code == 0
    assert result.json() == {
        "schema": "orchestrate/error@1", "kind": "transient", "category": "rate_limit",
        "retryable": True, "retry_after_s": 30.0, "status": 429,
        "message": "rate limited by the API (HTTP 429)",
        "suggestion": "orchestrate waits and retries; lower --jobs if it persists"}


def test_cli_classify_options(cli):
    data = cli("error", "classify", "--json", "--subtype", "error_max_budget_usd", "").json()
    assert (data["kind"], data["category"]) == ("permanent", "budget_exceeded")
    data = cli("error", "classify", "--json", "--exit-code", "127", "").json()
    assert data["category"] == "not_found"


def test_cli_classify_unknown_exits_0(cli):
    result = cli("error", "classify", "")
    assert result.code == 0
    assert result.out.startswith("unknown unknown: ")


@pytest.fixture
def stdin(monkeypatch):
    def feed(data: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    return feed


@pytest.mark.parametrize("args", [(), ("-",)])
def test_cli_classify_reads_stdin(cli, stdin, args):
    stdin(CLAUDE_NOT_LOGGED_IN_JSON.encode())
    result = cli("error", "classify", "--json", *args)
    assert result.json()["category"] == "not_logged_in"


def test_cli_classify_stdin_with_bad_bytes(cli, stdin):
    stdin(b"\xff\xfe read ECONNRESET\n")
    assert cli("error", "classify", "--field", "category").out == "connection\n"


def test_cli_classify_fields_for_scripts(cli):
    result = cli("error", "classify", "--field", "kind", "--field", "retry_after_s",
                 "--field", "status", "--field", "retryable", "--",
                 "-- try again in 2.5s: ECONNRESET")
    assert result.out == "transient\n2.5\n\ntrue\n"


def test_cli_classify_json_and_field_are_exclusive(cli):
    result = cli("error", "classify", "--json", "--field", "kind", "x")
    assert result.code == 2
    assert "not allowed with" in result.err


def test_cli_bad_status_is_a_usage_error(cli):
    result = cli("error", "classify", "--status", "abc", "x")
    assert result.code == 2
    assert "expected a whole number" in result.err


def test_cli_report(cli):
    result = cli("error", "report", "--step", "2a", "--attempt", "3", "--status", "401",
                 "invalid x-api-key")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "error: authentication failed: the API key or login is invalid or " \
                       "expired (HTTP 401)"
    assert "  step:        2a" in lines
    assert "  attempt:     3" in lines
    assert "    invalid x-api-key" in lines


def test_cli_report_redacts_secrets(cli):
    key = "sk-ant-api03-" + "A" * 40
    result = cli("error", "report", f"Invalid API key {key} · Please run /login")
    assert key not in result.out
    assert "[REDACTED:anthropic-key]" in result.out


def test_cli_report_json_contract(cli, stdin):
    stdin(b"Error: socket hang up\n")
    data = cli("error", "report", "--json", "--step", "4").json()
    assert data["schema"] == "orchestrate/error-summary@1"
    assert set(data) == {"schema", "kind", "category", "retryable", "retry_after_s", "status",
                         "message", "suggestion", "step", "attempt", "report"}
    assert (data["kind"], data["category"], data["step"], data["attempt"]) == \
        ("transient", "connection", "4", None)
    assert data["report"].startswith("error: the network connection failed\n")


# The CLI: `orchestrate error backoff`


def backoff_json(cli, *args: str) -> dict:
    result = cli("error", "backoff", "--json", *args)
    assert result.code == 0, result.err
    return result.json()


def test_cli_backoff_delays_stay_under_the_ceiling(cli):
    for attempt in range(1, 10):
        ceiling = min(5.0, 0.5 * 2 ** (attempt - 1))  # the wait after attempt N, before N+1
        for seed in range(10):
            data = backoff_json(cli, "--attempt", str(attempt), "--base", "0.5", "--cap", "5",
                                "--seed", str(seed))
            assert data["ceiling_s"] == ceiling
            assert 0.0 <= data["delay_s"] <= ceiling


def test_cli_backoff_json_contract(cli):
    data = backoff_json(cli, "--attempt", "3", "--retry-after", "1.5", "--seed", "4")
    assert data == {
        "schema": "orchestrate/error-backoff@1",
        "delay_s": backoff_delay(2, retry_after=1.5, rng=random.Random(4)),
        "attempt": 3, "ceiling_s": 8.0, "retry_after_s": 1.5, "base_s": DEFAULT_BASE_S,
        "cap_s": DEFAULT_CAP_S, "max_retry_after_s": DEFAULT_MAX_RETRY_AFTER_S, "seed": 4}
    data = backoff_json(cli, "--attempt", "1")
    assert (data["retry_after_s"], data["seed"]) == (None, None)


def test_cli_backoff_text_is_the_delay_in_seconds(cli):
    data = backoff_json(cli, "--attempt", "2", "--seed", "9")
    result = cli("error", "backoff", "--attempt", "2", "--seed", "9")
    assert (result.code, result.err) == (0, "")
    assert result.out == f"{data['delay_s']:.3f}\n"


def test_cli_backoff_is_the_engines_delay(cli):
    for attempt in (1, 2, 5):
        data = backoff_json(cli, "--attempt", str(attempt), "--base", "1", "--cap", "30",
                            "--seed", "11")
        backoff = Backoff(base_s=1.0, cap_s=30.0, rng=random.Random(11))
        assert data["delay_s"] == backoff.delay(attempt - 1)


def test_cli_backoff_seed_from_the_environment(cli, monkeypatch):
    monkeypatch.setenv("ORCHESTRATE_BACKOFF_SEED", "21")
    first = backoff_json(cli, "--attempt", "4")
    assert first["seed"] == 21
    assert backoff_json(cli, "--attempt", "4") == first
    assert backoff_json(cli, "--attempt", "4", "--seed", "21") == first
    assert backoff_json(cli, "--attempt", "4", "--seed", "22")["seed"] == 22  # --seed wins
    monkeypatch.setenv("ORCHESTRATE_BACKOFF_SEED", "")
    assert backoff_json(cli, "--attempt", "4")["seed"] is None


def test_cli_backoff_honours_the_retry_after_up_to_its_cap(cli):
    def delay(*args: str) -> float:
        return backoff_json(cli, "--attempt", "1", "--base", "1", *args)["delay_s"]

    assert delay("--retry-after", "30") == 30.0
    assert delay("--retry-after", "500") == DEFAULT_MAX_RETRY_AFTER_S
    assert delay("--retry-after", "500", "--max-retry-after", "5") == 5.0
    assert delay("--retry-after", "30", "--cap", "0.3", "--max-retry-after", "0.3") == 0.3
    assert delay("--retry-after", "1e1") == 10.0  # as `error classify --field` prints it
    for seed in range(10):
        assert 0.5 <= delay("--retry-after", "0.5", "--seed", str(seed)) <= 1.0


def test_cli_backoff_help_names_the_engines_defaults(cli):
    out = " ".join(cli("error", "backoff", "--help").out.split())  # unwrapped
    assert f"(default {DEFAULT_BASE_S:g}, the engine's)" in out
    assert f"(default {DEFAULT_CAP_S:g}, the engine's)" in out
    assert f"(default {DEFAULT_MAX_RETRY_AFTER_S:g}, the engine's)" in out
    assert "ORCHESTRATE_BACKOFF_SEED" in out


@pytest.mark.parametrize(("args", "message"), [
    ((), "the following arguments are required: --attempt"),
    (("--attempt", "0"), "argument --attempt: expected an attempt number >= 1, got '0'"),
    (("--attempt", "-2"), "expected an attempt number >= 1, got '-2'"),
    (("--attempt", "1.5"), "argument --attempt: expected a whole number, got '1.5'"),
    (("--attempt", "1", "--base", "-1"), "argument --base: expected a number of seconds >= 0"),
    (("--attempt", "1", "--cap", "nan"), "argument --cap: expected a number of seconds >= 0"),
    (("--attempt", "1", "--cap", "inf"), "expected a number of seconds >= 0, got 'inf'"),
    (("--attempt", "1", "--retry-after", "soon"),
     "argument --retry-after: expected a number of seconds >= 0, got 'soon'"),
    (("--attempt", "1", "--max-retry-after", ""), "argument --max-retry-after: expected"),
    (("--attempt", "1", "--seed", "x"), "argument --seed: expected a whole number, got 'x'"),
])
def test_cli_backoff_bad_input_is_a_usage_error(cli, args, message):
    result = cli("error", "backoff", *args)
    assert result.code == 2
    assert result.out == ""
    assert message in result.err


def test_cli_backoff_bad_seed_in_the_environment(cli, monkeypatch):
    monkeypatch.setenv("ORCHESTRATE_BACKOFF_SEED", "soon")
    result = cli("error", "backoff", "--attempt", "1")
    assert result.code == 2
    assert result.err == "orchestrate: ORCHESTRATE_BACKOFF_SEED must be a whole number, " \
                         "got 'soon'\n"
    result = cli("error", "backoff", "--attempt", "1", "--json")
    assert result.code == 2
    assert result.json() == {"schema": "orchestrate/error@1", "exit_code": 2,
                             "message": "ORCHESTRATE_BACKOFF_SEED must be a whole number, "
                                        "got 'soon'"}
