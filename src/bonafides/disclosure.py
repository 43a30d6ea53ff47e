"""Who may see which record (principle 5: least disclosure).

Pure rules over plain values, so the API, the portal, reports and exports all ask
the same question the same way.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

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


def is_minor(adult_from: dt.date | None, today: dt.date) -> bool:
    return adult_from is not None and today < adult_from


def publicly_visible(
    *,
    disclosure: str,
    status: str,
    published_until: dt.date | None,
    adult_from: dt.date | None,
    today: dt.date,
) -> bool:
    """Public pages show a record only while the law makes it public.

    That is: a public class, a status that still counts, inside its publication
    period (no period means not published), and never about a minor.
    """
    if disclosure != "public" or is_minor(adult_from, today):
        return False
    if RecordStatus(status) not in EFFECTIVE_STATUSES:
        return False
    return published_until is not None and today <= published_until


def visible(
    audience: Audience,
    *,
    disclosure: str,
    status: str,
    published_until: dt.date | None,
    adult_from: dt.date | None,
    today: dt.date,
) -> bool:
    if audience is Audience.PUBLIC:
        return publicly_visible(
            disclosure=disclosure,
            status=status,
            published_until=published_until,
            adult_from=adult_from,
            today=today,
        )
    return disclosure in _CLASSES[audience]


def mask_name(name: str) -> str:
    """A person's name in a public list: the family name, the rest hidden (张**).

    A list names many people at once; their full names stay on each one's own page,
    where the public file already shows them, so a list cannot be harvested into a
    directory of names and ID numbers.
    """
    text = name.strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else ""
