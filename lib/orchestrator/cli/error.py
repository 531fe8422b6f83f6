"""CLI of `error classify|report|redact|backoff`: read an error, classify it, print the
verdict; say how long to wait before retrying.

Imports happen inside the handlers so that `orchestrate --version` stays fast.
"""

from __future__ import annotations

import sys

from orchestrator.cli.output import Result

__all__ = ["add_error_parser", "ERROR_SCHEMA", "ERROR_SUMMARY_SCHEMA", "ERROR_BACKOFF_SCHEMA",
           "FIELDS", "SEED_VARIABLE"]

ERROR_SCHEMA = "orchestrate/error@1"
ERROR_SUMMARY_SCHEMA = "orchestrate/error-summary@1"
ERROR_BACKOFF_SCHEMA = "orchestrate/error-backoff@1"
SEED_VARIABLE = "ORCHESTRATE_BACKOFF_SEED"  # the default of `error backoff --seed`
FIELDS = ("kind", "category", "retryable", "retry_after_s", "status", "message", "suggestion")


def add_error_parser(commands, common) -> None:
    """Register `orchestrate error ...` on the top-level subparsers."""
    import argparse

    error = commands.add_parser(
        "error", parents=[common], help="classify a failure and say what to do about it",
        description="Classify an error (an agent's or a command's) as transient (retrying "
                    "after a wait may fix it), permanent (someone has to act) or unknown, "
                    "and say what to do.")
    actions = error.add_subparsers(dest="error_command", metavar="SUBCOMMAND")
    actions.required = True

    facts = argparse.ArgumentParser(add_help=False, parents=[common])
    facts.add_argument("text", metavar="TEXT", nargs="?",
                       help="the error text; read from stdin when omitted or -")
    facts.add_argument("--status", type=_whole_number, metavar="N",
                       help="the HTTP status of the failure (claude's api_error_status); it "
                            "decides the kind over the text")
    facts.add_argument("--subtype", metavar="S",
                       help="claude's result subtype, e.g. error_max_turns")
    facts.add_argument("--exit-code", type=_whole_number, metavar="N",
                       help="the failed command's exit code")

    classify = actions.add_parser(
        "classify", parents=[facts], help="print the kind, category and a suggestion",
        description="Print `KIND CATEGORY: MESSAGE` and a `suggestion:` line. Exit 0 "
                    "whatever the verdict.")
    output = classify.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true",
                        help=f"print one JSON object ({ERROR_SCHEMA})")
    output.add_argument("--field", action="append", choices=FIELDS, metavar="NAME",
                        help="print only this field's value, one line each, in the order "
                             f"given (repeatable; one of {', '.join(FIELDS)}); for scripts")
    classify.set_defaults(handler=_cmd_classify)

    report = actions.add_parser(
        "report", parents=[facts], help="print a report: what failed, where, what to do",
        description="Print a multi-line report of the error: its description, the step and "
                    "attempt, whether retrying can help, the error text (secrets redacted) "
                    "and what to do. Exit 0.")
    report.add_argument("--step", metavar="STEP", help="the step that failed")
    report.add_argument("--attempt", metavar="N", help="which attempt failed")
    report.add_argument("--json", action="store_true",
                        help=f"print one JSON object ({ERROR_SUMMARY_SCHEMA})")
    report.set_defaults(handler=_cmd_report)

    redact = actions.add_parser(
        "redact", parents=[common], help="copy stdin to stdout with secrets redacted",
        description="Copy stdin to stdout, line by line as it arrives, with secrets replaced "
                    "by [REDACTED:...] markers: the values of secret-named environment "
                    "variables, strings shaped like known keys, and the values of "
                    "secret-named fields. Bytes that are not UTF-8 pass unchanged. Exit 0.")
    redact.set_defaults(handler=_cmd_redact)

    # The defaults are the engine's (orchestrator.engine.backoff); they are named here, not
    # imported, to keep that import out of every `error` command's start-up.
    backoff = actions.add_parser(
        "backoff", parents=[common], help="print how long to wait before retrying",
        description="Print the delay, in seconds, to wait after attempt N failed and before "
                    "attempt N+1, computed as the engine computes its own: full jitter, a "
                    "random wait in [0, min(CAP, BASE * 2^(N-1))], raised to the "
                    "retry-after (at most MAX_RETRY_AFTER). Exit 0; 2 for bad usage.")
    backoff.add_argument("--attempt", type=_attempt_number, required=True, metavar="N",
                         help="the attempt that failed, from 1 (the first run of the command)")
    backoff.add_argument("--retry-after", type=_seconds, metavar="S",
                         help="the wait the error asked for (`error classify --field "
                              "retry_after_s`); the delay is at least this")
    backoff.add_argument("--base", type=_seconds, metavar="S",
                         help="the largest wait after attempt 1, doubled after each later "
                              "one (default 2, the engine's)")
    backoff.add_argument("--cap", type=_seconds, metavar="S",
                         help="the largest wait, retry-after aside (default 60, the engine's)")
    backoff.add_argument("--max-retry-after", type=_seconds, metavar="S",
                         help="the largest retry-after honoured (default 120, the engine's)")
    backoff.add_argument("--seed", type=_whole_number, metavar="N",
                         help=f"seed the jitter, for reproducible delays (default: "
                              f"${SEED_VARIABLE} when set, else random)")
    backoff.add_argument("--json", action="store_true",
                         help=f"print one JSON object ({ERROR_BACKOFF_SCHEMA})")
    backoff.set_defaults(handler=_cmd_backoff)


