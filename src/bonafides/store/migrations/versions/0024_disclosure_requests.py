"""disclosure on application (依申请公开) and credit commitments on application

A person or company asks a department for information the platform holds; the department
grants, partly grants or refuses it within 20 working days, with its reason and provision
(issue 20, item 6). A commitment signed when applying for a licence names its template,
department, application and term, and the department records whether it was kept
(item 5): nullable columns, so a repair's commitment is unchanged.

Revision ID: 0024_disclosure_requests
Revises: 0023_sync
Create Date: 2026-12-06 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0024_disclosure_requests"
down_revision: str | None = "0023_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = bonafides.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "disclosure_requests",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("account_id", _BIG, nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("asked", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("provision", sa.String(length=300), nullable=True),
        sa.Column("decided_at", _AT, nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("escalated_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_disclosure_requests_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["department"],
            ["departments.code"],
            name=op.f("fk_disclosure_requests_department_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_requests")),
    )
    op.create_index(
        op.f("ix_disclosure_requests_account_id"), "disclosure_requests", ["account_id"]
    )
    op.create_index(
        op.f("ix_disclosure_requests_department"), "disclosure_requests", ["department"]
    )
    op.create_index(
        "ix_disclosure_requests_status_due_on", "disclosure_requests", ["status", "due_on"]
    )
    with op.batch_alter_table("commitments") as batch:
        batch.add_column(sa.Column("template", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("department", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("licence_ref", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("outcome_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("recorded_at", _AT, nullable=True))
        batch.add_column(sa.Column("recorded_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("record_id", _BIG, nullable=True))
        batch.create_index(op.f("ix_commitments_department"), ["department"])


def downgrade() -> None:
    with op.batch_alter_table("commitments") as batch:
        batch.drop_index(op.f("ix_commitments_department"))
        for name in (
            "record_id",
            "recorded_by",
            "recorded_at",
            "outcome_note",
            "outcome",
            "due_on",
            "licence_ref",
            "department",
            "template",
        ):
            batch.drop_column(name)
    op.drop_table("disclosure_requests")
