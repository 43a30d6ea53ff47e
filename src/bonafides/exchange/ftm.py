"""The FollowTheMoney export: listed subjects and their sanctions as FtM entities.

OpenSanctions and Aleph read this format (one JSON object per line: id, schema,
properties as lists of strings). A subject with a public list entry in force becomes a
Company (legal person), an Organization (other organisation, government body), a
LegalEntity (individual business) or a Person, with its USCC as ``uscCode`` and
``registrationNumber`` and its former names; a person appears by family name only, with
no ID number, as on the public lists. Each entry becomes a Sanction by the list's owner,
and each joint measure the list triggers another Sanction by the department that applies
it, with the memorandum as program and the measure's own end date.

The entities are written here as plain dicts; the tests validate every one with the
followthemoney library, which stays a development dependency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.codes import region_name
from bonafides.disclosure import mask_name
from bonafides.exchange.sinks import JsonlSink, Scope, Written
from bonafides.records import SubjectKind
from bonafides.rules.model import Measure, Memorandum, Rules
from bonafides.security.identifiers import PERSON_KEY_PREFIX
from bonafides.store import exports as store
from bonafides.store.lists import EntryRow, entries_in_force_public

ENTITIES = "entities.ftm.json"
REMOVED = "removed.ftm.json"
COUNTRY = "cn"

#: FtM schema per subject kind.
SCHEMA_OF = {
    SubjectKind.LEGAL_PERSON: "Company",
    SubjectKind.OTHER_ORG: "Organization",
    SubjectKind.GOVERNMENT_BODY: "Organization",
    SubjectKind.INDIVIDUAL_BUSINESS: "LegalEntity",
    SubjectKind.NATURAL_PERSON: "Person",
}

_SCHEMA = [["id", "string"], ["schema", "string"], ["properties", "object"]]
_REMOVED_SCHEMA = [["id", "string"], ["schema", "string"]]


def subject_id(kind: str, key: str, code: str) -> str:
    """The entity id of a subject: its USCC, or for a person the opaque public ref."""
    if kind == SubjectKind.NATURAL_PERSON:
        return "bf-p-" + key.removeprefix(PERSON_KEY_PREFIX)[:32]
    return f"bf-{code}"


def entry_sanction_id(entry_id: int) -> str:
    return f"bf-entry-{entry_id}"


def measure_sanction_id(entry_id: int, measure: str) -> str:
    return f"bf-entry-{entry_id}-{measure}"


def _props(**values: Any) -> dict[str, list[str]]:
    """FtM properties: every value a list of non-empty strings."""
    out: dict[str, list[str]] = {}
    for name, value in values.items():
        items = value if isinstance(value, list | tuple) else [value]
        texts = [v.isoformat() if isinstance(v, dt.date) else str(v) for v in items if v]
        if texts:
            out[name] = list(dict.fromkeys(texts))
    return out


def subject_entity(row: Any, former: list[str]) -> dict[str, Any]:
    _, kind, key, code, name, name_en, region = row
    schema = SCHEMA_OF.get(SubjectKind(kind), "LegalEntity")
    place = region_name(region) if region else None
    if kind == SubjectKind.NATURAL_PERSON:
        props = _props(name=mask_name(name), country=COUNTRY, address=place)
    else:
        props = _props(
            name=[name, name_en],
            previousName=former,
            uscCode=code,
            registrationNumber=code,
            country=COUNTRY,
            jurisdiction=COUNTRY,
            address=place,
        )
    return {"id": subject_id(kind, key, code), "schema": schema, "properties": props}


def _names(catalogue: Catalogue, department: str) -> list[str]:
    try:
        dept = catalogue.department(department)
    except KeyError:
        return [department]
    return [dept.name_zh, dept.name_en]


def sanctions(
    entry: EntryRow,
    rules: Rules,
    measures: dict[str, list[tuple[Memorandum, Measure]]],
) -> Iterator[dict[str, Any]]:
    """The entry's own Sanction, then one per joint measure its list triggers."""
    catalogue = rules.catalogue
    target = subject_id(entry.subject_kind, entry.subject_key, entry.code_display)
    rule = rules.lists.get(entry.list_code)
    yield {
        "id": entry_sanction_id(entry.id),
        "schema": "Sanction",
        "properties": _props(
            entity=target,
            authority=_names(catalogue, rule.owner) if rule else None,
            authorityId=rule.owner if rule else None,
            program=[rule.title_zh, rule.title_en] if rule else entry.list_code,
            programId=entry.list_code,
            reason=entry.reason,
            provisions=list(rule.legal_basis) if rule else None,
            startDate=entry.valid_from,
            endDate=entry.valid_until,
            listingDate=entry.valid_from,
            recordId=entry.decision_no,
            country=COUNTRY,
        ),
    }
    for memo, measure in measures.get(entry.list_code, []):
        yield {
            "id": measure_sanction_id(entry.id, measure.code),
            "schema": "Sanction",
            "properties": _props(
                entity=target,
                authority=_names(catalogue, measure.department),
                authorityId=measure.department,
                program=[memo.title_zh, memo.title_en],
                programId=memo.code,
                reason=[measure.title_zh, measure.title_en],
                provisions=[*memo.legal_basis, *measure.legal_basis],
                summary=f"{measure.effect.value}: {', '.join(measure.actions)}",
                startDate=entry.valid_from,
                endDate=measure.ends(entry.valid_from, entry.valid_until),
                country=COUNTRY,
            ),
        }


def measures_by_list(rules: Rules) -> dict[str, list[tuple[Memorandum, Measure]]]:
    found: dict[str, list[tuple[Memorandum, Measure]]] = {}
    for code in sorted(rules.measures):
        memo, measure = rules.measures[code]
        for list_code in measure.lists:
            found.setdefault(list_code, []).append((memo, measure))
    return found


def write_entities(
    session: Session, written: Written, scope: Scope, *, catalogue: Catalogue, rules: Rules
) -> None:
    """Subjects, then sanctions, as FtM JSON lines; for a delta the changed ones and a file
    of the sanction ids no longer public."""
    since = scope.since
    among = None if since is None else store.changed_entries(since, scope.today, scope.zone)
    by_list = measures_by_list(rules)
    sink = JsonlSink(written.directory / ENTITIES)
    try:
        for rows in store.listed_subjects(session, scope.today, among=among):
            former = store.former_names(
                session,
                [r[2] for r in rows if r[1] != SubjectKind.NATURAL_PERSON],
            )
            sink.write_objects(subject_entity(r, former.get(r[2], [])) for r in rows)
        for entries in entries_in_force_public(session, scope.today, among=among):
            sink.write_objects(s for e in entries for s in sanctions(e, rules, by_list))
    finally:
        sink.close()
    written.add(ENTITIES, _SCHEMA, sink.rows)
    if since is None:
        return
    gone = JsonlSink(written.directory / REMOVED)
    try:
        for rows in store.removed_entries(session, since, scope.today, scope.zone):
            gone.write_objects(
                {"id": ident, "schema": "Sanction"}
                for entry_id, list_code in rows
                for ident in (
                    entry_sanction_id(entry_id),
                    *(measure_sanction_id(entry_id, m.code) for _, m in by_list.get(list_code, [])),
                )
            )
    finally:
        gone.close()
    written.add(REMOVED, _REMOVED_SCHEMA, gone.rows)
