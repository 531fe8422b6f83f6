"""Secret redaction: key shapes, environment values, streams cut anywhere, speed."""

from __future__ import annotations

import json
import random
import string
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from orchestrator import redact as redact_module
from orchestrator.redact import Redactor

# Fake secrets, assembled at test time so no key-shaped literal sits in the source.
ANTHROPIC = "sk-ant-api03-" + "A1b2_C3-d4" * 9 + "AA"
ANTHROPIC_OAT = "sk-ant-oat01-" + "Zz9" * 30
OPENAI_LEGACY = "sk-" + "T3BlbkFJ" * 6
OPENAI_PROJECT = "sk-proj-" + "aB3_x-" * 20
OPENAI_SVC = "sk-svcacct-" + "Q" * 40
GITHUB_CLASSIC = "ghp_" + "a1B2c3D4e5" * 3 + "F6g7H8"
GITHUB_SERVER = "ghs_" + "Z" * 36
GITHUB_FINE = "github_pat_" + "11ABCDEFG0" * 2 + "_" + "x" * 59
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_TEMP_ID = "ASIA" + "Y" * 16
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
SLACK_BOT = "xoxb-" + "1234567890-" * 2 + "aBcDeFgHiJ" * 2
SLACK_USER = "xoxp-" + "98765" * 4 + "-" + "Zz" * 8
STRIPE_LIVE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
NPM = "npm_" + "Ab1" * 12
GOOGLE = "AIza" + "SyD-" * 8 + "abc"
PEM_BODY = "\n".join(["MIIEpAIBAAKCAQEA7" + "q" * 47] * 5 + ["kQ==" ])
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"

ENV = {
    "GITHUB_TOKEN": "gho_" + "k" * 36,
    "MY_SERVICE_PASSWORD": "correct-horse-battery",
    "DB_Secret": "s3cr3t-v4lue",
    "PATH": "/usr/local/bin:/usr/bin",
    "SHORT_TOKEN": "abc",
    "MAX_TOKENS": "1000000000",
    "HOME": "/home/someone",
}

SHAPES = [
    (f"key={ANTHROPIC} rest", "key=[REDACTED:anthropic-key] rest"),
    (f"{ANTHROPIC_OAT}", "[REDACTED:anthropic-key]"),
    (f"export OPENAI_KEY={OPENAI_LEGACY}", "export OPENAI_KEY=[REDACTED:openai-key]"),
    (f"'{OPENAI_PROJECT}'", "'[REDACTED:openai-key]'"),
    (OPENAI_SVC, "[REDACTED:openai-key]"),
    (f"token {GITHUB_CLASSIC}.", "token [REDACTED:github-token]."),
    (f"({GITHUB_SERVER})", "([REDACTED:github-token])"),
    (f"url https://{GITHUB_FINE}@github.com", "url https://[REDACTED:github-token]@github.com"),
    (f"id {AWS_ID} x", "id [REDACTED:aws-access-key] x"),
    (f"id={AWS_TEMP_ID}", "id=[REDACTED:aws-access-key]"),
    (f"aws_secret_access_key = {AWS_SECRET}",
     "aws_secret_access_key = [REDACTED:aws-secret-key]"),
    (f'{{"AWS_SECRET_ACCESS_KEY": "{AWS_SECRET}"}}',
     '{"AWS_SECRET_ACCESS_KEY": "[REDACTED:aws-secret-key]"}'),
    ("curl -H 'Authorization: Bearer eyJhbGciOi.J9eyJzdWIi.Ok_x-Y'",
     "curl -H 'Authorization: Bearer [REDACTED:authorization]'"),
    ('{"authorization": "token abcdefgh12345"}',
     '{"authorization": "token [REDACTED:authorization]"}'),
    ("x-api-key: abcdefgh12345", "x-api-key: [REDACTED:api-key-header]"),
    (f"slack {SLACK_BOT} and {SLACK_USER}",
     "slack [REDACTED:slack-token] and [REDACTED:slack-token]"),
    (f"STRIPE={STRIPE_LIVE}", "STRIPE=[REDACTED:stripe-key]"),
    (f"//registry/:_authToken={NPM}", "//registry/:_authToken=[REDACTED:npm-token]"),
    (f"key {GOOGLE}.", "key [REDACTED:google-api-key]."),
    ('{\\"Authorization\\": \\"Bearer abcdefghijklmnop1234\\"}',
     '{\\"Authorization\\": \\"Bearer [REDACTED:authorization]\\"}'),
    ("wget --header 'X: Bearer abcdefghijklmnopqrst1234'",
     "wget --header 'X: Bearer [REDACTED:bearer-token]'"),
    ("DATABASE_URL=postgres://app:hunter2hunter2@db:5432/app",
     "DATABASE_URL=postgres://app:[REDACTED:url-password]@db:5432/app"),
    ("redis://:s3cret@cache:6379/0", "redis://:[REDACTED:url-password]@cache:6379/0"),
    (f"before\n{PEM}\nafter", "before\n[REDACTED:private-key]\nafter"),
    ("-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\",",
     '[REDACTED:private-key]",'),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA",
     "[REDACTED:private-key]"),
]


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(ENV)


