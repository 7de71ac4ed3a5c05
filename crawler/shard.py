"""Sharding one crawl over N processes (the pods of a Kubernetes Indexed Job, say).

Every (account, region) pair belongs to exactly one shard, by a hash of the pair alone: it does
not depend on the order or the set of other accounts, so adding an account moves no other pair
between shards, and a pair's per-(account, region) limit and throttling stay inside one process.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from crawler.errors import ConfigError

__all__ = ["GROUP_ENV", "INDEX_ENV", "SHARDS_ENV", "Shard", "parse_shard", "shard_from_environment"]

INDEX_ENV = "JOB_COMPLETION_INDEX"  # set by Kubernetes in every pod of an Indexed Job
SHARDS_ENV = "BEDROCK_INVENTORY_SHARDS"
GROUP_ENV = "BEDROCK_INVENTORY_RUN_GROUP"

_SHARD = re.compile(r"(\d{1,6})/(\d{1,6})")


@dataclass(frozen=True, slots=True)
class Shard:
    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ConfigError(
                f"bad shard {self.index}/{self.count}: expected I/N with N >= 1 and 0 <= I < N"
            )

    @property
    def sharded(self) -> bool:
        return self.count > 1

    def owns(self, account_id: str, region: str) -> bool:
        """Whether the pair (account, region) is this shard's."""
        if self.count == 1:
            return True
        digest = hashlib.sha256(f"{account_id}/{region}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    match = _SHARD.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"bad shard {text!r}: expected I/N, like 0/3")
    return Shard(int(match[1]), int(match[2]))


def shard_from_environment(env: Mapping[str, str] | None = None) -> Shard:
    """BEDROCK_INVENTORY_SHARDS (N) and JOB_COMPLETION_INDEX (I): what an Indexed Job's pods
    see. Without BEDROCK_INVENTORY_SHARDS there is no sharding (a completion index alone says
    nothing about N)."""
    env = os.environ if env is None else env
    count_text = env.get(SHARDS_ENV)
    if count_text is None or not count_text.strip():
        return Shard()
    if not count_text.strip().isdigit():
        raise ConfigError(f"bad {SHARDS_ENV} {count_text!r}: expected a whole number >= 1")
    count = int(count_text)
    index_text = env.get(INDEX_ENV)
    if index_text is None:
        if count == 1:
            return Shard()
        raise ConfigError(f"{SHARDS_ENV}={count} needs {INDEX_ENV} (or --shard I/{count})")
    if not index_text.strip().isdigit():
        raise ConfigError(f"bad {INDEX_ENV} {index_text!r}: expected a whole number")
    return Shard(int(index_text), count)
