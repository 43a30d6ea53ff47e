"""Merge and split of subjects: a register reports that one organisation absorbed another.

An operator merges FROM into INTO: FROM's records move to INTO, FROM is marked merged
and stays findable under its own code and names. A split undoes the merge exactly: the
records it moved (kept in ``subject_merge_records``) go back and FROM's status is
restored. Both are audited on each subject's access log, refresh the lists of both, and
tell the change feed that the moved records now concern another subject.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue.models import SubjectKind
from bonafides.catalogue.register import SubjectStatus
from bonafides.context import Context
from bonafides.rules.service import refresh_subjects
from bonafides.security import audit
from bonafides.security.roles import Principal, Role
from bonafides.store import feed
from bonafides.store.tables import Record, Subject, SubjectMerge, SubjectMergeRecord
from bonafides.store.types import utcnow
from bonafides.workflows.common import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    require_text,
)


@dataclass(frozen=True)
class MergeDone:
    merge_id: int
    from_code: str
    into_code: str
    records: int


def _operator(principal: Principal) -> None:
    if principal.role is not Role.OPERATOR:
        raise ForbiddenError("only an operator merges or splits subjects")


def _subject(session: Session, ctx: Context, code: str) -> Subject:
    found = session.scalar(select(Subject).where(Subject.key == ctx.keys.key_for_code(code)))
    if found is None:
        raise NotFoundError(f"unknown subject {code!r}")
    if found.kind == SubjectKind.NATURAL_PERSON.value:
        raise InvalidError("natural persons are never merged: only organisations are")
    return found


def _open_merge(session: Session, subject_id: int) -> SubjectMerge | None:
    """The merge of this subject into another that no split has undone."""
    return session.scalar(
        select(SubjectMerge).where(
            SubjectMerge.from_subject_id == subject_id, SubjectMerge.split_at.is_(None)
        )
    )


def _after_move(
    session: Session,
    principal: Principal,
    tag: str,
    moved: list[int],
    subjects: tuple[Subject, Subject],
    detail: dict[str, object],
    reason: str,
) -> None:
    """What a move of records is followed by: the feed, the lists, the audit of each."""
    if moved:
        feed.emit_records(session, feed.Kind.RECORD_AMENDED, Record.id.in_(moved))
    refresh_subjects(session, {s.id for s in subjects}, actor=principal.actor)
    for subject in subjects:
        audit.append(
            session,
            actor=principal.actor,
            tag=tag,
            subject_id=subject.id,
            object_ref=f"merge {detail['merge']}",
            purpose=reason,
            detail=detail,
        )


def merge_subjects(
    unit: UnitOfWork,
    ctx: Context,
    principal: Principal,
    *,
    from_code: str,
    into_code: str,
    reason: str,
) -> MergeDone:
    """FROM's records move to INTO; FROM stays findable, marked merged."""

    def act(session: Session) -> MergeDone:
        _operator(principal)
        why = require_text(reason, "the reason", minimum=3, maximum=2000)
        source = _subject(session, ctx, from_code)
        target = _subject(session, ctx, into_code)
        if source.id == target.id:
            raise InvalidError("a subject cannot be merged into itself")
        if _open_merge(session, source.id) is not None:
            raise ConflictError(f"{source.code_display} is already merged into another subject")
        if _open_merge(session, target.id) is not None:
            raise ConflictError(f"{target.code_display} is itself merged into another subject")
        merge = SubjectMerge(
            from_subject_id=source.id,
            into_subject_id=target.id,
            status_before=source.status,
            reason=why,
            merged_by=principal.actor,
            merged_at=utcnow(),
        )
        session.add(merge)
        session.flush()
        moved = list(
            session.scalars(
                select(Record.id).where(Record.subject_id == source.id).order_by(Record.id)
            )
        )
        if moved:
            session.execute(
                insert(SubjectMergeRecord), [{"merge_id": merge.id, "record_id": r} for r in moved]
            )
            session.execute(
                update(Record)
                .where(Record.id.in_(moved))
                .values(subject_id=target.id)
                .execution_options(synchronize_session=False)
            )
        source.status = SubjectStatus.MERGED.value
        source.updated_at = utcnow()
        detail: dict[str, object] = {
            "merge": merge.id,
            "from": source.code_display,
            "into": target.code_display,
            "records": len(moved),
        }
        _after_move(
            session, principal, "subjects:subject:merged", moved, (source, target), detail, why
        )
        return MergeDone(merge.id, source.code_display, target.code_display, len(moved))

    return run(unit, act)


def split_subject(
    unit: UnitOfWork, ctx: Context, principal: Principal, *, from_code: str, reason: str
) -> MergeDone:
    """Undo FROM's merge: the records it moved go back, FROM's status is restored."""

    def act(session: Session) -> MergeDone:
        _operator(principal)
        why = require_text(reason, "the reason", minimum=3, maximum=2000)
        source = _subject(session, ctx, from_code)
        merge = _open_merge(session, source.id)
        if merge is None:
            raise ConflictError(f"{source.code_display} is not merged into another subject")
        target = session.get(Subject, merge.into_subject_id)
        assert target is not None
        moved = list(
            session.scalars(
                select(SubjectMergeRecord.record_id)
                .where(SubjectMergeRecord.merge_id == merge.id)
                .order_by(SubjectMergeRecord.record_id)
            )
        )
        if moved:
            session.execute(
                update(Record)
                .where(Record.id.in_(moved))
                .values(subject_id=source.id)
                .execution_options(synchronize_session=False)
            )
        source.status = merge.status_before
        source.updated_at = utcnow()
        merge.split_at = utcnow()
        merge.split_by = principal.actor
        merge.split_reason = why
        detail: dict[str, object] = {
            "merge": merge.id,
            "from": source.code_display,
            "into": target.code_display,
            "records": len(moved),
        }
        _after_move(
            session, principal, "subjects:subject:split", moved, (source, target), detail, why
        )
        return MergeDone(merge.id, source.code_display, target.code_display, len(moved))

    return run(unit, act)
