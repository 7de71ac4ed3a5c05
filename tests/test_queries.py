"""docs/queries.md: every query in it runs against a crawled inventory and returns rows.

The database is the `demo` scenario crawled twice, as the demo does it: at step 0, then after
one step of change (assets added, jobs finished, models deleted), so that history, deletions
and changes exist. Every ```sql block of the file is found by parsing it, so a query added there
is tested without touching this file.

Two things differ from `bedrock-inventory demo`. The endpoint is quiet (no latency, no
throttling), to keep the test fast; one account still lacks the opt-in region, so some scopes
fail as they do in the demo. And the scenario's calendar is moved to end yesterday: its assets
are created over the same span of time, but one that ends now instead of in 2025, like a live
estate, so that questions such as "created in the last 30 days" have something to find.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from crawler.crawl import CrawlSettings, crawl
from crawler.db import DatabaseUrl
from crawler.extract.aws import ClientSettings
from crawler.simulator import Faults, Scenario, World, build_world, faults_for, load_scenario
from crawler.views import FUNCTIONS, TABLES, VIEWS
from tests.conftest import Endpoint
from tests.test_crawl import FAST_RETRY

DOC = Path(__file__).resolve().parent.parent / "docs" / "queries.md"
MIN_QUERIES = 10
QUERY_TIMEOUT_MS = 10_000


def demo_scenario() -> Scenario:
    """The demo scenario, quiet, with its calendar ending yesterday (see the module's doc)."""
    demo = load_scenario("demo")
    span = date.fromisoformat(demo.assets.created_until) - date.fromisoformat(
        demo.assets.created_from
    )
    until = datetime.now(UTC).date() - timedelta(days=1)
    # throttle_rps=0 turns throttling off (None would mean "leave it as it is").
    return demo.with_overrides(
        throttle_rps=0,
        latency_ms=0,
        latency_jitter_ms=0,
        assets={"created_from": (until - span).isoformat(), "created_until": until.isoformat()},
    )


SCENARIO = demo_scenario()


@dataclass(frozen=True)
class Query:
    heading: str
    line: int  # of the opening fence, 1-based
    sql: str

    def __str__(self) -> str:
        return f'"{self.heading}" (docs/queries.md line {self.line})'


_FENCE = re.compile(r"^```(\S*)\s*$")


def doc_queries(text: str) -> list[Query]:
    """Every ```sql block of the file with the `## heading` it sits under. A heading without
    exactly one block, a block outside a heading, or an unclosed block is an error."""
    queries: list[Query] = []
    headings: list[tuple[str, int]] = []
    heading: str | None = None
    block: list[str] | None = None
    opened = 0
    for number, line in enumerate(text.splitlines(), start=1):
        fence = _FENCE.match(line)
        if block is not None:
            if fence and not fence.group(1):
                assert heading is not None, f"sql block at line {opened} is under no heading"
                queries.append(Query(heading, opened, "\n".join(block).strip()))
                block = None
            else:
                block.append(line)
        elif fence and fence.group(1) == "sql":
            block, opened = [], number
        elif line.startswith("## "):
            heading = line[3:].strip()
            headings.append((heading, number))
    assert block is None, f"the sql block opened at line {opened} is never closed"
    for name, number in headings:
        count = sum(1 for q in queries if q.heading == name)
        assert count == 1, f'"{name}" (line {number}) has {count} sql blocks; one is expected'
    return queries


def load_queries() -> list[Query]:
    return doc_queries(DOC.read_text(encoding="utf-8"))


# Every relation and function an analyst may read.
INVENTORY = {t.name for t in TABLES} | {v.name for v in VIEWS} | {f.name for f in FUNCTIONS}
# A query starts with SELECT or WITH, after any comment lines (and runs read-only below).
_READ = re.compile(r"^(?:\s*--[^\n]*\n)*\s*(SELECT|WITH)\b", re.IGNORECASE)


def test_the_file_has_enough_queries_each_reading_the_inventory() -> None:
    queries = load_queries()
    assert len(queries) >= MIN_QUERIES, f"{len(queries)} queries, at least {MIN_QUERIES} wanted"
    headings = [q.heading for q in queries]
    assert len(set(headings)) == len(headings), "two questions share a heading"
    for query in queries:
        words = set(re.findall(r"[a-z_]+", query.sql.lower()))
        assert words & INVENTORY, f"{query} reads none of the inventory's tables or views"
        assert query.sql.rstrip().endswith(";"), f"{query} does not end with ';'"
        assert ";" not in query.sql.rstrip()[:-1], f"{query} holds more than one statement"
        assert _READ.match(query.sql), f"{query} does not start with SELECT or WITH"


@pytest.fixture
def world() -> World:
    return build_world(SCENARIO, 0)


@pytest.fixture
def faults() -> Faults:
    return faults_for(SCENARIO)


def settings(db: DatabaseUrl, world: World) -> CrawlSettings:
    return CrawlSettings(
        database_url=db,
        regions=SCENARIO.regions,
        accounts=tuple(sorted(world.accounts)),
        role_name=SCENARIO.role_name,
        retry=FAST_RETRY,
        client=ClientSettings(connect_timeout=2, read_timeout=2),
    )


async def test_every_query_returns_rows_from_a_crawled_inventory(
    endpoint: Endpoint, db: DatabaseUrl, pg: asyncpg.Connection, world: World
) -> None:
    queries = load_queries()
    first = await crawl(settings(db, world))
    # One account has not enabled the opt-in region: its four scopes fail, the rest load.
    assert first.status == "partial" and first.scopes_failed == 4, first
    assert first.inserted > 100

    endpoint.sim.world = build_world(SCENARIO, 1)  # a day later
    second = await crawl(settings(db, endpoint.sim.world))
    assert second.status == "partial" and second.scopes_failed == 4, second
    assert second.inserted and second.updated and second.deleted, second

    failures: list[str] = []
    for query in queries:
        try:
            async with pg.transaction(readonly=True):
                await pg.execute(f"SET LOCAL statement_timeout = {QUERY_TIMEOUT_MS}")
                rows = await pg.fetch(query.sql)
        except asyncpg.PostgresError as error:
            failures.append(f"{query} fails: {type(error).__name__}: {error}")
            continue
        if not rows:
            failures.append(f"{query} returns no rows")
    assert not failures, "\n".join(failures)
