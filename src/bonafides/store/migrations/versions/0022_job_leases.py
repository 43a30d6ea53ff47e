"""scheduled jobs: a lease per job, and a row per run

``bonafides worker`` runs the platform's timed jobs (escalation, retention, mail, audit
checkpoints). Any number of workers may run; a run first takes its job's row in
``job_leases`` with one conditional UPDATE, so two workers never run the same job at
once, and each run is kept in ``job_runs`` with its start, end, outcome and counts.

Revision ID: 0022_job_leases
Revises: 0021_feed
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0022_job_leases"
down_revision: str | None = "0021_feed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = bonafides.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column("run_id", _BIG, nullable=True),
        sa.Column("taken_at", _TIME, nullable=True),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("due_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("counts", bonafides.store.types.Json, nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index(op.f("ix_job_runs_name_id"), "job_runs", ["name", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_job_runs_name_id"), table_name="job_runs")
    op.drop_table("job_runs")
    op.drop_table("job_leases")
