"""The migrations create exactly the Core schema, downgrade cleanly, and the views answer."""

from __future__ import annotations

from typing import Any

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from crawler.crawl import CrawlSettings, crawl
from crawler.db import DatabaseUrl, create_engine, current_revision, downgrade, migrate
from crawler.resources import RESOURCES
from crawler.schema import metadata
from tests.conftest import Endpoint
from tests.scenarios import HOME, OTHER, REGIONS, ROLE


async def _diff(db: DatabaseUrl) -> list[Any]:
    engine = create_engine(db)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()


async def test_migrations_create_exactly_the_declared_schema(empty_db: DatabaseUrl) -> None:
    engine = create_engine(empty_db)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            assert await current_revision(conn) is not None
    finally:
        await engine.dispose()
    assert await _diff(empty_db) == []


async def test_downgrade_to_base_and_upgrade_again(empty_db: DatabaseUrl) -> None:
    engine = create_engine(empty_db)
    try:
        await migrate(engine)
        await downgrade(engine, "base")
        conn = await asyncpg.connect(empty_db.dsn)
        try:
            left = await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
            )
            assert left == []
        finally:
            await conn.close()
        await migrate(engine)
    finally:
        await engine.dispose()
    assert await _diff(empty_db) == []


async def test_every_asset_table_has_the_contract_columns(pg: asyncpg.Connection) -> None:
    for resource in RESOURCES:
        columns = {
            r["column_name"]: r["data_type"]
            for r in await pg.fetch(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = $1",
                resource.table,
            )
        }
        assert columns["arn"] == "text"
        assert columns["raw"] == "jsonb"
        assert columns["first_seen_at"] == columns["deleted_at"] == "timestamp with time zone"
        assert columns["creation_time"] == "timestamp with time zone"
        for link in resource.links:
            indexed = await pg.fetchval(
                "SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE $2",
                resource.table,
                f"%({link.column})%",
            )
            assert indexed == 1, (resource.table, link.column)
        seen = await pg.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1",
            f"{resource.table}_with_last_seen",
        )
        assert "last_seen_at" in {r["column_name"] for r in seen}


async def test_model_lineage_links_models_to_their_jobs(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
) -> None:
    report = await crawl(
        CrawlSettings(database_url=db, regions=REGIONS, accounts=(HOME, OTHER), role_name=ROLE)
    )
    assert report.status == "succeeded"
    rows = {r["model_name"]: r for r in await pg.fetch("SELECT * FROM model_lineage")}
    assert len(rows) == 4 + 1 + 3  # custom models + imported models

    source = rows["support-bot-v0"]
    assert source["made_by_job_kind"] == "customization"
    assert source["made_by_job_status"] == "Completed"
    assert len(source["copy_job_arns"]) == 2  # copied to eu-central-1 and to OTHER

    cross = rows["shared-bot"]
    assert (cross["account_id"], cross["made_by_job_kind"]) == (OTHER, "copy")
    assert cross["copied_from_model_arn"] == source["model_arn"]
    assert cross["copy_job_arns"] == [cross["made_by_job_arn"]]

    imported = rows["llama-legal"]
    assert imported["model_kind"] == "imported" and imported["made_by_job_kind"] == "import"
    assert imported["made_by_job_arn"].split(":")[5].startswith("model-import-job/")
    assert rows["support-bot-v1"]["copy_job_arns"] == []
