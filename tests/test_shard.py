"""One crawl over N processes: each (account, region) in exactly one shard, shards side by side
against one database, the same shard never twice."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from crawler.crawl import CrawlSettings, crawl
from crawler.db import DatabaseUrl, crawl_lock
from crawler.errors import ConfigError
from crawler.shard import Shard, parse_shard, shard_from_environment
from crawler.simulator import Faults, World
from crawler.simulator.scenario import build_world, faults_for, load_scenario
from tests.conftest import Endpoint, run_cli

SCENARIO = load_scenario("demo").with_overrides(throttle_rps=0, latency_ms=0, latency_jitter_ms=0)
TABLES = ("custom_models", "model_customization_jobs", "model_copy_jobs", "imported_models")


@pytest.fixture
def world() -> World:
    return build_world(SCENARIO)


@pytest.fixture
def faults() -> Faults:
    return faults_for(SCENARIO)


def crawl_args(db: DatabaseUrl, world: World, *extra: str) -> list[str]:
    return [
        "crawl",
        "--database-url",
        db.dsn,
        "--regions",
        ",".join(SCENARIO.regions),
        "--accounts",
        ",".join(sorted(world.accounts)),
        "--role-name",
        SCENARIO.role_name,
        *extra,
    ]


async def snapshot(url: DatabaseUrl) -> dict[str, list[tuple[object, ...]]]:
    conn = await asyncpg.connect(url.dsn)
    try:
        return {
            t: [
                tuple(r.values())
                for r in await conn.fetch(
                    f"SELECT arn, account_id, region, raw, deleted_at FROM {t} ORDER BY arn"
                )
            ]
            for t in TABLES
        }
    finally:
        await conn.close()


def test_every_pair_has_exactly_one_shard_and_keeps_it() -> None:
    accounts = [f"{n:012d}" for n in range(1, 200)]
    regions = ["us-east-1", "eu-central-1", "ap-southeast-2", "us-west-2"]
    for count in (1, 2, 3, 7):
        owners = {
            (a, r): [i for i in range(count) if Shard(i, count).owns(a, r)]
            for a in accounts
            for r in regions
        }
        assert all(len(o) == 1 for o in owners.values())
        used = {o[0] for o in owners.values()}
        assert used == set(range(count))  # 800 pairs reach every shard
        # A pair's shard depends on the pair alone: more accounts move nothing.
        more = accounts + [f"{n:012d}" for n in range(500, 900)]
        assert all(Shard(owners[(a, r)][0], count).owns(a, r) for a in more[:199] for r in regions)
    # Stable across versions and machines (changing the hash would move every pair): pinned.
    pinned = {
        ("111111111111", "us-east-1"): (2, 0),
        ("222222222222", "eu-central-1"): (0, 5),
        ("123456789012", "ap-southeast-2"): (0, 3),
    }
    for (account, region), (of_3, of_7) in pinned.items():
        assert Shard(of_3, 3).owns(account, region) and Shard(of_7, 7).owns(account, region)
    assert Shard(0, 1).owns("anything", "anywhere")


def test_shard_values() -> None:
    assert parse_shard("2/3") == Shard(2, 3)
    for bad in ("3/3", "1/0", "x", "-1/3", "1/3/4", ""):
        with pytest.raises(ConfigError):
            parse_shard(bad)
    env = {"JOB_COMPLETION_INDEX": "1", "BEDROCK_INVENTORY_SHARDS": "4"}
    assert shard_from_environment(env) == Shard(1, 4)
    assert shard_from_environment({"JOB_COMPLETION_INDEX": "5"}) == Shard()  # N unknown
    with pytest.raises(ConfigError, match="JOB_COMPLETION_INDEX"):
        shard_from_environment({"BEDROCK_INVENTORY_SHARDS": "3"})
    with pytest.raises(ConfigError, match="'three'"):
        shard_from_environment({"BEDROCK_INVENTORY_SHARDS": "three"})


async def test_three_concurrent_shards_equal_one_unsharded_crawl(
    endpoint: Endpoint, db: DatabaseUrl, empty_db: DatabaseUrl, world: World
) -> None:
    whole = await crawl(
        CrawlSettings(
            database_url=empty_db,
            regions=SCENARIO.regions,
            accounts=tuple(sorted(world.accounts)),
            role_name=SCENARIO.role_name,
        )
    )
    shards = await asyncio.gather(
        *(
            run_cli(
                *crawl_args(db, world, "--shard", f"{i}/3", "--run-group", "job-7f3a"),
                env=endpoint.env,
            )
            for i in range(3)
        )
    )
    # The demo scenario leaves one opt-in region disabled: some scopes fail in both crawls.
    assert whole.status == "partial"
    assert {s.code for s in shards} <= {0, 1}, [s.stderr for s in shards]
    assert await snapshot(db) == await snapshot(empty_db)
    assert sum(len(rows) for rows in (await snapshot(db)).values()) > 100

    conn = await asyncpg.connect(db.dsn)
    try:
        runs = await conn.fetch(
            "SELECT shard_index, shard_count, run_group, scopes_total "
            "FROM crawl_runs ORDER BY shard_index"
        )
        assert [(r["shard_index"], r["shard_count"], r["run_group"]) for r in runs] == [
            (0, 3, "job-7f3a"),
            (1, 3, "job-7f3a"),
            (2, 3, "job-7f3a"),
        ]
        assert sum(r["scopes_total"] for r in runs) == whole.scopes_total
        # Each scope crawled exactly once, by the shard that owns its pair.
        scopes = await conn.fetch(
            "SELECT s.account_id, s.region, s.resource, count(*) AS n, min(r.shard_index) AS i "
            "FROM crawl_scopes s JOIN crawl_runs r ON r.id = s.run_id GROUP BY 1, 2, 3"
        )
        assert len(scopes) == whole.scopes_total and {s["n"] for s in scopes} == {1}
        assert all(Shard(s["i"], 3).owns(s["account_id"], s["region"]) for s in scopes)
    finally:
        await conn.close()

    listing = await run_cli("runs", "--database-url", db.dsn)
    header, row, *_ = listing.stdout.splitlines()
    assert "shards" in header.split()
    assert row.split()[0] == "1,2,3" or sorted(row.split()[0].split(",")) == ["1", "2", "3"]
    assert " 3/3 " in row


async def test_the_same_shard_twice_exits_3_other_shards_run(
    endpoint: Endpoint, db: DatabaseUrl, world: World
) -> None:
    async with crawl_lock(db, Shard(0, 3)):  # what a running shard 0/3 holds
        same = await run_cli(*crawl_args(db, world, "--shard", "0/3"), env=endpoint.env)
        other = await run_cli(*crawl_args(db, world, "--shard", "1/3"), env=endpoint.env)
        unsharded = await run_cli(*crawl_args(db, world), env=endpoint.env)
    assert same.code == 3
    assert same.stderr.strip().startswith(
        "bedrock-inventory: error: another crawl of shard 0/3 holds the lock"
    )
    assert other.code in (0, 1), other.stderr  # not blocked by shard 0
    assert unsharded.code == 3  # a whole crawl would overlap the running shard


async def test_shard_and_group_from_the_environment(
    endpoint: Endpoint, db: DatabaseUrl, world: World, pg: asyncpg.Connection
) -> None:
    env = {
        **endpoint.env,
        "JOB_COMPLETION_INDEX": "2",
        "BEDROCK_INVENTORY_SHARDS": "3",
        "BEDROCK_INVENTORY_RUN_GROUP": "0b5e7c1e-uid",
    }
    result = await run_cli(*crawl_args(db, world), env=env)
    assert result.code in (0, 1), result.stderr
    run = await pg.fetchrow("SELECT shard_index, shard_count, run_group FROM crawl_runs")
    assert tuple(run.values()) == (2, 3, "0b5e7c1e-uid")


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["--shard", "3/3"], {}, "3/3"),
        (["--shard", "two/3"], {}, "two/3"),
        (["--shard=1/0"], {}, "1/0"),
        ([], {"BEDROCK_INVENTORY_SHARDS": "abc"}, "'abc'"),
        ([], {"BEDROCK_INVENTORY_SHARDS": "3"}, "JOB_COMPLETION_INDEX"),
        ([], {"BEDROCK_INVENTORY_SHARDS": "3", "JOB_COMPLETION_INDEX": "3"}, "3/3"),
        (["--run-group", "has spaces"], {}, "has spaces"),
    ],
)
async def test_bad_shard_settings_exit_2(
    args: list[str], env: dict[str, str], needle: str, db: DatabaseUrl
) -> None:
    result = await run_cli("crawl", "--database-url", db.dsn, *args, env=env)
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
