"""Reading a subject's non-public file: who may, as which audience, and the log it leaves.

Every read through here appends an ``access:subject:read`` event in the same
transaction, with the reader, its department and purpose, so the subject's access log
is complete by construction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.disclosure import Audience
from bonafides.meaningful import requirement, says_enough
from bonafides.security.roles import (
    DEPARTMENT_ROLES,
    Principal,
    Role,
    Scope,
    audience_for,
    field_visible,
    record_visible,
)
from bonafides.store.access import log_read
from bonafides.store.profiles import Profile, RecordView, profile_of
from bonafides.store.search import PERSON_REF
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import SpecialInquiry, Subject
from bonafides.workflows.common import ForbiddenError, InvalidError, NotFoundError
from bonafides.workflows.inquiries import usable

MIN_PURPOSE = 5


@dataclass(frozen=True)
class FileRead:
    profile: Profile
    audience: Audience
    inquiry_id: int | None


def _shown_content(catalogue: Catalogue, audience: Audience, record: RecordView) -> RecordView:
    if not catalogue.has_type(record.type_code):
        return record
    rtype = catalogue.type(record.type_code)
    hidden = {
        spec.name
        for spec in rtype.fields
        if not field_visible(audience, spec.disclosure.value if spec.disclosure else None)
    }
    if not hidden & set(record.content):
        return record
    content = {k: v for k, v in record.content.items() if k not in hidden}
    return dataclasses.replace(record, content=content)


def read_subject(
    session: Session,
    catalogue: Catalogue,
    principal: Principal,
    subject: Subject,
    *,
    purpose: str,
    today: dt.date,
    inquiry_id: int | None = None,
    what: str = "file",
) -> FileRead:
    """The file as ``principal`` may see it; raises ForbiddenError for anyone else."""
    purpose = purpose.strip()
    inquiry: SpecialInquiry | None = None
    if principal.role is Role.SUBJECT:
        if principal.bound_subject != subject.key or not principal.has(Scope.OWN_FILE):
            raise ForbiddenError("a subject reads its own file only")
        purpose = purpose or "the subject's own file"
    elif principal.role in DEPARTMENT_ROLES or principal.role is Role.OPERATOR:
        if not principal.has(Scope.FILES_READ):
            raise ForbiddenError("this key may not read files")
        if not says_enough(purpose, MIN_PURPOSE):
            raise InvalidError(f"state the purpose of the inquiry: {requirement(MIN_PURPOSE)}")
        if inquiry_id is not None:
            inquiry = session.get(SpecialInquiry, inquiry_id)
            if inquiry is None or not usable(inquiry, principal, subject.id, today):
                raise ForbiddenError(
                    "the special inquiry is not approved for this subject, account and day"
                )
    else:
        raise ForbiddenError("sign in to read non-public files")
    audience = audience_for(principal, subject_key=subject.key, special_inquiry=inquiry is not None)
    # Every record, past its retention too: the subject is the one audience that reads
    # every class and what ended (disclosure.visible); ``record_visible`` then decides
    # for this reader. The operator's audience would drop the subject's expired records.
    whole = profile_of(session, subject, audience=Audience.SUBJECT, today=today)
    records = [
        _shown_content(catalogue, audience, r)
        for r in whole.records
        if record_visible(
            catalogue,
            principal,
            audience,
            source=r.source,
            disclosure=r.disclosure,
            status=r.status,
            published_until=r.published_until,
            adult_from=subject.adult_from,
            decision_date=r.decision_date,
            today=today,
            retention_until=r.retention_until,
        )
    ]
    profile = dataclasses.replace(whole, audience=audience, records=records)
    log_read(
        session,
        actor=principal.actor,
        role=principal.role.value,
        department=principal.department,
        subject_id=subject.id,
        purpose=inquiry.purpose if inquiry else purpose,
        what=what,
        audience=audience.value,
        inquiry_id=inquiry.id if inquiry else None,
        records=len(records),
    )
    return FileRead(profile, audience, inquiry.id if inquiry else None)


def find_subject(session: Session, keys: SubjectKeys, code: str) -> Subject:
    """By code, or by a search hit's opaque ref, which keeps ID numbers out of URLs and
    server logs."""
    key = code if PERSON_REF.fullmatch(code) else keys.key_for_code(code)
    subject = session.scalar(select(Subject).where(Subject.key == key))
    if subject is None:
        raise NotFoundError("no such subject")
    return subject


def own_subject(session: Session, principal: Principal) -> Subject | None:
    """The bound subject's row; None while no decision concerns it yet."""
    if principal.bound_subject is None:
        raise ForbiddenError("the account is not bound to a subject")
    return session.scalar(select(Subject).where(Subject.key == principal.bound_subject))
