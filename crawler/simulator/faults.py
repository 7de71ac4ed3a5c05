"""Fault injection: what the simulator does wrong, on purpose, and for which calls.

Every fault is keyed by ``(account_id, region, operation)``, with the botocore operation name
("ListCustomModels", "AssumeRole"), so a test can break exactly one call site of the crawler.
A ``Faults`` object stays live: tests may change it while a simulator is running.

Two kinds of fault live here side by side:

* scripted ones (``throttle``, ``errors``, ``repeat_token``, ``empty_pages``, ...), which say
  exactly which call fails and how; and
* behaviour (``latency_ms``, ``throttle_rps``, ``error_rates``), the statistical weather of a
  scenario. Its random draws are a pure function of ``(seed, key, n)`` for the n-th call with that
  key, so they are reproducible even when a concurrent crawl interleaves its calls differently.

The defaults switch all behaviour off, so a bare ``Faults()`` injects nothing at all.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Literal

from .errors import FAULT_STATUS_CODES

__all__ = [
    "DROP_FAULTS",
    "ERROR_RATE_KINDS",
    "WILDCARD",
    "FaultKey",
    "FaultSpec",
    "Faults",
    "check_error_rates",
    "key_matches",
]

FaultKey = tuple[str, str, str]
# An HTTP status from FAULT_STATUS_CODES, "reset" (drop the connection without an answer) or
# "hang" (never answer; released when the simulator stops).
FaultSpec = int | Literal["reset", "hang"]
DROP_FAULTS: frozenset[str] = frozenset({"reset", "hang"})
# The keys of ``Faults.error_rates`` and the fault each one injects.
ERROR_RATE_KINDS: dict[str, FaultSpec] = {"500": 500, "503": 503, "reset": "reset", "hang": "hang"}
# In the key sets (``repeat_token``, ``empty_pages``) a "*" part matches any account, region or
# operation: ``("*", "*", "ListCustomModels")`` is every scope's ListCustomModels.
WILDCARD = "*"


def key_matches(keys: Collection[FaultKey], key: FaultKey) -> bool:
    """Whether ``key`` is in ``keys``, where any part of a stored key may be ``WILDCARD``."""
    if not keys:
        return False
    return any(candidate in keys for candidate in _generalisations(key))


def _generalisations(key: FaultKey) -> Iterator[FaultKey]:
    account, region, operation = key
    for a in (account, WILDCARD):
        for r in (region, WILDCARD):
            for o in (operation, WILDCARD):
                yield (a, r, o)


@dataclass
class Faults:
    # Scripted faults: exact, consumed in place.
    throttle: dict[FaultKey, int] = field(default_factory=dict)
    errors: dict[FaultKey, list[FaultSpec]] = field(default_factory=dict)
    repeat_token: set[FaultKey] = field(default_factory=set)
    empty_pages: set[FaultKey] = field(default_factory=set)
    page_size_cap: int | None = None
    credential_ttl_seconds: float = 3600
    not_found_on_get: set[str] = field(default_factory=set)
    # Behaviour: every call waits latency_ms plus a uniform draw from [0, latency_jitter_ms).
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    # A token bucket per key: throttle_burst calls at once, refilled at throttle_rps per second
    # of ``clock``; a call finding the bucket empty is answered 429 (None = no bucket).
    throttle_rps: float | None = None
    throttle_burst: int | None = None
    # Probability per call of each kind in ERROR_RATE_KINDS; they add up to at most 1.
    error_rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    # Seconds, monotonic; the token bucket reads it. Tests inject a fake one to avoid sleeping.
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[FaultKey, tuple[float, float]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _draws: dict[tuple[str, FaultKey], int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Fail at construction rather than as a puzzling 500 in the middle of a crawl.
        for key, specs in self.errors.items():
            for spec in specs:
                _check_spec(key, spec)
        if self.page_size_cap is not None and self.page_size_cap < 1:
            raise ValueError("page_size_cap must be at least 1")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latency_ms and latency_jitter_ms must not be negative")
        if self.throttle_rps is not None and not self.throttle_rps > 0:
            raise ValueError("throttle_rps must be positive (or None for no throttling)")
        if self.throttle_burst is not None and self.throttle_burst < 1:
            raise ValueError("throttle_burst must be at least 1")
        check_error_rates(self.error_rates)

    @property
    def burst(self) -> int:
        """The token bucket's capacity: ``throttle_burst``, else one second's worth of calls."""
        if self.throttle_burst is not None:
            return self.throttle_burst
        return max(1, math.ceil(self.throttle_rps or 1))

    def take(self, key: FaultKey) -> FaultSpec | None:
        """Consume and return the fault for one call, if any.

        Scripted throttling comes first, then the ``errors`` queue, one entry per call (both are
        used up in place, so a test can read what is left); then the token bucket, then the
        error rates.
        """
        remaining = self.throttle.get(key, 0)
        if remaining > 0:
            self.throttle[key] = remaining - 1
            return 429
        queue = self.errors.get(key)
        if queue:
            spec = queue.pop(0)
            _check_spec(key, spec)
            return spec
        if self.throttle_rps is not None and not self._take_token(key, self.throttle_rps):
            return 429
        if self.error_rates:
            draw = self._draw("error", key)
            threshold = 0.0
            for kind, rate in self.error_rates.items():
                threshold += rate
                if draw < threshold:
                    return ERROR_RATE_KINDS[kind]
        return None

    def latency(self, key: FaultKey) -> float:
        """Seconds the answer to this call is delayed by (0 when latency is off)."""
        if not self.latency_jitter_ms:
            return self.latency_ms / 1000
        return (self.latency_ms + self.latency_jitter_ms * self._draw("latency", key)) / 1000

    def _take_token(self, key: FaultKey, rate: float) -> bool:
        now = self.clock()
        capacity = float(self.burst)
        tokens, last = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + max(0.0, now - last) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return True
        self._buckets[key] = (tokens, now)
        return False

    def _draw(self, purpose: str, key: FaultKey) -> float:
        # Uniform on [0, 1), from (seed, purpose, key, n) alone.
        n = self._draws.get((purpose, key), 0)
        self._draws[(purpose, key)] = n + 1
        material = "\x1f".join((str(self.seed), purpose, *key, str(n))).encode()
        digest = hashlib.blake2b(material, digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64


def check_error_rates(rates: dict[str, float]) -> None:
    for kind, rate in rates.items():
        if kind not in ERROR_RATE_KINDS:
            raise ValueError(
                f"error rate {kind!r}: expected one of {', '.join(sorted(ERROR_RATE_KINDS))}"
            )
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError(f"error rate {kind!r} must be a probability in [0, 1], not {rate!r}")
    if sum(rates.values()) > 1 + 1e-9:
        raise ValueError(f"error rates add up to more than 1: {rates}")


def _check_spec(key: FaultKey, spec: object) -> None:
    if spec in DROP_FAULTS or (isinstance(spec, int) and spec in FAULT_STATUS_CODES):
        return
    allowed = sorted(FAULT_STATUS_CODES)
    raise ValueError(f"fault {spec!r} for {key}: expected one of {allowed}, 'reset' or 'hang'")
