"""Views and functions for analysts, declared once with their comments.

Tables and their columns are declared (with comments) in crawler.schema; the views and functions
built on them are declared here. Migrations carry a frozen rendering of these statements
(`render()`), and a test checks the migrated database against this module: every view and
function exists, and it and each of its columns carry the comment written here. psql's `\\d+`,
BI tools and docs/schema.md (`bedrock-inventory schema-docs`) all read the same comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Table

from crawler.resources import RESOURCES, Resource
from crawler.schema import asset_tables, crawl_runs, crawl_scopes, history_tables

__all__ = ["FUNCTIONS", "TABLES", "VIEWS", "FunctionDef", "ViewDef", "render", "render_drop"]


@dataclass(frozen=True)
class ViewDef:
    name: str
    select: str  # the SELECT defining the view
    comment: str
    columns: Mapping[str, str] = field(default_factory=dict)  # column -> comment, in order


@dataclass(frozen=True)
class FunctionDef:
    name: str
    arguments: str  # e.g. "ts timestamptz"
    returns: str
    body: str  # SQL
    comment: str

    @property
    def signature(self) -> str:
        return f"{self.name}({self.arguments})"

    @property
    def identity(self) -> str:
        """name(argument types), as regprocedure spells it."""
        types = ", ".join(arg.split()[-1] for arg in self.arguments.split(","))
        return f"{self.name}({types})"


def _comments(table: Table) -> dict[str, str]:
    return {c.name: c.comment or "" for c in table.columns}


_LAST_SEEN = (
    "End of the last successful crawl of the asset's scope while it existed (derived from "
    "crawl_scopes, never written per crawl)."
)


def _last_seen(resource: Resource) -> ViewDef:
    table = asset_tables[resource.slug]
    columns = [c.name for c in table.columns]
    return ViewDef(
        name=f"{resource.table}_with_last_seen",
        # last_seen_at is derived, never written per crawl: an asset that exists was seen by
        # every successful crawl of its scope; a deleted one, by those before its deletion.
        select=(
            f"SELECT {', '.join('t.' + c for c in columns)},\n"
            "    GREATEST(seen.last_success, t.first_seen_at) AS last_seen_at\n"
            f"FROM {resource.table} AS t\n"
            "LEFT JOIN LATERAL (\n"
            "    SELECT max(s.finished_at) AS last_success\n"
            "    FROM crawl_scopes AS s\n"
            "    WHERE s.account_id = t.account_id AND s.region = t.region\n"
            f"      AND s.resource = '{resource.slug}' AND s.status = 'succeeded'\n"
            "      AND (t.deleted_at IS NULL OR s.finished_at < t.deleted_at)\n"
            ") AS seen ON true"
        ),
        comment=f"Every row of {resource.table}, deleted ones included, with last_seen_at.",
        columns={**_comments(table), "last_seen_at": _LAST_SEEN},
    )


def _current(resource: Resource) -> ViewDef:
    table = asset_tables[resource.slug]
    comments = {**_comments(table), "last_seen_at": _LAST_SEEN}
    leading = [*resource.readable, "account_id", "region", "arn"]
    rest = [
        c for c in comments if c not in leading and c not in ("raw", "content_hash", "deleted_at")
    ]
    order = [*leading, *rest, "raw"]
    return ViewDef(
        name=f"current_{resource.table}",
        select=(
            f"SELECT {', '.join(order)}\n"
            f"FROM {resource.table}_with_last_seen\n"
            "WHERE deleted_at IS NULL"
        ),
        comment=f"{resource.comment} Only assets that exist now; readable columns first.",
        columns={c: comments[c] for c in order},
    )


def _as_of(resource: Resource) -> FunctionDef:
    return FunctionDef(
        name=f"{resource.table}_as_of",
        arguments="ts timestamptz",
        returns=f"SETOF {resource.table}_history",
        body=(
            f"SELECT * FROM {resource.table}_history\n"
            "WHERE valid_from <= ts AND (valid_to IS NULL OR valid_to > ts)"
        ),
        comment=(
            f"The {resource.table} that existed at ts, each with the content it had then "
            f"(one {resource.table}_history version per asset)."
        ),
    )


MODEL_LINEAGE = ViewDef(
    name="model_lineage",
    select="""WITH models AS (
    SELECT arn, 'custom'::text AS model_kind, model_name, account_id, region, base_model_arn,
           creation_time, deleted_at, NULL::text AS import_job_arn
    FROM custom_models
    UNION ALL
    SELECT arn, 'imported'::text, model_name, account_id, region, NULL::text,
           creation_time, deleted_at, job_arn
    FROM imported_models
)
SELECT
    m.arn AS model_arn,
    m.model_kind,
    m.model_name,
    m.account_id,
    m.region,
    m.base_model_arn,
    m.creation_time,
    m.deleted_at,
    CASE
        WHEN made.arn IS NOT NULL THEN 'customization'
        WHEN m.import_job_arn IS NOT NULL THEN 'import'
        WHEN copied.arn IS NOT NULL THEN 'copy'
    END AS made_by_job_kind,
    COALESCE(made.arn, m.import_job_arn, copied.arn) AS made_by_job_arn,
    COALESCE(made.status, copied.status) AS made_by_job_status,
    copied.source_model_arn AS copied_from_model_arn,
    COALESCE(copies.arns, ARRAY[]::text[]) AS copy_job_arns
