"""The writer: the one consumer of the bounded queue between extraction and Postgres.

Extraction puts two kinds of message on the queue, in order per scope: the normalised rows of
each page, then the scope's outcome. The writer drains what is waiting (up to a batch size) and
applies it in ONE transaction: rows are COPYed into a temp stage and upserted set-wise, then
each finished scope is reconciled (if it succeeded) and recorded in crawl_scopes. Whatever the
point at which the process dies, the database holds whole batches only: rows already observed
are current, and no scope is marked deleted-from or recorded without all of its rows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import bindparam, insert

from crawler.load.sql import Compiled, ResourceSql, compile_asyncpg, resource_sql
from crawler.resources import Resource
from crawler.schema import crawl_scopes

__all__ = ["LoadTotals", "PageRows", "ScopeOutcome", "Writer"]


@dataclass(frozen=True, slots=True)
class PageRows:
    """The normalised rows of one page (values in `resource.columns` order)."""

    resource: Resource
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class ScopeOutcome:
    """How one scope ended. `seen` holds every ARN it listed (used only when it succeeded)."""

    account_id: str
    region: str
    resource: Resource
    status: str  # "succeeded" or "failed"
    items: int
    pages: int
    retries: int
    started_at: datetime
    finished_at: datetime
    error_code: str | None = None
    error_message: str | None = None
    seen: list[str] = field(default_factory=list)


Message = PageRows | ScopeOutcome


@dataclass(slots=True)
class LoadTotals:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


class Writer:
    """Applies queued messages to Postgres over one connection it does not own."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        run_id: int,
        resources: tuple[Resource, ...],
        *,
        batch_rows: int = 10_000,
    ) -> None:
        self._conn = conn
        self._run_id = run_id
        self._sql: dict[str, ResourceSql] = {r.slug: resource_sql(r) for r in resources}
        self._batch_rows = batch_rows
        self._record_scope: Compiled = compile_asyncpg(
            insert(crawl_scopes).values({c: bindparam(c) for c in _SCOPE_COLUMNS})
        )
        self.totals = LoadTotals()

    async def prepare(self) -> None:
        """Create this connection's staging tables (temp: private to it, emptied at commit)."""
        for sql in self._sql.values():
            for statement in sql.create_stage:
                await self._conn.execute(statement)

    async def run(self, queue: asyncio.Queue[Message | None]) -> None:
        """Consume until the None sentinel. An error propagates: the crawl must not go on
        believing rows were stored."""
        finished = False
        while not finished:
            batch: list[Message] = []
            rows = 0
            message = await queue.get()
            while True:
                if message is None:
                    finished = True
                    break
                batch.append(message)
                if isinstance(message, PageRows):
                    rows += len(message.rows)
                if rows >= self._batch_rows:
                    break
                try:
                    message = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
            if batch:
                await self._apply(batch)

    async def _apply(self, batch: list[Message]) -> None:
        # Latest version of each ARN per resource: a page boundary that shifted between two
        # calls can list an item twice, and one upsert may not touch a row twice.
        pending: dict[str, dict[str, tuple[Any, ...]]] = {}
        resources: dict[str, Resource] = {}
        outcomes: list[ScopeOutcome] = []
        for message in batch:
            if isinstance(message, PageRows):
                resources[message.resource.slug] = message.resource
                by_arn = pending.setdefault(message.resource.slug, {})
                for row in message.rows:
                    by_arn[row[0]] = row
            else:
                outcomes.append(message)
        async with self._conn.transaction():
            for slug, by_arn in pending.items():
                await self._upsert(resources[slug], list(by_arn.values()))
            for outcome in outcomes:
                await self._finish_scope(outcome)

    async def _upsert(self, resource: Resource, rows: list[tuple[Any, ...]]) -> None:
        sql = self._sql[resource.slug]
        await self._conn.copy_records_to_table(
            sql.stage_table, records=rows, columns=list(resource.columns)
        )
        await self._conn.execute(sql.upsert)
        # History in the same transaction: the current version of every changed row is closed
        # and a new one opened, so history and current state never disagree.
        await self._conn.execute(sql.close_versions)
        await self._conn.execute(
            sql.open_versions.sql, *sql.open_versions.args({"run_id": self._run_id})
        )
        inserted, updated = await self._conn.fetchrow(sql.count_changed)
        # Both temp tables must be empty for the next batch in this same transaction.
        await self._conn.execute(f"TRUNCATE {sql.stage_table}, {sql.changed_table}")
        self.totals.inserted += inserted
        self.totals.updated += updated

    async def _finish_scope(self, outcome: ScopeOutcome) -> None:
        if outcome.status == "succeeded":
            # Only a scope that listed everything may say what is gone; a failed one never
            # marks anything deleted.
            reconcile = self._sql[outcome.resource.slug].reconcile
            deleted = await self._conn.fetchval(
                reconcile.sql,
                *reconcile.args(
                    {
                        "account_id": outcome.account_id,
                        "region": outcome.region,
                        "seen": outcome.seen,
                        "at": outcome.finished_at,
                    }
                ),
            )
            self.totals.deleted += deleted
        await self._conn.execute(
            self._record_scope.sql,
            *self._record_scope.args(
                {
                    "run_id": self._run_id,
                    "account_id": outcome.account_id,
                    "region": outcome.region,
                    "resource": outcome.resource.slug,
                    "status": outcome.status,
                    "error_code": outcome.error_code,
                    "error_message": outcome.error_message,
                    "items": outcome.items,
                    "pages": outcome.pages,
                    "retries": outcome.retries,
                    "started_at": outcome.started_at,
                    "finished_at": outcome.finished_at,
                }
            ),
        )


_SCOPE_COLUMNS = (
    "run_id",
    "account_id",
    "region",
    "resource",
    "status",
    "error_code",
    "error_message",
    "items",
    "pages",
    "retries",
    "started_at",
    "finished_at",
)
