"""The public rule over the store's tables, for every statement that lists public data.

A statement using ``record_is_public`` joins ``records``, ``record_types`` (on the type
code) and ``subjects`` (on the record's subject); the rule itself is
``bonafides.disclosure.public_clause``, so a profile, a search, a list page, an export and
the home page count all leave out the same records.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.sql.elements import ColumnElement

from bonafides.disclosure import public_clause
from bonafides.store.tables import Record, RecordType, Subject


def record_is_public(today: dt.date) -> ColumnElement[bool]:
    """Whether the joined record is public on ``today``."""
    return public_clause(
        disclosure=RecordType.disclosure,
        status=Record.status,
        published_until=Record.published_until,
        adult_from=Subject.adult_from,
        decision_date=Record.decision_date,
        today=today,
        retention_until=Record.retention_until,
    )
