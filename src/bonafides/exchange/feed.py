"""The change feed as one reader may see it: which events, and what of each.

``bonafides.store.feed`` writes the events and filters them in SQL by a ``FeedScope``;
this module derives the scope from who is asking (the same roles and audiences as a
subject's file, ``bonafides.security.roles``) and strips from each event what that
audience may not read: content fields stricter than the audience, the fields that carry
a subject's code (a person's ID number), a person's full name in the public feed (as in
the public lists, ``bonafides.disclosure.mask_name``), and the content of a removal the
public is told about.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.disclosure import AUTHORITY_CLASSES, Audience, class_visible, mask_name
from bonafides.records import SubjectKind
from bonafides.security.roles import DEPARTMENT_ROLES, Principal, Role, Scope
from bonafides.store.feed import PUBLIC_SCOPE, FeedScope
from bonafides.store.tables import Subject

#: The classes an authority reads (``disclosure.visible`` for ``Audience.AUTHORITY``).
_AUTHORITY_CLASSES = AUTHORITY_CLASSES


def descendants(catalogue: Catalogue, department: str) -> frozenset[str]:
    """The department and every department under it: the sources whose decisions it
    reads whatever their class (``roles.own_department``)."""
    found = set()
    for code in catalogue.index.departments:
        try:
            if any(d.code == department for d in catalogue.lineage(code)):
                found.add(code)
        except KeyError:
            continue
    return frozenset(found)


def scope_for(session: Session, catalogue: Catalogue, principal: Principal) -> FeedScope:
    """What ``principal`` may read of the feed: everything (an operator), public and
    shared events plus its own departments' decisions (a department reading files), its
    own subject's events (a bound subject account), else the public events."""
    if principal.role is Role.OPERATOR:
        return FeedScope(everything=True)
    if principal.role in DEPARTMENT_ROLES and principal.has(Scope.FILES_READ):
        assert principal.department is not None
        return FeedScope(
            classes=_AUTHORITY_CLASSES, sources=descendants(catalogue, principal.department)
        )
    key = principal.bound_subject
    if key is not None and principal.has(Scope.OWN_FILE):
        own = session.scalar(select(Subject.id).where(Subject.key == key))
        if own is not None:
            return FeedScope(subject_id=own)
    return PUBLIC_SCOPE


def audience_of(scope: FeedScope, event: Any) -> Audience:
    """The audience one event (a row of ``store.feed.EVENT_COLUMNS``) is shown to."""
    if scope.everything:
        return Audience.OPERATOR
    if scope.subject_id is not None and event.subject_id == scope.subject_id:
        return Audience.SUBJECT
    if scope.classes:
        return Audience.AUTHORITY
    return Audience.PUBLIC


def _allowed(catalogue: Catalogue, type_code: str, audience: Audience) -> frozenset[str]:
    """The content fields of a type ``audience`` may read (none of an unknown type)."""
    if not catalogue.has_type(type_code):
        return frozenset()
    rtype = catalogue.type(type_code)
    if audience is Audience.PUBLIC:
        allowed = set(catalogue.public_fields(type_code))
    else:
        allowed = {
            f.name
            for f in rtype.fields
            if f.disclosure is None or class_visible(audience, f.disclosure.value)
        }
    return frozenset(allowed - set(rtype.subject_code_fields))


def main_audience(scope: FeedScope) -> Audience:
    """The audience of most events a scope reads (``audience_of``): all of them but a
    subject's own, which a subject reads as ``Audience.SUBJECT``."""
    if scope.everything:
        return Audience.OPERATOR
    if scope.classes:
        return Audience.AUTHORITY
    return Audience.PUBLIC


def allowed_fields(catalogue: Catalogue, audience: Audience) -> dict[str, list[str]]:
    """The content fields ``audience`` may read, per record type, for the store to cut
    each payload's content to (``store.feed.read_events_text``); a type not named (not in
    the catalogue) shows no content, as ``shown_payload`` does."""
    return {code: sorted(_allowed(catalogue, code, audience)) for code in catalogue.index.types}


#: Fields allowed per (type, audience), kept by a reader for one page: asked per event.
Allowed = dict[tuple[str, Audience], frozenset[str]]


def _content(
    catalogue: Catalogue,
    type_code: str,
    content: dict[str, Any],
    audience: Audience,
    known: Allowed,
) -> dict[str, Any]:
    allowed = known.get((type_code, audience))
    if allowed is None:
        allowed = known[(type_code, audience)] = _allowed(catalogue, type_code, audience)
    return {name: value for name, value in content.items() if name in allowed}


def shown_payload(
    catalogue: Catalogue, event: Any, audience: Audience, known: Allowed | None = None
) -> dict[str, Any]:
    """The event's payload with what ``audience`` may not read taken out; each row read
    holds its own decoded payload, so it is changed in place."""
    payload: dict[str, Any] = event.payload
    if audience is Audience.OPERATOR:
        return payload
    record = payload.get("record")
    if isinstance(record, dict) and isinstance(record.get("content"), dict):
        if event.tombstone and audience is Audience.PUBLIC:
            record["content"] = {}
        else:
            record["content"] = _content(
                catalogue,
                str(record.get("type_code")),
                record["content"],
                audience,
                {} if known is None else known,
            )
    subject = payload.get("subject")
    if (
        audience is Audience.PUBLIC
        and isinstance(subject, dict)
        and subject.get("kind") == SubjectKind.NATURAL_PERSON.value
    ):
        subject["name"] = mask_name(str(subject.get("name") or ""))
        subject["name_en"] = None
    return payload
