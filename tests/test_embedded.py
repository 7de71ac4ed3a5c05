"""The embedded PostgreSQL used when no database URL is given: on demand, kept, stopped."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from crawler.db import DatabaseUrl
from tests.conftest import run_cli


async def test_commands_without_a_url_use_the_embedded_server_on_demand(
    scratch_home: Path,
) -> None:
    home = {"BEDROCK_INVENTORY_HOME": str(scratch_home)}
    migrated = await run_cli("migrate", env=home)
    assert migrated.code == 0, migrated.stderr
    assert (scratch_home / "postgres" / "PG_VERSION").is_file()

    # Started for that command only: down again now.
    down = await run_cli("db", "url", env=home)
    assert down.code == 2
    assert down.stderr.strip() == (
        "bedrock-inventory: error: the embedded PostgreSQL is not running: "
        "`bedrock-inventory db start`"
    )

    started = await run_cli("db", "start", env=home)
    assert started.code == 0, started.stderr
    url = started.stdout.strip()
    assert url.startswith("postgresql://") and "host=" in url  # a Unix socket, no TCP port
    try:
        assert (await run_cli("db", "url", env=home)).stdout.strip() == url
        # Kept running across commands, and it holds what the migrate command made.
        runs = await run_cli("runs", env=home)
        assert runs.code == 0 and "no crawl has run" in runs.stdout
        conn = await asyncpg.connect(DatabaseUrl.parse(url).dsn)
        try:
            assert await conn.fetchval("SELECT count(*) FROM crawl_runs") == 0
            assert await conn.fetchval("SHOW listen_addresses") == ""
        finally:
            await conn.close()
        assert (await run_cli("db", "url", env=home)).code == 0
    finally:
        stopped = await run_cli("db", "stop", env=home)
    assert stopped.code == 0 and stopped.stdout.strip() == "stopped"
    assert (await run_cli("db", "url", env=home)).code == 2
    again = await run_cli("db", "stop", env=home)
    assert again.code == 0 and "was not running" in again.stdout


async def test_a_given_url_wins_over_the_embedded_server(tmp_path: Path, db: DatabaseUrl) -> None:
    home = tmp_path / "home"
    result = await run_cli(
        "migrate", env={"BEDROCK_INVENTORY_HOME": str(home), "DATABASE_URL": db.dsn}
    )
    assert result.code == 0
    assert not (home / "postgres").exists()
