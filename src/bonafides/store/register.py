"""The register of subjects in the store: loading what a register says, and reading it back.

A load compares each row's digest with the stored one first, so a reload of unchanged
data reads one row per subject and writes nothing. Changed and new subjects are written
in bulk (one multi-row statement per table and chunk), each change as a versioned
``subject_events`` row, and the chunk is one audit event linked to every subject it
changed, so each subject's access log shows the rename or deregistration.

``register_of`` and ``subjects_by_codes`` are the reads the matcher uses: many subjects at
once, by id or by legacy code (registration number, organisation code).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import JSON, insert, select, update
from sqlalchemy.orm import Session

from bonafides.catalogue.register import (
    STATUS_EVENTS,
    EventKind,
    RegisterRow,
    SubjectStatus,
)
from bonafides.records import kind_of_uscc
from bonafides.security import audit
from bonafides.store.access import link_each, subjects_digest
from bonafides.store.feed import Kind as FeedKind
from bonafides.store.feed import emit_subject
from bonafides.store.subjects import chunks
from bonafides.store.tables import Subject, SubjectEvent, SubjectName, SubjectRegister
from bonafides.store.types import utcnow

#: Register fields besides names and status whose change is an ``updated`` event.
_DETAIL_FIELDS = (
    "name_en",
    "entity_type",
    "legal_rep",
    "registered_on",
    "authority",
    "address",
    "reg_no",
    "org_code",
    "merged_into",
    "status_raw",
)
_IN = 500


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """What the register says about one subject, as the matcher and profiles read it."""

    subject_id: int
    status: SubjectStatus
    status_raw: str | None
    entity_type: str | None
    legal_rep: str | None
    registered_on: dt.date | None
    authority: str | None
    address: str | None
    reg_no: str | None
    org_code: str | None
    merged_into: str | None
    source: str | None
    version: int


_ENTRY_COLUMNS = (
    SubjectRegister.subject_id,
    SubjectRegister.status,
    SubjectRegister.status_raw,
    SubjectRegister.entity_type,
    SubjectRegister.legal_rep,
    SubjectRegister.registered_on,
    SubjectRegister.authority,
    SubjectRegister.address,
    SubjectRegister.reg_no,
    SubjectRegister.org_code,
    SubjectRegister.merged_into,
    SubjectRegister.source,
    SubjectRegister.version,
)


def register_of(session: Session, subject_ids: Iterable[int]) -> dict[int, RegisterEntry]:
    """The register entries of many subjects, by subject id; unregistered ones are absent."""
    found: dict[int, RegisterEntry] = {}
    for part in chunks(sorted(set(subject_ids)), _IN):
        for row in session.execute(
            select(*_ENTRY_COLUMNS).where(SubjectRegister.subject_id.in_(part))
        ):
            values = list(row)
            values[1] = SubjectStatus(values[1])
            found[row.subject_id] = RegisterEntry(*values)
    return found


@dataclass(frozen=True, slots=True)
class NameEntry:
    """One of a subject's names: current or former, Chinese or English, and until when."""

    name: str
    lang: str
    current: bool
    valid_until: dt.date | None
    source: str | None


def names_of(session: Session, subject_ids: Iterable[int]) -> dict[int, list[NameEntry]]:
    """Every name of many subjects, by subject id, current names first."""
    found: dict[int, list[NameEntry]] = defaultdict(list)
    for part in chunks(sorted(set(subject_ids)), _IN):
        rows = session.execute(
            select(
                SubjectName.subject_id,
                SubjectName.name,
                SubjectName.lang,
                SubjectName.current,
                SubjectName.valid_until,
                SubjectName.source,
            )
            .where(SubjectName.subject_id.in_(part))
            .order_by(SubjectName.subject_id, SubjectName.current.desc(), SubjectName.id)
        )
        for sid, name, lang, current, until, source in rows:
            found[sid].append(NameEntry(name, lang, current, until, source))
    return dict(found)


