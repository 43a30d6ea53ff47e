"""The review desk: rows that named their subject without a code, judged by staff.

Ingest keeps such a row in ``review_queue`` with what name matching proposed. Here an
operator, or an officer of the department that sent the row, judges it:

- accept a candidate: the row becomes a record of that subject through ingest's own write
  path (validation, due-process protection, versions, list refresh, change feed, audit),
  as if it had carried the code; the subject's access log shows the link;
- reject a candidate: the pair (name, code) is never proposed again, here nor by ingest;
- unsure: the item stays on the desk, with the note.

Every judgement is a ``review_judgements`` row (who, when, why) and an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue import Catalogue
from bonafides.context import Context
from bonafides.ingest.readers import UnusableInputError
from bonafides.ingest.validate import RowValidator
from bonafides.matching.names import judgement_key
from bonafides.security import audit
from bonafides.security.roles import Principal, Role, Scope, own_department
from bonafides.store.judgements import ACCEPT, REJECT, UNSURE, rejected_pairs
from bonafides.store.records import write_records
from bonafides.store.tables import Record, ReviewItem, ReviewJudgement
from bonafides.store.types import utcnow
from bonafides.workflows import protection
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    require_text,
)

#: The states of an item: on the desk (open, unsure), or done (accepted, rejected: every
#: candidate was rejected).
OPEN, UNSURE_STATUS, ACCEPTED, REJECTED = "open", "unsure", "accepted", "rejected"
STATUSES = (OPEN, UNSURE_STATUS, ACCEPTED, REJECTED)
PENDING = (OPEN, UNSURE_STATUS)
#: Rows a list shows at most.
LIST_LIMIT = 500


@dataclass(frozen=True)
class ItemView:
    """One item as the desk shows it: the candidates still proposed, and the judgements."""

    item: ReviewItem
    #: Each {code, name, score, explanation}, best first, without those rejected.
    candidates: list[dict[str, Any]]
    judgements: list[ReviewJudgement]

    @property
    def pending(self) -> bool:
        return self.item.status in PENDING


def _departments(catalogue: Catalogue, principal: Principal) -> list[str] | None:
    """The departments whose rows the principal judges: None for every one (operators).
    An officer judges with what submits the department's records (a judgement may make
    one), so an API key needs ``records:submit``."""
    if principal.role is Role.OPERATOR:
        return None
    if principal.role is Role.OFFICER and principal.department:
        if not principal.has(Scope.RECORDS_SUBMIT):
            raise ForbiddenError("judging a department's rows needs the scope records:submit")
        return [
            d.code
            for d in catalogue.departments
            if own_department(catalogue, principal.department, d.code)
        ]
    raise ForbiddenError("the review desk is for operators and the departments' officers")


def list_queue(
    session: Session,
    catalogue: Catalogue,
    principal: Principal,
    *,
    department: str | None = None,
    type_code: str | None = None,
    status: str | None = OPEN,
    limit: int = LIST_LIMIT,
) -> list[ReviewItem]:
    """The items the principal may judge, oldest first; ``status`` None for every state."""
    if status is not None and status not in STATUSES:
        raise InvalidError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    query = select(ReviewItem).order_by(ReviewItem.id).limit(limit)
    allowed = _departments(catalogue, principal)
    if allowed is not None:
        query = query.where(ReviewItem.source.in_(allowed))
    if department:
        query = query.where(ReviewItem.source == department)
    if type_code:
        query = query.where(ReviewItem.type_code == type_code)
    if status is not None:
        query = query.where(ReviewItem.status == status)
    return list(session.scalars(query))


def _item(session: Session, catalogue: Catalogue, principal: Principal, item_id: int) -> ReviewItem:
    """The item, if the principal may judge it; one answer for unknown and not allowed."""
    item = session.get(ReviewItem, item_id)
    allowed = _departments(catalogue, principal)
    if item is None or (allowed is not None and item.source not in allowed):
        raise NotFoundError(f"no review item {item_id}")
    return item


def _view(session: Session, item: ReviewItem) -> ItemView:
    key = judgement_key(item.subject_name)
    rejected = rejected_pairs(session, [key])
    candidates = [c for c in item.candidates or [] if (key, c.get("code")) not in rejected]
    judgements = list(
        session.scalars(
            select(ReviewJudgement)
            .where(ReviewJudgement.review_id == item.id)
            .order_by(ReviewJudgement.id)
        )
    )
    return ItemView(item, candidates, judgements)


def read_item(unit: UnitOfWork, ctx: Context, principal: Principal, item_id: int) -> ItemView:
    """One item with its candidates and their explanations; the read is audited (the row
    is a department's decision, not yet public)."""

    def read(session: Session) -> ItemView:
        item = _item(session, ctx.catalogue, principal, item_id)
        audit.append(
            session,
            actor=principal.actor,
            tag="review:item:read",
            object_ref=f"review {item.id}",
            detail={"department": item.source, "type": item.type_code},
        )
        return _view(session, item)

    return run(unit, read)


def _pending(session: Session, ctx: Context, principal: Principal, item_id: int) -> ItemView:
    item = _item(session, ctx.catalogue, principal, item_id)
    view = _view(session, item)
    if not view.pending:
        raise ConflictError(f"review item {item_id} was already judged: {item.status}")
    return view


def _candidate(view: ItemView, code: str) -> dict[str, Any]:
    code = code.strip().upper()
    for candidate in view.candidates:
        if candidate.get("code") == code:
            return candidate
    raise InvalidError(f"{code!r} is not a candidate of review item {view.item.id}")


def _judge(
    session: Session,
    principal: Principal,
    item: ReviewItem,
    verdict: str,
    reason: str,
    *,
    code: str | None = None,
    record_id: int | None = None,
) -> ReviewJudgement:
    judgement = ReviewJudgement(
        review_id=item.id,
        name_key=judgement_key(item.subject_name),
        code=code,
        verdict=verdict,
        reason=reason,
        actor=principal.actor,
        judged_at=utcnow(),
        record_id=record_id,
    )
    session.add(judgement)
    session.flush()
    return judgement


def _link(session: Session, ctx: Context, principal: Principal, item: ReviewItem, code: str) -> int:
    """The held row made a record of ``code``'s subject through ingest's write path; the
    record's id. The row is checked again as if it had carried the code."""
    rtype = ctx.catalogue.type(item.type_code)
    cells: dict[str, str | None] = {k: str(v) for k, v in item.raw.items() if v is not None}
    cells[rtype.subject_code_fields[0]] = code
    try:
        validator = RowValidator(
            ctx.catalogue,
            item.type_code,
            item.source,
            list(cells),
            today=ctx.today(),
            seal=ctx.vault.seal,
        )
    except UnusableInputError as exc:
        raise InvalidError(f"review item {item.id} cannot become a record: {exc}") from None
    outcome = validator.check(item.row, cells)
    if outcome.rejections or outcome.record is None:
        why = "; ".join(f"{r.field}: {r.reason}" for r in outcome.rejections) or "no record"
        raise InvalidError(f"review item {item.id} cannot become a record of {code}: {why}")
    applied, held = protection.screen(
        session, ctx.keys, [(item.row, outcome.record, None)], zone=ctx.settings.timezone
    )
    if held:
        raise ConflictError(held[0].reason)
    result = write_records(
        session,
        ctx.keys,
        applied,
        actor=principal.actor,
        catalogue_version=ctx.catalogue.version,
        amend_reason=f"linked at the review desk (review {item.id})",
    )
    return result.outcomes[0][1]


def accept(
    unit: UnitOfWork, ctx: Context, principal: Principal, item_id: int, *, code: str, reason: str
) -> ItemView:
    """Link the row to the candidate ``code``: a record of that subject, audited, in the
    subject's file and access log."""

    def act(session: Session) -> ItemView:
        why = require_text(reason, "the reason", minimum=3, maximum=2000)
        view = _pending(session, ctx, principal, item_id)
        chosen = _candidate(view, code)
        item = view.item
        record_id = _link(session, ctx, principal, item, chosen["code"])
        _judge(session, principal, item, ACCEPT, why, code=chosen["code"], record_id=record_id)
        item.status = ACCEPTED
        record = session.get(Record, record_id)
        assert record is not None
        audit.append(
            session,
            actor=principal.actor,
            tag="review:item:accepted",
            subject_id=record.subject_id,
            object_ref=f"review {item.id}",
            purpose=why,
            detail={
                "record": record_id,
                "code": chosen["code"],
                "name": item.subject_name,
                "department": item.source,
                "score": chosen.get("score"),
                "algorithm": item.algorithm,
            },
        )
        return _view(session, item)

    return run(unit, act)


def reject(
    unit: UnitOfWork, ctx: Context, principal: Principal, item_id: int, *, code: str, reason: str
) -> ItemView:
    """The candidate is not the subject the row names: never proposed again for the name.
    The item leaves the desk once no candidate is left."""

    def act(session: Session) -> ItemView:
        why = require_text(reason, "the reason", minimum=3, maximum=2000)
        view = _pending(session, ctx, principal, item_id)
        chosen = _candidate(view, code)
        item = view.item
        _judge(session, principal, item, REJECT, why, code=chosen["code"])
        left = [c for c in view.candidates if c.get("code") != chosen["code"]]
        if not left:
            item.status = REJECTED
        audit.append(
            session,
            actor=principal.actor,
            tag="review:candidate:rejected",
            object_ref=f"review {item.id}",
            purpose=why,
            detail={"code": chosen["code"], "name": item.subject_name, "department": item.source},
        )
        return _view(session, item)

    return run(unit, act)


def unsure(
    unit: UnitOfWork, ctx: Context, principal: Principal, item_id: int, *, reason: str
) -> ItemView:
    """No judgement yet: the item stays on the desk with the note."""

    def act(session: Session) -> ItemView:
        why = require_text(reason, "the note", minimum=3, maximum=2000)
        view = _pending(session, ctx, principal, item_id)
        item = view.item
        _judge(session, principal, item, UNSURE, why)
        item.status = UNSURE_STATUS
        audit.append(
            session,
            actor=principal.actor,
            tag="review:item:unsure",
            object_ref=f"review {item.id}",
            purpose=why,
            detail={"name": item.subject_name, "department": item.source},
        )
        return _view(session, item)

    return run(unit, act)
