"""Turning a :class:`~crawler.simulator.scenario.Scenario` into a :class:`World`.

Every random choice comes from a ``random.Random`` seeded with the scenario's seed and the name
of what is being decided (an account's activity, one scope's assets, one step of change), so a
world is a pure function of (scenario, step), and tuning one part of a scenario leaves the
others as they were.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import factory
from .world import COLLECTIONS, OPT_IN_REGIONS, Account, Item, World

if TYPE_CHECKING:
    from .scenario import Scenario

__all__ = ["generate"]

DAY = 86400
HOUR = 3600

# Foundation models that can be customised, as their customisable variants are named, with the
# weight of each among customisation jobs and whether it can be a distillation student.
BASE_MODELS: tuple[tuple[str, float, bool], ...] = (
    ("amazon.titan-text-express-v1:0:8k", 0.16, False),
    ("amazon.titan-text-lite-v1:0:4k", 0.08, False),
    ("amazon.nova-micro-v1:0:128k", 0.16, True),
    ("amazon.nova-lite-v1:0:300k", 0.14, True),
    ("amazon.nova-pro-v1:0:300k", 0.06, True),
    ("anthropic.claude-3-haiku-20240307-v1:0:200k", 0.14, True),
    ("meta.llama3-1-8b-instruct-v1:0:128k", 0.14, True),
    ("meta.llama3-1-70b-instruct-v1:0:128k", 0.07, True),
    ("meta.llama3-2-11b-instruct-v1:0:128k", 0.05, False),
)
_BASE_IDS = [b[0] for b in BASE_MODELS]
_BASE_WEIGHTS = list(itertools.accumulate(b[1] for b in BASE_MODELS))
_STUDENTS = frozenset(b[0] for b in BASE_MODELS if b[2])

PRODUCTS = (
    "support-bot",
    "claims-summarizer",
    "fraud-screen",
    "contract-review",
    "product-qa",
    "ticket-triage",
    "sql-assistant",
    "code-review",
    "kyc-extract",
    "churn-insights",
    "email-drafter",
    "search-rerank",
    "policy-qa",
    "invoice-parser",
    "clinical-notes",
    "legal-brief",
    "faq-bot",
    "catalog-tagger",
    "sentiment",
    "translate-de",
    "returns-agent",
    "risk-memo",
    "onboarding-guide",
    "hr-helpdesk",
)
IMPORTED = (
    ("llama3-8b", "llama3"),
    ("llama3-1-70b", "llama3_1"),
    ("llama3-2-3b", "llama3_2"),
    ("mistral-7b", "mistral"),
    ("mixtral-8x7b", "mixtral"),
    ("flan-t5-xl", "flan"),
    ("qwen2-5-7b", "qwen2"),
)
TEAMS = (
    "payments",
    "search",
    "ml-platform",
    "data-lake",
    "fraud",
    "customer-care",
    "marketing",
    "identity",
    "risk",
    "analytics",
    "genai-lab",
    "claims",
    "underwriting",
    "logistics",
    "pricing",
    "recsys",
    "security",
    "observability",
    "shared-services",
    "finance",
)
ENVIRONMENTS = ("prod", "staging", "dev", "sandbox", "qa")
_CUSTOMIZATION_TYPES = (
    ("FINE_TUNING", 0.72),
    ("CONTINUED_PRE_TRAINING", 0.13),
    ("DISTILLATION", 0.15),
)
_TYPE_NAMES = [t[0] for t in _CUSTOMIZATION_TYPES]
_TYPE_WEIGHTS = list(itertools.accumulate(t[1] for t in _CUSTOMIZATION_TYPES))
_HOSTILE_SHARE = 0.3
_NAME_KEYS = {
    "custom-models": "modelName",
    "customization-jobs": "jobName",
    "copy-jobs": "targetModelName",
    "imported-models": "modelName",
}


def generate(scenario: Scenario, step: int) -> World:
    # Tens of thousands of small dicts and no cycles: the cyclic collector would only rescan
    # them over and over while they are made.
    collecting = gc.isenabled()
    gc.disable()
    try:
        builder = _Builder(scenario)
        world = builder.base()
        for number in range(1, step + 1):
            builder.change(world, number)
        if scenario.hostile_kinds:
            _make_hostile(world, scenario)
        return world
    finally:
        if collecting:
            gc.enable()


def iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def unit(*parts: object) -> float:
    """A uniform draw on [0, 1) determined by ``parts`` alone."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class _Scope:
    """The names in use in one (account, region), so that new assets get fresh ones."""

    names: dict[str, set[str]] = field(default_factory=dict)

    def fresh(
        self, collection: str, stem: str, rng: random.Random, when: float, *, bare: bool = False
    ) -> str:
        """An unused name made from ``stem`` (``stem`` itself first when ``bare``)."""
        used = self.names.setdefault(collection, set())
        for candidate in _candidates(stem, rng, when, bare):
            if candidate not in used:
                used.add(candidate)
                return candidate
        raise AssertionError("unreachable: the candidates never end")


