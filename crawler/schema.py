"""The database schema in SQLAlchemy Core: asset tables built from the resource registry, and the
run bookkeeping. Migrations (migrations/versions) create exactly this; a test compares the two."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.types import TypeEngine

from crawler.resources import RESOURCES, FieldType, Resource

__all__ = [
    "RUN_STATUSES",
    "SCOPE_STATUSES",
    "asset_tables",
    "crawl_runs",
    "crawl_scopes",
    "history_tables",
    "metadata",
]

# Constraint and index names follow one convention so migrations can name them predictably.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_CONTENT_HASH = "md5 of raw's canonical jsonb text: when it changes, the asset has a new version."

RUN_STATUSES = ("running", "succeeded", "partial", "failed", "interrupted")
SCOPE_STATUSES = ("succeeded", "failed", "interrupted")

_TYPES: dict[FieldType, TypeEngine[Any]] = {
    FieldType.TEXT: Text(),
    FieldType.TIMESTAMP: TIMESTAMP(timezone=True),
    FieldType.BOOLEAN: Boolean(),
    FieldType.INTEGER: Integer(),
    FieldType.BIGINT: BigInteger(),
    FieldType.FLOAT: Double(),
    FieldType.JSON: JSONB(),
}


def _asset_table(resource: Resource) -> Table:
    link_columns = {link.column for link in resource.links}
    columns: list[Column[Any]] = [
        Column("arn", Text, primary_key=True, comment=f"ARN of the asset ({resource.arn_field})."),
        Column("account_id", Text, nullable=False, comment="AWS account id, from the ARN."),
        Column("region", Text, nullable=False, comment="AWS region, from the ARN."),
        *(
            Column(
                f.column,
                _TYPES[f.type],
                index=f.column in link_columns,
                comment=f"{f.comment} API member {f.source}.".strip(),
            )
            for f in resource.fields
        ),
        Column(
            "raw",
            JSONB,
            nullable=False,
            comment="The item exactly as the API returned it, members newer than the SDK included.",
        ),
        Column("content_hash", Text, nullable=False, comment=_CONTENT_HASH),
        Column(
            "first_seen_at",
            TIMESTAMP(timezone=True),
            nullable=False,
            server_default=text("now()"),
            comment="When a crawl first saw the asset.",
        ),
        Column(
            "deleted_at",
            TIMESTAMP(timezone=True),
            comment="When a successful crawl of its scope no longer saw it; NULL while it exists.",
        ),
    ]
    return Table(
        resource.table,
        metadata,
        *columns,
        Index(f"ix_{resource.table}_account_id_region", "account_id", "region"),
        comment=resource.comment,
    )


asset_tables: dict[str, Table] = {r.slug: _asset_table(r) for r in RESOURCES}


def _history_table(resource: Resource) -> Table:
    asset = asset_tables[resource.slug]
    content = [
        Column(c.name, c.type, nullable=c.nullable, comment=c.comment)
        for c in asset.columns
        if c.name not in ("arn", "first_seen_at", "deleted_at", "content_hash")
    ]
    return Table(
        f"{resource.table}_history",
        metadata,
        Column("arn", Text, primary_key=True, comment="ARN of the asset."),
        Column(
            "valid_from",
            TIMESTAMP(timezone=True),
            primary_key=True,
            comment="When this version was first observed.",
        ),
        Column(
            "valid_to",
            TIMESTAMP(timezone=True),
            comment="When it stopped being current (changed or deleted); NULL while current.",
        ),
        Column(
            "run_id",
            BigInteger,
            ForeignKey("crawl_runs.id", ondelete="SET NULL"),
            comment="The run that observed this version; NULL for versions from before history.",
        ),
        Column("content_hash", Text, nullable=False, comment=_CONTENT_HASH),
        *content,
        # At most one current version per asset.
        Index(
            f"ix_{resource.table}_history_current",
            "arn",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
        Index(f"ix_{resource.table}_history_valid_to", "valid_to"),
        comment=(
            f"Every version of every row of {resource.table} (slowly changing dimension, "
            "type 2): a new version when its content changes, closed when it is deleted."
        ),
    )


history_tables: dict[str, Table] = {r.slug: _history_table(r) for r in RESOURCES}

crawl_runs = Table(
    "crawl_runs",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True, comment="Run id."),
    Column("started_at", TIMESTAMP(timezone=True), nullable=False, comment="When the run began."),
    Column(
        "finished_at", TIMESTAMP(timezone=True), comment="When the run ended; NULL while running."
    ),
    Column(
        "status",
        Text,
        nullable=False,
        comment="running, succeeded, partial (some scopes failed), failed or interrupted.",
    ),
    Column("scopes_total", Integer, nullable=False, server_default="0", comment="Scopes planned."),
    Column("scopes_succeeded", Integer, nullable=False, server_default="0", comment="Succeeded."),
    Column("scopes_failed", Integer, nullable=False, server_default="0", comment="Failed."),
    Column("items", BigInteger, nullable=False, server_default="0", comment="Items listed."),
    Column("inserted", BigInteger, nullable=False, server_default="0", comment="New asset rows."),
    Column("updated", BigInteger, nullable=False, server_default="0", comment="Changed rows."),
    Column("deleted", BigInteger, nullable=False, server_default="0", comment="Marked deleted."),
    Column("retries", BigInteger, nullable=False, server_default="0", comment="Calls retried."),
    Column("parameters", JSONB, comment="Accounts, regions and resources asked for."),
    Column("tool_version", Text, comment="bedrock-inventory version that ran."),
    Column(
        "shard_index",
        Integer,
        nullable=False,
        server_default="0",
        comment="Which shard of the crawl this run was (0 when not sharded).",
    ),
    Column(
        "shard_count",
        Integer,
        nullable=False,
        server_default="1",
        comment="How many shards the crawl was split into (1 when not sharded).",
    ),
    Column(
        "run_group",
        Text,
        index=True,
        comment="Shared by the shards of one crawl (e.g. the Kubernetes Job's uid).",
    ),
    CheckConstraint(
        "status IN ({})".format(", ".join(f"'{s}'" for s in RUN_STATUSES)), name="status"
    ),
    comment="One row per crawl run.",
)

crawl_scopes = Table(
    "crawl_scopes",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True, comment="Scope row id."),
    Column(
        "run_id",
        BigInteger,
        ForeignKey("crawl_runs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
        comment="The run this scope belonged to.",
    ),
    Column("account_id", Text, nullable=False, comment="AWS account id."),
    Column("region", Text, nullable=False, comment="AWS region."),
    Column("resource", Text, nullable=False, comment="Resource slug, e.g. custom-models."),
    Column("status", Text, nullable=False, comment="succeeded, failed or interrupted."),
    Column("error_code", Text, comment="AWS error code (or ours) when the scope failed."),
    Column("error_message", Text, comment="The error's message, secrets removed."),
    Column("items", Integer, nullable=False, server_default="0", comment="Items listed."),
    Column("pages", Integer, nullable=False, server_default="0", comment="Pages fetched."),
    Column("retries", Integer, nullable=False, server_default="0", comment="Calls retried."),
    Column("started_at", TIMESTAMP(timezone=True), nullable=False, comment="Scope start."),
    Column("finished_at", TIMESTAMP(timezone=True), nullable=False, comment="Scope end."),
    CheckConstraint(
        "status IN ({})".format(", ".join(f"'{s}'" for s in SCOPE_STATUSES)), name="status"
    ),
    # Serves the last successful crawl of a scope, from which an asset's last_seen_at is derived.
    Index(
        "ix_crawl_scopes_scope_finished",
        "account_id",
        "region",
        "resource",
        "finished_at",
        postgresql_where=text("status = 'succeeded'"),
    ),
    comment="One row per finished (account, region, resource) scope of a run.",
)
