"""The command's contract, run as a real child process: exit codes, one-line errors, log lines,
the advisory lock, and secrets that never show."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson
import pytest

from crawler.db import CRAWL_LOCK_NAME, DatabaseUrl, advisory_lock, lock_key
from crawler.simulator import Faults
from tests.conftest import Endpoint, run_cli
from tests.scenarios import HOME, OTHER, ROLE

REGIONS = "us-east-1,eu-central-1"


def crawl_args(db: DatabaseUrl, *extra: str) -> list[str]:
    return [
        "crawl",
        "--database-url",
        db.dsn,
        "--regions",
        REGIONS,
        "--accounts",
        f"{HOME},{OTHER}",
        "--role-name",
        ROLE,
        *extra,
    ]


def assert_one_line_error(stderr: str, *needles: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("bedrock-inventory: error: "), stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--resources", "custom-models,models-of-doom"], ["models-of-doom"]),
        (["--accounts", "12345,222222222222", "--role-name", "R"], ["12345"]),
        (["--accounts", "", "--role-name", "R"], ["account"]),
        (["--regions", "us-east-1,Mars-1"], ["Mars-1"]),
        (["--concurrency", "0"], ["--concurrency", "'0'"]),
        (["--per-region-concurrency", "lots"], ["'lots'"]),
        (["--accounts", "222222222222"], ["--role-name"]),
        (["--role-name", "Reader"], ["--accounts"]),
        (["--role-name", "bad role!", "--accounts", "222222222222"], ["bad role!"]),
        (["--bogus-flag"], ["--bogus-flag"]),
    ],
)
async def test_bad_crawl_input_exits_2_with_one_line(
    args: list[str], needles: list[str], db: DatabaseUrl
) -> None:
    result = await run_cli("crawl", "--database-url", db.dsn, *args)
    assert result.code == 2, result
    assert_one_line_error(result.stderr, *needles)


@pytest.mark.parametrize(
    ("url", "needles"),
    [
        ("mysql://root@localhost/db", ["mysql://root@localhost/db", "postgresql://"]),
        ("postgresql://u:hunter2secret@127.0.0.1:notaport/db", ["cannot be parsed"]),
        ("not a url at all", ["not a url at all"]),
    ],
)
async def test_bad_database_url_exits_2(url: str, needles: list[str]) -> None:
    result = await run_cli("crawl", "--database-url", url)
    assert result.code == 2
    assert_one_line_error(result.stderr, *needles)
    assert "hunter2secret" not in result.stderr


async def test_empty_database_url_exits_2() -> None:
    result = await run_cli("runs", env={"DATABASE_URL": " "})
    assert result.code == 2
    assert_one_line_error(result.stderr, "DATABASE_URL")


async def test_unreachable_database_exits_2_without_its_password() -> None:
    url = f"postgresql://inventory:s3cr3t-pw-value@127.0.0.1:{closed_port()}/inventory"
    for command in (["crawl"], ["migrate"], ["runs"]):
        result = await run_cli(*command, env={"DATABASE_URL": url})
        assert result.code == 2, result
        assert_one_line_error(
            result.stderr, "cannot connect to database", "postgresql://inventory:***@127.0.0.1"
        )
        assert "s3cr3t-pw-value" not in result.stderr + result.stdout


async def test_no_aws_credentials_exits_2(db: DatabaseUrl, aws_env: dict[str, str]) -> None:
    result = await run_cli("crawl", "--database-url", db.dsn, "--regions", "us-east-1", env=aws_env)
    assert result.code == 2
    assert_one_line_error(result.stderr, "no AWS credentials")


async def test_crawl_logs_one_json_line_per_scope_and_never_a_secret(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
) -> None:
    # A password the (trust-auth) test server ignores, and a session token, both watched for.
    parts = urlsplit(db.dsn)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    secret_url = urlunsplit(parts._replace(netloc=f"postgres:db-pass-5e5e5e@{host}"))
    token = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENvalue0123456789"
    env = {**endpoint.env, "AWS_SESSION_TOKEN": token, "DATABASE_URL": secret_url}
    key, secret = endpoint.sim.base_credentials
    result = await run_cli(
        "crawl", "--regions", REGIONS, "--accounts", f"{HOME},{OTHER}", "--role-name", ROLE, env=env
    )
    everything = result.stdout + result.stderr
    for value in (secret, token, "db-pass-5e5e5e", key):
        assert value not in everything
    # Nor any temporary credential the simulator handed out.
    issued = {c.access_key_id for c in endpoint.sim.calls if c.access_key_id} - {key}
    assert issued and not any(k in everything for k in issued)
    assert result.code == 0, result.stderr

    lines = [orjson.loads(line) for line in result.stderr.splitlines()]
    scopes = [line for line in lines if line["event"] == "scope_finished"]
    assert len(scopes) == 2 * 2 * 4
    first = scopes[0]
    for field in (
        "account_id",
        "region",
        "resource",
        "items",
        "pages",
        "retries",
        "seconds",
        "status",
    ):
        assert field in first
    done = [line for line in lines if line["event"] == "run_finished"]
    assert len(done) == 1 and done[0]["status"] == "succeeded"
    assert {(s["account_id"], s["region"], s["resource"]) for s in scopes} == {
        (r["account_id"], r["region"], r["resource"])
        for r in await pg.fetch("SELECT * FROM crawl_scopes")
    }


async def test_text_log_format(endpoint: Endpoint, db: DatabaseUrl) -> None:
    result = await run_cli(
        *crawl_args(db, "--resources", "custom-models", "--log-format", "text"), env=endpoint.env
    )
    assert result.code == 0
    scope_lines = [line for line in result.stderr.splitlines() if " scope " in line]
    assert len(scope_lines) == 4
    assert all("status=succeeded" in line and "items=" in line for line in scope_lines)


class TestPartialCrawl:
    @pytest.fixture
    def faults(self) -> Faults:
        return Faults(errors={(OTHER, "eu-central-1", "ListImportedModels"): [403]})

    async def test_failed_scope_exits_1_and_runs_shows_it(
        self, endpoint: Endpoint, db: DatabaseUrl
    ) -> None:
        result = await run_cli(*crawl_args(db), env=endpoint.env)
        assert result.code == 1, result.stderr
        runs = await run_cli("runs", "--database-url", db.dsn)
        assert runs.code == 0
        header, row, *rest = runs.stdout.splitlines()
        assert header.split()[:4] == ["run", "started", "(UTC)", "finished"]
        assert " partial " in row and "15/1/16" in row
        assert rest == [
            f"  run 1 failed: {OTHER}/eu-central-1/imported-models AccessDeniedException: "
            "Injected access denial."
        ]


async def test_second_crawl_exits_3_while_the_lock_is_held(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
) -> None:
    async with advisory_lock(db):  # what a running crawl holds
        result = await run_cli(*crawl_args(db), env=endpoint.env)
    assert result.code == 3
    assert_one_line_error(result.stderr, "another crawl holds the lock")
    assert await pg.fetchval("SELECT count(*) FROM crawl_runs") == 0
    # Released with its holder: the next crawl runs.
    assert await pg.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(CRAWL_LOCK_NAME))
    await pg.execute("SELECT pg_advisory_unlock_all()")
    assert (await run_cli(*crawl_args(db), env=endpoint.env)).code == 0


class TestInterrupted:
    @pytest.fixture
    def faults(self) -> Faults:
        # One call that never answers keeps the crawl running until it is stopped.
        return Faults(errors={(HOME, "us-east-1", "ListCustomModels"): ["hang"]})

    async def test_sigterm_records_an_interrupted_run_and_exits_143(
        self, endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(endpoint.env)
        env["BEDROCK_INVENTORY_HOME"] = str(endpoint.env["AWS_CONFIG_FILE"]) + "-home"
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "crawler",
            *crawl_args(db, "--log-format", "json"),
            env=env,
            stderr=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
        )
        assert proc.stderr is not None
        lines = []
        while True:  # wait for the crawl to have begun: its own log line says so
            line = await proc.stderr.readline()
            assert line, b"".join(lines)
            lines.append(line)
            if orjson.loads(line)["event"] == "run_started":
                break
        proc.send_signal(signal.SIGTERM)
        rest = await proc.stderr.read()
        assert await proc.wait() == 143
        last = rest.decode().strip().splitlines()[-1]
        assert last == "bedrock-inventory: error: interrupted by SIGTERM"
        assert "Traceback" not in rest.decode()
        run = await pg.fetchrow("SELECT status, finished_at FROM crawl_runs")
        assert run["status"] == "interrupted" and run["finished_at"] is not None


async def test_no_migrate_on_empty_database_exits_2(
    endpoint: Endpoint, empty_db: DatabaseUrl
) -> None:
    result = await run_cli(*crawl_args(empty_db, "--no-migrate"), env=endpoint.env)
    assert result.code == 2
    assert_one_line_error(result.stderr, "bedrock-inventory migrate")


async def test_migrate_then_crawl_without_migrating(
    endpoint: Endpoint, empty_db: DatabaseUrl
) -> None:
    assert (await run_cli("migrate", "--database-url", empty_db.dsn)).code == 0
    assert (await run_cli("migrate", "--database-url", empty_db.dsn)).code == 0  # idempotent
    result = await run_cli(*crawl_args(empty_db, "--no-migrate"), env=endpoint.env)
    assert result.code == 0, result.stderr


async def test_python_dash_m_and_version() -> None:
    result = await run_cli("--version")
    assert result.code == 0 and result.stdout.startswith("bedrock-inventory ")
    helped = await run_cli("crawl", "--help")
    assert helped.code == 0
    for flag in (
        "--database-url",
        "--regions",
        "--accounts",
        "--role-name",
        "--external-id",
        "--resources",
        "--concurrency",
        "--no-migrate",
    ):
        assert flag in helped.stdout


async def test_database_error_mid_crawl_fails_the_run_in_one_line(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection
) -> None:
    # A real database refusal while the writer works (a trigger, as a full disk or a revoked
    # grant would): the crawl stops, says why in one line, and records the run as failed.
    await pg.execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$"
    )
    await pg.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON imported_models "
        "FOR EACH ROW EXECUTE FUNCTION refuse()"
    )
    result = await run_cli(*crawl_args(db), env=endpoint.env)
    assert result.code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == "bedrock-inventory: error: unexpected RaiseError: disk on fire"
    assert "Traceback" not in result.stderr
    assert await pg.fetchval("SELECT status FROM crawl_runs") == "failed"
    assert await pg.fetchval("SELECT count(*) FROM imported_models") == 0