def subjects_by_codes(
    session: Session, *, reg_nos: Iterable[str] = (), org_codes: Iterable[str] = ()
) -> dict[str, list[int]]:
    """Subject ids by legacy code: each registration number and organisation code given
    maps to the subjects registered under it (normally one)."""
    out: dict[str, list[int]] = defaultdict(list)
    for column, codes in (
        (SubjectRegister.reg_no, reg_nos),
        (SubjectRegister.org_code, org_codes),
    ):
        for part in chunks(sorted(set(codes)), _IN):
            rows = session.execute(
                select(column, SubjectRegister.subject_id)
                .where(column.in_(part))
                .order_by(SubjectRegister.subject_id)
            )
            for code, sid in rows:
                if code is not None:
                    out[code].append(sid)
    return dict(out)


#: Register events a copy of the platform's data must hear of, as change-feed kinds: a
#: new name, and an end of the subject (deregistered, or merged into another).
_FEED_KINDS = {
    EventKind.RENAMED.value: FeedKind.SUBJECT_RENAMED,
    EventKind.DEREGISTERED.value: FeedKind.SUBJECT_DEREGISTERED,
    EventKind.MERGED.value: FeedKind.SUBJECT_DEREGISTERED,
}


def _to_feed(session: Session, events: list[dict[str, Any]], at: dt.datetime) -> None:
    """Each rename, deregistration and merger also goes to the change feed, in the
    transaction that stores it."""
    for event in events:
        kind = _FEED_KINDS.get(event["kind"])
        if kind is not None:
            change = {
                "register_event": event["kind"],
                "from": event["before"],
                "to": event["after"],
            }
            emit_subject(session, kind, event["subject_id"], change, at=at)


def events_of(session: Session, subject_id: int) -> list[SubjectEvent]:
    """A subject's register history, oldest first."""
    return list(
        session.scalars(
            select(SubjectEvent)
            .where(SubjectEvent.subject_id == subject_id)
            .order_by(SubjectEvent.version)
        )
    )


@dataclass
class RegisterResult:
    """What one call of ``store_register`` did."""

    #: Subjects the platform did not know before.
    created: int = 0
    #: Subjects whose register data was new or changed, and those it left as they were.
    changed: int = 0
    unchanged: int = 0
    events: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class _Known:
    id: int
    name: str
    name_en: str | None
    status: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def store_register(
    session: Session,
    rows: Sequence[RegisterRow],
    *,
    source: str | None,
    actor: str,
    today: dt.date,
) -> RegisterResult:
    """Apply register rows (one per USCC) inside the caller's transaction."""
    result = RegisterResult()
    if not rows:
        return result
    codes = [r.uscc for r in rows]
    if len(set(codes)) != len(codes):
        raise ValueError("store_register takes one row per USCC; split repeats into rounds")
    known = _subjects(session, codes)
    result.created = _create_subjects(session, [r for r in rows if r.uscc not in known], known)
    ids = [known[c].id for c in codes]
    current = {
        sid: (digest, version, values)
        for sid, digest, version, values in _register_rows(session, ids)
    }
    now = utcnow()
    label = source or "register"
    register_new: list[dict[str, Any]] = []
    register_changed: list[dict[str, Any]] = []
    subject_updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    changed: dict[int, RegisterRow] = {}
    refs: dict[int, str] = {}
    for row in rows:
        subject = known[row.uscc]
        digest = row.digest()
        stored = current.get(subject.id)
        if stored is not None and stored[0] == digest:
            result.unchanged += 1
            continue
        result.changed += 1
        changed[subject.id] = row
        version = stored[1] if stored else 0
        kinds = _events(row, subject, stored[2] if stored else None)
        for kind, before, after in kinds:
            version += 1
            events.append(
                {
                    "subject_id": subject.id,
                    "version": version,
                    "kind": kind.value,
                    "source": label,
                    "event_date": today,
                    "before": before,
                    "after": after,
                    "recorded_at": now,
                    "recorded_by": actor,
                }
            )
            result.events[kind.value] += 1
        refs[subject.id] = "register: " + ", ".join(k.value for k, _, _ in kinds)
        values = {
            "subject_id": subject.id,
            "status": row.status.value,
            "status_raw": row.status_raw,
            "entity_type": row.entity_type,
            "legal_rep": row.legal_rep,
            "registered_on": row.registered_on,
            "authority": row.authority,
            "address": row.address,
            "reg_no": row.reg_no,
            "org_code": row.org_code,
            "merged_into": row.merged_into,
            "source": label,
            "version": version,
            "digest": digest,
            "updated_at": now,
        }
        (register_changed if stored else register_new).append(values)
        name_en = row.name_en or subject.name_en
        if (subject.name, subject.name_en, subject.status) != (row.name, name_en, row.status):
            subject_updates.append(
                {
                    "id": subject.id,
                    "name": row.name,
                    "name_en": name_en,
                    "status": row.status.value,
                    "updated_at": now,
                }
            )
    if register_new:
        _insert(session, SubjectRegister.__table__, register_new)
    if register_changed:
        session.execute(update(SubjectRegister), register_changed)
    if subject_updates:
        session.execute(update(Subject), subject_updates)
    if events:
        _insert(session, SubjectEvent.__table__, events)
        _to_feed(session, events, now)
    _names(session, changed, label, today)
    if changed:
        event = audit.append(
            session,
            actor=actor,
            tag="register:subjects:loaded",
            object_ref=f"register {label}",
            detail={
                "source": label,
                "created": result.created,
                "changed": result.changed,
                "unchanged": result.unchanged,
                "events": dict(sorted(result.events.items())),
                "subjects": len(changed),
                "subjects_digest": subjects_digest(changed),
            },
        )
        link_each(session, event.id, refs)
    return result


