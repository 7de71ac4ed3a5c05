"""`bedrock-inventory demo`: a working inventory from a fresh install, in one command.

The simulator serves the `demo` scenario in-process (a little latency and throttling on, so the
retries show); the unchanged crawler reaches it through the standard AWS environment and loads
it into the embedded PostgreSQL. Each run moves the scenario one step on, so a second run shows
what changed since the first.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import asyncpg

from crawler.crawl import CrawlReport, CrawlSettings, crawl
from crawler.db import DatabaseUrl, connect, migrate, open_engine
from crawler.errors import ConfigError
from crawler.load.writer import ScopeOutcome
from crawler.resources import RESOURCES
from crawler.simulator import Simulator
from crawler.simulator.scenario import Scenario, build_world, faults_for, load_scenario

__all__ = ["DEMO_LABEL", "EXAMPLE_QUERIES", "DemoSummary", "QueryResult", "run_demo"]

DEMO_LABEL = "demo"

# (title, SQL): shown with their results after every demo run.
EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "Custom models per base model",
        "SELECT base_model_name, count(*) AS models\n"
        "FROM custom_models WHERE deleted_at IS NULL\n"
        "GROUP BY base_model_name ORDER BY models DESC, base_model_name LIMIT 5;",
    ),
    (
        "Models copied into another account",
        "SELECT source_account_id, account_id AS target_account_id, count(*) AS copies\n"
        "FROM model_copy_jobs WHERE source_account_id <> account_id AND deleted_at IS NULL\n"
        "GROUP BY 1, 2 ORDER BY copies DESC LIMIT 5;",
    ),
    (
        "How each model was made",
        "SELECT model_kind, made_by_job_kind, count(*) AS models\n"
        "FROM model_lineage WHERE deleted_at IS NULL\n"
        "GROUP BY 1, 2 ORDER BY models DESC;",
    ),
)


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class DemoSummary:
    """What the demo printed, for callers that want the numbers (its test, say)."""

    report: CrawlReport
    step: int
    counts: dict[tuple[str, str, str], int]  # (resource, account, region) -> assets
    query_rows: dict[str, QueryResult]
    failures: list[tuple[str, str, str, str]]  # (account, region, resource, error code)


class _Progress:
    """One self-rewriting line on a terminal: scopes done / total, items, retries."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = self.items = self.retries = self.failed = 0
        self._stream = stream
        self._live = stream.isatty()

    def __call__(self, outcome: ScopeOutcome) -> None:
        self.done += 1
        self.items += outcome.items
        self.retries += outcome.retries
        self.failed += outcome.status != "succeeded"
        if self._live:
            failed = f"  failed {self.failed}" if self.failed else ""
            self._stream.write(
                f"\r  scopes {self.done}/{self.total}  items {self.items}  "
                f"retries {self.retries}{failed}   "
            )
            self._stream.flush()

    def close(self) -> None:
        if self._live:
            self._stream.write("\n")
            self._stream.flush()


@contextlib.contextmanager
def _aws_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Point the standard AWS environment at the simulator for the block, and nowhere else:
    no profile, no shared files, no instance metadata of the user's leaks in."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(
        {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            **values,
        }
    )
    try:
        yield
    finally:
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)


async def _previous_runs(url: DatabaseUrl) -> int:
    """How many demo runs this database holds; refuse one that holds real crawls."""
    conn = await connect(url)
    try:
        real = await conn.fetchval(
            "SELECT count(*) FROM crawl_runs "
            "WHERE parameters -> 'labels' ->> 'source' IS DISTINCT FROM $1",
            DEMO_LABEL,
        )
        if real:
            raise ConfigError(
                f"refusing to write simulated demo data into {url}: it holds {real} real "
                "crawl run(s); run the demo without --database-url / DATABASE_URL"
            )
        count: int = await conn.fetchval("SELECT count(*) FROM crawl_runs")
        return count
    finally:
        await conn.close()


