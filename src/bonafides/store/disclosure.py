"""The disclosure rules over the store's tables, for every statement that decides what
the public sees.

The rules themselves are ``bonafides.disclosure``'s; this module only says which columns
they read. A statement using ``record_is_public`` or ``record_is_counted`` joins
``records``, ``record_types`` (on the type code) and ``subjects`` (on the record's
subject); one using ``entry_is_public`` joins ``list_entries`` to its subject and its
deciding record as well; ``subject_is_public`` needs ``subjects`` alone. So a profile, a
search, a list page, a report, the statistics and the home page count all leave out the
same records, and tests/test_disclosure_agreement.py holds each to the Python predicate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, cast, literal, not_, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bonafides.disclosure import COUNTED_RULE, PUBLIC_RULE, TOMBSTONE_RULE, RecordColumns
from bonafides.records import SubjectKind
from bonafides.store.tables import ListEntry, Record, RecordType, Subject


def rule_columns(record: Any, rtype: Any) -> RecordColumns:
    """The columns the rules read, from ``record`` and ``rtype`` (the tables or aliases)
    and the subject joined to the statement."""
    return RecordColumns(
        disclosure=rtype.disclosure,
        status=record.status,
        published_until=record.published_until,
        adult_from=Subject.adult_from,
        decision_date=record.decision_date,
        retention_until=record.retention_until,
    )


def record_is_public(today: dt.date) -> ColumnElement[bool]:
    """Whether the joined record is public on ``today``."""
    return PUBLIC_RULE.clause(rule_columns(Record, RecordType), today)


def record_is_counted(today: dt.date) -> ColumnElement[bool]:
    """Whether the joined record counts in public aggregate figures on ``today``."""
    return COUNTED_RULE.clause(rule_columns(Record, RecordType), today)


def record_may_be_tombstoned(today: dt.date) -> ColumnElement[bool]:
    """Whether a removal of the joined record may be published (``TOMBSTONE_RULE``)."""
    return TOMBSTONE_RULE.clause(rule_columns(Record, RecordType), today)


def entry_is_public(today: dt.date) -> ColumnElement[bool]:
    """Whether the joined list entry is public: its deciding record is, and so is every
    other record behind it (``bonafides.disclosure.entry_visible``).

    ``record_ids`` is the comma-separated list the rules write; a record is behind the
    entry when its id, between commas, is in it.
    """
    other = aliased(Record)
    other_type = aliased(RecordType)
    listed = literal(",") + ListEntry.record_ids + literal(",")
    hidden = (
        select(other.id)
        .join(other_type, other_type.code == other.type_code)
        .where(
            other.subject_id == ListEntry.subject_id,
            listed.contains(literal(",") + cast(other.id, String) + literal(",")),
            not_(PUBLIC_RULE.clause(rule_columns(other, other_type), today)),
        )
        .exists()
    )
    # Most entries rest on their deciding record alone; the store then skips the search.
    alone = ListEntry.record_ids == cast(ListEntry.trigger_record_id, String)
    return record_is_public(today) & or_(alone, not_(hidden))


def subject_is_public(today: dt.date) -> ColumnElement[bool]:
    """Whether the public may know the subject in the statement exists
    (``bonafides.disclosure.subject_visible``)."""
    record = aliased(Record)
    rtype = aliased(RecordType)
    any_public = (
        select(record.id)
        .join(rtype, rtype.code == record.type_code)
        .where(
            record.subject_id == Subject.id, PUBLIC_RULE.clause(rule_columns(record, rtype), today)
        )
        .exists()
    )
    return or_(Subject.kind != SubjectKind.NATURAL_PERSON.value, any_public)