@pytest.mark.parametrize("text, expected", SHAPES)
def test_shapes(redactor, text, expected):
    assert redactor.redact(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("push with " + ENV["GITHUB_TOKEN"], "push with [REDACTED:GITHUB_TOKEN]"),
    ("pw=correct-horse-battery;", "pw=[REDACTED:MY_SERVICE_PASSWORD];"),
    ("s3cr3t-v4lue", "[REDACTED:DB_Secret]"),
    ("abc and 1000000000 stay", "abc and 1000000000 stay"),
    ("/usr/local/bin:/usr/bin and /home/someone", "/usr/local/bin:/usr/bin and /home/someone"),
])
def test_environment_values(redactor, text, expected):
    assert redactor.redact(text) == expected
    assert redactor.secret_names == ["DB_Secret", "GITHUB_TOKEN", "MY_SERVICE_PASSWORD"]


def test_known_variable_names_a_shared_value():
    env = {"A_TOKEN": "same-value-123", "ANTHROPIC_API_KEY": "same-value-123"}
    assert Redactor(env).redact("same-value-123") == "[REDACTED:ANTHROPIC_API_KEY]"


def test_longest_value_wins_and_multiline_values_match_by_line():
    env = {"ONE_TOKEN": "abcdefgh", "TWO_TOKEN": "abcdefgh-longer",
           "PEM_SECRET": "line-one-x\nline-two-y"}
    redactor = Redactor(env)
    assert redactor.redact("abcdefgh-longer") == "[REDACTED:TWO_TOKEN]"
    assert redactor.redact("line-two-y") == "[REDACTED:PEM_SECRET]"


@pytest.mark.parametrize("text", [
    "commit 3f2a9c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "aGVsbG8gd29ybGQ= and dGVzdA==",
    "the skeleton asked: risk-management-and-compliance-review-done",
    "disk-" + "a" * 30,
    "AKIA is a prefix; AKIAshort; AKIA" + "B" * 15,
    "Authorization: Bearer $TOKEN",
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END PUBLIC KEY-----",
    "aws_secret_access_key = ${AWS_SECRET}",
    "ghp_short and gh_" + "a" * 40,
    '"max_tokens": 4096, "input_tokens": 12345678, "token_type": "Bearer"',
    '{"password": null, "secret": true, "api_key": "", "SessionToken": "undefined"}',
    "TOKEN=$GITHUB_TOKEN PASSWORD=${DB_PASSWORD} api_key=<your-api-key> pw=short",
    "token=[REDACTED:GITHUB_TOKEN] secret: '[REDACTED:secret]'",
    "the tokenizer splits words; secrets stay secret; if token == other: pass",
    "",
])
def test_no_false_positives(redactor, text):
    assert redactor.redact(text) == text


