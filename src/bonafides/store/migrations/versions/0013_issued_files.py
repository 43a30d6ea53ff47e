"""issued report and certificate PDFs: the SHA-256 of each file handed out

A PDF verifies only if its exact bytes are registered under the document it carries
(issue 13, item 1): the signed data attached to it says nothing about its pages.

Revision ID: 0013_issued_files
Revises: 0012_subject_access
Create Date: 2026-12-06 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0013_issued_files"
down_revision: str | None = "0012_subject_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "issued_files",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("issued_at", bonafides.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_files")),
        sa.UniqueConstraint("sha256", name=op.f("uq_issued_files_sha256")),
    )
    op.create_index(
        op.f("ix_issued_files_document_id"), "issued_files", ["document_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_issued_files_document_id"), table_name="issued_files")
    op.drop_table("issued_files")
