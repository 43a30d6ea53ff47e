"""Who may see which record (principle 5: least disclosure).

Pure rules over plain values, so the API, the portal, reports and exports all ask
the same question the same way. What the public may see is one definition written
twice, side by side: ``publicly_visible`` for one record in Python and
``public_clause`` for a whole table in SQL. tests/test_disclosure.py holds the two to
the same table of cases on both stores.

Past its retention date (principle 2, "everything ends") a record is no longer credit
information: ``retained`` is the one test, and every audience but the subject itself
asks it, in ``visible`` and in both spellings of the public rule. The rule engine ends
list entries on the same day (``bonafides.rules``), and ``bonafides records expire``
then records the end as the record's status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from enum import StrEnum

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, or_

from bonafides.records import EFFECTIVE_STATUSES, RecordStatus


class Audience(StrEnum):
    PUBLIC = "public"
    AUTHORITY = "authority"  # departments on the sharing platform
    RESTRICTED = "restricted"  # named authorities with a stated purpose
    SUBJECT = "subject"  # the subject itself
    OPERATOR = "operator"


#: The disclosure classes each audience may read, before the time and minor rules.
_CLASSES: dict[Audience, frozenset[str]] = {
    Audience.PUBLIC: frozenset({"public"}),
    Audience.AUTHORITY: frozenset({"public", "shared"}),
    Audience.RESTRICTED: frozenset({"public", "shared", "restricted"}),
    Audience.SUBJECT: frozenset({"public", "shared", "restricted", "subject_only"}),
    Audience.OPERATOR: frozenset({"public", "shared", "restricted", "subject_only"}),
}

#: The two parts of the public rule that are plain sets, shared by both spellings.
PUBLIC_CLASSES = _CLASSES[Audience.PUBLIC]
_PUBLIC_STATUSES = sorted(s.value for s in EFFECTIVE_STATUSES)


def is_minor(adult_from: dt.date | None, today: dt.date) -> bool:
    """Whether a person (``adult_from`` their 18th birthday, None for an organisation)
    is a minor on ``today``."""
    return adult_from is not None and today < adult_from


def retained(retention_until: dt.date | None, today: dt.date) -> bool:
    """Whether a record is still kept as credit information on ``today``.

    The retention date is the last day it is; no date means the catalogue gave none
    (a record stored before retention was set), which ends nothing.
    """
    return retention_until is None or today <= retention_until


def retained_clause(
    retention_until: SQLColumnExpression[dt.date | None], today: dt.date
) -> ColumnElement[bool]:
    """``retained`` as SQL over a column."""
    return or_(retention_until.is_(None), retention_until >= today)


def class_visible(audience: Audience, disclosure: str) -> bool:
    """Whether the audience may read a class at all: for a content field stricter than
    its record (an ID number), and for every audience but the public, the whole rule."""
    return disclosure in _CLASSES[audience]


def publicly_visible(
    *,
    disclosure: str,
    status: str,
    published_until: dt.date | None,
    adult_from: dt.date | None,
    decision_date: dt.date,
    today: dt.date,
    retention_until: dt.date | None = None,
) -> bool:
    """Public pages show a record only while the law makes it public.

    That is: a public class, a status that still counts, inside its publication period
    (no period means not published) and its retention, and never a decision taken while
    the person was a minor (§66), nor anything about someone who is a minor today. The
    age at the decision is what counts: turning 18 publishes nothing decided before.
    """
    if disclosure not in PUBLIC_CLASSES or not retained(retention_until, today):
        return False
    if is_minor(adult_from, decision_date) or is_minor(adult_from, today):
        return False
    if RecordStatus(status) not in EFFECTIVE_STATUSES:
        return False
    return published_until is not None and today <= published_until


def public_clause(
    *,
    disclosure: SQLColumnExpression[str],
    status: SQLColumnExpression[str],
    published_until: SQLColumnExpression[dt.date | None],
    adult_from: SQLColumnExpression[dt.date | None],
    decision_date: SQLColumnExpression[dt.date],
    today: dt.date,
    retention_until: SQLColumnExpression[dt.date | None] | None = None,
) -> ColumnElement[bool]:
    """``publicly_visible`` as SQL over the given columns, condition for condition.

    Callers pass their own columns (the store's tables, a subquery, a CTE), so every
    statement that filters what the public sees is built here; ``bonafides.store.
    disclosure.record_is_public`` does it for the store's tables. Without a retention
    column the rule is the one for a record without a retention date.
    """
    kept = [] if retention_until is None else [retained_clause(retention_until, today)]
    return and_(
        *kept,
        disclosure.in_(sorted(PUBLIC_CLASSES)),
        adult_clause(adult_from=adult_from, decision_date=decision_date, today=today),
        status.in_(_PUBLIC_STATUSES),
        published_until.is_not(None),
        published_until >= today,
    )


def adult_clause(
    *,
    adult_from: SQLColumnExpression[dt.date | None],
    decision_date: SQLColumnExpression[dt.date],
    today: dt.date,
) -> ColumnElement[bool]:
    """The minor part of ``public_clause`` alone: an organisation, or a person who was
    an adult on the day of the decision and is one today. Aggregate figures over public
    types (decisions per month) use it so that they count no minor's decision either."""
    return or_(
        adult_from.is_(None),
        and_(adult_from <= decision_date, adult_from <= today),
    )


def derived_visible(behind: Iterable[int], shown: AbstractSet[int]) -> bool:
    """A grade or a list entry is shown only with every record behind it.

    ``shown`` holds the ids of the subject's records the audience may see; a grade taken
    from a shared evaluation is therefore not public, while the same grade is part of an
    authority's report. The grades endpoint, the portal and reports all ask this.
    """
    return all(record_id in shown for record_id in behind)


def visible(
    audience: Audience,
    *,
    disclosure: str,
    status: str,
    published_until: dt.date | None,
    adult_from: dt.date | None,
    decision_date: dt.date,
    today: dt.date,
    retention_until: dt.date | None = None,
) -> bool:
    """Whether ``audience`` may read a record: the public rule for the public, the
    classes of the audience otherwise, and past retention nobody but the subject.

    The subject keeps seeing a record that ended, marked as ended, in its own file: it
    may check that the platform let it go, and its access log still names the reads made
    while it was kept. Authorities and operators do not: it is no longer credit
    information (docs/security.md, "Retention").
    """
    if audience is Audience.PUBLIC:
        return publicly_visible(
            disclosure=disclosure,
            status=status,
            published_until=published_until,
            adult_from=adult_from,
            decision_date=decision_date,
            today=today,
            retention_until=retention_until,
        )
    if audience is not Audience.SUBJECT and not retained(retention_until, today):
        return False
    return class_visible(audience, disclosure)


def mask_name(name: str) -> str:
    """A person's name in a public list: the family name, the rest hidden (张**).

    A list names many people at once; their full names stay on each one's own page,
    where the public file already shows them, so a list cannot be harvested into a
    directory of names and ID numbers.
    """
    text = name.strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else ""