def _whole_number(text: str) -> int:
    import argparse

    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _attempt_number(text: str) -> int:
    import argparse

    number = _whole_number(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected an attempt number >= 1, got {text!r}")
    return number


def _seconds(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _read_text(args) -> str:
    """The error text: the argument, or stdin for none or "-"; always valid Unicode."""
    text = args.text
    if text is None or text == "-":
        stream = sys.stdin
        if stream is None:
            return ""
        buffer = getattr(stream, "buffer", None)
        text = buffer.read().decode("utf-8", "replace") if buffer else stream.read()
    # Bytes that are not UTF-8 reach argv as surrogates; make them printable.
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _classify(args):
    from orchestrator.engine.failures import classify_error

    text = _read_text(args)
    return text, classify_error(text, status=args.status, subtype=args.subtype,
                                exit_code=args.exit_code)


def _field_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _cmd_classify(args) -> Result:
    _, verdict = _classify(args)
    data = verdict.to_dict()
    if args.field:
        text = "".join(_field_text(data[name]) + "\n" for name in args.field)
    else:
        text = (f"{verdict.kind} {verdict.category}: {verdict.message}\n"
                f"suggestion: {verdict.suggestion}\n")
    return Result({"schema": ERROR_SCHEMA, **data}, text)


def _cmd_report(args) -> Result:
    from orchestrator.engine.failures import format_error_report
    from orchestrator.redact import redact

    text, verdict = _classify(args)
    report = format_error_report(verdict, step=args.step, attempt=args.attempt,
                                 context=redact(text))
    return Result({"schema": ERROR_SUMMARY_SCHEMA, **verdict.to_dict(), "step": args.step,
                   "attempt": args.attempt, "report": report}, report)


def _cmd_redact(args) -> int:
    """Stdin to stdout through a StreamRedactor; odd bytes go through as they came."""
    import codecs

    from orchestrator.redact import default_redactor

    source = getattr(sys.stdin, "buffer", None)
    if source is None:
        return 0
    read = getattr(source, "read1", source.read)  # read1: what has arrived, without waiting
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    out = sys.stdout.buffer

    def write(text: str) -> None:
        out.write(text.encode("utf-8", "surrogateescape"))
        out.flush()

    with default_redactor().stream(write) as stream:
        while chunk := read(1 << 16):
            stream.feed(decoder.decode(chunk))
        stream.feed(decoder.decode(b"", final=True))
    return 0


def _backoff_seed(args) -> int | None:
    """--seed, else $ORCHESTRATE_BACKOFF_SEED when set and not empty, else None."""
    import os

    from orchestrator.errors import OrchestrateError

    if args.seed is not None:
        return args.seed
    text = os.environ.get(SEED_VARIABLE, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise OrchestrateError(f"{SEED_VARIABLE} must be a whole number, got {text!r}") from None


def _cmd_backoff(args) -> Result:
    import random

    from orchestrator.engine import backoff

    seed = _backoff_seed(args)
    base = backoff.DEFAULT_BASE_S if args.base is None else args.base
    cap = backoff.DEFAULT_CAP_S if args.cap is None else args.cap
    max_after = (backoff.DEFAULT_MAX_RETRY_AFTER_S if args.max_retry_after is None
                 else args.max_retry_after)
    retry = args.attempt - 1  # the retry that follows attempt N, counted from 0
    delay = backoff.backoff_delay(retry, base_s=base, cap_s=cap, retry_after=args.retry_after,
                                   max_retry_after_s=max_after, rng=random.Random(seed))
    return Result({"schema": ERROR_BACKOFF_SCHEMA, "delay_s": delay, "attempt": args.attempt,
                   "ceiling_s": backoff.backoff_ceiling(retry, base, cap),
                   "retry_after_s": args.retry_after, "base_s": base, "cap_s": cap,
                   "max_retry_after_s": max_after, "seed": seed}, f"{delay:.3f}\n")
