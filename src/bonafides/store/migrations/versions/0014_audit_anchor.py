"""audit anchor: keyed chain from a marked event, signed checkpoints, links by event

Events appended from this revision on are hashed with HMAC under a key kept outside the
database; ``audit_head.keyed_from`` marks the first of them. An existing store's events
keep their plain SHA-256 hashes: the mark is set just past its head (or, on a store that
was keyed before and downgraded, at its first keyed event). Signed checkpoints
of the head go to ``audit_checkpoints``; ``subject_access`` gains an index by event so a
verification can recompute each batch event's subjects digest from its rows.

Revision ID: 0014_audit_anchor
Revises: 0013_issued_files
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bonafides.store.types

revision: str = "0014_audit_anchor"
down_revision: str | None = "0013_issued_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


_EVENTS = sa.table(
    "audit_events",
    sa.column("id", _BIG),
    sa.column("at", bonafides.store.types.UTCDateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("tag", sa.String),
    sa.column("subject_id", _BIG),
    sa.column("object_ref", sa.String),
    sa.column("purpose", sa.String),
    sa.column("detail", bonafides.store.types.Json),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _hashed_the_old_way(conn: sa.Connection, event_id: int) -> bool:
    from bonafides.security.audit import event_hash

    row = conn.execute(sa.select(_EVENTS).where(_EVENTS.c.id == event_id)).one_or_none()
    if row is None:
        return False
    plain = event_hash(
        event_id=row.id,
        at=row.at,
        actor=row.actor,
        tag=row.tag,
        subject_id=row.subject_id,
        object_ref=row.object_ref,
        purpose=row.purpose,
        detail=row.detail,
        prev_hash=row.prev_hash,
        key=None,
    )
    return bool(plain == row.hash)


def _first_keyed(conn: sa.Connection, last_id: int) -> int:
    """The first event not hashed the old way; ``last_id + 1`` when all are.

    Usually every event is old. A store downgraded past this revision and upgraded again
    has keyed events after its old ones, and the mark must land between them, or the
    keyed ones would be checked as plain and the chain would look broken. Old, then
    keyed: a binary search finds the boundary in a few reads.
    """
    low, high = 1, last_id + 1
    while low < high:
        middle = (low + high) // 2
        if _hashed_the_old_way(conn, middle):
            low = middle + 1
        else:
            high = middle
    return low


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("keyed_from", _BIG, nullable=True))
    conn = op.get_bind()
    last_id = conn.execute(sa.text("SELECT last_id FROM audit_head WHERE id = 1")).scalar()
    if last_id is not None:
        conn.execute(
            sa.text("UPDATE audit_head SET keyed_from = :mark WHERE id = 1"),
            {"mark": _first_keyed(conn, int(last_id))},
        )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", _BIG, autoincrement=True, nullable=False),
        sa.Column("event_count", _BIG, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("at", bonafides.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("keyed_from", _BIG, nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("event_count", name=op.f("uq_audit_checkpoints_event_count")),
    )
    op.create_index("ix_subject_access_event_id", "subject_access", ["event_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_subject_access_event_id", table_name="subject_access")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("keyed_from")
