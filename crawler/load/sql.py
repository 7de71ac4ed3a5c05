"""SQL for the bulk path, generated once per resource from the Core tables: a temp staging table
filled by COPY, one set-based upsert that leaves unchanged rows alone, and the reconcile that
marks what a successful scope no longer saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ClauseElement,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    null,
    select,
    table,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP, insert
from sqlalchemy.types import Text

from crawler.resources import Resource
from crawler.schema import asset_tables

__all__ = ["Compiled", "ResourceSql", "compile_asyncpg", "resource_sql"]

_DIALECT = postgresql.dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement in asyncpg's `$n` form, with the names of its parameters in order."""

    sql: str
    params: tuple[str, ...]

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [values[name] for name in self.params]


def compile_asyncpg(stmt: ClauseElement) -> Compiled:
    compiled = stmt.compile(dialect=_DIALECT)
    order = getattr(compiled, "positiontup", None) or ()
    return Compiled(str(compiled), tuple(order))


@dataclass(frozen=True, slots=True)
class ResourceSql:
    stage_table: str
    create_stage: str
    upsert: str  # returns one row: (inserted, updated)
    reconcile: Compiled  # params: account_id, region, seen (text[]), at; returns the count


def resource_sql(resource: Resource) -> ResourceSql:
    target = asset_tables[resource.slug]
    columns = resource.columns
    stage_name = f"stage_{resource.table}"
    stage = table(stage_name, *(column(c) for c in columns))

    create_stage = (
        f"CREATE TEMP TABLE IF NOT EXISTS {stage_name} ON COMMIT DELETE ROWS AS "
        f"SELECT {', '.join(columns)} FROM {resource.table} WITH NO DATA"
    )

    from_stage = insert(target).from_select(list(columns), select(*(stage.c[c] for c in columns)))
    excluded = from_stage.excluded
    changed = [c for c in columns if c != "arn"]
    stmt: Any = from_stage.on_conflict_do_update(
        index_elements=[target.c.arn],
        set_={**{c: excluded[c] for c in changed}, "deleted_at": null()},
        # Compare before writing: an unchanged row is not touched at all (no new tuple, no WAL),
        # so re-crawling unchanged data costs a COPY and an index probe per row.
        where=tuple_(*(target.c[c] for c in changed), target.c.deleted_at).is_distinct_from(
            tuple_(*(excluded[c] for c in changed), null())
        ),
    ).returning(literal_column("(xmax = 0)").label("inserted"))
    upsert_sql = str(stmt.compile(dialect=_DIALECT))
    upsert = (
        f"WITH written AS ({upsert_sql}) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
        "FROM written"
    )

    seen = (
        func.unnest(bindparam("seen", type_=ARRAY(Text)))
        .table_valued("arn")
        .render_derived(name="seen")
    )
    gone = (
        update(target)
        .where(
            and_(
                target.c.account_id == bindparam("account_id"),
                target.c.region == bindparam("region"),
                target.c.deleted_at.is_(None),
                # NOT EXISTS over unnest plans as a hash anti-join: linear in the scope's size,
                # where `arn <> ALL(array)` would be quadratic.
                ~exists().where(seen.c.arn == target.c.arn),
            )
        )
        .values(deleted_at=bindparam("at", type_=TIMESTAMP(timezone=True)))
        .returning(target.c.arn)
    )
    gone_sql = compile_asyncpg(gone)
    reconcile = Compiled(
        f"WITH gone AS ({gone_sql.sql}) SELECT count(*) FROM gone", gone_sql.params
    )
    return ResourceSql(stage_name, create_stage, upsert, reconcile)
