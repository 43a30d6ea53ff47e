"""the review desk's judgements, and merge and split of subjects

``review_judgements`` keeps each judgement of a review item (accepted, rejected, unsure)
with who, when and why, keyed by the normalised name and the candidate's code so that a
rejected pair is never proposed again. ``subject_merges`` and ``subject_merge_records``
keep each merger of one subject into another and the records it moved, so a split
restores exactly what was there (issue 15, item 4).

Revision ID: 0025_review_desk
Revises: 0024_disclosure_requests
Create Date: 2026-12-06 10:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0025_review_desk"
down_revision: str | None = "0024_disclosure_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = bonafides.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_judgements",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("review_id", _BIG, nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("code", sa.String(length=18), nullable=True),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("judged_at", _AT, nullable=False),
        sa.Column("record_id", _BIG, nullable=True),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["review_queue.id"],
            name=op.f("fk_review_judgements_review_id_review_queue"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_judgements")),
    )
    op.create_index(
        op.f("ix_review_judgements_review_id"), "review_judgements", ["review_id"], unique=False
    )
    op.create_index("ix_review_judgements_name_key_code", "review_judgements", ["name_key", "code"])
    op.create_table(
        "subject_merges",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("from_subject_id", _BIG, nullable=False),
        sa.Column("into_subject_id", _BIG, nullable=False),
        sa.Column("status_before", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("merged_by", sa.String(length=64), nullable=False),
        sa.Column("merged_at", _AT, nullable=False),
        sa.Column("split_by", sa.String(length=64), nullable=True),
        sa.Column("split_at", _AT, nullable=True),
        sa.Column("split_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_subject_id"],
            ["subjects.id"],
            name=op.f("fk_subject_merges_from_subject_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["into_subject_id"],
            ["subjects.id"],
            name=op.f("fk_subject_merges_into_subject_id_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_merges")),
    )
    op.create_index(
        op.f("ix_subject_merges_from_subject_id"),
        "subject_merges",
        ["from_subject_id"],
        unique=False,
    )
    op.create_table(
        "subject_merge_records",
        sa.Column("merge_id", _BIG, autoincrement=False, nullable=False),
        sa.Column("record_id", _BIG, autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["merge_id"],
            ["subject_merges.id"],
            name=op.f("fk_subject_merge_records_merge_id_subject_merges"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_subject_merge_records_record_id_records"),
        ),
        sa.PrimaryKeyConstraint("merge_id", "record_id", name=op.f("pk_subject_merge_records")),
    )


def downgrade() -> None:
    op.drop_table("subject_merge_records")
    op.drop_index(op.f("ix_subject_merges_from_subject_id"), table_name="subject_merges")
    op.drop_table("subject_merges")
    op.drop_index("ix_review_judgements_name_key_code", table_name="review_judgements")
    op.drop_index(op.f("ix_review_judgements_review_id"), table_name="review_judgements")
    op.drop_table("review_judgements")
