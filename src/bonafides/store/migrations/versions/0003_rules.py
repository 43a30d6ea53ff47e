"""list entries, grades, rule runs and check certificates

Revision ID: 0003_rules
Revises: 0002
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bonafides.store.types

revision: str = "0003_rules"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _stamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, bonafides.store.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "list_entries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("list_code", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("trigger_record_id", _ID, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("until_basis", sa.String(length=16), nullable=False),
        sa.Column("record_ids", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("evaluator", sa.String(length=16), nullable=False),
        sa.Column("rules_version", sa.String(length=32), nullable=False),
        _stamp("created_at"),
        _stamp("superseded_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_list_entries_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entries")),
    )
    with op.batch_alter_table("list_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_list_entries_list_code_status", ["list_code", "status", "valid_from"], unique=False
        )
        batch_op.create_index(
            "ix_list_entries_subject_id_status", ["subject_id", "status"], unique=False
        )

    op.create_table(
        "grades",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("scheme", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("record_ids", sa.Text(), nullable=False),
        sa.Column("evaluator", sa.String(length=16), nullable=False),
        sa.Column("rules_version", sa.String(length=32), nullable=False),
        _stamp("computed_at"),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_grades_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grades")),
        sa.UniqueConstraint(
            "subject_id", "scheme", "as_of", name=op.f("uq_grades_subject_id_scheme_as_of")
        ),
    )

    op.create_table(
        "rule_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("evaluator", sa.String(length=16), nullable=False),
        sa.Column("rules_version", sa.String(length=32), nullable=False),
        sa.Column("rules_digest", sa.String(length=64), nullable=False),
        _stamp("started_at"),
        _stamp("finished_at"),
        sa.Column("detail", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_runs")),
    )

    op.create_table(
        "checks",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("cert_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("inquirer", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("subject_id", _ID, nullable=True),
        sa.Column("lines", sa.Integer(), nullable=True),
        sa.Column("answer", _json(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("evaluator", sa.String(length=16), nullable=False),
        sa.Column("rules_version", sa.String(length=32), nullable=False),
        sa.Column("rules_digest", sa.String(length=64), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checks")),
        sa.UniqueConstraint("cert_id", name=op.f("uq_checks_cert_id")),
    )
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checks_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "check_lines",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("check_id", _ID, nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("code_display", sa.String(length=64), nullable=False),
        sa.Column("subject_id", _ID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("answer", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name=op.f("fk_check_lines_check_id_checks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_lines")),
        sa.UniqueConstraint("check_id", "line", name=op.f("uq_check_lines_check_id_line")),
    )


def downgrade() -> None:
    op.drop_table("check_lines")
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checks_subject_id"))
    op.drop_table("checks")
    op.drop_table("rule_runs")
    op.drop_table("grades")
    with op.batch_alter_table("list_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_list_entries_subject_id_status")
        batch_op.drop_index("ix_list_entries_list_code_status")
    op.drop_table("list_entries")
