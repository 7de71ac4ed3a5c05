"""Database upkeep: pruning old history, and a read-only role for analysts and BI tools."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from crawler.db import DatabaseUrl, connect
from crawler.errors import ConfigError
from crawler.schema import history_tables

__all__ = ["PruneResult", "grant_reader", "parse_age", "prune_history"]

_AGE = re.compile(r"(\d{1,6})([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """`400d`, `12w` or `36h`; ConfigError naming the value otherwise."""
    match = _AGE.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise ConfigError(
            f"bad age {text!r}: expected a positive number of hours, days or weeks, "
            "like 36h, 400d or 12w"
        )
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


@dataclass(frozen=True)
class PruneResult:
    counts: dict[str, int]  # history table -> closed versions older than the cut-off
    dry_run: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def prune_history(url: DatabaseUrl, older_than: timedelta, *, dry_run: bool) -> PruneResult:
    """Delete history versions that closed more than `older_than` ago. Current versions
    (valid_to NULL) are never touched, whatever their age. One transaction for all tables."""
    conn = await connect(url)
    try:
        counts: dict[str, int] = {}
        async with conn.transaction():
            for table in history_tables.values():
                where = (
                    f"FROM {table.name} "
                    "WHERE valid_to IS NOT NULL AND valid_to < now() - $1::interval"
                )
                if dry_run:
                    counts[table.name] = await conn.fetchval(f"SELECT count(*) {where}", older_than)
                else:
                    counts[table.name] = await conn.fetchval(
                        f"WITH pruned AS (DELETE {where} RETURNING 1) SELECT count(*) FROM pruned",
                        older_than,
                    )
        return PruneResult(counts, dry_run)
    finally:
        await conn.close()


async def grant_reader(url: DatabaseUrl, role: str) -> str:
    """Give `role` SELECT on every table and view and EXECUTE on every function of the
    schema, now and (through default privileges) on what later migrations create, and nothing
    else. Idempotent. Returns the role name as quoted in SQL.

    Default privileges cover objects created by the role running this command, so run it as
    the role that runs the migrations.
    """
    if not role or len(role.encode()) > 63 or "\x00" in role:
        raise ConfigError(f"bad role name {role!r}: 1 to 63 bytes, no NUL character")
    conn = await connect(url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            raise ConfigError(
                f"role {role!r} does not exist: create it first (for example "
                f"CREATE ROLE ... LOGIN PASSWORD '...'), then grant it read access"
            )
        # Identifiers are quoted by the server itself, never formatted in by hand.
        quoted = await conn.fetchval("SELECT quote_ident($1)", role)
        schema = await conn.fetchval("SELECT quote_ident(current_schema())")
        async with conn.transaction():
            for statement in (
                f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
                f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {quoted}",
                f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {schema} TO {quoted}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {quoted}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
                f"GRANT EXECUTE ON FUNCTIONS TO {quoted}",
            ):
                await conn.execute(statement)
        result: str = quoted
        return result
    finally:
        await conn.close()
