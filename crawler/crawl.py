"""One crawl run: plan the scopes, extract them concurrently, stream their rows to the writer,
and record the run.

A scope is one (account, region, resource). Scopes of one (account, region) share a client and
run under that pair's limit; all scopes together run under the global limit. Extraction and
loading meet in a bounded queue, so memory stays flat however large the organisation is: a
slow database slows the crawl down instead of filling memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from crawler import __version__
from crawler.db import DatabaseUrl, crawl_lock, current_revision, migrate, open_engine
from crawler.errors import EXIT_OK, EXIT_PARTIAL, ConfigError, ScopeFailed, classify
from crawler.extract.aws import AwsContext, ClientSettings
from crawler.extract.pages import RetryPolicy, ScopeCounters, list_items
from crawler.load.writer import Message, PageRows, ScopeOutcome, Writer
from crawler.logs import event, redact
from crawler.resources import RESOURCES, NormalizeError, Resource
from crawler.schema import crawl_runs
from crawler.shard import Shard

__all__ = ["CrawlReport", "CrawlSettings", "ScopeListener", "crawl"]

_ERROR_MESSAGE_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class CrawlSettings:
    """Everything one crawl needs; built by the CLI or by a caller of `crawl`."""

    database_url: DatabaseUrl
    regions: tuple[str, ...] = ()  # empty: the session's region
    accounts: tuple[str, ...] = ()  # empty: the ambient credentials' account
    role_name: str | None = None
    external_id: str | None = field(default=None, repr=False)
    resources: tuple[Resource, ...] = RESOURCES
    concurrency: int = 16  # scopes in flight, and clients open, across the whole crawl
    per_region_concurrency: int = 4  # scopes in flight per (account, region)
    migrate: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    client: ClientSettings = field(default_factory=ClientSettings)
    queue_pages: int = 64  # pages buffered between extraction and the writer
    labels: Mapping[str, str] = field(default_factory=dict)  # kept with the run's parameters
    shard: Shard = field(default_factory=Shard)  # this process crawls only its shard's pairs
    run_group: str | None = None  # shared by the shards of one crawl (a Job's uid)


@dataclass(frozen=True, slots=True)
class CrawlReport:
    run_id: int
    status: str  # succeeded, partial or failed
    scopes_total: int
    scopes_succeeded: int
    scopes_failed: int
    items: int
    inserted: int
    updated: int
    deleted: int
    retries: int

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.status == "succeeded" else EXIT_PARTIAL


ScopeListener = Callable[[ScopeOutcome], None]


async def crawl(settings: CrawlSettings, *, on_scope: ScopeListener | None = None) -> CrawlReport:
    """Run one crawl. Raises ConfigError (exit 2) and LockHeld (exit 3); a cancelled crawl
    records its run as interrupted and re-raises CancelledError. `on_scope` hears of every
    finished scope (a progress display, say)."""
    async with (
        open_engine(settings.database_url) as engine,
        crawl_lock(settings.database_url, settings.shard),
    ):
        await _ensure_schema(engine, settings.migrate)
        aws = AwsContext(
            role_name=settings.role_name,
            external_id=settings.external_id,
            client_settings=settings.client,
            default_region=settings.regions[0] if settings.regions else None,
        )
        accounts, regions = await _plan(aws, settings)
        pairs = [(a, r) for a in accounts for r in regions if settings.shard.owns(a, r)]
        run_id = await _start_run(engine, settings, accounts, regions, len(pairs))
        try:
            outcome = await _run(engine, aws, settings, run_id, pairs, on_scope)
        except BaseException as stopped:
            # A signal interrupts the run; anything else (the database gone, a bug) fails
            # it. Recording that must not hide why the run stopped.
            status = "failed" if isinstance(stopped, Exception) else "interrupted"
            with contextlib.suppress(Exception):
                await asyncio.shield(_finish_run(engine, run_id, status, None))
            raise
        await _finish_run(engine, run_id, outcome.status, outcome)
        return outcome


async def _ensure_schema(engine: AsyncEngine, apply_migrations: bool) -> None:
    if apply_migrations:
        await migrate(engine)
        return
    async with engine.connect() as conn:
        if await current_revision(conn) is None:
            raise ConfigError(
                "the database has no bedrock-inventory schema: run `bedrock-inventory migrate` "
                "or crawl without --no-migrate"
            )


async def _plan(
    aws: AwsContext, settings: CrawlSettings
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    try:
        identity = await aws.identity()
    except (ClientError, BotoCoreError) as exc:
        found = classify(exc)
        raise ConfigError(
            redact(
                f"cannot identify the AWS caller (STS GetCallerIdentity): "
                f"{found.code}: {found.message}"
            )
        ) from None
    regions = settings.regions or ((aws.region_name,) if aws.region_name else ())
    if not regions:
        raise ConfigError("no region: pass --regions or set AWS_REGION")
    accounts = settings.accounts or (identity.account_id,)
    return accounts, regions


async def _start_run(
    engine: AsyncEngine,
    settings: CrawlSettings,
    accounts: Sequence[str],
    regions: Sequence[str],
    pairs: int,
) -> int:
    parameters = {
        "accounts": list(accounts),
        "regions": list(regions),
        "resources": [r.slug for r in settings.resources],
        "role_name": settings.role_name,
        "labels": dict(settings.labels),
    }
    shard = settings.shard
    stale = crawl_runs.c.status == "running"
    if shard.sharded:
        # Other shards may be running now: only this shard's lock is ours to reason with.
        stale &= (crawl_runs.c.shard_index == shard.index) & (
            crawl_runs.c.shard_count == shard.count
        )
    async with engine.begin() as conn:
        # We hold the lock, so a run of ours still marked running died without finishing.
        await conn.execute(
            update(crawl_runs)
            .where(stale)
            .values(status="interrupted", finished_at=crawl_runs.c.started_at)
        )
        run_id: int = (
            await conn.execute(
                insert(crawl_runs)
                .values(
                    started_at=_now(),
                    status="running",
                    scopes_total=pairs * len(settings.resources),
                    parameters=parameters,
                    tool_version=__version__,
                    shard_index=shard.index,
                    shard_count=shard.count,
                    run_group=settings.run_group,
                )
                .returning(crawl_runs.c.id)
            )
        ).scalar_one()
    event(
        "run_started",
        f"run {run_id} started" + (f" (shard {shard})" if shard.sharded else ""),
        run_id=run_id,
        shard=str(shard) if shard.sharded else None,
        run_group=settings.run_group,
        accounts=len(accounts),
        regions=len(regions),
        resources=",".join(r.slug for r in settings.resources),
    )
    return run_id


async def _finish_run(
    engine: AsyncEngine, run_id: int, status: str, report: CrawlReport | None
) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": _now()}
    if report is not None:
        values.update(
            scopes_succeeded=report.scopes_succeeded,
            scopes_failed=report.scopes_failed,
            items=report.items,
            inserted=report.inserted,
            updated=report.updated,
            deleted=report.deleted,
            retries=report.retries,
        )
    async with engine.begin() as conn:
        await conn.execute(update(crawl_runs).where(crawl_runs.c.id == run_id).values(**values))
    fields = {k: v for k, v in values.items() if k not in ("status", "finished_at")}
    event("run_finished", f"run {run_id} {status}", run_id=run_id, status=status, **fields)


@dataclass(slots=True)
class _Tally:
    succeeded: int = 0
    failed: int = 0
    items: int = 0
    retries: int = 0
    listener: ScopeListener | None = None


async def _run(
    engine: AsyncEngine,
    aws: AwsContext,
    settings: CrawlSettings,
    run_id: int,
    pairs: Sequence[tuple[str, str]],
    on_scope: ScopeListener | None,
) -> CrawlReport:
    queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=settings.queue_pages)
    scope_slots = asyncio.Semaphore(settings.concurrency)
    client_slots = asyncio.Semaphore(settings.concurrency)
    tally = _Tally(listener=on_scope)

    async def run_scope(
        client: Any,
        account_id: str,
        region: str,
        resource: Resource,
        region_slots: asyncio.Semaphore,
    ) -> None:
        async with region_slots, scope_slots:
            await _extract_scope(client, account_id, region, resource, settings, queue, tally)

    async def run_pair(account_id: str, region: str) -> None:
        async with client_slots:
            try:
                async with aws.bedrock(account_id, region) as client:
                    region_slots = asyncio.Semaphore(settings.per_region_concurrency)
                    async with asyncio.TaskGroup() as pair:
                        for resource in settings.resources:
                            pair.create_task(
                                run_scope(client, account_id, region, resource, region_slots)
                            )
            except (ClientError, BotoCoreError, ValueError) as exc:
                # The client itself could not be made (no scope has run): every scope of the
                # pair fails with the reason.
                found = classify(exc)
                for resource in settings.resources:
                    await _emit_outcome(
                        queue,
                        tally,
                        _failed(account_id, region, resource, found.code, found.message),
                    )

    async with engine.connect() as sa_conn:
        raw = await sa_conn.get_raw_connection()
        writer = Writer(raw.driver_connection, run_id, settings.resources)
        await writer.prepare()
        async with asyncio.TaskGroup() as crawl_group:
            crawl_group.create_task(writer.run(queue))
            async with asyncio.TaskGroup() as extraction:
                for account_id, region in pairs:
                    extraction.create_task(run_pair(account_id, region))
            await queue.put(None)

    status = "succeeded" if tally.failed == 0 else "partial" if tally.succeeded > 0 else "failed"
    return CrawlReport(
        run_id=run_id,
        status=status,
        scopes_total=tally.succeeded + tally.failed,
        scopes_succeeded=tally.succeeded,
        scopes_failed=tally.failed,
        items=tally.items,
        inserted=writer.totals.inserted,
        updated=writer.totals.updated,
        deleted=writer.totals.deleted,
        retries=tally.retries,
    )


async def _extract_scope(
    client: Any,
    account_id: str,
    region: str,
    resource: Resource,
    settings: CrawlSettings,
    queue: asyncio.Queue[Message | None],
    tally: _Tally,
) -> None:
    started_at = _now()
    counters = ScopeCounters()
    seen: list[str] = []
    code: str | None = None
    message: str | None = None
    try:
        async for items in list_items(client, resource, settings.retry, counters):
            rows = []
            for item in items:
                try:
                    rows.append(resource.normalize(item))
                except NormalizeError as exc:
                    event(
                        "item_skipped",
                        str(exc),
                        level=logging.WARNING,
                        account_id=account_id,
                        region=region,
                        resource=resource.slug,
                    )
            seen.extend(row[0] for row in rows)
            if rows:
                await queue.put(PageRows(resource, rows))
    except ScopeFailed as failure:
        code, message = failure.code, failure.message
    except Exception as exc:  # a bug or an unforeseen answer fails this scope, not the crawl
        found = classify(exc)
        code, message = found.code, found.message
    outcome = ScopeOutcome(
        account_id=account_id,
        region=region,
        resource=resource,
        status="failed" if code else "succeeded",
        items=counters.items,
        pages=counters.pages,
        retries=counters.retries,
        started_at=started_at,
        finished_at=_now(),
        error_code=code,
        error_message=redact(message)[:_ERROR_MESSAGE_LIMIT] if message else None,
        seen=seen,
    )
    await _emit_outcome(queue, tally, outcome)


def _failed(
    account_id: str, region: str, resource: Resource, code: str, message: str
) -> ScopeOutcome:
    now = _now()
    return ScopeOutcome(
        account_id=account_id,
        region=region,
        resource=resource,
        status="failed",
        items=0,
        pages=0,
        retries=0,
        started_at=now,
        finished_at=now,
        error_code=code,
        error_message=redact(message)[:_ERROR_MESSAGE_LIMIT],
    )


async def _emit_outcome(
    queue: asyncio.Queue[Message | None], tally: _Tally, outcome: ScopeOutcome
) -> None:
    await queue.put(outcome)
    if outcome.status == "succeeded":
        tally.succeeded += 1
    else:
        tally.failed += 1
    tally.items += outcome.items
    tally.retries += outcome.retries
    if tally.listener is not None:
        tally.listener(outcome)
    seconds = (outcome.finished_at - outcome.started_at).total_seconds()
    event(
        "scope_finished",
        f"scope {outcome.account_id}/{outcome.region}/{outcome.resource.slug} {outcome.status}",
        level=logging.INFO if outcome.status == "succeeded" else logging.WARNING,
        account_id=outcome.account_id,
        region=outcome.region,
        resource=outcome.resource.slug,
        items=outcome.items,
        pages=outcome.pages,
        retries=outcome.retries,
        seconds=round(seconds, 3),
        status=outcome.status,
        error_code=outcome.error_code,
        error_message=outcome.error_message,
    )


def _now() -> datetime:
    return datetime.now(UTC)
