"""`demo` and `simulate` as a user runs them: real child processes, the embedded PostgreSQL,
the simulator, and what they print checked against the database."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aioboto3
import asyncpg
import pytest
from botocore.config import Config

from crawler.crawl import CrawlSettings, crawl
from crawler.db import DatabaseUrl
from tests.conftest import Endpoint, run_cli
from tests.scenarios import HOME, OTHER, REGIONS, ROLE

RESOURCE_SLUGS = ("custom-models", "customization-jobs", "copy-jobs", "imported-models")


def printed_table(stdout: str) -> tuple[list[str], dict[tuple[str, str, str], int]]:
    """The demo's "assets per resource, account and region" table, as numbers."""
    lines = stdout.splitlines()
    start = lines.index("Assets per resource, account and region (not deleted):")
    header = lines[start + 1].split()
    regions = header[2:-1]
    counts: dict[tuple[str, str, str], int] = {}
    for line in lines[start + 3 :]:
        cells = line.split()
        if not cells or cells[0] == "total":
            break
        slug, account, *numbers = cells
        for region, number in zip(regions, numbers[:-1], strict=True):
            counts[(slug, account, region)] = int(number)
        assert int(numbers[-1]) == sum(int(n) for n in numbers[:-1])
    return regions, counts


async def database_counts(url: str) -> dict[tuple[str, str, str], int]:
    tables = dict(
        zip(
            RESOURCE_SLUGS,
            ("custom_models", "model_customization_jobs", "model_copy_jobs", "imported_models"),
            strict=True,
        )
    )
    conn = await asyncpg.connect(DatabaseUrl.parse(url).dsn)
    try:
        counts = {}
        for slug, table in tables.items():
            for row in await conn.fetch(
                f"SELECT account_id, region, count(*) AS n FROM {table} "
                "WHERE deleted_at IS NULL GROUP BY 1, 2"
            ):
                counts[(slug, row["account_id"], row["region"])] = row["n"]
        return counts
    finally:
        await conn.close()


async def test_demo_twice_on_a_fresh_home_matches_the_database(scratch_home: Path) -> None:
    home = {"BEDROCK_INVENTORY_HOME": str(scratch_home)}
    first = await run_cli("demo", env=home)
    assert first.code == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert re.search(
        r"^Run 1 (succeeded|partial): \d+ of 36 scopes succeeded", first.stdout, re.MULTILINE
    ), first.stdout
    loaded = int(re.search(r"First run: (\d+) assets loaded", first.stdout)[1])  # type: ignore[index]
    regions, first_counts = printed_table(first.stdout)
    assert len(regions) == 3 and sum(first_counts.values()) == loaded > 100
    # The scenario switches throttling on: the retries show.
    retried = int(re.search(r"(\d+) throttled or failed calls retried", first.stdout)[1])  # type: ignore[index]
    assert retried > 0
    for title in (
        "Custom models per base model",
        "Models copied into another account",
        "How each model was made",
    ):
        assert f"-- {title}" in first.stdout
    assert "psql" in first.stdout and "bedrock-inventory db start" in first.stdout

    second = await run_cli("demo", env=home)
    assert second.code == 0, second.stderr
    changes = re.search(
        r"Changes since the previous run: (\d+) new, (\d+) changed, (\d+) "
        r"deleted",
        second.stdout,
    )
    assert changes is not None, second.stdout
    new, changed, deleted = map(int, changes.groups())
    assert new > 0 and changed > 0 and deleted > 0
    _, second_counts = printed_table(second.stdout)

    started = await run_cli("db", "start", "--database", "bedrock_inventory_demo", env=home)
    assert started.code == 0, started.stderr
    try:
        url = started.stdout.strip()
        assert {k: v for k, v in second_counts.items() if v} == await database_counts(url)
        conn = await asyncpg.connect(DatabaseUrl.parse(url).dsn)
        try:
            runs = await conn.fetch(
                "SELECT inserted, updated, deleted, parameters->'labels' AS labels "
                "FROM crawl_runs ORDER BY id"
            )
        finally:
            await conn.close()
        assert len(runs) == 2
        assert (runs[1]["inserted"], runs[1]["updated"], runs[1]["deleted"]) == (
            new,
            changed,
            deleted,
        )
        assert runs[0]["inserted"] == loaded
    finally:
        assert (await run_cli("db", "stop", env=home)).code == 0


async def test_demo_refuses_a_database_holding_real_crawls(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
) -> None:
    await crawl(
        CrawlSettings(database_url=db, regions=REGIONS, accounts=(HOME, OTHER), role_name=ROLE)
    )
    before = await pg.fetchval("SELECT count(*) FROM custom_models")
    result = await run_cli("demo", "--database-url", db.dsn)
    assert result.code == 2
    assert result.stderr.strip().startswith(
        "bedrock-inventory: error: refusing to write simulated demo data into"
    )
    assert await pg.fetchval("SELECT count(*) FROM custom_models") == before
    assert await pg.fetchval("SELECT count(*) FROM crawl_runs") == 1


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
async def test_simulate_serves_a_real_client_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crawler",
        "simulate",
        "--scenario",
        "demo",
        "--port",
        "0",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    exports: dict[str, str] = {}
    summary = ""
    while "AWS_REGION" not in exports or not summary:
        line = (await proc.stdout.readline()).decode()
        assert line, await proc.stderr.read()
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            exports[name] = value
        elif line.startswith("#"):
            summary = line
    assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    accounts = summary.split("--accounts ", 1)[1].split()[0].split(",")
    assert len(accounts) == 3

    session = aioboto3.Session(
        aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        region_name=exports["AWS_REGION"],
    )
    config = Config(retries={"total_max_attempts": 5, "mode": "standard"})
    async with session.client(
        "sts", endpoint_url=exports["AWS_ENDPOINT_URL"], config=config
    ) as sts:
        assert (await sts.get_caller_identity())["Account"] == accounts[0]
    async with session.client(
        "bedrock", endpoint_url=exports["AWS_ENDPOINT_URL"], config=config
    ) as bedrock:
        listed = await bedrock.list_custom_models(maxResults=1000)
        assert listed["modelSummaries"]

    proc.send_signal(stop_signal)
    assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    assert "Traceback" not in (await proc.stderr.read()).decode()
