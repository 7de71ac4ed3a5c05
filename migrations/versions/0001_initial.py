"""Initial schema: the four asset tables, run bookkeeping, model_lineage and the
<table>_with_last_seen views.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 18:37:19.188266
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ASSET_TABLES = {
    "custom_models": "custom-models",
    "model_customization_jobs": "customization-jobs",
    "model_copy_jobs": "copy-jobs",
    "imported_models": "imported-models",
}


def _last_seen_view(table: str, slug: str) -> str:
    # last_seen_at is derived, never written per crawl: an asset that exists was seen by every
    # successful crawl of its scope; a deleted one, by the successful crawls before its deletion.
    return f"""
CREATE VIEW {table}_with_last_seen AS
SELECT t.*, GREATEST(seen.last_success, t.first_seen_at) AS last_seen_at
FROM {table} AS t
LEFT JOIN LATERAL (
    SELECT max(s.finished_at) AS last_success
    FROM crawl_scopes AS s
    WHERE s.account_id = t.account_id AND s.region = t.region
      AND s.resource = '{slug}' AND s.status = 'succeeded'
      AND (t.deleted_at IS NULL OR s.finished_at < t.deleted_at)
) AS seen ON true
"""


MODEL_LINEAGE = """
CREATE VIEW model_lineage AS
WITH models AS (
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
) AS copies ON true
"""

VIEW_COMMENTS = {
    "model_lineage": "For each custom or imported model: the job that made it (customization, "
    "import or copy) and every copy job it took part in, as source or target.",
}


def upgrade() -> None:
    op.create_table(
        "crawl_runs",
        sa.Column(
            "id", sa.BigInteger(), sa.Identity(always=False), nullable=False, comment="Run id."
        ),
        sa.Column(
            "started_at",
            postgresql.TIMESTAMP(timezone=True),
            nullable=False,
            comment="When the run began.",
        ),
        sa.Column(
            "finished_at",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the run ended; NULL while running.",
        ),
        sa.Column(
            "status",
            sa.Text(),
            nullable=False,
            comment="running, succeeded, partial (some scopes failed), failed or interrupted.",
        ),
        sa.Column(
            "scopes_total",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="Scopes planned.",
        ),
        sa.Column(
            "scopes_succeeded",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="Succeeded.",
        ),
        sa.Column(
            "scopes_failed", sa.Integer(), server_default="0", nullable=False, comment="Failed."
        ),
        sa.Column(
            "items", sa.BigInteger(), server_default="0", nullable=False, comment="Items listed."
        ),
        sa.Column(
            "inserted",
            sa.BigInteger(),
            server_default="0",
            nullable=False,
            comment="New asset rows.",
        ),
        sa.Column(
            "updated", sa.BigInteger(), server_default="0", nullable=False, comment="Changed rows."
        ),
        sa.Column(
            "deleted",
            sa.BigInteger(),
            server_default="0",
            nullable=False,
            comment="Marked deleted.",
        ),
        sa.Column(
            "retries", sa.BigInteger(), server_default="0", nullable=False, comment="Calls retried."
        ),
        sa.Column(
            "parameters",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Accounts, regions and resources asked for.",
        ),
        sa.Column(
            "tool_version", sa.Text(), nullable=True, comment="bedrock-inventory version that ran."
        ),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'partial', 'failed', 'interrupted')",
            name=op.f("ck_crawl_runs_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
        comment="One row per crawl run.",
    )
    op.create_table(
        "custom_models",
        sa.Column("arn", sa.Text(), nullable=False, comment="ARN of the asset (modelArn)."),
        sa.Column("account_id", sa.Text(), nullable=False, comment="AWS account id, from the ARN."),
        sa.Column("region", sa.Text(), nullable=False, comment="AWS region, from the ARN."),
        sa.Column(
            "model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the custom model. API member modelName.",
        ),
        sa.Column(
            "creation_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the model was created. API member creationTime.",
        ),
        sa.Column(
            "base_model_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the model it was customised from. API member baseModelArn.",
        ),
        sa.Column(
            "base_model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the base model. API member baseModelName.",
        ),
        sa.Column(
            "customization_type",
            sa.Text(),
            nullable=True,
            comment="FINE_TUNING, DISTILLATION, IMPORTED, ... API member customizationType.",
        ),
        sa.Column(
            "owner_account_id",
            sa.Text(),
            nullable=True,
            comment="Account that owns the model. API member ownerAccountId.",
        ),
        sa.Column(
            "model_status",
            sa.Text(),
            nullable=True,
            comment="Active, Creating or Failed. API member modelStatus.",
        ),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="The item exactly as the API returned it, members newer than the SDK included.",
        ),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When a crawl first saw the asset.",
        ),
        sa.Column(
            "deleted_at",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When a successful crawl of its scope no longer saw it; NULL while it exists.",
        ),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_custom_models")),
        comment="Custom models (fine-tuned, continued pre-training, distilled, copied) per account.",
    )
    op.create_index(
        "ix_custom_models_account_id_region",
        "custom_models",
        ["account_id", "region"],
        unique=False,
    )
    op.create_index(
        op.f("ix_custom_models_base_model_arn"), "custom_models", ["base_model_arn"], unique=False
    )
    op.create_table(
        "imported_models",
        sa.Column("arn", sa.Text(), nullable=False, comment="ARN of the asset (modelArn)."),
        sa.Column("account_id", sa.Text(), nullable=False, comment="AWS account id, from the ARN."),
        sa.Column("region", sa.Text(), nullable=False, comment="AWS region, from the ARN."),
        sa.Column(
            "model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the imported model. API member modelName.",
        ),
        sa.Column(
            "creation_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the model was imported. API member creationTime.",
        ),
        sa.Column(
            "instruct_supported",
            sa.Boolean(),
            nullable=True,
            comment="Whether it supports instructions. API member instructSupported.",
        ),
        sa.Column(
            "model_architecture",
            sa.Text(),
            nullable=True,
            comment="Architecture of the model, e.g. llama3. API member modelArchitecture.",
        ),
        sa.Column(
            "job_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the import job that created it. API member jobArn.",
        ),
        sa.Column(
            "job_name",
            sa.Text(),
            nullable=True,
            comment="Name of the import job that created it. API member jobName.",
        ),
        sa.Column(
            "model_data_source",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Where the weights came from (S3). API member modelDataSource.",
        ),
        sa.Column(
            "model_kms_key_arn",
            sa.Text(),
            nullable=True,
            comment="KMS key encrypting the model. API member modelKmsKeyArn.",
        ),
        sa.Column(
            "custom_model_units",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Custom model units per model copy. API member customModelUnits.",
        ),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="The item exactly as the API returned it, members newer than the SDK included.",
        ),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When a crawl first saw the asset.",
        ),
        sa.Column(
            "deleted_at",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When a successful crawl of its scope no longer saw it; NULL while it exists.",
        ),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_imported_models")),
        comment="Models imported into Bedrock (custom model import), with their import details.",
    )
    op.create_index(
        "ix_imported_models_account_id_region",
        "imported_models",
        ["account_id", "region"],
        unique=False,
    )
    op.create_index(
        op.f("ix_imported_models_job_arn"), "imported_models", ["job_arn"], unique=False
    )
    op.create_table(
        "model_copy_jobs",
        sa.Column("arn", sa.Text(), nullable=False, comment="ARN of the asset (jobArn)."),
        sa.Column("account_id", sa.Text(), nullable=False, comment="AWS account id, from the ARN."),
        sa.Column("region", sa.Text(), nullable=False, comment="AWS region, from the ARN."),
        sa.Column(
            "status",
            sa.Text(),
            nullable=True,
            comment="InProgress, Completed or Failed. API member status.",
        ),
        sa.Column(
            "creation_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the copy started. API member creationTime.",
        ),
        sa.Column(
            "source_account_id",
            sa.Text(),
            nullable=True,
            comment="Account that owns the source model. API member sourceAccountId.",
        ),
        sa.Column(
            "source_model_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the model copied. API member sourceModelArn.",
        ),
        sa.Column(
            "source_model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the model copied. API member sourceModelName.",
        ),
        sa.Column(
            "target_model_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the copy. API member targetModelArn.",
        ),
        sa.Column(
            "target_model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the copy. API member targetModelName.",
        ),
        sa.Column(
            "target_model_kms_key_arn",
            sa.Text(),
            nullable=True,
            comment="KMS key encrypting the copy. API member targetModelKmsKeyArn.",
        ),
        sa.Column(
            "target_model_tags",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Tags given to the copy. API member targetModelTags.",
        ),
        sa.Column(
            "failure_message",
            sa.Text(),
            nullable=True,
            comment="Why the copy failed. API member failureMessage.",
        ),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="The item exactly as the API returned it, members newer than the SDK included.",
        ),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When a crawl first saw the asset.",
        ),
        sa.Column(
            "deleted_at",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When a successful crawl of its scope no longer saw it; NULL while it exists.",
        ),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_model_copy_jobs")),
        comment="Jobs that copied a model across regions or accounts, listed in the target account.",
    )
    op.create_index(
        "ix_model_copy_jobs_account_id_region",
        "model_copy_jobs",
        ["account_id", "region"],
        unique=False,
    )
    op.create_index(
        op.f("ix_model_copy_jobs_source_model_arn"),
        "model_copy_jobs",
        ["source_model_arn"],
        unique=False,
    )
    op.create_index(
        op.f("ix_model_copy_jobs_target_model_arn"),
        "model_copy_jobs",
        ["target_model_arn"],
        unique=False,
    )
    op.create_table(
        "model_customization_jobs",
        sa.Column("arn", sa.Text(), nullable=False, comment="ARN of the asset (jobArn)."),
        sa.Column("account_id", sa.Text(), nullable=False, comment="AWS account id, from the ARN."),
        sa.Column("region", sa.Text(), nullable=False, comment="AWS region, from the ARN."),
        sa.Column(
            "job_name", sa.Text(), nullable=True, comment="Name of the job. API member jobName."
        ),
        sa.Column(
            "status",
            sa.Text(),
            nullable=True,
            comment="InProgress, Completed, Failed, Stopping or Stopped. API member status.",
        ),
        sa.Column(
            "status_details",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Validation, data processing and training. API member statusDetails.",
        ),
        sa.Column(
            "creation_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the job was created. API member creationTime.",
        ),
        sa.Column(
            "last_modified_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the job last changed. API member lastModifiedTime.",
        ),
        sa.Column(
            "end_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the job ended. API member endTime.",
        ),
        sa.Column(
            "base_model_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the model being customised. API member baseModelArn.",
        ),
        sa.Column(
            "custom_model_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the custom model the job produced. API member customModelArn.",
        ),
        sa.Column(
            "custom_model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the custom model the job produced. API member customModelName.",
        ),
        sa.Column(
            "customization_type",
            sa.Text(),
            nullable=True,
            comment="FINE_TUNING, DISTILLATION, IMPORTED, ... API member customizationType.",
        ),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="The item exactly as the API returned it, members newer than the SDK included.",
        ),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When a crawl first saw the asset.",
        ),
        sa.Column(
            "deleted_at",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When a successful crawl of its scope no longer saw it; NULL while it exists.",
        ),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_model_customization_jobs")),
        comment="Fine-tuning, continued pre-training and distillation jobs, and the models they made.",
    )
    op.create_index(
        "ix_model_customization_jobs_account_id_region",
        "model_customization_jobs",
        ["account_id", "region"],
        unique=False,
    )
    op.create_index(
        op.f("ix_model_customization_jobs_base_model_arn"),
        "model_customization_jobs",
        ["base_model_arn"],
        unique=False,
    )
    op.create_index(
        op.f("ix_model_customization_jobs_custom_model_arn"),
        "model_customization_jobs",
        ["custom_model_arn"],
        unique=False,
    )
    op.create_table(
        "crawl_scopes",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Scope row id.",
        ),
        sa.Column(
            "run_id", sa.BigInteger(), nullable=False, comment="The run this scope belonged to."
        ),
        sa.Column("account_id", sa.Text(), nullable=False, comment="AWS account id."),
        sa.Column("region", sa.Text(), nullable=False, comment="AWS region."),
        sa.Column(
            "resource", sa.Text(), nullable=False, comment="Resource slug, e.g. custom-models."
        ),
        sa.Column("status", sa.Text(), nullable=False, comment="succeeded, failed or interrupted."),
        sa.Column(
            "error_code",
            sa.Text(),
            nullable=True,
            comment="AWS error code (or ours) when the scope failed.",
        ),
        sa.Column(
            "error_message",
            sa.Text(),
            nullable=True,
            comment="The error's message, secrets removed.",
        ),
        sa.Column(
            "items", sa.Integer(), server_default="0", nullable=False, comment="Items listed."
        ),
        sa.Column(
            "pages", sa.Integer(), server_default="0", nullable=False, comment="Pages fetched."
        ),
        sa.Column(
            "retries", sa.Integer(), server_default="0", nullable=False, comment="Calls retried."
        ),
        sa.Column(
            "started_at",
            postgresql.TIMESTAMP(timezone=True),
            nullable=False,
            comment="Scope start.",
        ),
        sa.Column(
            "finished_at", postgresql.TIMESTAMP(timezone=True), nullable=False, comment="Scope end."
        ),
        sa.CheckConstraint(
            "status IN ('succeeded', 'failed', 'interrupted')", name=op.f("ck_crawl_scopes_status")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_crawl_scopes_run_id_crawl_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_scopes")),
        comment="One row per finished (account, region, resource) scope of a run.",
    )
    op.create_index(op.f("ix_crawl_scopes_run_id"), "crawl_scopes", ["run_id"], unique=False)
    op.create_index(
        "ix_crawl_scopes_scope_finished",
        "crawl_scopes",
        ["account_id", "region", "resource", "finished_at"],
        unique=False,
        postgresql_where=sa.text("status = 'succeeded'"),
    )

    for table, slug in ASSET_TABLES.items():
        op.execute(_last_seen_view(table, slug))
        op.execute(
            f"COMMENT ON VIEW {table}_with_last_seen IS 'Every row of {table} with last_seen_at: "
            "the end of the last successful crawl of its scope while it existed.'"
        )
    op.execute(MODEL_LINEAGE)
    for view, comment in VIEW_COMMENTS.items():
        op.execute(f"COMMENT ON VIEW {view} IS '{comment}'")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS model_lineage")
    for table in ASSET_TABLES:
        op.execute(f"DROP VIEW IF EXISTS {table}_with_last_seen")
    op.drop_index(
        "ix_crawl_scopes_scope_finished",
        table_name="crawl_scopes",
        postgresql_where=sa.text("status = 'succeeded'"),
    )
    op.drop_index(op.f("ix_crawl_scopes_run_id"), table_name="crawl_scopes")
    op.drop_table("crawl_scopes")
    op.drop_index(
        op.f("ix_model_customization_jobs_custom_model_arn"), table_name="model_customization_jobs"
    )
    op.drop_index(
        op.f("ix_model_customization_jobs_base_model_arn"), table_name="model_customization_jobs"
    )
    op.drop_index(
        "ix_model_customization_jobs_account_id_region", table_name="model_customization_jobs"
    )
    op.drop_table("model_customization_jobs")
    op.drop_index(op.f("ix_model_copy_jobs_target_model_arn"), table_name="model_copy_jobs")
    op.drop_index(op.f("ix_model_copy_jobs_source_model_arn"), table_name="model_copy_jobs")
    op.drop_index("ix_model_copy_jobs_account_id_region", table_name="model_copy_jobs")
    op.drop_table("model_copy_jobs")
    op.drop_index(op.f("ix_imported_models_job_arn"), table_name="imported_models")
    op.drop_index("ix_imported_models_account_id_region", table_name="imported_models")
    op.drop_table("imported_models")
    op.drop_index(op.f("ix_custom_models_base_model_arn"), table_name="custom_models")
    op.drop_index("ix_custom_models_account_id_region", table_name="custom_models")
    op.drop_table("custom_models")
    op.drop_table("crawl_runs")
