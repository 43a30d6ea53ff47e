"""the register of subjects: what the register says about each subject, and its changes

``bonafides register load`` (issue 15, item 1) keeps one ``subject_register`` row per
registered subject (status, entity type, representative, legacy codes, indexed for the
matcher's look-ups by registration number and organisation code) and appends a
``subject_events`` row for every change it reports: renamed, deregistered, revoked, ...

Revision ID: 0020_register
Revises: 0019_consumers
Create Date: 2026-12-06 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bonafides.store.types

revision: str = "0020_register"
down_revision: str | None = "0019_consumers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = bonafides.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subject_register",
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_raw", sa.String(length=100), nullable=True),
        sa.Column("entity_type", sa.String(length=100), nullable=True),
        sa.Column("legal_rep", sa.String(length=100), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("authority", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("reg_no", sa.String(length=15), nullable=True),
        sa.Column("org_code", sa.String(length=9), nullable=True),
        sa.Column("merged_into", sa.String(length=18), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_register_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_register")),
    )
    op.create_index(
        op.f("ix_subject_register_reg_no"), "subject_register", ["reg_no"], unique=False
    )
    op.create_index(
        op.f("ix_subject_register_org_code"), "subject_register", ["org_code"], unique=False
    )
    op.create_table(
        "subject_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("before", _JSON, nullable=False),
        sa.Column("after", _JSON, nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_events_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_events")),
        sa.UniqueConstraint(
            "subject_id", "version", name=op.f("uq_subject_events_subject_id_version")
        ),
    )


def downgrade() -> None:
    op.drop_table("subject_events")
    op.drop_index(op.f("ix_subject_register_org_code"), table_name="subject_register")
    op.drop_index(op.f("ix_subject_register_reg_no"), table_name="subject_register")
    op.drop_table("subject_register")
