"""Writing decisions and keeping the list entries that follow from them current, in the
caller's transaction.

The store writes the records (``bonafides.store.records``); a record created, amended,
revoked or repaired can put its subject on a list or take it off, so every writer
(ingest, the workflows, the CLI, the demo data) goes through these two functions and
the entries never lag behind the records they come from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.records import RecordColumns, RecordInput, RecordStatus
from bonafides.rules.service import refresh_subjects, refresh_subjects_in_sql
from bonafides.store import records as store
from bonafides.store.records import Key, Stored, WriteResult
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import Record, RecordVersion

#: From this many changed subjects the entries are evaluated in SQL (one statement per
#: list line over them all); below it, loading a few files into Python is cheaper than
#: running twenty-odd statements. Both evaluators give the same entries.
SQL_REFRESH_FROM = 100


def write_records(
    session: Session,
    keys: SubjectKeys,
    items: Sequence[RecordInput] | RecordColumns,
    *,
    actor: str,
    received_at: dt.datetime | None = None,
    catalogue_version: str | None = None,
    amend_reason: str = "amended by source",
    stored: Mapping[Key, Stored] | None = None,
    refresh: bool = True,
) -> WriteResult:
    """Store a batch (``store.records.write_records``), then refresh the list entries of
    the subjects whose records changed.

    ``refresh`` False leaves that to the caller, who must then call
    ``refresh_written_since`` before its writes are done: ingest refreshes once per file,
    not once per chunk, because a subject named in many chunks was evaluated again for
    each of them (a quarter of an ingest's time).
    """
    result = store.write_records(
        session,
        keys,
        items,
        actor=actor,
        received_at=received_at,
        catalogue_version=catalogue_version,
        amend_reason=amend_reason,
        stored=stored,
    )
    if refresh:
        _refresh(session, result.changed_subjects, actor)
    return result


def refresh_written_since(session: Session, mark: int, *, actor: str) -> int:
    """Refresh the list entries of every subject with a record version above ``mark``
    (``rules.service.version_mark``): every record created, amended or changed in
    status since then.

    Version ids only grow and no version is deleted, so this finds everything a writer
    stored after it took the mark, including what a killed run of it committed; the
    subjects other writers changed meanwhile are evaluated again too, which changes
    nothing (their writers refreshed them). Returns the number of subjects.
    """
    ids = set(
        session.scalars(select(RecordVersion.subject_id).where(RecordVersion.id > mark).distinct())
    )
    _refresh(session, ids, actor)
    return len(ids)


def _refresh(session: Session, subject_ids: set[int], actor: str) -> None:
    if len(subject_ids) >= SQL_REFRESH_FROM:
        refresh_subjects_in_sql(session, subject_ids, actor=actor)
    elif subject_ids:
        refresh_subjects(session, subject_ids, actor=actor)


def change_status(
    session: Session,
    *,
    source: str,
    decision_no: str,
    status: RecordStatus,
    actor: str,
    reason: str,
    party: str | None = None,
    at: dt.datetime | None = None,
) -> Record:
    """A new version that only changes the status (``store.records.change_status``), then
    the subject's list entries refreshed: a repaired record's entries end."""
    record = store.change_status(
        session,
        source=source,
        decision_no=decision_no,
        status=status,
        actor=actor,
        reason=reason,
        party=party,
        at=at,
    )
    refresh_subjects(session, {record.subject_id}, actor=actor)
    return record
