"""The crawl end to end: simulator over real HTTP, real Postgres, the crawler's own `crawl()`."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from crawler.crawl import CrawlSettings, crawl
from crawler.db import DatabaseUrl
from crawler.extract.aws import ClientSettings
from crawler.extract.pages import RetryPolicy
from crawler.resources import NUL_REPLACEMENT
from crawler.simulator import Account, Faults, World, factory
from tests.conftest import Endpoint
from tests.scenarios import HOME, OTHER, REGIONS, ROLE, TABLES, expected_arns

# Backoff shortened so throttling tests stay quick; the policy's shape is unchanged.
FAST_RETRY = RetryPolicy(max_attempts=6, max_seconds=30, base_delay=0.01, max_delay=0.05)


def settings(db: DatabaseUrl, **overrides: Any) -> CrawlSettings:
    values: dict[str, Any] = {
        "database_url": db,
        "regions": REGIONS,
        "accounts": (HOME, OTHER),
        "role_name": ROLE,
        "retry": FAST_RETRY,
        "client": ClientSettings(connect_timeout=2, read_timeout=2),
    }
    values.update(overrides)
    return CrawlSettings(**values)


async def arns(pg: asyncpg.Connection, table: str, *, deleted: bool | None = None) -> set[str]:
    where = {None: "", True: " WHERE deleted_at IS NOT NULL", False: " WHERE deleted_at IS NULL"}
    rows = await pg.fetch(f"SELECT arn FROM {table}{where[deleted]}")
    return {r["arn"] for r in rows}


async def row_versions(pg: asyncpg.Connection) -> dict[str, str]:
    """Each asset row's physical version (xmin changes whenever a row is rewritten)."""
    versions = {}
    for table in TABLES.values():
        for r in await pg.fetch(f"SELECT arn, xmin::text AS v FROM {table}"):
            versions[r["arn"]] = r["v"]
    return versions


async def scope(
    pg: asyncpg.Connection, run_id: int, account: str, region: str, resource: str
) -> asyncpg.Record:
    row = await pg.fetchrow(
        "SELECT * FROM crawl_scopes WHERE run_id=$1 AND account_id=$2 AND region=$3 "
        "AND resource=$4",
        run_id,
        account,
        region,
        resource,
    )
    assert row is not None, (account, region, resource)
    return row


async def failures(pg: asyncpg.Connection) -> list[tuple[str, ...]]:
    rows = await pg.fetch(
        "SELECT account_id, region, resource, error_code, error_message "
        "FROM crawl_scopes WHERE status <> 'succeeded'"
    )
    return [tuple(r.values()) for r in rows]


async def test_two_accounts_two_regions_load_and_unchanged_recrawl_writes_nothing(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
) -> None:
    first = await crawl(settings(db))
    assert first.status == "succeeded" and first.exit_code == 0
    assert first.scopes_total == 2 * 2 * 4 == first.scopes_succeeded
    for collection, table in TABLES.items():
        assert await arns(pg, table) == expected_arns(world, collection), table
    assert first.inserted == sum(len(expected_arns(world, c)) for c in TABLES)

    # Account and region come from the ARN; typed columns from the documented members.
    row = await pg.fetchrow("SELECT * FROM model_copy_jobs WHERE account_id = $1", OTHER)
    assert row["region"] == "us-east-1"
    assert row["source_account_id"] == HOME
    assert row["source_model_arn"] in await arns(pg, "custom_models")
    imported = await pg.fetchrow("SELECT * FROM imported_models WHERE account_id = $1", HOME)
    assert imported["job_arn"].startswith(
        "arn:aws:bedrock:us-east-1:111111111111:model-import-job/"
    )
    assert imported["instruct_supported"] is True
    assert imported["model_architecture"] == "llama3"

    # Both accounts were reached through their role.
    listed = {c.account_id for c in endpoint.sim.calls if c.operation == "ListCustomModels"}
    assert listed == {HOME, OTHER}
    # One AssumeRole per account, shared by all its scopes (credentials last an hour here).
    assert len([c for c in endpoint.sim.calls if c.operation == "AssumeRole"]) == 2

    before = await row_versions(pg)
    second = await crawl(settings(db))
    assert second.status == "succeeded"
    assert (second.inserted, second.updated, second.deleted) == (0, 0, 0)
    assert await row_versions(pg) == before  # not one asset row rewritten

    runs = await pg.fetch("SELECT id, status, inserted, updated FROM crawl_runs ORDER BY id")
    assert [(r["status"], r["inserted"], r["updated"]) for r in runs] == [
        ("succeeded", first.inserted, 0),
        ("succeeded", 0, 0),
    ]