@pytest.mark.parametrize("text, expected", [
    # a key shape is a key wherever it starts: safe beats pretty
    ("task-ant-" + "x" * 40, "ta[REDACTED:anthropic-key]"),
    ("XAKIA" + "B" * 20, "X[REDACTED:aws-access-key]BBBB"),
    (f'{{"msg": "done\\n{ANTHROPIC}"}}', '{"msg": "done\\n[REDACTED:anthropic-key]"}'),
    (f"https://x.test/?key%3D{OPENAI_PROJECT}&a=1", "https://x.test/?key%3D[REDACTED:openai-key]&a=1"),
    (f"id:1{GITHUB_CLASSIC}", "id:1[REDACTED:github-token]"),
    (f"user{AWS_ID}", "user[REDACTED:aws-access-key]"),
    (f"\\t{GITHUB_FINE}\\\"", "\\t[REDACTED:github-token]\\\""),
    (f"x{OPENAI_LEGACY}", "x[REDACTED:openai-key]"),
])
def test_key_shapes_after_letters_digits_and_escapes(redactor, text, expected):
    assert redactor.redact(text) == expected


def test_redact_data(redactor):
    data = {
        "key " + ANTHROPIC: [1, 2.5, None, True, f"see {GITHUB_CLASSIC}", ("t", AWS_ID)],
        "nested": {"deep": [{"x": "correct-horse-battery"}]},
    }
    assert redactor.redact_data(data) == {
        "key [REDACTED:anthropic-key]": [
            1, 2.5, None, True, "see [REDACTED:github-token]", ("t", "[REDACTED:aws-access-key]"),
        ],
        "nested": {"deep": [{"x": "[REDACTED:MY_SERVICE_PASSWORD]"}]},
    }


def test_redact_data_replaces_the_values_of_secret_named_keys(redactor):
    sts = json.loads(STS)
    assert redactor.redact_data(sts)["Credentials"] == json.loads(redactor.redact(STS))[
        "Credentials"]
    data = {"db": {"password": "hunter2 hunter2", "Api-Key": ENV["GITHUB_TOKEN"],
                   "private_key": PEM}, "token": None, "max_tokens": 4096,
            "token_type": "Bearer", "secret": "${SECRET}", "tokens": ["a" * 20],
            "SessionToken": "[REDACTED:secret]", "passwd": "12345678"}
    assert redactor.redact_data(data) == dict(data, db={
        "password": "[REDACTED:secret]", "Api-Key": "[REDACTED:GITHUB_TOKEN]",
        "private_key": "[REDACTED:private-key]"})


def test_module_level_redact_uses_os_environ(monkeypatch):
    monkeypatch.setattr(redact_module, "_default", None)
    monkeypatch.setenv("SOME_APP_TOKEN", "from-the-environment")
    assert redact_module.redact("x from-the-environment") == "x [REDACTED:SOME_APP_TOKEN]"
    assert redact_module.default_redactor() is redact_module.default_redactor()


def _stream(redactor: Redactor, chunks: list[str], max_line: int = redact_module.MAX_LINE):
    written: list[str] = []
    stream = redactor.stream(written.append, max_line=max_line)
    for chunk in chunks:
        stream.feed(chunk)
    stream.close()
    return written


LINE = f"step 3 says: using {ANTHROPIC} and correct-horse-battery now\n"


def test_stream_at_every_split_point(redactor):
    text = "first line\n" + LINE + "last line without newline"
    expected = redactor.redact(text)
    for cut in range(len(text) + 1):
        written = _stream(redactor, [text[:cut], text[cut:]])
        assert "".join(written) == expected, cut
        assert all(piece.endswith("\n") for piece in written[:-1]), cut


def test_stream_at_every_pair_of_split_points(redactor):
    text = f"a {GITHUB_CLASSIC} b\n"
    expected = redactor.redact(text)
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            assert "".join(_stream(redactor, [text[:i], text[i:j], text[j:]])) == expected


def test_stream_one_char_at_a_time_emits_whole_lines(redactor):
    text = LINE * 3
    written = _stream(redactor, list(text))
    assert written == [redactor.redact(LINE)] * 3


def test_stream_holds_a_pem_block_until_its_end(redactor):
    text = f"start\n{PEM}\nafter\n"
    written = _stream(redactor, text.splitlines(keepends=True))
    assert "".join(written) == "start\n[REDACTED:private-key]\nafter\n"


