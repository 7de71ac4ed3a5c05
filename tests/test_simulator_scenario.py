"""Scenarios as data: loading, overrides, and the worlds they build (deterministic, skewed,
cross-linked, changing from step to step)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from crawler.simulator import (
    Scenario,
    ScenarioError,
    World,
    build_world,
    builtin_scenarios,
    expected_inventory,
    faults_for,
    load_scenario,
)
from crawler.simulator.scenario import HOSTILE_KINDS
from crawler.simulator.world import COLLECTIONS

FOUNDATION_ARN = re.compile(r"^arn:aws:bedrock:[a-z0-9-]+::foundation-model/[a-z0-9.:-]+$")
ROOT = Path(__file__).resolve().parent.parent
CUSTOM_ARN = re.compile(
    r"^arn:aws:bedrock:[a-z0-9-]+:\d{12}:custom-model/[a-z0-9.:-]+/[a-z0-9]{12}$"
)


def snapshot(world: World) -> bytes:
    """Everything a world holds, serialised: equal snapshots mean equal worlds."""
    return orjson.dumps(
        {
            "home": world.home_account,
            "regions": world.regions,
            "org": world.org_id,
            "accounts": [
                {
                    "id": a.account_id,
                    "regions": sorted(a.regions),
                    "denied": a.denied,
                    "roles": sorted(a.roles),
                    "name": a.name,
                    "assets": [[region, coll, items] for (region, coll), items in a.assets.items()],
                }
                for a in world.accounts.values()
            ],
        }
    )


def items_by_arn(world: World) -> dict[tuple[str, str], dict[str, Any]]:
    """Owned items keyed by (collection, ARN)."""
    found = {}
    for account in world.accounts.values():
        for (_, collection), items in account.assets.items():
            for item in items:
                if item.get("ownerAccountId", account.account_id) != account.account_id:
                    continue
                found[(collection, item[COLLECTIONS[collection].arn_key])] = item
    return found


@pytest.fixture(scope="module")
def large_org() -> World:
    return build_world(load_scenario("large-org"))


# --- loading ------------------------------------------------------------------------------------


def test_builtins_load_and_round_trip_through_a_file(tmp_path: Path) -> None:
    assert {"demo", "large-org", "hostile"} <= set(builtin_scenarios())
    for name in builtin_scenarios():
        scenario = load_scenario(name)
        assert scenario.name == name
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(scenario.to_dict()))
        assert load_scenario(str(path)) == scenario
    demo = load_scenario("demo")
    assert (demo.accounts, len(demo.regions), demo.role_name) == (3, 3, "InventoryReader")
    large = load_scenario("large-org")
    assert (large.accounts, len(large.regions)) == (1000, 4)
    assert load_scenario("hostile").hostile_kinds == HOSTILE_KINDS


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "unknown scenario 'nope'"),
        ("{not json", "invalid JSON at line 1"),
        ('{"name": "x", "acounts": 3}', "unknown keys ['acounts']"),
        ('{"name": "x", "assets": {"hot": 1}}', "unknown keys in assets: ['hot']"),
        ('{"name": "x", "regions": ["mars-1"]}', "'mars-1' is not a region name"),
        ('{"name": "x", "error_rates": {"418": 0.1}}', "error rate '418'"),
        ('{"name": "x", "hostile": ["gremlins"]}', "unknown hostile kinds"),
        ('{"name": "x", "accounts": "many"}', "malformed scenario"),
        ("[1, 2]", "a scenario is a JSON object"),
    ],
)
def test_bad_scenarios_are_one_line_errors_naming_the_builtins(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    target = "nope"
    if content is not None:
        target = str(tmp_path / "bad.json")
        Path(target).write_text(content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(target)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert "built-in scenarios: demo, hostile, large-org" in message
    assert isinstance(info.value, ValueError)


def test_overrides_replace_fields_and_ignore_none() -> None:
    demo = load_scenario("demo")
    tuned = demo.with_overrides(
        latency_ms=30, throttle_rps=None, seed=7, error_rates={"500": 0.1}, assets={"hot_scopes": 0}
    )
    assert (tuned.latency_ms, tuned.seed, dict(tuned.error_rates)) == (30, 7, {"500": 0.1})
    assert tuned.throttle_rps == demo.throttle_rps  # None: not given
    assert tuned.assets.hot_scopes == 0 and tuned.assets.scope_min == demo.assets.scope_min
    assert demo.with_overrides(throttle_rps=0).throttle_rps is None  # 0 turns throttling off
    assert demo.latency_ms != 30  # the original is unchanged
    with pytest.raises(ScenarioError, match="unknown scenario field"):
        demo.with_overrides(latency=3)
    with pytest.raises(ScenarioError, match="must not be negative"):
        demo.with_overrides(latency_ms=-1)


def test_faults_carry_the_behaviour() -> None:
    scenario = load_scenario("demo").with_overrides(
        error_rates={"503": 0.2, "reset": 0.1}, credential_ttl_seconds=900
    )
    faults = faults_for(scenario, seed_offset=3)
    assert (faults.latency_ms, faults.latency_jitter_ms) == (10, 20)
    assert (faults.throttle_rps, faults.throttle_burst) == (5, 3)
    assert faults.error_rates == {"503": 0.2, "reset": 0.1}
    assert (faults.seed, faults.credential_ttl_seconds) == (scenario.seed + 3, 900)
    assert not faults.empty_pages
    hostile = faults_for(load_scenario("hostile"))
    assert ("*", "*", "ListCustomModels") in hostile.empty_pages


# --- worlds -------------------------------------------------------------------------------------


def test_same_seed_and_step_give_the_same_world_and_another_seed_another() -> None:
    demo = load_scenario("demo")
    assert snapshot(build_world(demo)) == snapshot(build_world(demo))
    assert snapshot(build_world(demo, 2)) == snapshot(build_world(demo, 2))
    other = build_world(demo.with_overrides(seed=demo.seed + 1))
    assert snapshot(other) != snapshot(build_world(demo))
    assert set(other.accounts).isdisjoint(build_world(demo).accounts)


def test_worlds_are_the_same_in_another_process() -> None:
    # Nothing may depend on Python's per-process string hashing (set order and the like):
    # every run of `bedrock-inventory demo` rebuilds the previous step in a new process.
    code = (
        "import hashlib, sys\n"
        "from crawler.simulator import build_world, load_scenario\n"
        "from tests.test_simulator_scenario import snapshot\n"
        "print(hashlib.sha256(snapshot(build_world(load_scenario('demo'), 2))).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    here = hashlib.sha256(snapshot(build_world(load_scenario("demo"), 2))).hexdigest()
    assert child.stdout.strip() == here


def test_accounts_regions_and_denials_follow_the_scenario(large_org: World) -> None:
    scenario = load_scenario("large-org")
    ids = list(large_org.accounts)
    assert len(ids) == len(set(ids)) == 1000
    assert all(re.fullmatch(r"[1-9]\d{11}", i) for i in ids)
    assert large_org.home_account == ids[0]
    home = large_org.accounts[ids[0]]
    assert home.regions == set(scenario.regions) and not home.denied
    lacking = [a for a in large_org.accounts.values() if "eu-central-2" not in a.regions]
    assert len(lacking) == round((1 - 0.35) * 999)
    assert all(a.regions == set(scenario.regions) - {"eu-central-2"} for a in lacking)
    assert sum(a.denied for a in large_org.accounts.values()) == 5
    assert all(a.roles == {"InventoryReader"} for a in large_org.accounts.values())
    assert large_org.regions == tuple(scenario.regions)
    named = load_scenario("demo").with_overrides(accounts=5, denied_accounts=[2, 4])
    world = build_world(named)
    assert [a.denied for a in world.accounts.values()] == [False, False, True, False, True]
    with pytest.raises(ScenarioError, match="denied account 9"):
        build_world(named.with_overrides(denied_accounts=[9]))


def test_large_org_is_skewed_and_fast(large_org: World) -> None:
    started = time.perf_counter()
    build_world(load_scenario("large-org"))
    seconds = time.perf_counter() - started
    sizes = [
        sum(len(items) for (r, _), items in account.assets.items() if r == region)
        for account in large_org.accounts.values()
        for region in account.regions
    ]
    total = sum(sizes)
    ordered = sorted(sizes, reverse=True)
    assert seconds < 2.0
    assert 10_000 <= total <= 99_999  # tens of thousands
    assert len(sizes) > 3000
    assert sizes.count(0) / len(sizes) > 0.85  # most scopes are empty
    assert ordered[0] > 1500 and ordered[7] > 1000  # a few are very large ...
    assert sum(ordered[:40]) > total / 2  # ... and hold most of the estate
    inventory = expected_inventory(large_org)
    assert set(inventory) == set(COLLECTIONS) and all(n > 1000 for n in inventory.values())


def test_demo_has_a_few_hundred_assets_of_every_kind() -> None:
    world = build_world(load_scenario("demo"))
    inventory = expected_inventory(world)
    assert 200 <= sum(inventory.values()) <= 600
    assert all(count > 10 for count in inventory.values())
    shared = [
        item
        for account in world.accounts.values()
        for item in account.items(load_scenario("demo").regions[0], "custom-models")
        if item["ownerAccountId"] != account.account_id
    ]
    lacking = [a for a in world.accounts.values() if "eu-central-2" not in a.regions]
    assert shared and len(lacking) == 1


def test_assets_are_realistic_and_cross_linked(large_org: World) -> None:
    items = items_by_arn(large_org)
    models = {arn for (coll, arn) in items if coll == "custom-models"}
    by_kind = Counter(coll for coll, _ in items)
    assert all(by_kind[c] for c in COLLECTIONS)
    links = Counter()
    for (collection, arn), item in items.items():
        account, region = arn.split(":")[4], arn.split(":")[3]
        if collection == "custom-models":
            assert CUSTOM_ARN.match(arn) and item["ownerAccountId"] == account
            assert FOUNDATION_ARN.match(item["baseModelArn"]) or item["baseModelArn"] in models
            links["lineage"] += item["baseModelArn"] in models
        elif collection == "customization-jobs":
            if item["status"] == "Completed":
                assert item["customModelArn"] in models and "endTime" in item
                links["job->model"] += 1
            else:
                assert "customModelArn" not in item
        elif collection == "copy-jobs":
            assert item["targetModelArn"] in models
            source = item["sourceModelArn"]
            assert source.split(":")[4] == item["sourceAccountId"]
            assert (source.split(":")[4], source.split(":")[3]) != (account, region)
            links["cross-account copy"] += item["sourceAccountId"] != account
            links["cross-region copy"] += item["sourceAccountId"] == account
        else:
            assert item["jobArn"].startswith(
                f"arn:aws:bedrock:{region}:{account}:model-import-job/"
            )
            assert item["jobName"].endswith("-import")
        assert item["creationTime"].endswith("Z")
    assert all(count > 10 for count in links.values()), links
    assert len(links) == 4
    names = [item.get("modelName") for (coll, _), item in items.items() if coll == "custom-models"]
    assert len(set(names)) > 1000
    assert all(0 < len(name) <= 63 for name in names)


def test_a_step_adds_changes_and_deletes() -> None:
    demo = load_scenario("demo")
    before, after = items_by_arn(build_world(demo, 0)), items_by_arn(build_world(demo, 1))
    added = after.keys() - before.keys()
    deleted = before.keys() - after.keys()
    changed = {key for key in before.keys() & after.keys() if before[key] != after[key]}
    total = len(before)
    assert len(deleted) == round(demo.changes.deleted * total)
    assert {coll for coll, _ in deleted} <= {"custom-models", "imported-models"}
    assert len(added) >= round(demo.changes.added * total)
    assert changed
    for key in changed:
        old, new = before[key], after[key]
        differing = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        assert differing <= {
            "status",
            "endTime",
            "lastModifiedTime",
            "statusDetails",
            "customModelArn",
            "customModelName",
            "failureMessage",
            "targetModelTags",
            "modelStatus",
        }, differing
        assert differing & {"status", "modelStatus", "targetModelTags"}
    # A running customisation that completed brought its model along.
    finished = [k for k in changed if k[0] == "customization-jobs" and "customModelArn" in after[k]]
    assert all(("custom-models", after[k]["customModelArn"]) in after for k in finished)


def top_level(world: World) -> tuple[list[str], set[str]]:
    """The string values and the member names of every stored item."""
    items = [
        item
        for account in world.accounts.values()
        for stored in account.assets.values()
        for item in stored
    ]
    strings = [value for item in items for value in item.values() if isinstance(value, str)]
    return strings, {key for item in items for key in item}


def test_hostile_world_holds_every_kind() -> None:
    strings, members = top_level(build_world(load_scenario("hostile")))
    assert "REINFORCEMENT_FINE_TUNING" in strings
    assert "Queued" in strings  # a copy job status the SDK does not know
    assert {"futureMember", "rftConfig"} <= members
    assert any(len(s) > 200 for s in strings)
    assert any("\x00" in s for s in strings)
    assert any(not s.isascii() for s in strings)
    quiet, quiet_members = top_level(
        build_world(load_scenario("hostile").with_overrides(hostile=False))
    )
    assert not any("\x00" in s or len(s) > 200 or not s.isascii() for s in quiet)
    assert "futureMember" not in quiet_members and "REINFORCEMENT_FINE_TUNING" not in quiet


def test_scenario_is_immutable() -> None:
    scenario = Scenario(name="tiny", regions=["us-east-1"])  # type: ignore[arg-type]
    assert scenario.regions == ("us-east-1",)
    with pytest.raises(AttributeError):
        scenario.seed = 3  # type: ignore[misc]
