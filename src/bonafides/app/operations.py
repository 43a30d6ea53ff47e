"""What an operator's monitoring asks the store: queue depths, overdue cases, and when
each timed job last succeeded. Read at each scrape of ``/metrics``, a few counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bonafides.context import Context
from bonafides.store.jobs import last_success
from bonafides.store.tables import ReviewItem


@dataclass(frozen=True)
class Queue:
    name: str
    open: int
    overdue: int


def queues(session: Session, today: dt.date) -> list[Queue]:
    """Open objections, repair applications and complaints (and how many are past their
    deadline), and the review queue of rows that could not be linked to a subject."""
    from bonafides.workflows import complaints, objections, repair

    found = []
    for name, kind in (
        ("objections", objections.ESCALATION),
        ("repairs", repair.ESCALATION),
        ("complaints", complaints.ESCALATION),
    ):
        model = kind.model
        is_open = model.status == kind.open_status
        opened = session.scalar(select(func.count()).select_from(model).where(is_open))
        late = session.scalar(
            select(func.count()).select_from(model).where(is_open, model.due_on < today)
        )
        found.append(Queue(name, int(opened or 0), int(late or 0)))
    review = session.scalar(
        select(func.count()).select_from(ReviewItem).where(ReviewItem.status == "open")
    )
    found.append(Queue("review", int(review or 0), 0))
    return found


@dataclass(frozen=True)
class Operations:
    queues: list[Queue]
    last_success: dict[str, dt.datetime]


def operations(ctx: Context) -> Operations:
    with ctx.read_sessions() as session:
        return Operations(queues(session, ctx.today()), last_success(session))
