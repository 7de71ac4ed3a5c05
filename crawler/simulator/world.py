"""The simulated AWS estate: accounts, their enabled regions, roles and Bedrock assets.

Items are stored exactly as the API returns them (JSON-ready, camelCase, ISO-8601 strings) so
that the wire layer serialises them without translation and tests can inject members the SDK
does not know.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COLLECTIONS", "OPT_IN_REGIONS", "Account", "CollectionSpec", "Item", "World"]

Item = dict[str, Any]


@dataclass(frozen=True)
class CollectionSpec:
    """How items of one collection are identified and what the list view leaves out."""

    arn_key: str
    name_key: str | None = None
    # Members only the Get operation returns. Items are stored as the full Get body, and the List
    # operation removes exactly these, so members unknown to both shapes (future or hostile
    # fields) still reach the list output, as they would from a real service.
    detail_only: frozenset[str] = frozenset()


COLLECTIONS: dict[str, CollectionSpec] = {
    "custom-models": CollectionSpec("modelArn", "modelName"),
    "customization-jobs": CollectionSpec("jobArn", "jobName"),
    "copy-jobs": CollectionSpec("jobArn"),
    "imported-models": CollectionSpec(
        "modelArn",
        "modelName",
        detail_only=frozenset(
            {"jobName", "jobArn", "modelDataSource", "modelKmsKeyArn", "customModelUnits"}
        ),
    ),
}


def _spec(collection: str) -> CollectionSpec:
    try:
        return COLLECTIONS[collection]
    except KeyError:
        known = ", ".join(sorted(COLLECTIONS))
        raise KeyError(f"unknown collection {collection!r} (known: {known})") from None


@dataclass
class Account:
    """One AWS account.

    ``regions`` are the regions enabled for it (calls elsewhere are refused the way AWS refuses
    a disabled opt-in region); ``denied`` makes every Bedrock call an AccessDeniedException;
    ``roles`` are the role names AssumeRole may assume here, and ``external_id``, when set, must
    accompany AssumeRole. ``assets`` maps ``(region, collection)`` to stored items. ``name`` and
    ``email`` are what Organizations reports for the account (derived from the id when unset).
    """

    account_id: str
    regions: set[str] = field(default_factory=lambda: {"us-east-1"})
    denied: bool = False
    roles: set[str] = field(default_factory=lambda: {"InventoryReader"})
    assets: dict[tuple[str, str], list[Item]] = field(default_factory=dict)
    external_id: str | None = None
    name: str | None = None
    email: str | None = None

    def items(self, region: str, collection: str) -> list[Item]:
        """The items of ``collection`` in ``region``, in insertion order.

        A new list of the stored (live) item dicts: change membership with ``add``/``remove``,
        change an item by mutating its dict. Reading never creates entries in ``assets``.
        """
        _spec(collection)
        return list(self.assets.get((region, collection), ()))

    def add(self, region: str, collection: str, item: Item) -> Item:
        arn_key = _spec(collection).arn_key
        if arn_key not in item:
            raise ValueError(f"{collection} item has no {arn_key!r}")
        self.assets.setdefault((region, collection), []).append(item)
        return item

    def remove(
        self, region: str, collection: str, arn_or_predicate: str | Callable[[Item], bool]
    ) -> int:
        """Remove matching items and return how many went.

        An ARN that matches nothing raises ``KeyError``: in a test that is almost always a typo,
        and a silent no-op would let the test pass for the wrong reason.
        """
        arn_key = _spec(collection).arn_key
        items = self.assets.get((region, collection), [])
        if isinstance(arn_or_predicate, str):
            kept = [item for item in items if item.get(arn_key) != arn_or_predicate]
        else:
            kept = [item for item in items if not arn_or_predicate(item)]
        removed = len(items) - len(kept)
        if removed == 0 and isinstance(arn_or_predicate, str):
            raise KeyError(f"no {collection} item {arn_or_predicate!r} in {region}")
        if removed:
            items[:] = kept
        return removed


# Regions an account must opt in to (all others are enabled in every account), as AWS has them.
OPT_IN_REGIONS: frozenset[str] = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-west-1",
        "eu-central-2",
        "eu-south-1",
        "eu-south-2",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
    }
)


@dataclass
class World:
    """Every account the simulator knows; the base credentials act in ``home_account``.

    ``regions`` are the regions that exist (what EC2 DescribeRegions with AllRegions lists);
    when empty, the regions enabled in any account. ``opt_in_regions`` are those an account may
    lack: EC2 reports them "opted-in" or "not-opted-in", the others "opt-in-not-required".
    ``home_account`` is also the management account of the organisation ``organization_id``.
    """

    accounts: dict[str, Account]
    home_account: str
    regions: tuple[str, ...] = ()
    opt_in_regions: frozenset[str] = OPT_IN_REGIONS
    organization_id: str | None = None

    @property
    def all_regions(self) -> tuple[str, ...]:
        if self.regions:
            return self.regions
        return tuple(sorted({r for account in self.accounts.values() for r in account.regions}))

    @property
    def org_id(self) -> str:
        """The organisation id ("o-" and 10 characters), derived from the home account if unset."""
        if self.organization_id is not None:
            return self.organization_id
        return "o-" + hashlib.sha256(f"organization/{self.home_account}".encode()).hexdigest()[:10]

    def __post_init__(self) -> None:
        for key, account in self.accounts.items():
            if key != account.account_id:
                raise ValueError(f"account {account.account_id} is filed under {key}")
        if self.home_account not in self.accounts:
            raise ValueError(f"home account {self.home_account} is not in accounts")