def test_stream_closes_an_unterminated_pem_block(redactor):
    lines = ["-----BEGIN EC PRIVATE KEY-----\n", "MHcCAQEEIO\n", "AoGCCqGSM49\n"]
    assert "".join(_stream(redactor, lines)) == "[REDACTED:private-key]"


@pytest.mark.parametrize("tail, expected", [
    ("", "[REDACTED:private-key]"),
    ("-----END PRIVATE KEY-----\nafter\n", "[REDACTED:private-key]\nafter\n"),
    ("not key material!\nafter\n", "[REDACTED:private-key]!\nafter\n"),
])
def test_stream_stops_waiting_for_an_end_past_its_limit(redactor, tail, expected):
    written: list[str] = []
    stream = redactor.stream(written.append)
    for line in ["-----BEGIN PRIVATE KEY-----\n"] + ["A" * 63 + "\n"] * 2000:
        stream.feed(line)
    assert written == ["[REDACTED:private-key]"]  # out before close, and nothing after it
    stream.feed(tail)
    stream.close()
    assert "".join(written) == expected


@pytest.mark.parametrize("secret", [ANTHROPIC, GITHUB_FINE, AWS_ID, "correct-horse-battery",
                                    f"aws_secret_access_key={AWS_SECRET}",
                                    "db_passphrase=Q7x" + "q" * 20])
