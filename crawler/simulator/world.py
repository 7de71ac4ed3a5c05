"""The simulated AWS estate: accounts, their enabled regions, roles and Bedrock assets.

Items are stored exactly as the API returns them (JSON-ready, camelCase, ISO-8601 strings) so
that the wire layer serialises them without translation and tests can inject members the SDK
does not know.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COLLECTIONS", "Account", "CollectionSpec", "Item", "World"]

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
    accompany AssumeRole. ``assets`` maps ``(region, collection)`` to stored items.
    """

    account_id: str
    regions: set[str] = field(default_factory=lambda: {"us-east-1"})
    denied: bool = False
    roles: set[str] = field(default_factory=lambda: {"InventoryReader"})
    assets: dict[tuple[str, str], list[Item]] = field(default_factory=dict)
    external_id: str | None = None

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


@dataclass
class World:
    """Every account the simulator knows; the base credentials act in ``home_account``."""

    accounts: dict[str, Account]
    home_account: str

    def __post_init__(self) -> None:
        for key, account in self.accounts.items():
            if key != account.account_id:
                raise ValueError(f"account {account.account_id} is filed under {key}")
        if self.home_account not in self.accounts:
            raise ValueError(f"home account {self.home_account} is not in accounts")