def _candidates(stem: str, rng: random.Random, when: float, bare: bool) -> Iterator[str]:
    if bare:
        yield stem
    yield f"{stem}-v{int(rng.random() * 9) + 1}"
    day = time.strftime("%Y%m%d", time.gmtime(when))
    yield f"{stem}-{day[:6]}"
    yield f"{stem}-{day}"
    number = 2
    while True:
        yield f"{stem}-{day}-{number}"
        number += 1


class _Builder:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.seed = scenario.seed
        self.dist = scenario.assets
        self.start = _epoch(self.dist.created_from)
        self.until = _epoch(self.dist.created_until)
        # "Now" for the world being built: running jobs started shortly before it.
        self.now = self.until
        self.scopes: dict[tuple[str, str], _Scope] = {}
        # Active, owned custom models that copies and shares may use as their source.
        self.sources: list[tuple[str, str, Item]] = []
        self.own_sources: dict[str, list[tuple[str, str, Item]]] = {}

    # --- the world at step 0 --------------------------------------------------------------------

    def base(self) -> World:
        scenario = self.scenario
        ids = account_ids(scenario.seed, scenario.accounts)
        home = ids[0]
        members = ids[1:]
        enabled = {account_id: set(scenario.regions) for account_id in ids}
        for region, share in scenario.opt_in.items():
            chosen = set(
                random.Random(f"{self.seed}/opt-in/{region}").sample(
                    members, round(share * len(members))
                )
            )
            for account_id in members:
                if account_id not in chosen:
                    enabled[account_id].discard(region)
        denied = denied_accounts(scenario, ids)
        names = account_names(scenario.seed, len(ids))
        accounts = {
            account_id: Account(
                account_id,
                regions=enabled[account_id],
                denied=account_id in denied,
                roles={scenario.role_name},
                name=name,
                email=f"aws+{name}@example.com",
            )
            for account_id, name in zip(ids, names, strict=True)
        }
        world = World(
            accounts=accounts,
            home_account=home,
            regions=tuple(scenario.regions),
            opt_in_regions=OPT_IN_REGIONS | frozenset(scenario.opt_in),
            organization_id="o-" + hashlib.sha256(f"{self.seed}/org".encode()).hexdigest()[:10],
        )
        plans = self._plan(world, ids)
        pending: list[tuple[str, str, random.Random, int, int]] = []
        for (account_id, region), size in plans:
            rng = random.Random(f"{self.seed}/scope/{account_id}/{region}")
            copies, shares = self._fill(accounts[account_id], region, size, rng)
            if copies or shares:
                pending.append((account_id, region, rng, copies, shares))
        by_region: dict[str, list[tuple[str, str, Item]]] = {}
        for source in self.sources:
            by_region.setdefault(source[1], []).append(source)
        for account_id, region, rng, copies, shares in pending:
            account = accounts[account_id]
            for _ in range(copies):
                when = rng.uniform(self.start, self.until)
                if not self._copy(account, region, rng, when, _status_mix(rng, self.dist)):
                    self._customization(account, region, rng, when)
            self._share(account, region, rng, shares, by_region.get(region, []))
        return world

    def _plan(self, world: World, ids: list[str]) -> list[tuple[tuple[str, str], int]]:
        dist = self.dist
        active: list[tuple[str, str]] = []
        for account_id in ids:
            if unit(self.seed, "active", account_id) >= dist.active_accounts:
                continue
            regions = [r for r in self.scenario.regions if r in world.accounts[account_id].regions]
            for index, region in enumerate(regions):
                if (
                    index == 0
                    or unit(self.seed, "active", account_id, region) < dist.active_regions
                ):
                    active.append((account_id, region))
        rng = random.Random(f"{self.seed}/sizes")
        hot = set(rng.sample(range(len(active)), min(dist.hot_scopes, len(active))))
        plans = []
        for index, scope in enumerate(active):
            if index in hot:
                size = rng.randint(dist.hot_min, dist.hot_max)
            else:
                size = min(
                    dist.scope_max, round(dist.scope_min * rng.paretovariate(dist.scope_alpha))
                )
            plans.append((scope, size))
        return plans

    def _fill(
        self, account: Account, region: str, size: int, rng: random.Random
    ) -> tuple[int, int]:
        """Customisations and imports up to ``size`` items; the copies and shares still to make
        once every scope has its own models (their sources live elsewhere)."""
        kinds = list(self.dist.mix)
        weights = list(itertools.accumulate(self.dist.mix[k] for k in kinds))
        made = copies = shares = 0
        while made < size:
            kind = _pick(rng, kinds, weights)
            when = rng.uniform(self.start, self.until)
            if kind == "customization":
                made += self._customization(account, region, rng, when)
            elif kind == "import":
                made += self._import(account, region, rng, when)
            elif kind == "copy":
                copies += 1
                made += 2
            else:
                shares += 1
                made += 1
        return copies, shares

    def _source(self, account_id: str, region: str, model: Item) -> None:
        self.sources.append((account_id, region, model))
        self.own_sources.setdefault(account_id, []).append((account_id, region, model))

    def _scope(self, account_id: str, region: str) -> _Scope:
        scope = self.scopes.get((account_id, region))
        if scope is None:
            scope = self.scopes[(account_id, region)] = _Scope()
        return scope

    # --- events ---------------------------------------------------------------------------------

    def _customization(
        self,
        account: Account,
        region: str,
        rng: random.Random,
        when: float,
        status: str | None = None,
    ) -> int:
        """A customisation job and, once it completed, its model; returns the items made."""
        account_id = account.account_id
        scope = self._scope(account_id, region)
        if status is None:
            status = _status_mix(rng, self.dist)
        if status == "InProgress":
            when = max(when, self.now - rng.uniform(0, 2 * DAY))
        base_id = _pick(rng, _BASE_IDS, _BASE_WEIGHTS)
        kind = _pick(rng, _TYPE_NAMES, _TYPE_WEIGHTS)
        if kind == "DISTILLATION" and base_id not in _STUDENTS:
            kind = "FINE_TUNING"
        product = rng.choice(PRODUCTS)
        model_name = scope.fresh("custom-models", product, rng, when)
        job_name = scope.fresh("customization-jobs", f"{model_name}-job", rng, when, bare=True)
        base_arn: str | None = None
        existing = account.assets.get((region, "custom-models"))
        if existing and kind == "FINE_TUNING" and rng.random() < 0.12:
            # Lineage: a model fine-tuned further from one of this scope's own custom models.
            parent = rng.choice(existing)
            if parent.get("ownerAccountId") == account_id and parent["modelStatus"] == "Active":
                base_id = factory.foundation_model_id(parent["modelArn"])
                base_arn = parent["modelArn"]
                when = max(when, _epoch(parent["creationTime"]) + HOUR)
        duration = rng.uniform(1, 14) * HOUR
        end = when + duration
        details = _status_details(status, when, end, rng) if rng.random() < 0.6 else None
        extra_base = {"baseModelArn": base_arn} if base_arn else {}
        if status == "Completed":
            model = factory.custom_model(
                account_id,
                region,
                model_name,
                base_model_id=base_id,
                created=iso(end),
                customization_type=kind,
                **extra_base,
            )
            account.add(region, "custom-models", model)
            self._source(account_id, region, model)
            job = factory.customization_job(
                account_id,
                region,
                job_name,
                custom_model=model,
                base_model_id=base_id,
                created=iso(when),
                status_details=details,
                **extra_base,
            )
            account.add(region, "customization-jobs", job)
            return 2
        job = factory.customization_job(
            account_id,
            region,
            job_name,
            custom_model=None,
            status=status,
            base_model_id=base_id,
            customization_type=kind,
            created=iso(when),
            end_time=iso(end),
            status_details=details,
            **extra_base,
        )
        account.add(region, "customization-jobs", job)
        return 1

    def _import(self, account: Account, region: str, rng: random.Random, when: float) -> int:
        account_id = account.account_id
        scope = self._scope(account_id, region)
        stem, architecture = rng.choice(IMPORTED)
        purpose = rng.choice(PRODUCTS).split("-")[0]
        name = scope.fresh("imported-models", f"{stem}-{purpose}", rng, when)
        kms = None
        if rng.random() < 0.3:
            key_id = hashlib.sha256(f"kms/{account_id}/{region}/{name}".encode()).hexdigest()
            kms = (
                f"arn:aws:kms:{region}:{account_id}:key/"
                f"{key_id[:8]}-{key_id[8:12]}-{key_id[12:16]}-{key_id[16:20]}-{key_id[20:32]}"
            )
        model = factory.imported_model(
            account_id,
            region,
            name,
            job_name=f"{name}-import",
            created=iso(when),
            architecture=architecture,
            instruct_supported=rng.random() < 0.7,
            s3_uri=f"s3://bedrock-imports-{account_id}-{region}/{stem}/{name}/",
            kms_key_arn=kms,
            custom_model_units=rng.choice((1, 1, 1, 2, 2, 4)),
        )
        account.add(region, "imported-models", model)
        return 1

    def _copy(
        self, account: Account, region: str, rng: random.Random, when: float, status: str
    ) -> bool:
        """A copy job of a model from another account or region, and the copy itself."""
        account_id = account.account_id
        # A third of copies bring a model of the same account from another region; the others
        # copy whatever model of the organisation, most likely another account's.
        own = [s for s in self.own_sources.get(account_id, ()) if s[1] != region]
        pool = own if own and rng.random() < 0.35 else self.sources
        for _ in range(8):
            if not pool:
                return False
            owner, source_region, source = rng.choice(pool)
            if (owner, source_region) != (account_id, region):
                break
        else:
            return False
        created = _epoch(source["creationTime"])
        if status == "InProgress":
            when = max(created + HOUR, self.now - rng.uniform(0, DAY))
        else:
            when = created + rng.uniform(HOUR, max(2 * HOUR, when - created))
        scope = self._scope(account_id, region)
        suffix = "copy" if owner == account_id else f"from-{owner[-4:]}"
        target_name = scope.fresh(
            "custom-models", f"{source['modelName'][:40].rstrip('-_')}-{suffix}", rng, when
        )
        extra: dict[str, Any] = {}
        if rng.random() < 0.4:
            team = rng.choice(TEAMS)
            extra["targetModelTags"] = [
                {"key": "team", "value": team},
                {"key": "cost-center", "value": f"cc-{rng.randint(1000, 9999)}"},
            ]
        if status == "Failed":
            extra["failureMessage"] = "The KMS key of the target model is not accessible."
        job = factory.copy_job(
            account_id,
            region,
            source_model=source,
            target_name=target_name,
            status="Failed" if status in ("Failed", "Stopped") else status,
            created=iso(when),
            **extra,
        )
        model_status = {"Completed": "Active", "InProgress": "Creating"}.get(status, "Failed")
        model = factory.custom_model(
            account_id,
            region,
            target_name,
            base_model_id=factory.foundation_model_id(source["modelArn"]),
            created=iso(when + (rng.uniform(600, 3 * HOUR) if status == "Completed" else 60)),
            customization_type=source.get("customizationType", "FINE_TUNING"),
            status=model_status,
        )
        account.add(region, "copy-jobs", job)
        account.add(region, "custom-models", model)
        if model_status == "Active":
            self._source(account_id, region, model)
        return True

    def _share(
        self,
        account: Account,
        region: str,
        rng: random.Random,
        count: int,
        candidates: list[tuple[str, str, Item]],
    ) -> None:
        """Custom models of other accounts in this region, shared with this one."""
        taken = {item["modelArn"] for item in account.assets.get((region, "custom-models"), ())}
        for _ in range(count * 4):
            if count == 0 or not candidates:
                return
            owner, _, source = rng.choice(candidates)
            if owner == account.account_id or source["modelArn"] in taken:
                continue
            taken.add(source["modelArn"])
            account.add(region, "custom-models", dict(source))
            count -= 1

    # --- change over time -----------------------------------------------------------------------

    def change(self, world: World, number: int) -> None:
        """One step of time: models deleted, running jobs finishing, new work started."""
        changes = self.scenario.changes
        rng = random.Random(f"{self.seed}/step/{number}")
        before = self.until + (number - 1) * changes.step_days * DAY
        now = self.now = self.until + number * changes.step_days * DAY
        inventory = list(_owned(world))
        total = len(inventory)
        self._index(world)

        deletable = [
            entry
            for entry in inventory
            if entry[2] == "imported-models"
            or (entry[2] == "custom-models" and entry[3].get("modelStatus") != "Creating")
        ]
        victims = rng.sample(deletable, min(changes.amount("deleted", total), len(deletable)))
        self._delete(world, victims)
        gone = {id(entry[3]) for entry in victims}

        running = [
            entry
            for entry in inventory
            if entry[2] in ("customization-jobs", "copy-jobs")
            and entry[3]["status"] == "InProgress"
        ]
        rng.shuffle(running)
        wanted = changes.amount("changed", total)
        for account, region, collection, item in running[:wanted]:
            self._progress(account, region, collection, item, rng, rng.uniform(before, now))
        if wanted > len(running):
            tagged = [e for e in inventory if e[2] == "copy-jobs" and id(e[3]) not in gone]
            for _, _, _, item in rng.sample(tagged, min(wanted - len(running), len(tagged))):
                tags = [t for t in item.get("targetModelTags", []) if t.get("key") != "reviewed"]
                item["targetModelTags"] = [*tags, {"key": "reviewed", "value": f"step-{number}"}]

        scopes = [
            (account, region)
            for account in world.accounts.values()
            for region in self.scenario.regions
            if region in account.regions
        ]
        for _ in range(changes.amount("added", total)):
            if inventory and rng.random() < 0.8:
                account, region = inventory[rng.randrange(total)][:2]
            else:
                account, region = rng.choice(scopes)
            when = rng.uniform(before, now)
            roll = rng.random()
            if roll < 0.25 and self._copy(account, region, rng, when, "InProgress"):
                continue
            if roll < 0.5:
                self._import(account, region, rng, when)
            else:
                self._customization(account, region, rng, when, status="InProgress")

    def _index(self, world: World) -> None:
        """Rebuild names in use and copy sources from the world as it is now."""
        self.scopes = {}
        self.sources = []
        self.own_sources = {}
        for account, region, collection, item in _owned(world):
            scope = self._scope(account.account_id, region)
            name = item.get(_NAME_KEYS[collection])
            if isinstance(name, str):
                scope.names.setdefault(collection, set()).add(name)
            if collection == "custom-models" and item.get("modelStatus") == "Active":
                self._source(account.account_id, region, item)

    def _delete(self, world: World, victims: list[tuple[Account, str, str, Item]]) -> None:
        doomed: dict[tuple[str, str, str], set[int]] = {}
        arns: set[str] = set()
        for account, region, collection, item in victims:
            doomed.setdefault((account.account_id, region, collection), set()).add(id(item))
            if collection == "custom-models":
                arns.add(item["modelArn"])
        self.sources = [s for s in self.sources if s[2]["modelArn"] not in arns]
        for account_id, sources in self.own_sources.items():
            self.own_sources[account_id] = [s for s in sources if s[2]["modelArn"] not in arns]
        for account in world.accounts.values():
            for (region, collection), items in account.assets.items():
                ids = doomed.get((account.account_id, region, collection), set())
                if ids or (arns and collection == "custom-models"):
                    items[:] = [
                        item
                        for item in items
                        if id(item) not in ids
                        and not (collection == "custom-models" and item.get("modelArn") in arns)
                    ]

    def _progress(
        self,
        account: Account,
        region: str,
        collection: str,
        item: Item,
        rng: random.Random,
        when: float,
    ) -> None:
        """Finish a running job: a customisation makes its model, a copy activates its copy."""
        stamp = iso(max(when, _epoch(item["creationTime"]) + 60))
        if collection == "copy-jobs":
            failed = rng.random() < 0.1
            item["status"] = "Failed" if failed else "Completed"
            if failed:
                item["failureMessage"] = "The copy was cancelled because the source changed."
            for model in account.assets.get((region, "custom-models"), ()):
                if (
                    model["modelArn"] == item["targetModelArn"]
                    and model["modelStatus"] == "Creating"
                ):
                    model["modelStatus"] = "Failed" if failed else "Active"
            return
        failed = rng.random() < 0.15
        item["status"] = "Failed" if failed else "Completed"
        item["lastModifiedTime"] = item["endTime"] = stamp
        if "statusDetails" in item:
            item["statusDetails"] = _status_details(
                item["status"], _epoch(item["creationTime"]), _epoch(stamp), rng
            )
        if failed:
            return
        base_id = item["jobArn"].split(":model-customization-job/", 1)[1].rsplit("/", 1)[0]
        scope = self._scope(account.account_id, region)
        stem = str(item["jobName"]).rsplit("-job", 1)[0][:50] or rng.choice(PRODUCTS)
        name = scope.fresh("custom-models", stem, rng, _epoch(stamp), bare=True)
        extra = (
            {"baseModelArn": item["baseModelArn"]}
            if ":custom-model/" in item["baseModelArn"]
            else {}
        )
        model = factory.custom_model(
            account.account_id,
            region,
            name,
            base_model_id=base_id,
            created=stamp,
            customization_type=item.get("customizationType", "FINE_TUNING"),
            **extra,
        )
        account.add(region, "custom-models", model)
        item["customModelArn"] = model["modelArn"]
        item["customModelName"] = model["modelName"]