FROM models AS m
LEFT JOIN LATERAL (
    SELECT j.arn, j.status FROM model_customization_jobs AS j
    WHERE j.custom_model_arn = m.arn
    ORDER BY j.creation_time DESC NULLS LAST LIMIT 1
) AS made ON true
LEFT JOIN LATERAL (
    SELECT c.arn, c.status, c.source_model_arn FROM model_copy_jobs AS c
    WHERE c.target_model_arn = m.arn
    ORDER BY c.creation_time DESC NULLS LAST LIMIT 1
) AS copied ON true
LEFT JOIN LATERAL (
    SELECT array_agg(c.arn ORDER BY c.creation_time, c.arn) AS arns FROM model_copy_jobs AS c
    WHERE c.source_model_arn = m.arn OR c.target_model_arn = m.arn
) AS copies ON true""",
    comment=(
        "For each custom or imported model: the job that made it (customization, import or "
        "copy) and every copy job it took part in, as source or target."
    ),
    columns={
        "model_arn": "ARN of the custom or imported model.",
        "model_kind": "custom or imported.",
        "model_name": "Name of the model.",
        "account_id": "Account holding the model.",
        "region": "Region of the model.",
        "base_model_arn": "Model it was customised from (custom models).",
        "creation_time": "When the model was created.",
        "deleted_at": "When a crawl found the model gone; NULL while it exists.",
        "made_by_job_kind": "customization, import or copy: the kind of job that made it.",
        "made_by_job_arn": "ARN of the job that made it.",
        "made_by_job_status": "Status of that job (customization and copy jobs).",
        "copied_from_model_arn": "For a copy: the model it was copied from.",
        "copy_job_arns": "Every copy job the model took part in, as source or target.",
    },
)

_HISTORY_UNION = "\n    UNION ALL\n".join(
    f"    SELECT '{r.slug}'::text AS resource, arn, account_id, region, valid_from, valid_to\n"
    f"    FROM {r.table}_history"
    for r in RESOURCES
)

INVENTORY_DAILY = ViewDef(
    name="inventory_daily",
    select=f"""WITH versions AS (
{_HISTORY_UNION}
), marked AS (
    SELECT v.*,
        lag(valid_to) OVER w AS previous_to,
        lead(valid_from) OVER w AS next_from
    FROM versions AS v
    WINDOW w AS (PARTITION BY resource, arn ORDER BY valid_from)
), events AS (
    -- an asset appears with its first version, or with a version after a gap (a deletion)
    SELECT resource, account_id, region, (valid_from AT TIME ZONE 'UTC')::date AS day,
        1 AS created, 0 AS deleted
    FROM marked WHERE previous_to IS NULL OR previous_to < valid_from
    UNION ALL
    -- it goes when a version closes without a next one starting at that instant
    SELECT resource, account_id, region, (valid_to AT TIME ZONE 'UTC')::date,
        0, 1
    FROM marked
    WHERE valid_to IS NOT NULL AND (next_from IS NULL OR next_from > valid_to)
), per_day AS (
    SELECT day, account_id, region, resource,
        sum(created)::bigint AS created, sum(deleted)::bigint AS deleted
    FROM events GROUP BY day, account_id, region, resource
), first_days AS (
    SELECT account_id, region, resource, min(day) AS first_day
    FROM per_day GROUP BY account_id, region, resource
), calendar AS (
    SELECT f.account_id, f.region, f.resource, d::date AS day
    FROM first_days AS f,
        generate_series(f.first_day, (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d
)
SELECT c.day, c.account_id, c.region, c.resource,
    sum(COALESCE(p.created, 0) - COALESCE(p.deleted, 0)) OVER (
        PARTITION BY c.account_id, c.region, c.resource ORDER BY c.day
    )::bigint AS assets,
    COALESCE(p.created, 0) AS created,
    COALESCE(p.deleted, 0) AS deleted
FROM calendar AS c
LEFT JOIN per_day AS p USING (day, account_id, region, resource)""",
    comment=(
        "One row per day (UTC), account, region and resource type: assets existing at the end "
        "of the day, created and deleted that day. Computed from the history tables; ready "
        "for a time-series chart."
    ),
    columns={
        "day": "The day, in UTC.",
        "account_id": "AWS account id.",
        "region": "AWS region.",
        "resource": "Resource type: custom-models, customization-jobs, copy-jobs, imported-models.",
        "assets": "Assets existing at the end of the day.",
        "created": "Assets that appeared that day (first seen, or seen again after deletion).",
        "deleted": "Assets a crawl found gone that day.",
    },
)

CRAWL_HEALTH = ViewDef(
    name="crawl_health",
    select="""SELECT r.id AS run_id, r.status AS run_status, r.started_at AS run_started_at,
    r.finished_at AS run_finished_at,
    extract(epoch FROM r.finished_at - r.started_at)::double precision AS run_seconds,
    s.account_id, s.region, s.resource, s.status AS scope_status,
    extract(epoch FROM s.finished_at - s.started_at)::double precision AS scope_seconds,
    s.items, s.pages, s.retries, s.error_code, s.error_message
FROM crawl_runs AS r
LEFT JOIN crawl_scopes AS s ON s.run_id = r.id""",
    comment=(
        "Per run and per scope: status, durations, retries and error codes, for an operations "
        "dashboard."
    ),
    columns={
        "run_id": "The run.",
        "run_status": "running, succeeded, partial, failed or interrupted.",
        "run_started_at": "When the run began.",
        "run_finished_at": "When the run ended.",
        "run_seconds": "How long the run took.",
        "account_id": "Account of the scope.",
        "region": "Region of the scope.",
        "resource": "Resource of the scope.",
        "scope_status": "succeeded, failed or interrupted.",
        "scope_seconds": "How long the scope took.",
        "items": "Items the scope listed.",
        "pages": "Pages the scope fetched.",
        "retries": "Calls the scope retried (throttling, 5xx, timeouts).",
        "error_code": "AWS error code (or ours) of a failed scope.",
        "error_message": "Its message.",
    },
)

VIEWS: tuple[ViewDef, ...] = (
    *(_last_seen(r) for r in RESOURCES),
    *(_current(r) for r in RESOURCES),
    MODEL_LINEAGE,
    INVENTORY_DAILY,
    CRAWL_HEALTH,
)

FUNCTIONS: tuple[FunctionDef, ...] = tuple(_as_of(r) for r in RESOURCES)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render() -> list[str]:
    """The statements creating every view and function with its comments, in order."""
    statements: list[str] = []
    for view in VIEWS:
        statements.append(f"CREATE VIEW {view.name} AS\n{view.select}")
        statements.append(f"COMMENT ON VIEW {view.name} IS {_literal(view.comment)}")
        for column, comment in view.columns.items():
            statements.append(f"COMMENT ON COLUMN {view.name}.{column} IS {_literal(comment)}")
    for function in FUNCTIONS:
        statements.append(
            f"CREATE FUNCTION {function.signature} RETURNS {function.returns}\n"
            f"LANGUAGE sql STABLE AS $$\n{function.body}\n$$"
        )
        statements.append(
            f"COMMENT ON FUNCTION {function.signature} IS {_literal(function.comment)}"
        )
    return statements


def render_drop() -> list[str]:
    """The statements dropping them again, dependants first."""
    drops = [f"DROP FUNCTION IF EXISTS {f.signature}" for f in reversed(FUNCTIONS)]
    drops += [f"DROP VIEW IF EXISTS {v.name}" for v in reversed(VIEWS)]
    return drops


# Every table of the schema (analysts read them all), in reading order.
TABLES: tuple[Table, ...] = (
    *asset_tables.values(),
    *history_tables.values(),
    crawl_runs,
    crawl_scopes,
)
