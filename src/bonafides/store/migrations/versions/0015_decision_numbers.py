"""stored decision numbers in their one spelling, as ingest now writes them

Ingest now normalises decision numbers (issue 13, item 11: full-width digits, bracket
forms, spaces), so a number stored as typed before would no longer match its own
resubmission: the decision would be stored twice. This data migration gives every stored
number the same spelling, with a new version per record (the raw values keep the number
as submitted); two records of one decision under two spellings are kept, the second
numbered ``<number>#dup-<id>`` and reported by a ``store:record:duplicate_spelling`` audit
event for review. See ``bonafides.store.renumber`` and docs/ingest.md.

Revision ID: 0015_decision_numbers
Revises: 0014_audit_anchor
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import context, op

revision: str = "0015_decision_numbers"
down_revision: str | None = "0014_audit_anchor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    from bonafides.store.renumber import renumber

    done = renumber(
        op.get_bind(),
        vault=context.config.attributes.get("vault"),
        anchor=context.config.attributes.get("audit_anchor"),
    )
    log.info(
        "decision numbers: %d records renumbered, %d duplicate spellings to review, "
        "%d left as stored; %d review-queue items renumbered",
        done.records,
        done.duplicates,
        len(done.left),
        done.review_items,
    )


def downgrade() -> None:
    # The spellings as submitted are still there (each record's earlier versions and raw
    # values), and the one-spelling numbers are valid numbers for the schema below, so
    # there is nothing to undo: a downgrade keeps them, and a later upgrade finds nothing
    # left to change.
    log.warning(
        "0015 keeps decision numbers in their one spelling: the numbers as submitted stay "
        "in each record's earlier versions and raw values"
    )
