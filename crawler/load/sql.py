"""SQL for the bulk path, generated once per resource from the Core tables: a temp staging table
filled by COPY, one set-based upsert that leaves unchanged rows alone, and the reconcile that
marks what a successful scope no longer saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ClauseElement,
    and_,
    bindparam,
    cast,
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
from crawler.schema import asset_tables, history_tables

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
    changed_table: str
    create_stage: tuple[str, ...]
    upsert: str  # fills changed_table with (arn, inserted) of every row written
    close_versions: str  # closes the current history version of every changed row
    open_versions: Compiled  # params: run_id; opens a version for every changed row
    count_changed: str  # returns one row: (inserted, updated)
    reconcile: Compiled  # params: account_id, region, seen (text[]), at; returns the count


def _content_hash(raw: Any) -> Any:
    # jsonb's text form is canonical (keys ordered, whitespace fixed), so equal content always
    # hashes alike. md5 detects change here; nothing relies on it being hard to collide.
    return func.md5(cast(raw, Text))


def resource_sql(resource: Resource) -> ResourceSql:
    target = asset_tables[resource.slug]
    history = history_tables[resource.slug]
    columns = resource.columns
    stage_name = f"stage_{resource.table}"
    changed_name = f"changed_{resource.table}"
    stage = table(stage_name, *(column(c) for c in columns))
    changed_rows = table(changed_name, column("arn"), column("inserted"))

    create_stage = (
        f"CREATE TEMP TABLE IF NOT EXISTS {stage_name} ON COMMIT DELETE ROWS AS "
        f"SELECT {', '.join(columns)} FROM {resource.table} WITH NO DATA",
        f"CREATE TEMP TABLE IF NOT EXISTS {changed_name} (arn text PRIMARY KEY, inserted boolean) "
        "ON COMMIT DELETE ROWS",
    )

    written = [*columns, "content_hash"]
    from_stage = insert(target).from_select(
        written, select(*(stage.c[c] for c in columns), _content_hash(stage.c.raw))
    )
    excluded = from_stage.excluded
    stmt: Any = from_stage.on_conflict_do_update(
        index_elements=[target.c.arn],
        set_={**{c: excluded[c] for c in written if c != "arn"}, "deleted_at": null()},
        # Compare before writing: an unchanged row is not touched at all (no new tuple, no WAL),
        # so re-crawling unchanged data costs a COPY and an index probe per row. The typed
        # columns are a pure function of raw, so its hash decides.
        where=tuple_(target.c.content_hash, target.c.deleted_at).is_distinct_from(
            tuple_(excluded.content_hash, null())
        ),
    ).returning(target.c.arn, literal_column("(xmax = 0)").label("inserted"))
    upsert = (
        f"WITH written AS ({stmt.compile(dialect=_DIALECT)}) "
        f"INSERT INTO {changed_name} (arn, inserted) SELECT arn, inserted FROM written"
    )

    # Versions change at the transaction's time: the close and the open share it exactly.
    close_versions = str(
        update(history)
        .where(history.c.arn == changed_rows.c.arn, history.c.valid_to.is_(None))
        .values(valid_to=func.now())
        .compile(dialect=_DIALECT)
    )
    content = [
        c.name
        for c in history.columns
        if c.name not in ("arn", "valid_from", "valid_to", "run_id", "content_hash")
    ]
    open_versions = compile_asyncpg(
        insert(history).from_select(
            ["arn", "valid_from", "run_id", "content_hash", *content],
            select(
                stage.c.arn,
                func.now(),
                bindparam("run_id", type_=BigInteger),
                _content_hash(stage.c.raw),
                *(stage.c[c] for c in content),
            ).join_from(stage, changed_rows, stage.c.arn == changed_rows.c.arn),
        )
    )
    count_changed = (
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
        f"FROM {changed_name}"
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
    # The same statement closes the history of what went: both tables agree at every commit.
    closed = (
        f"UPDATE {history.name} SET valid_to = $1 FROM gone "
        f"WHERE {history.name}.arn = gone.arn AND {history.name}.valid_to IS NULL"
    )
    assert gone_sql.params[0] == "at", gone_sql.params
    reconcile = Compiled(
        f"WITH gone AS ({gone_sql.sql}), closed AS ({closed}) SELECT count(*) FROM gone",
        gone_sql.params,
    )
    return ResourceSql(
        stage_name,
        changed_name,
        create_stage,
        upsert,
        close_versions,
        open_versions,
        count_changed,
        reconcile,
    )