# --- accounts -----------------------------------------------------------------------------------


def account_ids(seed: int, count: int) -> list[str]:
    """``count`` distinct 12-digit account ids; the first is the home account."""
    picks = random.Random(f"{seed}/accounts").sample(
        range(100_000_000_000, 1_000_000_000_000), count
    )
    return [str(pick) for pick in picks]


def account_names(seed: int, count: int) -> list[str]:
    rng = random.Random(f"{seed}/names")
    names = ["management"]
    used = set(names)
    for _ in range(count - 1):
        stem = f"{rng.choice(TEAMS)}-{rng.choice(ENVIRONMENTS)}"
        name, number = stem, 2
        while name in used:
            name = f"{stem}-{number}"
            number += 1
        used.add(name)
        names.append(name)
    return names


def denied_accounts(scenario: Scenario, ids: list[str]) -> set[str]:
    from .scenario import ScenarioError

    spec = scenario.denied_accounts
    if isinstance(spec, int):
        return set(random.Random(f"{scenario.seed}/denied").sample(ids[1:], spec))
    chosen: set[str] = set()
    for entry in spec:
        if isinstance(entry, int) and not isinstance(entry, bool) and 0 <= entry < len(ids):
            chosen.add(ids[entry])
        elif isinstance(entry, str) and entry in ids:
            chosen.add(entry)
        else:
            raise ScenarioError(
                f"scenario {scenario.name}: denied account {entry!r} is neither an account id "
                f"of the scenario nor an index 0..{len(ids) - 1}"
            )
    return chosen