async def test_changed_asset_rewrites_only_its_row(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
) -> None:
    await crawl(settings(db))
    before = await row_versions(pg)
    job = world.accounts[HOME].items("us-east-1", "customization-jobs")[0]
    job["status"] = "Stopped"
    report = await crawl(settings(db))
    assert (report.inserted, report.updated) == (0, 1)
    after = await row_versions(pg)
    assert {arn for arn in after if after[arn] != before[arn]} == {job["jobArn"]}
    assert (
        await pg.fetchval("SELECT status FROM model_customization_jobs WHERE arn=$1", job["jobArn"])
        == "Stopped"
    )


@pytest.fixture
def faults() -> Faults:
    return Faults(page_size_cap=2, empty_pages={(HOME, "us-east-1", "ListCustomModels")})


async def test_multi_page_and_empty_pages_are_followed(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
) -> None:
    report = await crawl(settings(db))
    assert report.status == "succeeded"
    assert await arns(pg, "custom_models") == expected_arns(world, "custom-models")
    models = await scope(pg, report.run_id, HOME, "us-east-1", "custom-models")
    jobs = await scope(pg, report.run_id, HOME, "us-east-1", "customization-jobs")
    assert models["items"] == 3 and models["pages"] > 2  # capped pages plus empty ones
    assert jobs["items"] == 4 and jobs["pages"] == 2
    sent = [
        c
        for c in endpoint.sim.calls
        if c.operation == "ListCustomModels" and c.account_id == HOME and c.region == "us-east-1"
    ]
    assert len(sent) == models["pages"]


class TestThrottled:
    @pytest.fixture
    def faults(self) -> Faults:
        return Faults(
            throttle={(HOME, "us-east-1", "ListCustomModels"): 3},
            errors={(OTHER, "us-east-1", "ListModelCopyJobs"): [500, 503, "reset", "hang"]},
        )

    async def test_throttled_and_failing_calls_are_retried_to_completion(
        self, endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
    ) -> None:
        report = await crawl(settings(db))
        assert report.status == "succeeded", await failures(pg)
        assert (await scope(pg, report.run_id, HOME, "us-east-1", "custom-models"))["retries"] == 3
        copies = await scope(pg, report.run_id, OTHER, "us-east-1", "copy-jobs")
        # 500, 503, a reset connection and a call that never answers (read timeout): retried.
        assert copies["retries"] == 4 and copies["status"] == "succeeded"
        assert report.retries == 7
        assert await arns(pg, "model_copy_jobs") == expected_arns(world, "copy-jobs")
        statuses = [
            c.status
            for c in endpoint.sim.calls
            if (c.account_id, c.region, c.operation) == (HOME, "us-east-1", "ListCustomModels")
        ]
        assert statuses == [429, 429, 429, 200]


class TestRetryBudget:
    @pytest.fixture
    def faults(self) -> Faults:
        return Faults(throttle={(HOME, "us-east-1", "ListCustomModels"): 100})

    async def test_exhausted_budget_fails_only_that_scope(
        self, endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
    ) -> None:
        report = await crawl(settings(db))
        assert report.status == "partial" and report.exit_code == 1
        failed = await scope(pg, report.run_id, HOME, "us-east-1", "custom-models")
        assert failed["status"] == "failed"
        assert failed["error_code"] == "ThrottlingException"
        assert failed["retries"] == FAST_RETRY.max_attempts - 1
        assert report.scopes_failed == 1 and report.scopes_succeeded == 15