def test_long_line_cut_never_splits_a_secret(redactor, secret):
    max_line = 1000
    expected = redactor.redact(secret)
    for offset in range(max_line - 300, max_line + 300, 7):
        text = "x " * (offset // 2) + " " + secret + " " + "y " * 600
        for size in (64, 333, 4096):
            chunks = [text[i:i + size] for i in range(0, len(text), size)]
            written = _stream(redactor, chunks, max_line=max_line)
            joined = "".join(written)
            assert len(written) > 1
            assert secret not in joined and expected in joined, (offset, size)
            assert joined == redactor.redact(text)


def test_long_line_of_a_mebibyte_is_flushed_in_pieces(redactor):
    cut_at = redact_module.MAX_LINE - redact_module.OVERLAP
    text = "z" * (cut_at - 40) + " " + ANTHROPIC + " " + "w" * 600_000
    chunks = [text[i:i + 65536] for i in range(0, len(text), 65536)]
    written = _stream(redactor, chunks)
    assert len(written) >= 2
    assert "".join(written) == redactor.redact(text)
    assert ANTHROPIC[:30] not in "".join(written)


def test_overlap_covers_long_environment_values():
    value = "jwt-" + "q" * 600
    redactor = Redactor({"ACTIONS_RUNTIME_TOKEN": value})
    text = "a" * 1200 + " " + value + " " + "b" * 2000
    for start in range(0, 200, 13):
        chunks = [text[start:][i:i + 100] for i in range(0, len(text) - start, 100)]
        joined = "".join(_stream(redactor, chunks, max_line=1000))
        assert value not in joined and "[REDACTED:ACTIONS_RUNTIME_TOKEN]" in joined


def test_stream_random_chunks_match_whole_text(redactor):
    rng = random.Random(7)
    pieces = ["word ", "\n", ANTHROPIC, " ", GITHUB_CLASSIC, "correct-horse-battery", "\n",
              PEM, "task-ant-", "Authorization: Bearer abcdefghijkl ", AWS_ID]
    for _ in range(50):
        text = "".join(rng.choice(pieces) for _ in range(60))
        cuts = sorted(rng.sample(range(len(text)), 8))
        chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        assert "".join(_stream(redactor, chunks)) == redactor.redact(text)


def test_feed_after_close_is_an_error(redactor):
    stream = redactor.stream(lambda text: None)
    stream.close()
    with pytest.raises(ValueError, match="after close"):
        stream.feed("x")


def test_a_mebibyte_of_ordinary_text_passes_unchanged(redactor):
    """Near misses everywhere, no key: nothing is replaced. (How fast: see the figure this
    prints; a timing is never a test.)"""
    rng = random.Random(1)
    words = ["the", "quick", "fox", "skeleton", "task-ant-", "sk-learn", "assert", "ghost",
             "Authorization", "AKIA", "aws", "--", "3f2a9c1d4e5b6a7c8d9e0f1a2b3c", "foo(bar):"]
    text = " ".join(rng.choice(words) for _ in range(200_000))[: 1 << 20]
    assert redactor.redact(text) == text
    best = min(_timed(redactor.redact, text) for _ in range(3))
    print(f"\nredacting 1 MiB of near misses: {best * 1000:.1f} ms")


def _timed(func, arg) -> float:
    start = time.perf_counter()
    func(arg)
    return time.perf_counter() - start


# Secret-named fields: JSON, env files, YAML, CLI arguments.

STS_SECRET = "Wj4lrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKE2"
STS_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "x9Z+" * 40
STS = json.dumps({"Credentials": {"AccessKeyId": AWS_TEMP_ID, "SecretAccessKey": STS_SECRET,
                                  "SessionToken": STS_TOKEN,
                                  "Expiration": "2026-11-21T20:40:00+00:00"},
                  "AssumedRoleUser": {"Arn": "arn:aws:sts::123456789012:assumed-role/x/y"}},
                 indent=4)


def test_sts_credentials_json(redactor):
    out = redactor.redact(STS)
    assert STS_SECRET not in out and STS_TOKEN[:20] not in out and AWS_TEMP_ID not in out
    data = json.loads(out)  # still JSON, the names and the other values kept
    assert data["Credentials"] == {
        "AccessKeyId": "[REDACTED:aws-access-key]", "SecretAccessKey": "[REDACTED:secret]",
        "SessionToken": "[REDACTED:secret]", "Expiration": "2026-11-21T20:40:00+00:00"}
    assert data["AssumedRoleUser"]["Arn"].endswith(":assumed-role/x/y")
    escaped = json.dumps({"output": STS})  # the same, as a string inside JSON
    out = redactor.redact(escaped)
    assert STS_SECRET not in out and STS_TOKEN[:20] not in out
    assert json.loads(json.loads(out)["output"])["Credentials"]["SessionToken"] \
        == "[REDACTED:secret]"


@pytest.mark.parametrize("text, expected", [
    ("AWS_SESSION_TOKEN=IQoJb3JpZ2luX2Vj\n", "AWS_SESSION_TOKEN=[REDACTED:secret]\n"),
    ("export DB_PASSWORD='pa ss w0rd!'", "export DB_PASSWORD='[REDACTED:secret]'"),
    ('client_secret = "s3cr3t-value-123"', 'client_secret = "[REDACTED:secret]"'),
    ("  password: hunter2hunter2 # yaml", "  password: [REDACTED:secret] # yaml"),
    ("deploy --api-key=abcdefgh1234 --region x", "deploy --api-key=[REDACTED:secret] --region x"),
    ("curl 'https://x.test/cb?access_token=ya29.a0AfH6SM&state=1'",
     "curl 'https://x.test/cb?access_token=[REDACTED:secret]&state=1'"),
    ("url?apiKey%3Dabcdefgh1234", "url?apiKey%3D[REDACTED:secret]"),
    ("Passwd=Tr0ub4dor&3", "Passwd=[REDACTED:secret]&3"),
    ("PRIVATE-KEY: 'MIIEvQIBADANBgkq'", "PRIVATE-KEY: '[REDACTED:secret]'"),
    ("ssh_passphrase=abcdefgh1", "ssh_passphrase=[REDACTED:secret]"),
    ("auth_token: Bearer abcdefgh1234", "auth_token: Bearer [REDACTED:secret]"),
    ('{"token":"' + GITHUB_CLASSIC + '"}', '{"token":"[REDACTED:github-token]"}'),
    ("MY_TOKEN=correct-horse-battery", "MY_TOKEN=[REDACTED:MY_SERVICE_PASSWORD]"),
    ('"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIB\\n-----END PRIVATE KEY-----\\n"',
     '"private_key": "[REDACTED:private-key]\\n"'),
])
def test_secret_named_fields(redactor, text, expected):
    assert redactor.redact(text) == expected


# Property: every key shape is gone whatever comes before and after it, whole or streamed.

PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)
AROUND = st.lists(st.one_of(PRINTABLE, st.sampled_from(["\\n", "\\t", '\\"', "%3D", "\n",
                                                         "\t", "\\\\", "\\u0022"])),
                  max_size=2).map("".join)
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
UPPER = string.ascii_uppercase + string.digits


