"""What a report request may ask for, checked before anything is read.

Pure: the period, view, audience and fields are settled here from plain values, so the
CLI and the API refuse the same requests with the same words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bonafides.disclosure import Audience
from bonafides.errors import Invalid, NotFound

#: The longest period a subject may choose (issue 7: "up to 5 years").
MAX_YEARS = 5
#: The period when none is chosen: the last three years, as special credit reports
#: that replace no-violation certificates usually cover.
DEFAULT_YEARS = 3

FORMAT = "bonafides.report/1"


class View(StrEnum):
    PUBLIC = "public"
    FULL = "full"


#: Who may receive a full report: the subject, an authority of the sharing platform, a
#: named authority on an approved application, or the operator acting for the subject.
FULL_AUDIENCES = frozenset(
    {Audience.SUBJECT, Audience.AUTHORITY, Audience.RESTRICTED, Audience.OPERATOR}
)

#: Who sees the access log: the subject's right to know who looked (principle 4), not an
#: inquirer's, who would otherwise learn which other banks and departments asked.
ACCESS_LOG_AUDIENCES = frozenset({Audience.SUBJECT, Audience.OPERATOR})


class ReportRequestError(Invalid):
    """A request that cannot be answered as asked; the message is one line for the user."""


class SubjectNotFoundError(NotFound):
    """No subject the requester may see has this code.

    A natural person with nothing public is answered like an unknown code, so a public
    report never confirms that a file exists.
    """


@dataclass(frozen=True)
class ReportRequest:
    code: str
    view: View = View.PUBLIC
    audience: Audience | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    fields: Sequence[str] = ()
    purpose: str | None = None


@dataclass(frozen=True)
class Scope:
    """A request resolved against a day and the catalogue: what exactly the report covers."""

    view: View
    audience: Audience
    period_from: dt.date
    period_to: dt.date
    fields: tuple[str, ...]
    all_fields: bool
    as_of: dt.date

    @property
    def shows_access_log(self) -> bool:
        return self.view is View.FULL and self.audience in ACCESS_LOG_AUDIENCES


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def resolve_period(
    period_from: dt.date | None, period_to: dt.date | None, as_of: dt.date
) -> tuple[dt.date, dt.date]:
    """Both ends inclusive; at most five years, ending no later than ``as_of``."""
    to = period_to or as_of
    if to > as_of:
        raise ReportRequestError(
            f"the period cannot end after {as_of.isoformat()}: the report is as of that day"
        )
    start = period_from or add_years(to, -DEFAULT_YEARS) + dt.timedelta(days=1)
    if start > to:
        raise ReportRequestError(
            f"the period starts ({start.isoformat()}) after it ends ({to.isoformat()})"
        )
    earliest = add_years(to, -MAX_YEARS) + dt.timedelta(days=1)
    if start < earliest:
        raise ReportRequestError(
            f"a report covers at most {MAX_YEARS} years: {start.isoformat()} to "
            f"{to.isoformat()} is longer; start on {earliest.isoformat()} or later"
        )
    return start, to


def resolve_audience(view: View, audience: Audience | None) -> Audience:
    if view is View.PUBLIC:
        if audience not in (None, Audience.PUBLIC):
            raise ReportRequestError("a public report is for the public audience only")
        return Audience.PUBLIC
    chosen = audience or Audience.SUBJECT
    if chosen not in FULL_AUDIENCES:
        names = ", ".join(sorted(a.value for a in FULL_AUDIENCES))
        raise ReportRequestError(f"a full report is for one of: {names}")
    return chosen


def resolve_fields(chosen: Iterable[str], known: Sequence[str]) -> tuple[tuple[str, ...], bool]:
    """The chosen credit fields in catalogue order; none chosen means all of them."""
    wanted = {f.strip() for f in chosen if f.strip()}
    if not wanted:
        return tuple(known), True
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ReportRequestError(f"unknown field {unknown[0]!r}: choose from {', '.join(known)}")
    return tuple(f for f in known if f in wanted), False


def resolve_scope(request: ReportRequest, *, known_fields: Sequence[str], as_of: dt.date) -> Scope:
    audience = resolve_audience(request.view, request.audience)
    start, end = resolve_period(request.period_from, request.period_to, as_of)
    fields, everything = resolve_fields(request.fields, known_fields)
    return Scope(
        view=request.view,
        audience=audience,
        period_from=start,
        period_to=end,
        fields=fields,
        all_fields=everything,
        as_of=as_of,
    )