# --- hostile data -------------------------------------------------------------------------------


def _make_hostile(world: World, scenario: Scenario) -> None:
    """Spoil about a third of the items, each in one of the scenario's hostile ways, and at
    least one item of every collection in every way that applies to it."""
    kinds = [kind for kind in scenario.hostile_kinds if kind != "empty-pages"]
    if not kinds:
        return
    touched: set[int] = set()
    seen: set[tuple[str, str]] = set()
    entries = list(_owned(world))
    for _, _, collection, item in entries:
        key = item.get(COLLECTIONS[collection].arn_key)
        if unit(scenario.seed, "hostile", key) >= _HOSTILE_SHARE:
            continue
        options = [kind for kind in kinds if _eligible(kind, collection)]
        kind = options[int(unit(scenario.seed, "hostile-kind", key) * len(options))]
        _spoil(kind, collection, item)
        touched.add(id(item))
        seen.add((kind, collection))
    for kind in kinds:
        for collection in COLLECTIONS:
            if (kind, collection) in seen or not _eligible(kind, collection):
                continue
            for _, _, where, item in entries:
                if where == collection and id(item) not in touched:
                    _spoil(kind, collection, item)
                    touched.add(id(item))
                    break


def _eligible(kind: str, collection: str) -> bool:
    return not (kind == "unknown-enum" and collection == "imported-models")


