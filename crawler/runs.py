"""`bedrock-inventory runs`: recent runs, their scopes and errors, as text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
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
        runs = [
            dict(row._mapping)
            for row in await conn.execute(
                select(crawl_runs).order_by(crawl_runs.c.id.desc()).limit(limit)
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


def format_runs(runs: Sequence[dict[str, Any]]) -> str:
    if not runs:
        return "no crawl has run against this database yet"
    header = (
        "run",
        "started (UTC)",
        "finished (UTC)",
        "status",
        "scopes ok/failed/total",
        "items",
        "new",
        "changed",
        "deleted",
        "retries",
    )
    rows = [header]
    for run in runs:
        rows.append(
            (
                str(run["id"]),
                _time(run["started_at"]),
                _time(run["finished_at"]),
                run["status"],
                f"{run['scopes_succeeded']}/{run['scopes_failed']}/{run['scopes_total']}",
                str(run["items"]),
                str(run["inserted"]),
                str(run["updated"]),
                str(run["deleted"]),
                str(run["retries"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    for run in runs:
        for scope in run["failures"]:
            where = f"{scope['account_id']}/{scope['region']}/{scope['resource']}"
            why = f"{scope['error_code']}: {scope['error_message'] or ''}".rstrip()
            lines.append(f"  run {run['id']} {scope['status']}: {where} {why}")
    return "\n".join(lines)
