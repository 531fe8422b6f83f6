"""How long to wait before retrying a transient failure: full-jitter exponential backoff
inside a total budget of waiting, raised to the retry-after the error asked for.

``Backoff`` spaces one step's retries, one ``backoff_delay`` at a time; the same function
answers `orchestrate error backoff` for shell scripts. Pure: the randomness comes from the
caller's ``random.Random`` when it passes one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_BASE_S",
    "DEFAULT_BUDGET_S",
    "DEFAULT_CAP_S",
    "DEFAULT_MAX_RETRY_AFTER_S",
    "Backoff",
    "backoff_ceiling",
    "backoff_delay",
]

# The backoff's defaults, in seconds: the first wait's ceiling (doubling with each retry), the
# largest ceiling, the total of one step's waits, the largest retry-after honoured.
DEFAULT_BASE_S = 2.0
DEFAULT_CAP_S = 60.0
DEFAULT_BUDGET_S = 300.0
DEFAULT_MAX_RETRY_AFTER_S = 120.0


def _check_seconds(owner: str, name: str, value: float) -> None:
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"{owner} {name} must be >= 0, got {value!r}")


def backoff_ceiling(n: int, base_s: float = DEFAULT_BASE_S,
                    cap_s: float = DEFAULT_CAP_S) -> float:
    """The largest wait before retry ``n`` (0-based): min(cap_s, base_s * 2**n)."""
    return min(cap_s, base_s * 2.0 ** min(max(n, 0), 1023))


def backoff_delay(n: int, *, base_s: float = DEFAULT_BASE_S, cap_s: float = DEFAULT_CAP_S,
                  retry_after: float | None = None,
                  max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
                  rng: random.Random | None = None) -> float:
    """The wait before retry ``n`` (0-based: retry 0 follows the first failed attempt).

    Full jitter: uniform in [0, ``backoff_ceiling(n, base_s, cap_s)``], drawn from ``rng``
    (one draw, whatever the retry-after). Raised to ``retry_after``, the wait the error asked
    for, itself at most ``max_retry_after_s``; a negative retry-after counts as 0 and NaN as
    none. No budget: that is ``Backoff``'s business.

    >>> backoff_delay(0, base_s=1.0, retry_after=30.0)
    30.0
    """
    for name, value in (("base_s", base_s), ("cap_s", cap_s),
                        ("max_retry_after_s", max_retry_after_s)):
        _check_seconds("backoff", name, value)
    wait = (random if rng is None else rng).uniform(0.0, backoff_ceiling(n, base_s, cap_s))
    if retry_after is not None and retry_after == retry_after:  # skip NaN
        wait = max(wait, min(max(retry_after, 0.0), max_retry_after_s))
    return wait


@dataclass(slots=True, eq=False)
class Backoff:
    """Full-jitter exponential backoff inside a total budget of waiting.

    The n-th wait (from 0) is ``backoff_delay(n, ...)``: uniform in
    [0, min(cap_s, base_s * 2**n)], raised to the retry-after the error asked for (at most
    ``max_retry_after_s``). ``next_delay`` returns None once the waits would pass
    ``budget_s``; from then on the caller gives up.
    """

    base_s: float = DEFAULT_BASE_S
    cap_s: float = DEFAULT_CAP_S
    budget_s: float = DEFAULT_BUDGET_S
    max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S
    rng: random.Random = field(default_factory=random.Random, repr=False)
    waits: list[float] = field(default_factory=list, init=False)  # delays handed out, in order
    total_waited: float = field(default=0.0, init=False)  # their sum
    exhausted: bool = field(default=False, init=False)  # out of budget: only None from now on

    def __post_init__(self) -> None:
        for name in ("base_s", "cap_s", "budget_s", "max_retry_after_s"):
            _check_seconds("Backoff", name, getattr(self, name))

    def ceiling(self, n: int) -> float:
        """The largest wait before retry ``n`` (0-based)."""
        return backoff_ceiling(n, self.base_s, self.cap_s)

    def delay(self, n: int) -> float:
        """A random wait before retry ``n`` (0-based), without retry-after or budget."""
        return backoff_delay(n, base_s=self.base_s, cap_s=self.cap_s, rng=self.rng)

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """The wait before the next retry, or None when the budget would be exceeded."""
        if self.exhausted:
            return None
        wait = backoff_delay(len(self.waits), base_s=self.base_s, cap_s=self.cap_s,
                             retry_after=retry_after,
                             max_retry_after_s=self.max_retry_after_s, rng=self.rng)
        if self.total_waited + wait > self.budget_s:
            self.exhausted = True
            return None
        self.waits.append(wait)
        self.total_waited += wait
        return wait
