"""Fault injection: what the simulator does wrong, on purpose, and for which calls.

Every fault is keyed by ``(account_id, region, operation)``, with the botocore operation name
("ListCustomModels", "AssumeRole"), so a test can break exactly one call site of the crawler.
A ``Faults`` object stays live: tests may change it while a simulator is running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .errors import FAULT_STATUS_CODES

__all__ = ["DROP_FAULTS", "FaultKey", "FaultSpec", "Faults"]

FaultKey = tuple[str, str, str]
# An HTTP status from FAULT_STATUS_CODES, "reset" (drop the connection without an answer) or
# "hang" (never answer; released when the simulator stops).
FaultSpec = int | Literal["reset", "hang"]
DROP_FAULTS: frozenset[str] = frozenset({"reset", "hang"})


@dataclass
class Faults:
    throttle: dict[FaultKey, int] = field(default_factory=dict)
    errors: dict[FaultKey, list[FaultSpec]] = field(default_factory=dict)
    repeat_token: set[FaultKey] = field(default_factory=set)
    empty_pages: set[FaultKey] = field(default_factory=set)
    page_size_cap: int | None = None
    credential_ttl_seconds: float = 3600
    not_found_on_get: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # Fail at construction rather than as a puzzling 500 in the middle of a crawl.
        for key, specs in self.errors.items():
            for spec in specs:
                _check_spec(key, spec)
        if self.page_size_cap is not None and self.page_size_cap < 1:
            raise ValueError("page_size_cap must be at least 1")

    def take(self, key: FaultKey) -> FaultSpec | None:
        """Consume and return the fault for one call, if any.

        Throttling comes first, then the ``errors`` queue, one entry per call; both are used up
        in place, so a test can read what is left.
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
        return None


def _check_spec(key: FaultKey, spec: object) -> None:
    if spec in DROP_FAULTS or (isinstance(spec, int) and spec in FAULT_STATUS_CODES):
        return
    allowed = sorted(FAULT_STATUS_CODES)
    raise ValueError(f"fault {spec!r} for {key}: expected one of {allowed}, 'reset' or 'hang'")
