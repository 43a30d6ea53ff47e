"""subjects concerned by an audit event that concerns many: batch screenings, amendments

A batch screening or a department's amendments left one audit event with no subject, so
the subjects never saw them in their access logs. One event per subject would put a
million hashed appends through the chain's single head; instead the batch's one event is
linked to each subject by a row here, written set-based in the same transaction (about
2 s per million subjects on either store, measured on the development machine).

Revision ID: 0012_subject_access
Revises: 0011_short_name_grams
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_subject_access"
down_revision: str | None = "0011_short_name_grams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subject_access",
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("event_id", _ID, nullable=False),
        sa.Column("object_ref", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", "event_id", name=op.f("pk_subject_access")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("subject_access")
