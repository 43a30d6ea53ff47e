"""Decisions reached through due process outlive stale resubmissions of source data.

An objection that corrected a record, or a credit repair that ended its publication, was
decided by the department's officer on the record as it then stood. The department's
original file, sent again, still carries the old values: applied as an amendment it would
silently put back what due process took away. So a resubmitted row that would change the
content of a ``corrected`` or ``repaired`` record is held: not applied, reported by row
with the case that decided it, and the deciding department's officers are told.

A later amendment by the source stays possible, deliberately: the row names the case it
amends in the column ``amends_case`` (or ``更正依据``), e.g. ``objection 12`` / ``异议 12``
or ``repair 5`` / ``修复 5``. Naming the case shows the department knows of the decision.

These are functions over whole batches (keys in, verdicts out), so a set-based pipeline
can call them as the row loop does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.normalise import to_ascii
from bonafides.records import RecordInput, RecordStatus
from bonafides.security import audit
from bonafides.store.records import Key, Stored, record_key, stored_records
from bonafides.store.subjects import SubjectKeys
from bonafides.store.tables import Objection, RepairApplication
from bonafides.workflows.notify import Note, Notifier
from bonafides.workflows.objections import department_officers

#: Record states that a due-process decision set and a resubmission must not undo.
PROTECTED = frozenset({RecordStatus.CORRECTED, RecordStatus.REPAIRED})
_REFERENCE = re.compile(r"^(objection|repair|异议|修复|信用修复)\s*[:#]?\s*(\d+)$", re.IGNORECASE)
_KINDS = {"objection": "objection", "异议": "objection", "repair": "repair", "修复": "repair"}


@dataclass(frozen=True)
class Case:
    """The due-process decision behind a protected record."""

    kind: str  # "objection" or "repair"
    id: int
    department: str
    decided_on: dt.date | None

    @property
    def reference(self) -> str:
        """How a row names this case to amend the record deliberately."""
        return f"{self.kind} {self.id}"

    @property
    def title(self) -> str:
        return (
            f"objection {self.id}"
            if self.kind == "objection"
            else (f"credit repair application {self.id}")
        )


def parse_reference(raw: str | None) -> tuple[str, int] | None:
    """``objection 12`` / ``异议12`` / ``repair 5`` as (kind, id); None if it names no case."""
    if not raw:
        return None
    match = _REFERENCE.match(to_ascii(raw).strip())
    if match is None:
        return None
    word = match.group(1).lower()
    return _KINDS.get(word, "repair"), int(match.group(2))


def deciding_cases(session: Session, record_ids: Sequence[int], *, zone: str) -> dict[int, Case]:
    """The latest correcting objection or approved repair of each record."""
    if not record_ids:
        return {}
    office = ZoneInfo(zone)
    cases: dict[int, tuple[dt.datetime, Case]] = {}

    def keep(record_id: int, at: dt.datetime | None, case: Case) -> None:
        stamp = at or dt.datetime.min.replace(tzinfo=dt.UTC)
        if record_id not in cases or cases[record_id][0] <= stamp:
            cases[record_id] = (stamp, case)

    for oid, rid, source, at in session.execute(
        select(Objection.id, Objection.record_id, Objection.source, Objection.decided_at).where(
            Objection.record_id.in_(record_ids), Objection.outcome == "corrected"
        )
    ):
        keep(rid, at, Case("objection", oid, source, at.astimezone(office).date() if at else None))
    for aid, rid, source, at in session.execute(
        select(
            RepairApplication.id,
            RepairApplication.record_id,
            RepairApplication.source,
            RepairApplication.decided_at,
        ).where(RepairApplication.record_id.in_(record_ids), RepairApplication.status == "repaired")
    ):
        keep(rid, at, Case("repair", aid, source, at.astimezone(office).date() if at else None))
    return {rid: case for rid, (_, case) in cases.items()}


@dataclass(frozen=True)
class Held:
    """A resubmitted row that would undo a due-process decision, and why it was not applied."""

    row: int
    item: RecordInput
    record_id: int
    subject_id: int
    status: RecordStatus
    case: Case | None
    reference: str | None

    @property
    def reason(self) -> str:
        what = self.case.title if self.case else "a due-process decision"
        on = f" on {self.case.decided_on.isoformat()}" if self.case and self.case.decided_on else ""
        named = f"; it names {self.reference!r}, not this case" if self.reference else ""
        how = f"amends_case = {self.case.reference}" if self.case else "amends_case"
        return (
            f"record {self.status.value} on {what}{on}; the resubmitted values differ{named}; "
            f"not applied, the department's officers are notified; to amend it deliberately, "
            f"give {how}"
        )


def screen(
    session: Session,
    keys: SubjectKeys,
    rows: Sequence[tuple[int, RecordInput, str | None]],
    *,
    zone: str,
    stored: Mapping[Key, Stored] | None = None,
) -> tuple[list[RecordInput], list[Held]]:
    """Split (row, record, amends reference) into what may be written and what is held.

    ``stored``: the stored records of these rows' keys, if the caller has read them."""
    if stored is None:
        stored = stored_records(session, [record_key(keys, item) for _, item, _ in rows])
    protected = {s.id for s in stored.values() if RecordStatus(s.status) in PROTECTED}
    cases = deciding_cases(session, sorted(protected), zone=zone)
    apply: list[RecordInput] = []
    held: list[Held] = []
    for row, item, reference in rows:
        found = stored.get(record_key(keys, item))
        if found is None or found.id not in protected or found.digest == item.content_digest:
            apply.append(item)
            continue
        case = cases.get(found.id)
        named = parse_reference(reference)
        if case is not None and named == (case.kind, case.id):
            apply.append(item)
            continue
        held.append(
            Held(row, item, found.id, found.subject_id, RecordStatus(found.status), case, reference)
        )
    return apply, held


def report_held(
    session: Session,
    catalogue: Catalogue,
    notifier: Notifier,
    held: Sequence[Held],
    *,
    actor: str,
    batch: str,
) -> None:
    """Tell the deciding department's officers, and put each hold on the subject's trail."""
    for entry in held:
        department = entry.case.department if entry.case else entry.item.source
        audit.append(
            session,
            actor=actor,
            tag="ingest:record:held",
            subject_id=entry.subject_id,
            object_ref=f"record {entry.record_id}",
            detail={
                "batch": batch,
                "row": entry.row,
                "case": entry.case.reference if entry.case else None,
            },
        )
        for account_id in department_officers(session, catalogue, department):
            notifier.notify(
                session,
                Note(
                    account_id,
                    "ingest:held",
                    f"Resubmission of decision {entry.item.decision_no} held",
                    f"{entry.item.source} resubmitted decision {entry.item.decision_no} "
                    f"({batch}, row {entry.row}) with values that differ from the record "
                    f"as decided: {entry.reason}.",
                    f"record {entry.record_id}",
                ),
            )