def _body(alphabet: str, low: int, high: int):
    return st.text(alphabet=alphabet, min_size=low, max_size=high)


def _random(*parts):
    """A key from fixed strings and strategies, in order."""
    return st.tuples(*(st.just(p) if isinstance(p, str) else p for p in parts)).map("".join)


# (key as written, the secret part that must not survive); random bodies where the shape
# allows, modelled on real keys (a random base62 body always has an upper-case letter or digit)
KEYS = st.one_of(
    _random(st.sampled_from(["sk-ant-api03-", "sk-ant-oat01-", "sk-ant-admin01-"]),
            _body(URLSAFE, 20, 100)).map(lambda k: (k, k)),
    _random("sk-", _body(ALNUM, 20, 24), "T3BlbkFJ", _body(ALNUM, 20, 24)).map(lambda k: (k, k)),
    _random(st.sampled_from(["sk-proj-", "sk-svcacct-", "sk-admin-", "sk-"]),
            _body(URLSAFE, 8, 60), st.sampled_from(UPPER), _body(URLSAFE, 12, 60))
    .map(lambda k: (k, k)),
    _random(st.sampled_from(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]), _body(ALNUM, 36, 40))
    .map(lambda k: (k, k)),
    _random("github_pat_", _body(ALNUM + "_", 82, 82)).map(lambda k: (k, k)),
    _random(st.sampled_from(["AKIA", "ASIA"]), _body(UPPER, 16, 16)).map(lambda k: (k, k)),
    _random(st.sampled_from(["xoxb-", "xoxp-", "xoxa-", "xoxs-"]), _body(ALNUM + "-", 10, 60))
    .map(lambda k: (k, k)),
    _random(st.sampled_from(["sk_live_", "rk_live_", "sk_test_"]), _body(ALNUM, 16, 40))
    .map(lambda k: (k, k)),
    _random("npm_", _body(ALNUM, 36, 36)).map(lambda k: (k, k)),
    _random("AIza", _body(URLSAFE, 35, 35)).map(lambda k: (k, k)),
    _random("postgres://user:", st.just("PwD9"), _body(ALNUM, 4, 30), "@db/x")
    .map(lambda k: (k, k[k.index("PwD9"):k.index("@db")])),
    st.sampled_from([(PEM, PEM_BODY.split("\n")[0]),
                     (PEM.replace("\n", "\\n"), PEM_BODY.split("\n")[0]),
                     ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
                      "b3BlbnNzaC1rZXktdjEAAAAA"),
                     (f"aws_secret_access_key={AWS_SECRET}", AWS_SECRET),
                     ("Authorization: Bearer eyJhbGciOi.J9eyJzdWIi.Ok_x-Y", "eyJhbGciOi"),
                     ("x-api-key: abcdefgh12345", "abcdefgh12345")]),
    _random(st.sampled_from(['"SecretAccessKey": "', '"SessionToken":"', "DB_PASSWORD=",
                             "api_key: ", "--client-secret=", "X_API_KEY%3D", "{'token': '"]),
            st.just("IQoJ"), _body(ALNUM + "/+=", 4, 40))
    .map(lambda k: (k, k[k.index("IQoJ"):])),
)


@settings(max_examples=300, deadline=None)
@given(key=KEYS, before=AROUND, after=AROUND)
def test_a_key_shape_is_redacted_whatever_surrounds_it(key, before, after):
    written, secret = key
    out = Redactor({}).redact(before + written + after)
    assert secret not in out and "[REDACTED:" in out


@settings(max_examples=200, deadline=None)
@given(key=KEYS, before=AROUND, after=AROUND, data=st.data())
def test_a_key_shape_is_redacted_in_a_stream_cut_anywhere(key, before, after, data):
    written, secret = key
    redactor = Redactor({})
    text = "first line\n" + before + written + after + "\nlast line"
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    out = "".join(_stream(redactor, chunks))
    assert out == redactor.redact(text)
    assert secret not in out
