"""The register from the store: organisations, their names and what the register says.

One function, one query: subjects, their former names, and the row ``bonafides register
load`` keeps per subject (legal representative, legacy registration number, organisation
code), so a register loaded a moment ago is what the next match reads. Natural persons
are never read: a person is matched only by the ID number a decision gives, never
guessed from a name (principle 7).
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from bonafides.catalogue.models import SubjectKind
from bonafides.matching.register import RegisterEntry, RegisterIndex
from bonafides.store.subjects import chunks, in_size, one_of
from bonafides.store.tables import Subject, SubjectEvent, SubjectName, SubjectRegister

T = TypeVar("T")

#: Rows fetched per round trip while the register is read.
BATCH_ROWS = 10_000


def load_register(session: Session) -> list[RegisterEntry]:
    """Every organisation with its names and register details; without a register row the
    organisation code comes from the USCC."""
    return [entry for _, entry in load_entries(session)]


def load_entries(
    session: Session,
    *,
    ids: Collection[int] | None = None,
    after: int | None = None,
    upto: int | None = None,
) -> list[tuple[int, RegisterEntry]]:
    """(subject id, entry) of the organisations, in id order: all of them, those in
    ``ids``, or those with an id after ``after`` and up to ``upto``."""
    if ids is not None:
        found: list[tuple[int, RegisterEntry]] = []
        for part in chunks(sorted(ids), in_size(session)):
            found.extend(_entries(session, one_of(session, Subject.id, part)))
        return found
    where: ColumnElement[bool] | None = None
    if after is not None:
        where = Subject.id > after
    if upto is not None:
        where = Subject.id <= upto if where is None else and_(where, Subject.id <= upto)
    return _entries(session, where)


def _entries(
    session: Session, where: ColumnElement[bool] | None
) -> list[tuple[int, RegisterEntry]]:
    query = (
        select(
            Subject.id,
            Subject.key,
            Subject.name,
            Subject.region,
            Subject.status,
            SubjectRegister.legal_rep,
            SubjectRegister.reg_no,
            SubjectRegister.org_code,
            SubjectName.name,
        )
        .outerjoin(SubjectRegister, SubjectRegister.subject_id == Subject.id)
        .outerjoin(
            SubjectName,
            and_(
                SubjectName.subject_id == Subject.id,
                SubjectName.lang == "zh",
                SubjectName.current.is_(False),
            ),
        )
        .where(Subject.kind != SubjectKind.NATURAL_PERSON.value)
        .order_by(Subject.id, SubjectName.id)
        .execution_options(yield_per=BATCH_ROWS)
    )
    if where is not None:
        query = query.where(where)
    entries: list[tuple[int, RegisterEntry]] = []
    current: tuple[int, str, str, str | None, str, str | None, str | None, str | None] | None
    current = None
    former: list[str] = []

    def close() -> None:
        if current is not None:
            sid, key, name, region, status, legal_rep, reg_no, org_code = current
            entry = RegisterEntry(
                code=key,
                name=name,
                former_names=tuple(n for n in former if n != name),
                region=region,
                legal_rep=legal_rep,
                reg_no=reg_no,
                org_code=org_code,
                status=status,
            )
            entries.append((sid, entry))

    for sid, key, name, region, status, legal_rep, reg_no, org_code, other in session.execute(
        query
    ):
        if current is None or current[0] != sid:
            close()
            current = (sid, key, name, region, status, legal_rep, reg_no, org_code)
            former = []
        if other:
            former.append(other)
    close()
    return entries


def register_index(session: Session) -> RegisterIndex:
    return RegisterIndex.build(load_register(session))


_cache: dict[str, tuple[tuple[object, ...], RegisterIndex]] = {}
_cache_lock = threading.Lock()


def _fingerprint(session: Session) -> tuple[object, ...]:
    """Changes whenever a subject or a name is added or the register reports a change
    (every change to a register row is a subject event): what the index is rebuilt for.

    The newest subject's creation time is part of it: a store emptied and refilled (a
    truncated test store, a restored backup) can count the same subjects, names and ids
    as before with other content, but not at the same moment.
    """
    subjects = session.execute(
        select(func.count(), func.max(Subject.id), func.max(Subject.created_at))
    ).one()
    names = session.scalar(select(func.max(SubjectName.id)))
    events = session.scalar(select(func.max(SubjectEvent.id)))
    return (
        int(subjects[0] or 0),
        int(subjects[1] or 0),
        str(subjects[2]),
        int(names or 0),
        int(events or 0),
    )


def cached_register_index(session: Session) -> RegisterIndex:
    """The index of this store's register, rebuilt only when subjects or names were added
    since it was built: a long-running server or a run of many files reads it once."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    fingerprint = _fingerprint(session)
    with _cache_lock:
        known = _cache.get(url)
        if known is not None and known[0] == fingerprint:
            return known[1]
    index = register_index(session)
    with _cache_lock:
        _cache[url] = (fingerprint, index)
    return index


def forget_indexes() -> None:
    """Drop every cached index: a store emptied and refilled (a test's, a restored backup)
    can count the same subjects and names as before with other content."""
    with _cache_lock:
        _cache.clear()
