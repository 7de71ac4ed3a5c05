"""The `bedrock-inventory` command.

Exit codes: 0 every scope succeeded; 1 at least one scope failed (the others were loaded);
2 bad usage, bad configuration or database unreachable; 3 another crawl holds the lock;
130 / 143 interrupted by SIGINT / SIGTERM (the run is recorded as interrupted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import asyncpg

from crawler import __version__
from crawler.config import (
    database_url,
    parse_accounts,
    parse_external_id,
    parse_positive,
    parse_regions,
    parse_resources,
    parse_role_name,
)
from crawler.crawl import CrawlSettings, crawl
from crawler.db import DatabaseUrl, ensure_database, migrate, open_engine
from crawler.embedded import DEFAULT_DATABASE, DEMO_DATABASE, EmbeddedPostgres
from crawler.errors import (
    EXIT_BAD_CONFIG,
    EXIT_LOCK_HELD,
    EXIT_OK,
    EXIT_PARTIAL,
    ConfigError,
    LockHeld,
)
from crawler.logs import event, redact, register_secret, setup_logging
from crawler.resources import RESOURCES
from crawler.runs import format_runs, recent_runs
from crawler.shard import GROUP_ENV, parse_shard, shard_from_environment
from crawler.simulator.scenario import ScenarioError
from crawler.simulator.serve import add_simulate_arguments, scenario_from_args, serve

__all__ = ["main"]

_PROG = "bedrock-inventory"
_RUN_GROUP = re.compile(r"[\w.:-]{1,128}")
T = TypeVar("T")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


class _Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--database-url", metavar="URL", help="PostgreSQL URL (default: $DATABASE_URL)"
    )
    common.add_argument(
        "--log-format",
        choices=("auto", "json", "text"),
        default="auto",
        help="log lines as JSON or text (default: JSON unless stderr is a tty)",
    )

    parser = _Parser(prog=_PROG, description="Inventory of AWS Bedrock model assets in Postgres.")
    parser.add_argument("--version", action="version", version=f"{_PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    crawl_cmd = commands.add_parser(
        "crawl",
        parents=[common],
        help="crawl accounts and regions into the database",
        description="Crawl Bedrock model assets of accounts x regions x resources.",
    )
    crawl_cmd.add_argument(
        "--regions", metavar="R,..", help="regions to crawl (default: the AWS session's region)"
    )
    crawl_cmd.add_argument(
        "--accounts",
        metavar="ID,..",
        help="accounts to crawl through --role-name (default: the caller's)",
    )
    crawl_cmd.add_argument(
        "--role-name", metavar="NAME", help="role assumed in each account of --accounts"
    )
    crawl_cmd.add_argument("--external-id", metavar="X", help="external id for the role")
    crawl_cmd.add_argument(
        "--resources",
        metavar="slug,..",
        help="resources to crawl (default: all: " + ", ".join(r.slug for r in RESOURCES) + ")",
    )
    crawl_cmd.add_argument(
        "--concurrency",
        metavar="N",
        default="16",
        help="scopes crawled at once in all (default: 16)",
    )
    crawl_cmd.add_argument(
        "--per-region-concurrency",
        metavar="N",
        default="4",
        help="scopes crawled at once per account and region (default: 4)",
    )
    crawl_cmd.add_argument(
        "--shard",
        metavar="I/N",
        help="crawl only shard I of N (default: $JOB_COMPLETION_INDEX of "
        "$BEDROCK_INVENTORY_SHARDS, else unsharded)",
    )
    crawl_cmd.add_argument(
        "--run-group",
        metavar="ID",
        help="id shared by the shards of one crawl (default: $BEDROCK_INVENTORY_RUN_GROUP)",
    )
    crawl_cmd.add_argument(
        "--no-migrate", action="store_true", help="do not apply pending migrations first"
    )
    crawl_cmd.set_defaults(handler=_crawl)

    migrate_cmd = commands.add_parser(
        "migrate", parents=[common], help="apply pending schema migrations"
    )
    migrate_cmd.set_defaults(handler=_migrate)

    runs_cmd = commands.add_parser(
        "runs", parents=[common], help="recent runs, their scopes and errors"
    )
    runs_cmd.add_argument("--limit", metavar="N", default="10", help="how many runs (default: 10)")
    runs_cmd.set_defaults(handler=_runs)

    prune_cmd = commands.add_parser(
        "prune",
        parents=[common],
        help="delete history versions closed longer ago than an age",
        description="Delete versions of the history tables that stopped being current more "
        "than AGE ago (36h, 400d, 12w). Current versions are never deleted.",
    )
    prune_cmd.add_argument(
        "--history-older-than",
        metavar="AGE",
        required=True,
        help="age of closed versions to delete, like 400d, 12w or 36h",
    )
    prune_cmd.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
    )
    prune_cmd.set_defaults(handler=_prune)

    grant_cmd = commands.add_parser(
        "grant-reader",
        parents=[common],
        help="give a Postgres role read-only access to every table, view and function",
        description="Give ROLE SELECT on every table and view and EXECUTE on every function, "
        "now and for objects later migrations add (default privileges), and nothing else. "
        "Idempotent. Run it as the role that runs the migrations.",
    )
    grant_cmd.add_argument("role", metavar="ROLE", help="an existing Postgres role")
    grant_cmd.set_defaults(handler=_grant_reader)

    docs_cmd = commands.add_parser(
        "schema-docs",
        help="write docs/schema.md from the schema's comments",
        description="Render the schema documentation (tables, views, functions, their comments "
        "and an ER diagram of the ARN links) from the same declarations the migrations use.",
    )
    docs_cmd.add_argument(
        "--output",
        metavar="FILE",
        default="docs/schema.md",
        help="where to write it (default: docs/schema.md; - for stdout)",
    )
    docs_cmd.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when FILE is not up to date"
    )
    docs_cmd.set_defaults(handler=_schema_docs)

    demo_cmd = commands.add_parser(
        "demo",
        parents=[common],
        help="crawl a simulated organisation into the embedded database and show the result",
        description="Start the Bedrock simulator with the `demo` scenario, crawl it into the "
        "embedded PostgreSQL (database bedrock_inventory_demo), and print a summary. Every run "
        "moves the scenario on, so the next run shows what changed.",
    )
    demo_cmd.set_defaults(handler=_demo)

    simulate_cmd = commands.add_parser(
        "simulate",
        help="serve a simulated AWS organisation (Bedrock, STS, EC2, Organizations) locally",
        description="Serve a simulated organisation on 127.0.0.1 until SIGINT or SIGTERM, and "
        "print the environment that points AWS SDKs and this crawler at it.",
    )
    add_simulate_arguments(simulate_cmd)
    simulate_cmd.set_defaults(handler=_simulate)

    db_cmd = commands.add_parser(
        "db",
        help="the embedded PostgreSQL used when no database URL is given",
        description="Start, stop, or print the URL of the embedded PostgreSQL (it listens on a "
        "Unix socket in your data directory; a database URL given by flag or DATABASE_URL "
        "always wins over it).",
    )
    db_cmd.add_argument("action", choices=("start", "stop", "url"))
    db_cmd.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        metavar="NAME",
        help=f"database whose URL to print (default: {DEFAULT_DATABASE})",
    )
    db_cmd.add_argument(
        "--log-format", choices=("auto", "json", "text"), default="auto", help=argparse.SUPPRESS
    )
    db_cmd.set_defaults(handler=_db)
    return parser


def _register_environment_secrets() -> None:
    for name in (
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "PGPASSWORD",
    ):
        register_secret(os.environ.get(name))


def _crawl_options(args: argparse.Namespace) -> dict[str, Any]:
    """Every crawl flag validated, before anything (a database server included) is started."""
    accounts = parse_accounts(args.accounts) if args.accounts is not None else ()
    role_name = parse_role_name(args.role_name) if args.role_name is not None else None
    external_id = parse_external_id(args.external_id) if args.external_id is not None else None
    if accounts and role_name is None:
        raise ConfigError("--accounts needs --role-name: the role to assume in each account")
    if role_name is not None and not accounts:
        raise ConfigError("--role-name needs --accounts: the accounts to assume it in")
    if external_id is not None and role_name is None:
        raise ConfigError("--external-id goes with --role-name")
    register_secret(external_id)
    shard = parse_shard(args.shard) if args.shard is not None else shard_from_environment()
    run_group = args.run_group if args.run_group is not None else os.environ.get(GROUP_ENV)
    if run_group is not None and not _RUN_GROUP.fullmatch(run_group):
        raise ConfigError(f"bad run group {run_group!r}: 1-128 letters, digits or ._:-")
    return {
        "shard": shard,
        "run_group": run_group,
        "regions": parse_regions(args.regions) if args.regions is not None else (),
        "accounts": accounts,
        "role_name": role_name,
        "external_id": external_id,
        "resources": parse_resources(args.resources) if args.resources is not None else RESOURCES,
        "concurrency": parse_positive(args.concurrency, "--concurrency"),
        "per_region_concurrency": parse_positive(
            args.per_region_concurrency, "--per-region-concurrency"
        ),
        "migrate": not args.no_migrate,
    }


@contextlib.contextmanager
def _database(args: argparse.Namespace, name: str = DEFAULT_DATABASE) -> Iterator[DatabaseUrl]:
    """The database to use: --database-url, else DATABASE_URL, else the embedded server
    (started for this command if it is down, and stopped after it unless still needed)."""
    url = database_url(args.database_url)
    if url is not None:
        register_secret(url.password)
        yield url
        return
    embedded = EmbeddedPostgres()
    with embedded.lease():
        url = embedded.url(name)
        if url is None:
            raise ConfigError(f"the embedded PostgreSQL in {embedded.pgdata} did not start")
        created = url
        _run(lambda: ensure_database(created))
        yield url


def _crawl(args: argparse.Namespace) -> int:
    options = _crawl_options(args)
    with _database(args) as url:
        settings = CrawlSettings(database_url=url, **options)
        report = _run(lambda: crawl(settings))
    return report.exit_code


def _migrate(args: argparse.Namespace) -> int:
    with _database(args) as url:

        async def run() -> None:
            async with open_engine(url) as engine:
                await migrate(engine)

        _run(run)
    event("migrated", "database schema is up to date")
    return EXIT_OK


def _runs(args: argparse.Namespace) -> int:
    limit = parse_positive(args.limit, "--limit")
    with _database(args) as url:

        async def run() -> list[dict[str, Any]]:
            async with open_engine(url) as engine:
                return await recent_runs(engine, limit)

        print(format_runs(_run(run)))
    return EXIT_OK


def _prune(args: argparse.Namespace) -> int:
    from crawler.maintenance import parse_age, prune_history

    age = parse_age(args.history_older_than)
    with _database(args) as url:
        result = _run(lambda: prune_history(url, age, dry_run=args.dry_run))
    verb = "would delete" if result.dry_run else "deleted"
    for table, count in result.counts.items():
        print(f"{table}: {verb} {count} closed versions")
    print(f"total: {verb} {result.total} closed versions older than {args.history_older_than}")
    return EXIT_OK


def _grant_reader(args: argparse.Namespace) -> int:
    from crawler.maintenance import grant_reader

    with _database(args) as url:
        quoted = _run(lambda: grant_reader(url, args.role))
    print(f"{quoted} can now read every table, view and function, and nothing else")
    return EXIT_OK


def _schema_docs(args: argparse.Namespace) -> int:
    from crawler.schema_docs import render_schema_markdown

    text = render_schema_markdown()
    if args.output == "-":
        sys.stdout.write(text)
        return EXIT_OK
    target = Path(args.output)
    if args.check:
        current = target.read_text() if target.is_file() else None
        if current != text:
            _error(f"{target} is out of date: run `bedrock-inventory schema-docs`")
            return EXIT_PARTIAL
        return EXIT_OK
    try:
        target.write_text(text)
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
    print(f"wrote {target}")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from crawler.demo import run_demo

    # The progress line and the summary tell the story (the summary names every failed scope),
    # so per-scope lines would only drown them; on a terminal even the warnings would tear the
    # progress line.
    setup_logging(args.log_format, level=logging.ERROR if sys.stderr.isatty() else logging.WARNING)
    given = database_url(args.database_url) is not None
    with _database(args, DEMO_DATABASE) as url:
        psql = None if given else EmbeddedPostgres().psql_command(url)
        _run(lambda: run_demo(url, psql=psql))
    # The demo ran to the end: a scope failing in it is part of what it shows, not an error.
    return EXIT_OK


def _simulate(args: argparse.Namespace) -> int:
    try:
        scenario = scenario_from_args(args)
    except ScenarioError as exc:
        raise ConfigError(str(exc)) from None
    try:
        # serve() owns SIGINT and SIGTERM: either one stops it cleanly (exit 0).
        asyncio.run(serve(scenario, port=args.port, step=args.step))
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}") from None
    return EXIT_OK


def _db(args: argparse.Namespace) -> int:
    embedded = EmbeddedPostgres()
    if args.action == "start":
        embedded.start()
        embedded.keep_running(True)
        started = embedded.url(args.database)
        if started is None:
            raise ConfigError(f"the embedded PostgreSQL in {embedded.pgdata} did not start")
        _run(lambda: ensure_database(started))
        print(started.dsn)
        return EXIT_OK
    if args.action == "stop":
        embedded.keep_running(False)
        print("stopped" if embedded.stop() else "the embedded PostgreSQL was not running")
        return EXIT_OK
    url = embedded.url(args.database)
    if url is None:
        raise ConfigError("the embedded PostgreSQL is not running: `bedrock-inventory db start`")
    print(url.dsn)
    return EXIT_OK


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; SIGINT and SIGTERM cancel it (so it can record an interrupted run)."""

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        received: list[int] = []

        def on_signal(signum: int) -> None:
            received.append(signum)
            task.cancel()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            return await factory()
        except asyncio.CancelledError:
            if received:
                raise _Interrupted(received[0]) from None
            raise

    return asyncio.run(guarded())