async def test_access_denied_scope_fails_alone_and_deletes_nothing(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
) -> None:
    await crawl(settings(db))
    other_rows = {t: await arns(pg, t) for t in TABLES.values()}

    # OTHER now refuses every Bedrock call, and its assets vanish from the listing: a crawler
    # that took the refusal for an empty list would mark them all deleted.
    world.accounts[OTHER].denied = True
    for key in list(world.accounts[OTHER].assets):
        world.accounts[OTHER].assets[key] = []
    home_model = factory.custom_model(HOME, "eu-central-1", "new-after-deny")
    world.accounts[HOME].add("eu-central-1", "custom-models", home_model)

    report = await crawl(settings(db))
    assert report.status == "partial" and report.exit_code == 1
    assert report.scopes_failed == 8 and report.scopes_succeeded == 8
    for region in REGIONS:
        for resource in ("custom-models", "copy-jobs"):
            row = await scope(pg, report.run_id, OTHER, region, resource)
            assert (row["status"], row["error_code"]) == ("failed", "AccessDeniedException")
            assert row["retries"] == 0  # terminal: not retried
    assert report.deleted == 0
    for table, before in other_rows.items():
        assert await arns(pg, table, deleted=False) == before | (
            {home_model["modelArn"]} if table == "custom_models" else set()
        )


class TestRepeatingToken:
    @pytest.fixture
    def faults(self) -> Faults:
        return Faults(page_size_cap=1, repeat_token={(HOME, "us-east-1", "ListCustomModels")})

    async def test_repeating_next_token_fails_its_scope(
        self, endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
    ) -> None:
        report = await crawl(settings(db))
        assert report.status == "partial"
        row = await scope(pg, report.run_id, HOME, "us-east-1", "custom-models")
        assert (row["status"], row["error_code"]) == ("failed", "PaginationLoop")
        # It stopped at the first repeat instead of looping.
        assert row["pages"] == 2
        assert await arns(pg, "model_customization_jobs") == expected_arns(
            world, "customization-jobs"
        )


async def test_deleted_upstream_is_marked_then_restored(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
) -> None:
    await crawl(settings(db))
    model = world.accounts[HOME].items("us-east-1", "custom-models")[1]
    arn = model["modelArn"]
    first_seen = await pg.fetchval("SELECT first_seen_at FROM custom_models WHERE arn=$1", arn)

    world.accounts[HOME].remove("us-east-1", "custom-models", arn)
    report = await crawl(settings(db))
    assert report.deleted == 1
    assert await arns(pg, "custom_models", deleted=True) == {arn}
    view = await pg.fetchrow(
        "SELECT deleted_at, last_seen_at FROM custom_models_with_last_seen WHERE arn=$1", arn
    )
    assert view["deleted_at"] is not None and view["last_seen_at"] < view["deleted_at"]

    world.accounts[HOME].add("us-east-1", "custom-models", model)
    report = await crawl(settings(db))
    assert (report.deleted, report.updated) == (0, 1)
    row = await pg.fetchrow("SELECT deleted_at, first_seen_at FROM custom_models WHERE arn=$1", arn)
    assert row["deleted_at"] is None and row["first_seen_at"] == first_seen
    last_scope = await pg.fetchval(
        "SELECT max(finished_at) FROM crawl_scopes WHERE resource='custom-models' "
        "AND account_id=$1 AND region='us-east-1'",
        HOME,
    )
    assert (
        await pg.fetchval("SELECT last_seen_at FROM custom_models_with_last_seen WHERE arn=$1", arn)
        == last_scope
    )


class TestCredentialRefresh:
    @pytest.fixture
    def faults(self) -> Faults:
        # Shorter than botocore's refresh window: every use of the credentials renews them.
        return Faults(credential_ttl_seconds=700, page_size_cap=1)

    async def test_role_credentials_are_refreshed_before_they_expire(
        self, endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
    ) -> None:
        report = await crawl(settings(db))
        assert report.status == "succeeded"
        assume = [c for c in endpoint.sim.calls if c.operation == "AssumeRole"]
        # Two accounts: two calls if nothing were refreshed (see the first test).
        assert len(assume) > 2
        assert not [c for c in endpoint.sim.calls if c.status in (400, 403)]