def _spoil(kind: str, collection: str, item: Item) -> None:
    name_key = _NAME_KEYS[collection]
    name = str(item.get(name_key, ""))
    if kind == "unknown-enum":
        if collection == "copy-jobs":
            item["status"] = "Queued"
        else:
            item["customizationType"] = "REINFORCEMENT_FINE_TUNING"
    elif kind == "unknown-member":
        item["futureMember"] = {"introducedIn": "2026-01", "values": [1, 2, 3]}
        item["rftConfig"] = {"graderConfig": {"lambdaGrader": {"lambdaArn": "arn:aws:lambda:x"}}}
    elif kind == "long-name":
        item[name_key] = (name + "-" + "an-unreasonably-long-model-name" * 12)[:300]
    elif kind == "non-ascii":
        item[name_key] = f"{name}-modèle-客服-Ωμέγα-🚀"
    elif kind == "nul":
        item[name_key] = f"{name[:4]}\x00{name[4:]}"


# --- helpers ------------------------------------------------------------------------------------


def _owned(world: World) -> Iterator[tuple[Account, str, str, Item]]:
    """Every stored item but the mirrors of models shared from another account."""
    for account in world.accounts.values():
        for (region, collection), items in account.assets.items():
            for item in items:
                if (
                    collection == "custom-models"
                    and item.get("ownerAccountId", account.account_id) != account.account_id
                ):
                    continue
                yield account, region, collection, item


