"""Snapshots over time: history versions, as-of queries, retention, analyst access, and a schema
that describes itself."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from crawler.crawl import CrawlReport, CrawlSettings, crawl
from crawler.db import DatabaseUrl, create_engine, downgrade, migrate
from crawler.resources import RESOURCES
from crawler.schema import metadata
from crawler.schema_docs import render_schema_markdown
from crawler.simulator import World, factory
from crawler.views import FUNCTIONS, VIEWS
from tests.conftest import Endpoint, run_cli
from tests.scenarios import HOME, OTHER, REGIONS, ROLE, TABLES, expected_arns
from tests.test_crawl import FAST_RETRY

ROOT = Path(__file__).resolve().parent.parent


async def run_crawl(db: DatabaseUrl) -> CrawlReport:
    report = await crawl(
        CrawlSettings(
            database_url=db,
            regions=REGIONS,
            accounts=(HOME, OTHER),
            role_name=ROLE,
            retry=FAST_RETRY,
        )
    )
    assert report.status == "succeeded"
    return report


async def history_count(pg: asyncpg.Connection) -> int:
    total = 0
    for table in TABLES.values():
        total += await pg.fetchval(f"SELECT count(*) FROM {table}_history")
    return total


async def assert_history_agrees(pg: asyncpg.Connection) -> None:
    """Every existing asset has exactly one current version with its content; a deleted one
    has none; no current version without its asset."""
    for table in TABLES.values():
        disagreements = await pg.fetch(f"""
            SELECT t.arn, t.deleted_at, h.content_hash AS current_hash, t.content_hash
            FROM {table} t
            FULL JOIN (SELECT * FROM {table}_history WHERE valid_to IS NULL) h ON h.arn = t.arn
            WHERE (t.deleted_at IS NULL AND h.content_hash IS DISTINCT FROM t.content_hash)
               OR (t.deleted_at IS NOT NULL AND h.arn IS NOT NULL)
               OR t.arn IS NULL""")
        assert disagreements == [], (table, disagreements)


async def as_of(pg: asyncpg.Connection, function: str, ts: Any) -> dict[str, asyncpg.Record]:
    return {r["arn"]: r for r in await pg.fetch(f"SELECT * FROM {function}($1)", ts)}


async def test_three_crawls_of_a_changing_world_give_the_expected_versions(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
) -> None:
    home = world.accounts[HOME]
    job = home.items("us-east-1", "customization-jobs")[0]
    gone = home.items("us-east-1", "custom-models")[1]
    first = await run_crawl(db)
    assert await history_count(pg) == first.inserted  # one version per asset
    await assert_history_agrees(pg)
    t1 = await pg.fetchval("SELECT finished_at FROM crawl_runs WHERE id = $1", first.run_id)

    job["status"] = "Stopped"
    home.remove("us-east-1", "custom-models", gone["modelArn"])
    added = factory.custom_model(HOME, "eu-central-1", "added-later")
    home.add("eu-central-1", "custom-models", added)
    second = await run_crawl(db)
    assert (second.inserted, second.updated, second.deleted) == (1, 1, 1)
    await assert_history_agrees(pg)
    t2 = await pg.fetchval("SELECT finished_at FROM crawl_runs WHERE id = $1", second.run_id)

    job["status"] = "Completed"
    home.add("us-east-1", "custom-models", gone)
    third = await run_crawl(db)
    assert (third.inserted, third.updated, third.deleted) == (0, 2, 0)
    await assert_history_agrees(pg)
    t3 = await pg.fetchval("SELECT finished_at FROM crawl_runs WHERE id = $1", third.run_id)

    versions = await pg.fetch(
        "SELECT raw->>'status' AS status, valid_from, valid_to, run_id "
        "FROM model_customization_jobs_history WHERE arn = $1 ORDER BY valid_from",
        job["jobArn"],
    )
    assert [(v["status"], v["run_id"]) for v in versions] == [
        ("Completed", first.run_id),
        ("Stopped", second.run_id),
        ("Completed", third.run_id),
    ]
    assert versions[0]["valid_to"] == versions[1]["valid_from"]  # closed as the next opened
    assert versions[1]["valid_to"] == versions[2]["valid_from"] and versions[2]["valid_to"] is None
    model = await pg.fetch(
        "SELECT valid_from, valid_to, run_id FROM custom_models_history WHERE arn = $1 "
        "ORDER BY valid_from",
        gone["modelArn"],
    )
    assert [m["run_id"] for m in model] == [first.run_id, third.run_id]
    # The deletion closed the version when the scope that found it gone finished.
    deleting_scope_end = await pg.fetchval(
        "SELECT finished_at FROM crawl_scopes WHERE run_id = $1 AND account_id = $2 "
        "AND region = 'us-east-1' AND resource = 'custom-models'",
        second.run_id,
        HOME,
    )
    assert model[0]["valid_to"] == deleting_scope_end < model[1]["valid_from"]

    # As of each crawl's end: the state that crawl saw.
    before = await as_of(pg, "custom_models_as_of", t1 - timedelta(hours=1))
    at_1 = await as_of(pg, "custom_models_as_of", t1)
    at_2 = await as_of(pg, "custom_models_as_of", t2)
    at_3 = await as_of(pg, "custom_models_as_of", t3)
    assert before == {}
    all_models = expected_arns(world, "custom-models")
    assert set(at_1) == all_models - {added["modelArn"]}
    assert set(at_2) == all_models - {gone["modelArn"]}
    assert set(at_3) == all_models
    jobs_1 = await as_of(pg, "model_customization_jobs_as_of", t1)
    jobs_2 = await as_of(pg, "model_customization_jobs_as_of", t2)
    assert jobs_1[job["jobArn"]]["status"] == "Completed"
    assert jobs_2[job["jobArn"]]["status"] == "Stopped"
    for resource in RESOURCES:
        rows = await pg.fetchval(f"SELECT count(*) FROM {resource.table}_as_of(now())")
        live = await pg.fetchval(f"SELECT count(*) FROM {resource.table} WHERE deleted_at IS NULL")
        assert rows == live, resource.table

    # inventory_daily: today, per (account, region, resource): what exists, what came, what went.
    today = {
        (r["account_id"], r["region"], r["resource"]): r
        for r in await pg.fetch(
            "SELECT * FROM inventory_daily WHERE day = (now() AT TIME ZONE 'UTC')::date"
        )
    }
    models_home = today[(HOME, "us-east-1", "custom-models")]
    assert models_home["assets"] == 3
    assert models_home["deleted"] == 1
    assert models_home["created"] == 3 + 1  # three first seen, one seen again after deletion
    assert today[(HOME, "eu-central-1", "custom-models")]["assets"] == 2

    # crawl_health: one row per scope of every run.
    health = await pg.fetch("SELECT * FROM crawl_health WHERE run_id = $1", third.run_id)
    assert len(health) == 16 and {h["scope_status"] for h in health} == {"succeeded"}
    assert all(h["scope_seconds"] >= 0 for h in health)


async def test_unchanged_crawl_adds_no_history(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
) -> None:
    await run_crawl(db)
    count = await history_count(pg)
    await run_crawl(db)
    assert await history_count(pg) == count


async def test_upgrade_of_a_populated_database_loses_no_row(
    endpoint: Endpoint, empty_db: DatabaseUrl, world: World
) -> None:
    engine = create_engine(empty_db)
    try:
        await migrate(engine)
        await run_crawl(empty_db)
        conn = await asyncpg.connect(empty_db.dsn)
        try:
            before = {
                t: await conn.fetch(
                    f"SELECT arn, raw, first_seen_at, deleted_at FROM {t} ORDER BY arn"
                )
                for t in TABLES.values()
            }
            await conn.close()
            await downgrade(engine, "0001")  # the schema before history, with its rows
            conn = await asyncpg.connect(empty_db.dsn)
            assert await conn.fetchval("SELECT version_num FROM alembic_version") == "0001"
            for table, rows in before.items():
                assert (
                    await conn.fetch(
                        f"SELECT arn, raw, first_seen_at, deleted_at FROM {table} ORDER BY arn"
                    )
                    == rows
                )
            await conn.close()

            await migrate(engine)  # upgrade: history opened from the existing rows
            await run_crawl(empty_db)
            conn = await asyncpg.connect(empty_db.dsn)
            for table, rows in before.items():
                assert (
                    await conn.fetch(
                        f"SELECT arn, raw, first_seen_at, deleted_at FROM {table} ORDER BY arn"
                    )
                    == rows
                )
                # The backfilled versions match what the crawler writes: no new version.
                assert await conn.fetchval(f"SELECT count(*) FROM {table}_history") == len(rows)
            await assert_history_agrees(conn)
        finally:
            await conn.close()
    finally:
        await engine.dispose()


async def test_prune_deletes_only_old_closed_versions(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
) -> None:
    await run_crawl(db)
    job = world.accounts[HOME].items("us-east-1", "customization-jobs")[0]
    for status in ("Stopping", "Stopped"):
        job["status"] = status
        await run_crawl(db)
    # Three versions of the job now; make the first closed one old, the second recent.
    rows = await pg.fetch(
        "SELECT valid_from FROM model_customization_jobs_history WHERE arn=$1 ORDER BY valid_from",
        job["jobArn"],
    )
    await pg.execute(
        "UPDATE model_customization_jobs_history SET valid_to = now() - "
        "interval '500 days' WHERE arn = $1 AND valid_from = $2",
        job["jobArn"],
        rows[0]["valid_from"],
    )
    # And one current version that is very old: never pruned.
    await pg.execute(
        "UPDATE custom_models_history SET valid_from = now() - interval '900 days' "
        "WHERE valid_to IS NULL AND account_id = $1",
        OTHER,
    )
    total = await history_count(pg)

    dry = await run_cli(
        "prune", "--history-older-than", "400d", "--dry-run", "--database-url", db.dsn
    )
    assert dry.code == 0, dry.stderr
    assert "model_customization_jobs_history: would delete 1 closed versions" in dry.stdout
    assert await history_count(pg) == total

    done = await run_cli("prune", "--history-older-than", "400d", "--database-url", db.dsn)
    assert done.code == 0 and "total: deleted 1 closed versions older than 400d" in done.stdout
    assert await history_count(pg) == total - 1
    left = await pg.fetch(
        "SELECT raw->>'status' AS s FROM model_customization_jobs_history "
        "WHERE arn = $1 ORDER BY valid_from",
        job["jobArn"],
    )
    assert [r["s"] for r in left] == ["Stopping", "Stopped"]
    await assert_history_agrees(pg)


@pytest.mark.parametrize("age", ["400", "0d", "-3d", "forever", "3y", ""])
async def test_prune_refuses_bad_ages(age: str, db: DatabaseUrl) -> None:
    result = await run_cli("prune", f"--history-older-than={age}", "--database-url", db.dsn)
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bedrock-inventory: error: bad age")


class TestReaderRole:
    @pytest.fixture
    async def reader(self, pg: asyncpg.Connection) -> Any:
        # A hostile-looking name: quoted as an identifier, it is just a name.
        name = f'BI reader "{uuid.uuid4().hex[:6]}"; DROP TABLE custom_models; --'
        quoted = await pg.fetchval("SELECT quote_ident($1)", name)
        await pg.execute(f"CREATE ROLE {quoted} LOGIN")
        yield name
        await pg.execute(f"DROP OWNED BY {quoted}")
        await pg.execute(f"DROP ROLE {quoted}")

    async def test_reader_can_read_everything_and_write_nothing(
        self, endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, reader: str
    ) -> None:
        await run_crawl(db)
        for _ in range(2):  # idempotent
            result = await run_cli("grant-reader", reader, "--database-url", db.dsn)
            assert result.code == 0, result.stderr
        assert await pg.fetchval("SELECT count(*) FROM custom_models") > 0  # nothing dropped

        # A later migration adds a table: default privileges let the reader see it too.
        await pg.execute("CREATE TABLE later_migration_table (x int)")

        conn = await asyncpg.connect(db.dsn, user=reader)
        try:
            relations = [
                r["relname"]
                for r in await pg.fetch(
                    "SELECT c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v')"
                )
            ]
            assert "inventory_daily" in relations and "later_migration_table" in relations
            for relation in relations:
                await conn.fetch(f'SELECT * FROM "{relation}" LIMIT 1')
            for function in FUNCTIONS:
                await conn.fetch(f"SELECT * FROM {function.name}(now())")
            for statement in (
                "INSERT INTO crawl_runs (started_at, status) VALUES (now(), 'running')",
                "UPDATE custom_models SET model_name = 'x'",
                "DELETE FROM custom_models_history",
                "TRUNCATE crawl_scopes",
                "CREATE TABLE reader_was_here (x int)",
                "DROP VIEW model_lineage",
            ):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(statement)
        finally:
            await conn.close()

    async def test_grant_reader_refuses_bad_roles(self, db: DatabaseUrl) -> None:
        missing = await run_cli("grant-reader", "nobody_by_this_name", "--database-url", db.dsn)
        assert missing.code == 2
        assert missing.stderr.strip() == (
            "bedrock-inventory: error: role 'nobody_by_this_name' does not exist: create it "
            "first (for example CREATE ROLE ... LOGIN PASSWORD '...'), then grant it read access"
        )
        long = await run_cli("grant-reader", "r" * 64, "--database-url", db.dsn)
        assert long.code == 2 and "bad role name" in long.stderr


async def test_every_object_and_column_carries_its_declared_comment(
    pg: asyncpg.Connection,
) -> None:
    for table in metadata.tables.values():
        assert (
            await pg.fetchval("SELECT obj_description($1::regclass, 'pg_class')", table.name)
            == table.comment
        ), table.name
        for column in table.columns:
            assert column.comment, (table.name, column.name)
            assert (
                await pg.fetchval(
                    "SELECT col_description($1::regclass, a.attnum) FROM pg_attribute a "
                    "WHERE a.attrelid = $1::regclass AND a.attname = $2",
                    table.name,
                    column.name,
                )
                == column.comment
            ), (table.name, column.name)
    for view in VIEWS:
        assert (
            await pg.fetchval("SELECT obj_description($1::regclass, 'pg_class')", view.name)
            == view.comment
        ), view.name
        actual = [
            r["attname"]
            for r in await pg.fetch(
                "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                "ORDER BY attnum",
                view.name,
            )
        ]
        assert actual == list(view.columns), view.name
        for column, comment in view.columns.items():
            assert comment
            assert (
                await pg.fetchval(
                    "SELECT col_description($1::regclass, a.attnum) FROM pg_attribute a "
                    "WHERE a.attrelid = $1::regclass AND a.attname = $2",
                    view.name,
                    column,
                )
                == comment
            ), (view.name, column)
    for function in FUNCTIONS:
        assert (
            await pg.fetchval(
                "SELECT obj_description($1::regprocedure, 'pg_proc')", function.identity
            )
            == function.comment
        )


def test_schema_docs_are_up_to_date() -> None:
    # Regenerate with `bedrock-inventory schema-docs` when this fails.
    assert (ROOT / "docs" / "schema.md").read_text() == render_schema_markdown()
    text = render_schema_markdown()
    assert "```mermaid\nerDiagram" in text
    for view in VIEWS:
        assert f"### `{view.name}`" in text


async def test_schema_docs_check_flag(tmp_path: Path) -> None:
    stale = tmp_path / "schema.md"
    stale.write_text("old\n")
    checked = await run_cli("schema-docs", "--output", str(stale), "--check")
    assert checked.code == 1 and "out of date" in checked.stderr
    written = await run_cli("schema-docs", "--output", str(stale))
    assert written.code == 0 and stale.read_text() == render_schema_markdown()
    assert (await run_cli("schema-docs", "--output", str(stale), "--check")).code == 0
