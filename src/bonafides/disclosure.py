"""Who may see which record (principle 5: least disclosure), written once.

Every read path (the API, the portal, reports, list pages, search, statistics) asks this
module, in Python for one record or as SQL for a whole table. The rules are built from
the catalogue's ``Disclosure`` enum and held as data: a ``Rule`` is a tuple of
``Condition``s, and each condition carries its Python spelling and its SQL spelling side
by side, so that neither can gain or lose a line without the other. tests/
test_disclosure.py holds each condition's two spellings to the same answers, and
tests/test_disclosure_agreement.py holds every query that decides visibility to the
Python predicate on generated stores, on both stores. No other module compares a
disclosure class to decide what is shown (tests/test_disclosure_literals.py fails when
one does).

Past its retention date (principle 2, "everything ends") a record is no longer credit
information: ``retained`` is the one test, and every audience but the subject itself
asks it, in ``visible`` and in both rules below. The rule engine ends list entries on the
same day (``bonafides.rules``), and ``bonafides records expire`` then records the end as
the record's status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, or_, true

from bonafides.catalogue.models import Disclosure
from bonafides.records import EFFECTIVE_STATUSES, RecordStatus, SubjectKind


class Audience(StrEnum):
    PUBLIC = "public"
    AUTHORITY = "authority"  # departments on the sharing platform
    RESTRICTED = "restricted"  # named authorities with a stated purpose
    SUBJECT = "subject"  # the subject itself
    OPERATOR = "operator"


#: The narrowest class each audience may read; it reads every wider class too.
_NARROWEST: dict[Audience, Disclosure] = {
    Audience.PUBLIC: Disclosure.PUBLIC,
    Audience.AUTHORITY: Disclosure.SHARED,
    Audience.RESTRICTED: Disclosure.RESTRICTED,
    Audience.SUBJECT: Disclosure.SUBJECT_ONLY,
    Audience.OPERATOR: Disclosure.SUBJECT_ONLY,
}

#: The classes (their stored values) each audience may read, before the time and minor rules.
_CLASSES: dict[Audience, frozenset[str]] = {
    audience: frozenset(d.value for d in Disclosure if d.rank <= narrowest.rank)
    for audience, narrowest in _NARROWEST.items()
}

#: The classes the public may read: those of ``Disclosure`` no wider audience is needed for.
PUBLIC_CLASSES = _CLASSES[Audience.PUBLIC]
#: The classes authorities read on the sharing platform.
AUTHORITY_CLASSES = _CLASSES[Audience.AUTHORITY]
#: The class of what authorities share among themselves and the public does not see: the
#: narrowest an authority reads (a subject event of the change feed is of this class).
SHARED_CLASS = _NARROWEST[Audience.AUTHORITY].value


def classes_of(audience: Audience) -> frozenset[str]:
    """The stored classes ``audience`` may read, before the time and minor rules."""
    return _CLASSES[audience]


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


# --------------------------------------------------------------------------- the rules


class RecordFacts(NamedTuple):
    """What the rules read of one record, as values."""

    disclosure: str
    status: str
    published_until: dt.date | None
    adult_from: dt.date | None
    decision_date: dt.date
    retention_until: dt.date | None


class RecordColumns(NamedTuple):
    """The same, as the columns of a statement (the store's tables, aliases, a CTE).

    Without a retention column the rules are those for a record without a retention date.
    """

    disclosure: SQLColumnExpression[str]
    status: SQLColumnExpression[str]
    published_until: SQLColumnExpression[dt.date | None]
    adult_from: SQLColumnExpression[dt.date | None]
    decision_date: SQLColumnExpression[dt.date]
    retention_until: SQLColumnExpression[dt.date | None] | None = None


@dataclass(frozen=True)
class Condition:
    """One line of a rule, in both spellings."""

    name: str
    holds: Callable[[RecordFacts, dt.date], bool]
    clause: Callable[[RecordColumns, dt.date], ColumnElement[bool]]


@dataclass(frozen=True)
class Rule:
    """Conditions that must all hold; ``holds`` and ``clause`` are the same rule."""

    name: str
    conditions: tuple[Condition, ...]

    def holds(self, record: RecordFacts, today: dt.date) -> bool:
        return all(c.holds(record, today) for c in self.conditions)

    def clause(self, columns: RecordColumns, today: dt.date) -> ColumnElement[bool]:
        return and_(*(c.clause(columns, today) for c in self.conditions))


def _status_counts(record: RecordFacts, _today: dt.date) -> bool:
    try:
        return RecordStatus(record.status) in EFFECTIVE_STATUSES
    except ValueError:
        return False


PUBLIC_CLASS = Condition(
    "a class the public may read",
    lambda r, _: r.disclosure in PUBLIC_CLASSES,
    lambda c, _: c.disclosure.in_(sorted(PUBLIC_CLASSES)),
)
RETAINED = Condition(
    "inside its retention",
    lambda r, today: retained(r.retention_until, today),
    lambda c, today: (
        true() if c.retention_until is None else retained_clause(c.retention_until, today)
    ),
)
ADULT_AT_DECISION = Condition(
    "not decided while the person was a minor (§66)",
    lambda r, _: not is_minor(r.adult_from, r.decision_date),
    lambda c, _: or_(c.adult_from.is_(None), c.adult_from <= c.decision_date),
)
ADULT_TODAY = Condition(
    "not about someone who is a minor today",
    lambda r, today: not is_minor(r.adult_from, today),
    lambda c, today: or_(c.adult_from.is_(None), c.adult_from <= today),
)
STATUS_COUNTS = Condition(
    "a status that still counts",
    _status_counts,
    lambda c, _: c.status.in_(_PUBLIC_STATUSES),
)
PUBLISHED = Condition(
    "inside its publication period (no period: never published)",
    lambda r, today: r.published_until is not None and today <= r.published_until,
    lambda c, today: and_(c.published_until.is_not(None), c.published_until >= today),
)

#: Public pages show a record only while the law makes it public. The age at the
#: decision is what counts: turning 18 publishes nothing decided before.
PUBLIC_RULE = Rule(
    "shown to the public",
    (PUBLIC_CLASS, RETAINED, ADULT_AT_DECISION, ADULT_TODAY, STATUS_COUNTS, PUBLISHED),
)

#: Aggregate figures (decisions per field and month) count every decision of a public
#: class still kept, whatever its status or publication since, and never a minor's: a
#: count small enough names the people in it.
COUNTED_RULE = Rule(
    "counted in public figures", (PUBLIC_CLASS, RETAINED, ADULT_AT_DECISION, ADULT_TODAY)
)

#: What an export's delta may name when it removes something: only a record that could
#: have been public (a public class, never a minor's), so a tombstone says nothing about
#: a record the consumer was never allowed to hold.
TOMBSTONE_RULE = Rule("may be named by a removal", (PUBLIC_CLASS, ADULT_AT_DECISION, ADULT_TODAY))


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
    """``PUBLIC_RULE`` for one record."""
    return PUBLIC_RULE.holds(
        RecordFacts(
            disclosure, status, published_until, adult_from, decision_date, retention_until
        ),
        today,
    )


def publication_ended(
    *, disclosure: str, status: str, published_until: dt.date | None, today: dt.date
) -> bool:
    """A record the public could read that its publication period no longer covers: its
    status still counts, yet it is off the public pages, and the subject's own file says
    so beside the status (principle 2: everything ends)."""
    facts = RecordFacts(disclosure, status, published_until, None, today, None)
    return (
        published_until is not None
        and PUBLIC_CLASS.holds(facts, today)
        and STATUS_COUNTS.holds(facts, today)
        and not PUBLISHED.holds(facts, today)
    )


# --------------------------------------------------------------------------- derived


def derived_visible(behind: Iterable[int], shown: AbstractSet[int]) -> bool:
    """A grade or a list entry is shown only with every record behind it.

    ``shown`` holds the ids of the subject's records the audience may see; a grade taken
    from a shared evaluation is therefore not public, while the same grade is part of an
    authority's report. The grades endpoint, the portal and reports all ask this.
    """
    return all(record_id in shown for record_id in behind)


def entry_visible(trigger: int, behind: Iterable[int], shown: AbstractSet[int]) -> bool:
    """A list entry: its deciding record and every other record its line counted (two
    penalties in twelve months) must be shown, or the entry and its reason would tell of
    the hidden one. ``bonafides.store.disclosure.entry_is_public`` is the SQL spelling."""
    return derived_visible([trigger, *behind], shown)


def subject_visible(kind: str, *, records_shown: bool) -> bool:
    """Whether the public may know the subject exists: an organisation always; a natural
    person only while a record of theirs is public (a name is itself a disclosure, §50),
    so never a minor. ``bonafides.store.disclosure.subject_is_public`` is the SQL spelling."""
    return kind != SubjectKind.NATURAL_PERSON or records_shown


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