def _status_mix(rng: random.Random, dist: Any) -> str:
    roll = rng.random()
    if roll < dist.in_progress:
        return "InProgress"
    if roll < dist.in_progress + dist.failed:
        return "Failed" if rng.random() < 0.85 else "Stopped"
    return "Completed"


def _status_details(status: str, start: float, end: float, rng: random.Random) -> Item:
    stages = ("validationDetails", "dataProcessingDetails", "trainingDetails")
    # Where the job got to: a failed or stopped job stopped in some stage.
    reached = {"Completed": 3, "InProgress": 2}.get(status, rng.randint(0, 2))
    details: Item = {}
    span = (end - start) / 3
    stamps = [iso(start + index * span) for index in range(4)]
    for index, stage in enumerate(stages):
        if index < reached:
            state = "Completed"
        elif index == reached:
            state = {"InProgress": "InProgress", "Stopped": "Stopped"}.get(status, "Failed")
        else:
            state = "NotStarted"
        details[stage] = {
            "status": state,
            "creationTime": stamps[index],
            "lastModifiedTime": stamps[index + 1],
        }
    return details


def _pick(rng: random.Random, options: list[str], cumulative: list[float]) -> str:
    """One of ``options`` by cumulative weights (``random.choices``, without its overhead)."""
    return options[min(bisect.bisect(cumulative, rng.random() * cumulative[-1]), len(options) - 1)]


def _epoch(stamp: str) -> float:
    from datetime import UTC, datetime

    parsed = datetime.fromisoformat(stamp)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