class TestRegionNotEnabledAndRoleMissing:
    @pytest.fixture
    def world(self) -> World:
        from tests.scenarios import two_accounts_two_regions

        world = two_accounts_two_regions()
        world.accounts[OTHER].regions = {"us-east-1"}
        third = Account("333333333333", regions={"us-east-1"}, roles=set())
        world.accounts[third.account_id] = third
        return world

    async def test_region_not_enabled_and_unassumable_role_fail_their_scopes(
        self, endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
    ) -> None:
        report = await crawl(
            settings(
                db, accounts=(HOME, OTHER, "333333333333"), regions=("us-east-1", "eu-central-1")
            )
        )
        assert report.status == "partial"
        optin = await scope(pg, report.run_id, OTHER, "eu-central-1", "custom-models")
        assert optin["error_code"] == "UnrecognizedClientException"
        norole = await scope(pg, report.run_id, "333333333333", "us-east-1", "custom-models")
        assert norole["error_code"] == "AccessDenied"
        ok = await scope(pg, report.run_id, OTHER, "us-east-1", "custom-models")
        assert ok["status"] == "succeeded"


class TestExternalId:
    @pytest.fixture
    def world(self) -> World:
        from tests.scenarios import two_accounts_two_regions

        world = two_accounts_two_regions()
        world.accounts[OTHER].external_id = "shared-ext-4242"
        return world

    async def test_role_with_external_id(
        self, endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
    ) -> None:
        without = await crawl(settings(db))
        assert without.status == "partial"
        row = await scope(pg, without.run_id, OTHER, "us-east-1", "custom-models")
        assert row["error_code"] == "AccessDenied"
        assert await arns(pg, "custom_models") == {
            arn for arn in expected_arns(world, "custom-models") if f":{HOME}:" in arn
        }

        # Every account of a crawl gets the same external id; HOME's role ignores it.
        report = await crawl(settings(db, external_id="shared-ext-4242"))
        assert report.status == "succeeded"
        assert await arns(pg, "custom_models") == expected_arns(world, "custom-models")


class TestHostileData:
    @pytest.fixture
    def world(self) -> World:
        home = Account(HOME, regions={"us-east-1"})
        home.add(
            "us-east-1",
            "custom-models",
            factory.custom_model(
                HOME,
                "us-east-1",
                "nul\x00name-\u00e9\u6a21\u578b",
                customization_type="SOMETHING_NEWER",  # an enum value the SDK has never seen
                futureMember={"nested": [1, 2]},  # a member the SDK's model does not know
                creationTime="not a timestamp",
            ),
        )
        gone = factory.imported_model(HOME, "us-east-1", "vanishing")
        home.add("us-east-1", "imported-models", gone)
        home.add("us-east-1", "imported-models", factory.imported_model(HOME, "us-east-1", "kept"))
        return World(accounts={HOME: home}, home_account=HOME)

    @pytest.fixture
    def faults(self, world: World) -> Faults:
        gone = world.accounts[HOME].items("us-east-1", "imported-models")[0]["modelArn"]
        return Faults(not_found_on_get={gone})

    async def test_unknown_members_enums_and_nul_are_kept(
        self, endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
    ) -> None:
        report = await crawl(settings(db, accounts=(), role_name=None, regions=("us-east-1",)))
        assert report.status == "succeeded", report
        row = await pg.fetchrow("SELECT * FROM custom_models")
        assert row["customization_type"] == "SOMETHING_NEWER"
        assert row["model_name"] == f"nul{NUL_REPLACEMENT}name-\u00e9\u6a21\u578b"
        assert row["creation_time"] is None  # unparseable: NULL in the typed column ...
        raw = await pg.fetchval("SELECT raw FROM custom_models")
        assert '"futureMember": {"nested": [1, 2]}' in raw
        assert '"creationTime": "not a timestamp"' in raw  # ... and verbatim in raw

    async def test_item_gone_between_list_and_get_is_skipped(
        self, endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
    ) -> None:
        report = await crawl(settings(db, accounts=(), role_name=None, regions=("us-east-1",)))
        assert report.status == "succeeded"
        names = [r["model_name"] for r in await pg.fetch("SELECT model_name FROM imported_models")]
        assert names == ["kept"]
        detail = await pg.fetchrow("SELECT * FROM imported_models")
        assert detail["model_data_source"] is not None and detail["job_name"] == "kept-import"


async def test_ambient_account_without_role(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
) -> None:
    report = await crawl(settings(db, accounts=(), role_name=None, regions=()))
    assert report.status == "succeeded"
    assert report.scopes_total == 4  # AWS_REGION's one region, the caller's one account
    assert {r["account_id"] for r in await pg.fetch("SELECT account_id FROM custom_models")} == {
        HOME
    }
    assert not [c for c in endpoint.sim.calls if c.operation == "AssumeRole"]