def main(argv: Sequence[str] | None = None) -> int:
    _register_environment_secrets()
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        setup_logging(getattr(args, "log_format", "auto"))
        code: int = args.handler(args)
        return code
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_BAD_CONFIG
    except LockHeld as exc:
        _error(str(exc))
        return EXIT_LOCK_HELD
    except _Interrupted as exc:
        _error(f"interrupted by {exc}")
        return 128 + exc.signum
    except Exception as exc:  # never a traceback: one line, and the run row says the rest
        leaf = _first_leaf(exc)
        if isinstance(leaf, ConfigError | LockHeld):
            _error(str(leaf))
            return EXIT_LOCK_HELD if isinstance(leaf, LockHeld) else EXIT_BAD_CONFIG
        if isinstance(leaf, BrokenPipeError):  # stdout closed early (`| head`): as shells do
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (exit flushes it)
            return 128 + signal.SIGPIPE
        if isinstance(
            leaf,
            ConnectionError | asyncpg.InterfaceError | asyncpg.PostgresConnectionError,
        ):
            _error(f"lost the database connection: {_one_line(leaf)}")
            return EXIT_BAD_CONFIG
        _error(f"unexpected {type(leaf).__name__}: {_one_line(leaf)}")
        return EXIT_PARTIAL


def _first_leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _error(message: str) -> None:
    print(f"{_PROG}: error: {redact(message)}", file=sys.stderr)
