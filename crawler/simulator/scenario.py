"""Scenarios: an AWS estate and its behaviour, as data.

A scenario is a JSON document (the built-ins are in ``scenarios/``): how many accounts, which
regions and which of them some accounts have not enabled, how assets are spread over the
(account, region) scopes, how the estate changes from one step to the next, and how the endpoint
behaves (latency, throttling, errors, denied accounts, hostile data). Everything is derived from
the scenario's ``seed``: the same scenario and step always give the same world.

    scenario = load_scenario("demo").with_overrides(latency_ms=30)
    world = build_world(scenario, step=1)      # the estate after one round of change
    sim = Simulator.for_scenario(scenario)     # or: Simulator(world, faults_for(scenario))

The JSON keys are the field names of :class:`Scenario`; ``assets`` and ``changes`` are objects
with the field names of :class:`AssetDistribution` and :class:`Changes`. Every key is optional
but ``name``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from .faults import ERROR_RATE_KINDS, WILDCARD, Faults, check_error_rates
from .world import World

__all__ = [
    "EVENT_KINDS",
    "HOSTILE_KINDS",
    "AssetDistribution",
    "Changes",
    "Scenario",
    "ScenarioError",
    "build_world",
    "builtin_scenarios",
    "expected_inventory",
    "faults_for",
    "load_scenario",
]

# What hostile data a scenario may ask for (``hostile: true`` means all of them).
HOSTILE_KINDS: tuple[str, ...] = (
    "unknown-enum",  # enum values botocore 1.40.61 does not know (REINFORCEMENT_FINE_TUNING, ...)
    "unknown-member",  # members the SDK's model does not have
    "long-name",  # names far beyond the documented 63 characters
    "non-ascii",  # names in other scripts, with emoji
    "nul",  # names with U+0000 in them
    "empty-pages",  # every List page is preceded by an empty page that still carries a token
)
# The asset-creating events a scope's assets are made of (see AssetDistribution.mix).
EVENT_KINDS: tuple[str, ...] = ("customization", "copy", "import", "shared")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
_MAX_ACCOUNTS = 100_000


class ScenarioError(ValueError):
    """A scenario that cannot be loaded or built; the message is one line."""


@dataclass(frozen=True)
class AssetDistribution:
    """How assets are spread over the (account, region) scopes: skewed, like real estates.

    Only ``active_accounts`` of the accounts hold any asset; in each of those, the first enabled
    region of the scenario holds some and every other enabled region does with probability
    ``active_regions``. An active scope holds about ``scope_min * Pareto(scope_alpha)`` items
    (a heavy tail, capped at ``scope_max``), except ``hot_scopes`` of them which hold between
    ``hot_min`` and ``hot_max``. Items come from events drawn by the weights of ``mix``:

    * ``customization``: a customization job and, when it completed, the custom model it made;
    * ``copy``: a copy job of a model from another account or region, and the copy;
    * ``import``: an imported model (its import job is named in GetImportedModel);
    * ``shared``: another account's custom model of the same region, shared with this one
      (``ownerAccountId`` is the owner's; ListCustomModels with ``isOwned=true`` leaves it out).

    ``in_progress`` and ``failed`` are the shares of jobs still running and failed. Creation
    times fall between ``created_from`` and ``created_until`` (ISO dates).
    """

    active_accounts: float = 0.6
    active_regions: float = 0.5
    scope_min: int = 3
    scope_alpha: float = 1.3
    scope_max: int = 2000
    hot_scopes: int = 0
    hot_min: int = 500
    hot_max: int = 1500
    mix: Mapping[str, float] = field(
        default_factory=lambda: {"customization": 0.6, "copy": 0.12, "import": 0.2, "shared": 0.08}
    )
    in_progress: float = 0.08
    failed: float = 0.07
    created_from: str = "2023-10-01"
    created_until: str = "2025-06-01"

    def check(self) -> None:
        for name in ("active_accounts", "active_regions", "in_progress", "failed"):
            _probability(f"assets.{name}", getattr(self, name))
        if self.in_progress + self.failed > 1:
            raise ScenarioError("assets.in_progress + assets.failed must not exceed 1")
        if not 1 <= self.scope_min <= self.scope_max:
            raise ScenarioError("assets: need 1 <= scope_min <= scope_max")
        if not 0 <= self.hot_min <= self.hot_max:
            raise ScenarioError("assets: need 0 <= hot_min <= hot_max")
        if self.hot_scopes < 0 or not self.scope_alpha > 0:
            raise ScenarioError("assets: hot_scopes must be >= 0 and scope_alpha > 0")
        unknown = set(self.mix) - set(EVENT_KINDS)
        if unknown or not self.mix or any(w < 0 for w in self.mix.values()):
            raise ScenarioError(
                f"assets.mix: weights >= 0 for some of {', '.join(EVENT_KINDS)}, "
                f"not {dict(self.mix)}"
            )
        if not sum(self.mix.values()) > 0:
            raise ScenarioError("assets.mix: the weights add up to 0")
        try:
            start, end = (
                date.fromisoformat(self.created_from),
                date.fromisoformat(self.created_until),
            )
        except ValueError as error:
            raise ScenarioError(f"assets: created_from/created_until: {error}") from None
        if start >= end:
            raise ScenarioError("assets: created_from must be before created_until")


@dataclass(frozen=True)
class Changes:
    """What one step of time does to the estate.

    ``added``, ``changed`` and ``deleted`` are each a count (an int) or a fraction of the items
    the world holds before the step (a float below 1). Added are new jobs, imports and copies;
    changed are status transitions (a running job completes and its model appears, a copy
    finishes) and, failing those, tags of copy jobs; deleted are custom and imported models.
    Every step is ``step_days`` later than the one before.
    """

    added: float = 0.05
    changed: float = 0.05
    deleted: float = 0.03
    step_days: float = 1.0

    def check(self) -> None:
        for name in ("added", "changed", "deleted"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ScenarioError(f"changes.{name} must be a count or a fraction, not {value!r}")
            if isinstance(value, float) and value >= 1:
                raise ScenarioError(f"changes.{name}: a fraction must be below 1 (or give an int)")
        if not self.step_days > 0:
            raise ScenarioError("changes.step_days must be positive")

    def amount(self, name: str, total: int) -> int:
        value: float = getattr(self, name)
        if isinstance(value, int):
            return value
        return round(value * total)


@dataclass(frozen=True)
class Scenario:
    """One simulated estate and the behaviour of its endpoint.

    Accounts get 12-digit ids derived from ``seed``; the first is the home (management)
    account, where the base credentials act and Organizations ListAccounts answers. ``opt_in``
    maps regions to the share of the other accounts that enabled them (the home account has
    every region); regions not named there are enabled everywhere. ``denied_accounts`` is a
    count of accounts (never the home one) whose role may not call Bedrock, or a list of
    account ids or indexes (0 is the home account). ``hostile`` is true for every kind in
    :data:`HOSTILE_KINDS` or a list of some. The behaviour fields are those of
    :class:`~crawler.simulator.faults.Faults`.
    """

    name: str
    seed: int = 0
    description: str = ""
    accounts: int = 3
    regions: tuple[str, ...] = ("us-east-1",)
    opt_in: Mapping[str, float] = field(default_factory=dict)
    role_name: str = "InventoryReader"
    assets: AssetDistribution = field(default_factory=AssetDistribution)
    changes: Changes = field(default_factory=Changes)
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    throttle_rps: float | None = None
    throttle_burst: int | None = None
    error_rates: Mapping[str, float] = field(default_factory=dict)
    denied_accounts: int | tuple[int | str, ...] = 0
    hostile: bool | tuple[str, ...] = False
    credential_ttl_seconds: float = 3600

    def __post_init__(self) -> None:
        # Lists from JSON or callers become tuples, so that a scenario stays immutable.
        for name in ("regions", "denied_accounts", "hostile"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if self.throttle_rps == 0:  # 0 turns throttling off, like null
            object.__setattr__(self, "throttle_rps", None)
        self.check()

    @property
    def home_region(self) -> str:
        return self.regions[0]

    @property
    def hostile_kinds(self) -> tuple[str, ...]:
        if self.hostile is True:
            return HOSTILE_KINDS
        if self.hostile is False:
            return ()
        return tuple(self.hostile)

    def check(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ScenarioError("a scenario needs a name")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ScenarioError(f"scenario {self.name}: seed must be an integer")
        if not 1 <= self.accounts <= _MAX_ACCOUNTS:
            raise ScenarioError(f"scenario {self.name}: accounts must be 1..{_MAX_ACCOUNTS}")
        if not self.regions or len(set(self.regions)) != len(self.regions):
            raise ScenarioError(f"scenario {self.name}: regions must be a non-empty unique list")
        for region in self.regions:
            if not isinstance(region, str) or not _REGION.match(region):
                raise ScenarioError(f"scenario {self.name}: {region!r} is not a region name")
        for region, share in self.opt_in.items():
            if region not in self.regions:
                raise ScenarioError(f"scenario {self.name}: opt_in names {region}, not a region")
            _probability(f"opt_in.{region}", share)
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ScenarioError(f"scenario {self.name}: latency must not be negative")
        if self.throttle_rps is not None and not self.throttle_rps > 0:
            raise ScenarioError(f"scenario {self.name}: throttle_rps must be positive or null")
        if self.throttle_burst is not None and self.throttle_burst < 1:
            raise ScenarioError(f"scenario {self.name}: throttle_burst must be at least 1")
        try:
            check_error_rates(dict(self.error_rates))
        except ValueError as error:
            raise ScenarioError(f"scenario {self.name}: {error}") from None
        if isinstance(self.denied_accounts, int) and not 0 <= self.denied_accounts < self.accounts:
            raise ScenarioError(
                f"scenario {self.name}: denied_accounts must be 0..{self.accounts - 1}"
            )
        unknown = set(self.hostile_kinds) - set(HOSTILE_KINDS)
        if unknown:
            raise ScenarioError(
                f"scenario {self.name}: unknown hostile kinds {sorted(unknown)} "
                f"(known: {', '.join(HOSTILE_KINDS)})"
            )
        if not self.credential_ttl_seconds > 0:
            raise ScenarioError(f"scenario {self.name}: credential_ttl_seconds must be positive")
        self.assets.check()
        self.changes.check()

    def with_overrides(self, **overrides: Any) -> Scenario:
        """A copy with some fields replaced (``None`` values are ignored, so CLI flags that were
        not given can be passed as they are). ``assets`` and ``changes`` may be given as
        mappings of some of their fields."""
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in _FIELDS:
                raise ScenarioError(f"unknown scenario field {name!r}")
            if name in ("assets", "changes") and isinstance(value, Mapping):
                value = _nested(name, value, base=getattr(self, name))
            values[name] = value
        try:
            return dataclasses.replace(self, **values)
        except TypeError as error:
            raise ScenarioError(f"scenario {self.name}: {error}") from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "scenario") -> Scenario:
        if not isinstance(data, Mapping):
            raise ScenarioError(f"{source}: a scenario is a JSON object")
        unknown = set(data) - set(_FIELDS)
        if unknown:
            raise ScenarioError(
                f"{source}: unknown keys {sorted(unknown)} (known: {', '.join(_FIELDS)})"
            )
        values = dict(data)
        for name in ("assets", "changes"):
            if name in values:
                values[name] = _nested(name, values[name], source=source)
        try:
            return cls(**values)
        except ScenarioError as error:
            raise ScenarioError(f"{source}: {error}") from None
        except (TypeError, AttributeError) as error:
            raise ScenarioError(f"{source}: malformed scenario: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        """The scenario as JSON-ready data (what ``from_dict`` reads back)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))  # type: ignore[no-any-return]