def _insert(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Many rows into ``table``: COPY on PostgreSQL (a multi-row executemany costs a
    round of parsing and binding per row there), executemany on SQLite."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), list(rows))
        return
    from psycopg.types.json import Jsonb

    names = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    driver = conn.connection.driver_connection
    assert driver is not None
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([Jsonb(row[n]) if n in json_columns else row[n] for n in names])


def _subjects(session: Session, codes: Sequence[str]) -> dict[str, _Known]:
    known: dict[str, _Known] = {}
    for part in chunks(list(codes), _IN):
        rows = session.execute(
            select(Subject.key, Subject.id, Subject.name, Subject.name_en, Subject.status).where(
                Subject.key.in_(part)
            )
        )
        for key, sid, name, name_en, status in rows:
            known[key] = _Known(sid, name, name_en, status)
    return known


def _create_subjects(
    session: Session, rows: Sequence[RegisterRow], known: dict[str, _Known]
) -> int:
    """Subjects the register names that no record has named yet. Their names are written
    with the rest (``_names``); the event of a new subject records no prior name."""
    if not rows:
        return 0
    now = utcnow()
    # Without RETURNING: SQLAlchemy splices returned rows per batch in time quadratic in
    # the batch on SQLite; reading the new ids back by key is one indexed query per 500.
    _insert(
        session,
        Subject.__table__,
        [
            {
                "key": r.uscc,
                "kind": kind_of_uscc(r.uscc[0], r.uscc[1]).value,
                "code_display": r.uscc,
                "code_cipher": None,
                "name": r.name,
                "name_en": r.name_en,
                "region": r.uscc[2:8],
                "industry": None,
                "status": r.status.value,
                "adult_from": None,
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ],
    )
    known.update(_subjects(session, [r.uscc for r in rows]))
    return len(rows)


def _register_rows(
    session: Session, ids: Sequence[int]
) -> Iterable[tuple[int, str, int, dict[str, Any]]]:
    columns = [
        SubjectRegister.subject_id,
        SubjectRegister.digest,
        SubjectRegister.version,
        SubjectRegister.status,
        *(getattr(SubjectRegister, f) for f in _DETAIL_FIELDS if f != "name_en"),
    ]
    for part in chunks(sorted(set(ids)), _IN):
        for row in session.execute(select(*columns).where(SubjectRegister.subject_id.in_(part))):
            values = dict(row._mapping)
            sid, digest, version = (
                values.pop("subject_id"),
                values.pop("digest"),
                values.pop("version"),
            )
            yield sid, digest, version, values


def _events(
    row: RegisterRow, subject: _Known, stored: dict[str, Any] | None
) -> list[tuple[EventKind, dict[str, Any], dict[str, Any]]]:
    """The events one changed row is: ``registered`` the first time, then one per kind of
    change (renamed, a status move, other fields updated)."""
    if stored is None:
        first: dict[str, Any] = {
            name: _jsonable(getattr(row, name))
            for name in (f.name for f in fields(row))
            if getattr(row, name) not in (None, ())
        }
        first["status"] = row.status.value
        prior = {} if subject.name == row.name else {"name": subject.name}
        return [(EventKind.REGISTERED, prior, first)]
    out: list[tuple[EventKind, dict[str, Any], dict[str, Any]]] = []
    if subject.name != row.name:
        out.append((EventKind.RENAMED, {"name": subject.name}, {"name": row.name}))
    if stored["status"] != row.status.value:
        kind = STATUS_EVENTS.get(row.status, EventKind.STATUS_CHANGED)
        was = {"status": stored["status"], "status_raw": stored["status_raw"]}
        now = {"status": row.status.value, "status_raw": row.status_raw}
        if row.merged_into or stored["merged_into"]:
            was["merged_into"], now["merged_into"] = stored["merged_into"], row.merged_into
        out.append((kind, was, now))
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    stored_detail = {**stored, "name_en": subject.name_en}
    moved = stored["status"] != row.status.value
    for name in _DETAIL_FIELDS:
        new = getattr(row, name)
        if (name in ("status_raw", "merged_into") and moved) or (name == "name_en" and new is None):
            continue
        if stored_detail.get(name) != new:
            before[name] = _jsonable(stored_detail.get(name))
            after[name] = _jsonable(new)
    if after or not out:
        # The digest changed and no field above did: the former names did.
        out.append((EventKind.UPDATED, before, after or {"former_names": list(row.former_names)}))
    return out


def _names(session: Session, changed: dict[int, RegisterRow], source: str, today: dt.date) -> None:
    """Current and former names as the register gives them: a new current name demotes
    the old one (kept, with the day it stopped), and former names are kept as aliases."""
    if not changed:
        return
    existing: dict[int, list[tuple[int, str, str, bool]]] = defaultdict(list)
    for part in chunks(sorted(changed), _IN):
        rows = session.execute(
            select(
                SubjectName.id,
                SubjectName.subject_id,
                SubjectName.name,
                SubjectName.lang,
                SubjectName.current,
            ).where(SubjectName.subject_id.in_(part))
        )
        for nid, sid, name, lang, current in rows:
            existing[sid].append((nid, name, lang, current))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for sid, row in changed.items():
        have = {(name, lang): (nid, current) for nid, name, lang, current in existing[sid]}
        wanted = [(row.name, "zh")] + ([(row.name_en, "en")] if row.name_en else [])
        for name, lang in wanted:
            for (other, other_lang), (nid, current) in have.items():
                if other_lang == lang and current and other != name:
                    updates.append({"id": nid, "current": False, "valid_until": today})
            found = have.get((name, lang))
            if found is None:
                inserts.append(_name_row(sid, name, lang, True, source))
            elif not found[1]:
                updates.append({"id": found[0], "current": True, "valid_until": None})
            have[(name, lang)] = (found[0] if found else 0, True)
        for former in row.former_names:
            if (former, "zh") not in have:
                inserts.append(_name_row(sid, former, "zh", False, source))
                have[(former, "zh")] = (0, False)
    if updates:
        session.execute(update(SubjectName), updates)
    if inserts:
        _insert(session, SubjectName.__table__, inserts)


def _name_row(sid: int, name: str, lang: str, current: bool, source: str) -> dict[str, Any]:
    return {
        "subject_id": sid,
        "name": name,
        "lang": lang,
        "current": current,
        "valid_from": None,
        "valid_until": None,
        "source": source,
    }
