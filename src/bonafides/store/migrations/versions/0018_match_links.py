"""records linked by name matching, and the candidates of the names left for review

A row without a code that bonafides-names-v1 links to a subject becomes a record of that
subject; ``match_links`` says so, with the algorithm, its score and its explanation, so
the link can be reproduced and judged later (issue 15, items 2 and 5). A row left for
review keeps its candidates and the algorithm that proposed them.

Revision ID: 0018_match_links
Revises: 0017_reading_alerts
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0018_match_links"
down_revision: str | None = "0017_reading_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "match_links",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("record_id", _BIG_ID, nullable=False),
        sa.Column("subject_id", _BIG_ID, nullable=False),
        sa.Column("batch_id", _BIG_ID, nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("explanation", bonafides.store.types.Json, nullable=False),
        sa.Column("linked_at", bonafides.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_match_links_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["ingest_batches.id"], name=op.f("fk_match_links_batch_id_ingest_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_links")),
    )
    op.create_index(op.f("ix_match_links_record_id"), "match_links", ["record_id"], unique=False)
    op.create_index(op.f("ix_match_links_subject_id"), "match_links", ["subject_id"], unique=False)
    op.add_column(
        "review_queue", sa.Column("candidates", bonafides.store.types.Json, nullable=True)
    )
    op.add_column("review_queue", sa.Column("algorithm", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_queue") as batch:
        batch.drop_column("algorithm")
        batch.drop_column("candidates")
    op.drop_index(op.f("ix_match_links_subject_id"), table_name="match_links")
    op.drop_index(op.f("ix_match_links_record_id"), table_name="match_links")
    op.drop_table("match_links")
