"""Database access: the URL (password never shown), the SQLAlchemy engine on asyncpg, migrations,
and the advisory lock that lets only one crawl run against a database at a time."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from crawler.errors import ConfigError, LockHeld
from crawler.shard import Shard

__all__ = [
    "CRAWL_LOCK_NAME",
    "DatabaseUrl",
    "advisory_lock",
    "connect",
    "crawl_lock",
    "create_engine",
    "ensure_database",
    "lock_key",
    "migrate",
    "migrations_dir",
    "open_engine",
]

CRAWL_LOCK_NAME = "bedrock-inventory:crawl"
_MIGRATE_LOCK_NAME = "bedrock-inventory:migrate"
_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg"}
CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A libpq-style `postgresql://` URL. `str()` and `repr()` hide the password."""

    _value: str

    @classmethod
    def parse(cls, value: str) -> DatabaseUrl:
        """Validate `value`; ConfigError (naming the URL, password hidden) when it is unusable."""
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises ValueError on a malformed port)
        except ValueError:
            raise ConfigError(f"bad database URL {_redact(value)!r}: cannot be parsed") from None
        if parts.scheme not in _SCHEMES:
            raise ConfigError(
                f"bad database URL {_redact(value)!r}: it must start with postgresql://"
            )
        if not parts.path.strip("/") and "dbname=" not in parts.query:
            raise ConfigError(f"bad database URL {_redact(value)!r}: it names no database")
        # asyncpg takes the libpq form; the SQLAlchemy driver suffix is ours, not libpq's.
        plain = urlunsplit(parts._replace(scheme="postgresql"))
        return cls(plain)

    @property
    def dsn(self) -> str:
        """The full URL, password included: for the driver only, never for output."""
        return self._value

    @property
    def password(self) -> str | None:
        return urlsplit(self._value).password

    def __str__(self) -> str:
        return _redact(self._value)

    def __repr__(self) -> str:
        return f"DatabaseUrl({_redact(self._value)!r})"


def _redact(value: str) -> str:
    try:
        parts: SplitResult = urlsplit(value)
        if parts.password is None:
            return value
        host = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "<unparseable URL>"


async def connect(url: DatabaseUrl) -> asyncpg.Connection:
    """One asyncpg connection; ConfigError (exit 2) with a one-line reason when it fails."""
    try:
        return await asyncpg.connect(url.dsn, timeout=CONNECT_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if url.password:
            reason = reason.replace(url.password, "***")
        raise ConfigError(f"cannot connect to database {url}: {reason}") from None
    except ValueError as exc:  # asyncpg's DSN parser
        raise ConfigError(f"bad database URL {url}: {exc}") from None


async def ensure_database(url: DatabaseUrl) -> None:
    """Create the database `url` names when it does not exist (used for the embedded server,
    where this tool owns the cluster)."""
    name = urlsplit(url.dsn).path.strip("/")
    admin = await connect(DatabaseUrl(urlunsplit(urlsplit(url.dsn)._replace(path="/postgres"))))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            quoted = '"' + name.replace('"', '""') + '"'
            await admin.execute(f"CREATE DATABASE {quoted}")
    finally:
        await admin.close()


def create_engine(url: DatabaseUrl, *, pool_size: int = 4) -> AsyncEngine:
    """A SQLAlchemy async engine on asyncpg. asyncpg itself parses the libpq URL (socket
    directories, sslmode, passfile), so any URL psql accepts works here."""

    async def creator() -> Any:
        return await connect(url)

    return create_async_engine(
        "postgresql+asyncpg://",
        async_creator=creator,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
    )


@asynccontextmanager
async def open_engine(url: DatabaseUrl) -> AsyncIterator[AsyncEngine]:
    """An engine for the block, its pooled connections closed at the end, whatever happens."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@asynccontextmanager
async def advisory_lock(
    url: DatabaseUrl,
    name: str = CRAWL_LOCK_NAME,
    *,
    shared: tuple[str, ...] = (),
    holder: str = "another crawl",
) -> AsyncIterator[None]:
    """Hold session-level advisory locks on their own connection for the block's duration:
    `name` exclusively and each of `shared` in shared mode. LockHeld (exit 3) at once when one
    is not free. If the process dies, Postgres drops the connection and with it the locks, so a
    crashed crawl never blocks the next."""
    conn = await connect(url)
    try:
        for key_name in shared:
            if not await conn.fetchval(
                "SELECT pg_try_advisory_lock_shared($1)", lock_key(key_name)
            ):
                raise LockHeld(f"{holder} holds the lock {key_name!r} on {url}; try again later")
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(name)):
            raise LockHeld(f"{holder} holds the lock {name!r} on {url}; try again later")
        yield
    finally:
        if not conn.is_closed():
            await conn.execute("SELECT pg_advisory_unlock_all()")
        await conn.close()


def crawl_lock(url: DatabaseUrl, shard: Shard) -> AbstractAsyncContextManager[None]:
    """The lock a crawl holds. Unsharded: the crawl lock, exclusively. Shard I/N: the crawl
    lock shared (so an unsharded crawl cannot run beside it) and its shard's own lock
    exclusively (so the same shard cannot run twice, while different shards never block each
    other)."""
    if not shard.sharded:
        return advisory_lock(url, CRAWL_LOCK_NAME)
    return advisory_lock(
        url,
        f"{CRAWL_LOCK_NAME}:shard:{shard}",
        shared=(CRAWL_LOCK_NAME,),
        holder=f"another crawl of shard {shard}",
    )


def migrations_dir() -> Path:
    """The alembic script directory: inside the installed wheel, else the checkout's."""
    packaged = Path(str(importlib_resources.files("crawler") / "migrations"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "migrations"


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the schema to `revision`, serialised by an advisory lock so that two processes
    starting together never run the same migration twice."""
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f"SELECT pg_advisory_lock({lock_key(_MIGRATE_LOCK_NAME)})")
        try:
            await conn.run_sync(_run_alembic, "upgrade", revision)
            await conn.commit()
        finally:
            await conn.exec_driver_sql(f"SELECT pg_advisory_unlock({lock_key(_MIGRATE_LOCK_NAME)})")
            await conn.commit()


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Downgrade the schema to `revision` (used by tests and by operators rolling back)."""
    async with engine.connect() as conn:
        await conn.run_sync(_run_alembic, "downgrade", revision)
        await conn.commit()


async def current_revision(conn: AsyncConnection) -> str | None:
    """The schema's alembic revision, None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    def read(sync_conn: Any) -> str | None:
        rev: str | None = MigrationContext.configure(sync_conn).get_current_revision()
        return rev

    return await conn.run_sync(read)


def _run_alembic(sync_conn: Any, command_name: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["connection"] = sync_conn
    getattr(command, command_name)(cfg, revision)