async def run_demo(
    url: DatabaseUrl,
    *,
    out: TextIO = sys.stdout,
    progress: TextIO = sys.stderr,
    psql: str | None = None,
    scenario: Scenario | None = None,
) -> DemoSummary:
    """Crawl the simulated `demo` scenario into `url` and print a summary to `out`."""
    scenario = scenario or load_scenario("demo")
    async with open_engine(url) as engine:
        await migrate(engine)
    step = await _previous_runs(url)
    world = build_world(scenario, step)
    accounts = sorted(world.accounts)
    total_scopes = len(accounts) * len(scenario.regions) * len(RESOURCES)

    print(
        f'bedrock-inventory demo: scenario "{scenario.name}", step {step} — '
        f"{len(accounts)} accounts x {len(scenario.regions)} regions, served by the local "
        "simulator",
        file=out,
    )
    started = time.monotonic()
    tracker = _Progress(total_scopes, progress)
    async with Simulator(world, faults_for(scenario, seed_offset=step)) as sim:
        key, secret = sim.base_credentials
        aws = {
            "AWS_ENDPOINT_URL": sim.endpoint_url,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_REGION": scenario.regions[0],
        }
        with _aws_environment(aws):
            settings = CrawlSettings(
                database_url=url,
                regions=tuple(scenario.regions),
                accounts=tuple(accounts),
                role_name=scenario.role_name,
                migrate=False,
                labels={"source": DEMO_LABEL, "scenario": scenario.name, "step": str(step)},
            )
            try:
                report = await crawl(settings, on_scope=tracker)
            finally:
                tracker.close()
    seconds = time.monotonic() - started

    conn = await connect(url)
    try:
        counts = await _asset_counts(conn)
        query_rows = {title: await _rows(conn, sql) for title, sql in EXAMPLE_QUERIES}
        failures = [
            (r["account_id"], r["region"], r["resource"], r["error_code"])
            for r in await conn.fetch(
                "SELECT account_id, region, resource, error_code FROM crawl_scopes "
                "WHERE run_id = $1 AND status <> 'succeeded' ORDER BY 1, 2, 3",
                report.run_id,
            )
        ]
    finally:
        await conn.close()
    summary = DemoSummary(report, step, counts, query_rows, failures)
    _print_summary(out, summary, seconds, url, psql)
    return summary


async def _asset_counts(conn: asyncpg.Connection) -> dict[tuple[str, str, str], int]:
    counts: dict[tuple[str, str, str], int] = {}
    for resource in RESOURCES:
        rows = await conn.fetch(
            f"SELECT account_id, region, count(*) AS n FROM {resource.table} "
            "WHERE deleted_at IS NULL GROUP BY 1, 2"
        )
        for row in rows:
            counts[(resource.slug, row["account_id"], row["region"])] = row["n"]
    return counts


async def _rows(conn: asyncpg.Connection, sql: str) -> QueryResult:
    statement = await conn.prepare(sql)
    columns = [attribute.name for attribute in statement.get_attributes()]
    return QueryResult(columns, [tuple(row.values()) for row in await statement.fetch()])


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [[str(h) for h in header], *[["" if v is None else str(v) for v in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    numeric = [
        all(isinstance(r[i], int | float) for r in rows if r[i] is not None)
        for i in range(len(header))
    ]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(row, widths, numeric, strict=True)
        ).rstrip()

    return [line(cells[0]), line(["-" * w for w in widths]), *(line(r) for r in cells[1:])]


def _print_summary(
    out: TextIO, summary: DemoSummary, seconds: float, url: DatabaseUrl, psql: str | None
) -> None:
    report, step, counts = summary.report, summary.step, summary.counts

    def say(text: str = "") -> None:
        print(text, file=out)

    say()
    say(
        f"Run {report.run_id} {report.status}: {report.scopes_succeeded} of "
        f"{report.scopes_total} scopes succeeded, {report.items} items, {report.retries} "
        f"throttled or failed calls retried, in {seconds:.1f} s."
    )
    if step == 0:
        say(f"First run: {report.inserted} assets loaded.")
    else:
        say(
            f"Changes since the previous run: {report.inserted} new, {report.updated} "
            f"changed, {report.deleted} deleted."
        )
    if summary.failures:
        say(
            f"{len(summary.failures)} scopes failed; the demo scenario leaves an opt-in region "
            "disabled in one account, and the crawler records it instead of guessing:"
        )
        for account, region, slug, code in summary.failures:
            say(f"  {account}/{region}/{slug}: {code}")
    say()
    say("Assets per resource, account and region (not deleted):")
    regions = sorted({region for (_, _, region) in counts})
    rows = []
    for resource in RESOURCES:
        for account in sorted({a for (slug, a, _) in counts if slug == resource.slug}):
            per_region = [counts.get((resource.slug, account, r), 0) for r in regions]
            rows.append([resource.slug, account, *per_region, sum(per_region)])
    totals = [sum(n for (_, _, region), n in counts.items() if region == r) for r in regions]
    rows.append(["total", "", *totals, sum(totals)])
    for line in _table(["resource", "account", *regions, "total"], rows):
        say("  " + line)
    say()
    if psql is None:
        say("Explore it with SQL:")
        say(f'  psql "{url.dsn}"')
    else:
        say(
            "Explore it with SQL (the embedded database stops when a command ends; "
            "`db start` keeps it up):"
        )
        say("  bedrock-inventory db start")
        say(f"  {psql}")
    for title, sql in EXAMPLE_QUERIES:
        say()
        say(f"-- {title}")
        for line in sql.splitlines():
            say(line)
        result = summary.query_rows[title]
        lines = _table(result.columns, result.rows) if result.rows else ["(no rows)"]
        for line in lines:
            say("  " + line)