_FIELDS = tuple(f.name for f in dataclasses.fields(Scenario))


def _nested(
    name: str,
    value: Any,
    *,
    base: AssetDistribution | Changes | None = None,
    source: str = "scenario",
) -> AssetDistribution | Changes:
    kind: type[AssetDistribution] | type[Changes] = (
        AssetDistribution if name == "assets" else Changes
    )
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{source}: {name} must be an object")
    known = [f.name for f in dataclasses.fields(kind)]
    unknown = set(value) - set(known)
    if unknown:
        raise ScenarioError(
            f"{source}: unknown keys in {name}: {sorted(unknown)} (known: {', '.join(known)})"
        )
    try:
        return dataclasses.replace(base, **value) if base is not None else kind(**value)
    except TypeError as error:
        raise ScenarioError(f"{source}: {name}: {error}") from None


def _probability(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ScenarioError(f"{name} must be a probability in [0, 1], not {value!r}")


# --- loading ------------------------------------------------------------------------------------


def _builtin_dir() -> Any:
    return resources.files(__package__).joinpath("scenarios")


def builtin_scenarios() -> list[str]:
    """The names of the scenarios shipped in ``crawler/simulator/scenarios/``."""
    return sorted(
        entry.name.removesuffix(".json")
        for entry in _builtin_dir().iterdir()
        if entry.name.endswith(".json")
    )


def load_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name, or one from a JSON file."""
    builtins = builtin_scenarios()
    listing = f"built-in scenarios: {', '.join(builtins)}"
    if name_or_path in builtins:
        source = f"built-in scenario {name_or_path}"
        text = _builtin_dir().joinpath(f"{name_or_path}.json").read_text(encoding="utf-8")
    else:
        path = Path(name_or_path)
        source = f"scenario file {name_or_path}"
        if not path.is_file():
            raise ScenarioError(
                f"unknown scenario {name_or_path!r}: neither a built-in nor a file ({listing})"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ScenarioError(f"{source}: cannot read it: {error} ({listing})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError(
            f"{source}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg} "
            f"({listing})"
        ) from None
    try:
        return Scenario.from_dict(data, source=source)
    except ScenarioError as error:
        raise ScenarioError(f"{error} ({listing})") from None


# --- what a scenario becomes --------------------------------------------------------------------


def build_world(scenario: Scenario, step: int = 0) -> World:
    """The scenario's estate after ``step`` rounds of change; deterministic from (seed, step)."""
    from .generate import generate

    if step < 0:
        raise ScenarioError(f"step must be >= 0, not {step}")
    return generate(scenario, step)


def faults_for(scenario: Scenario, *, seed_offset: int = 0) -> Faults:
    """A fresh :class:`Faults` with the scenario's behaviour; ``seed_offset`` varies the draws
    (latency jitter, error rates) from one run of the same scenario to the next."""
    faults = Faults(
        latency_ms=scenario.latency_ms,
        latency_jitter_ms=scenario.latency_jitter_ms,
        throttle_rps=scenario.throttle_rps,
        throttle_burst=scenario.throttle_burst,
        error_rates={k: float(v) for k, v in scenario.error_rates.items() if k in ERROR_RATE_KINDS},
        seed=scenario.seed + seed_offset,
        credential_ttl_seconds=scenario.credential_ttl_seconds,
    )
    if "empty-pages" in scenario.hostile_kinds:
        from .bedrock import ROUTES

        faults.empty_pages.update(
            (WILDCARD, WILDCARD, route.operation) for route in ROUTES if route.list_key
        )
    return faults


def expected_inventory(world: World) -> dict[str, int]:
    """Items per collection a perfect crawl loads: those of every account not denied, in its
    enabled regions; custom models only where the account owns them (the crawler lists them
    with ``isOwned=true``)."""
    from .world import COLLECTIONS

    counts = dict.fromkeys(COLLECTIONS, 0)
    for account in world.accounts.values():
        if account.denied:
            continue
        for (region, collection), items in account.assets.items():
            if region not in account.regions:
                continue
            if collection == "custom-models":
                counts[collection] += sum(
                    1
                    for item in items
                    if item.get("ownerAccountId", account.account_id) == account.account_id
                )
            else:
                counts[collection] += len(items)
    return counts
