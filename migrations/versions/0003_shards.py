"""Shards: crawl_runs records which shard of a crawl it was, and the group of its crawl.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:24:37.530184
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "crawl_runs",
        sa.Column(
            "shard_index",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="Which shard of the crawl this run was (0 when not sharded).",
        ),
    )
    op.add_column(
        "crawl_runs",
        sa.Column(
            "shard_count",
            sa.Integer(),
            server_default="1",
            nullable=False,
            comment="How many shards the crawl was split into (1 when not sharded).",
        ),
    )
    op.add_column(
        "crawl_runs",
        sa.Column(
            "run_group",
            sa.Text(),
            nullable=True,
            comment="Shared by the shards of one crawl (e.g. the Kubernetes Job's uid).",
        ),
    )
    op.create_index(op.f("ix_crawl_runs_run_group"), "crawl_runs", ["run_group"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_crawl_runs_run_group"), table_name="crawl_runs")
    op.drop_column("crawl_runs", "run_group")
    op.drop_column("crawl_runs", "shard_count")
    op.drop_column("crawl_runs", "shard_index")
