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

from sqlalchemy.orm import Session

from bonafides.records import RecordInput, RecordStatus
from bonafides.rules.service import refresh_subjects, refresh_subjects_in_sql
from bonafides.store import records as store
from bonafides.store.records import Key, Stored, WriteResult
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import Record

#: From this many changed subjects the entries are evaluated in SQL (one statement per
#: list line over them all); below it, loading a few files into Python is cheaper than
#: running twenty-odd statements. Both evaluators give the same entries.
SQL_REFRESH_FROM = 100


def write_records(
    session: Session,
    keys: SubjectKeys,
    items: Sequence[RecordInput],
    *,
    actor: str,
    received_at: dt.datetime | None = None,
    catalogue_version: str | None = None,
    amend_reason: str = "amended by source",
    stored: Mapping[Key, Stored] | None = None,
) -> WriteResult:
    """Store a batch (``store.records.write_records``), then refresh the list entries of
    the subjects whose records changed."""
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
    if len(result.changed_subjects) >= SQL_REFRESH_FROM:
        refresh_subjects_in_sql(session, result.changed_subjects, actor=actor)
    elif result.changed_subjects:
        refresh_subjects(session, result.changed_subjects, actor=actor)
    return result


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
