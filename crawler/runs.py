"""`bedrock-inventory runs`: recent runs, their scopes and errors, as text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crawler.db import current_revision
from crawler.errors import ConfigError
from crawler.schema import crawl_runs, crawl_scopes

__all__ = ["format_runs", "recent_runs"]


async def recent_runs(engine: AsyncEngine, limit: int) -> list[dict[str, Any]]:
    """The latest `limit` runs, newest first, each with its failed scopes under "failures"."""
    async with engine.connect() as conn:
        if await current_revision(conn) is None:
            raise ConfigError(
                "the database has no bedrock-inventory schema yet: run a crawl or "
                "`bedrock-inventory migrate` first"
            )
        # The latest `limit` crawls, a crawl being one run or the shards of one run group.
        key = func.coalesce(crawl_runs.c.run_group, literal("run:") + cast(crawl_runs.c.id, Text))
        latest = (
            select(key.label("crawl"), func.max(crawl_runs.c.id).label("latest"))
            .group_by(key)
            .order_by(func.max(crawl_runs.c.id).desc())
            .limit(limit)
            .subquery()
        )
        runs = [
            dict(row._mapping)
            for row in await conn.execute(
                select(crawl_runs, key.label("crawl"))
                .where(key.in_(select(latest.c.crawl)))
                .order_by(crawl_runs.c.id.desc())
            )
        ]
        ids = [run["id"] for run in runs]
        failures = await conn.execute(
            select(crawl_scopes)
            .where(crawl_scopes.c.run_id.in_(ids), crawl_scopes.c.status != "succeeded")
            .order_by(crawl_scopes.c.account_id, crawl_scopes.c.region, crawl_scopes.c.resource)
        )
        by_run: dict[int, list[dict[str, Any]]] = {}
        for row in failures:
            by_run.setdefault(row.run_id, []).append(dict(row._mapping))
    for run in runs:
        run["failures"] = by_run.get(run["id"], [])
    return runs


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _group_status(statuses: Sequence[str]) -> str:
    """One status for the shards of a crawl: the worst of them, where some shards failing and
    others succeeding is partial."""
    unique = set(statuses)
    if len(unique) == 1:
        return statuses[0]
    for status in ("running", "interrupted"):
        if status in unique:
            return status
    return "partial"


def _crawls(runs: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    crawls: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        crawls.setdefault(run["crawl"], []).append(run)
    return [sorted(group, key=lambda r: r["shard_index"]) for group in crawls.values()]


def format_runs(runs: Sequence[dict[str, Any]]) -> str:
    if not runs:
        return "no crawl has run against this database yet"
    header = (
        "run",
        "started (UTC)",
        "finished (UTC)",
        "status",
        "shards",
        "scopes ok/failed/total",
        "items",
        "new",
        "changed",
        "deleted",
        "retries",
    )
    rows = [header]
    for group in _crawls(runs):
        first = group[0]
        finished = [r["finished_at"] for r in group]
        shards = f"{len(group)}/{first['shard_count']}" if first["shard_count"] > 1 else "-"
        total = {
            k: sum(r[k] for r in group)
            for k in (
                "scopes_succeeded",
                "scopes_failed",
                "scopes_total",
                "items",
                "inserted",
                "updated",
                "deleted",
                "retries",
            )
        }
        rows.append(
            (
                ",".join(str(r["id"]) for r in group),
                _time(min(r["started_at"] for r in group)),
                _time(None if None in finished else max(finished)),
                _group_status([r["status"] for r in group]),
                shards,
                f"{total['scopes_succeeded']}/{total['scopes_failed']}/{total['scopes_total']}",
                str(total["items"]),
                str(total["inserted"]),
                str(total["updated"]),
                str(total["deleted"]),
                str(total["retries"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    for run in runs:
        shard = (
            f" (shard {run['shard_index']}/{run['shard_count']})"
            if (run["shard_count"] > 1)
            else ""
        )
        for scope in run["failures"]:
            where = f"{scope['account_id']}/{scope['region']}/{scope['resource']}"
            why = f"{scope['error_code']}: {scope['error_message'] or ''}".rstrip()
            lines.append(f"  run {run['id']}{shard} {scope['status']}: {where} {why}")
    return "\n".join(lines)
