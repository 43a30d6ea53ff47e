"""What a check answers, built the same way whichever evaluator found the entries.

An answer names, for one subject and one action on one day, every measure that applies:
its effect, the memorandum and department behind it, its legal basis, the last day it
applies, and each list entry (with its rule line and records) that triggers it. The single
check (Python evaluator) and batch screening (stored entries from SQL) both hand their
entries to ``subject_answer``; identical entries therefore give byte-identical answers,
which is what lets a certificate's digest be recomputed and compared later.

Least disclosure: a clear subject's answer is its code and "clear", nothing more.

A batch stores its listed answers compacted: a measure's texts and a list line's texts
(from the rules, the same in every answer that names them) are kept once in the store
under the digest of their canonical JSON, and each stored answer names them by it
(``PART``). ``expand`` puts them back, so the answer read is the one whose digest the
line holds, byte for byte; the parts are content-addressed, so a later version of the
rules adds parts and never changes one an old line names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bonafides.disclosure import Audience, class_visible
from bonafides.records import canonical_json
from bonafides.rules.evaluate import explain_entry
from bonafides.rules.facts import Entry
from bonafides.rules.model import Measure, Memorandum, Rules

MEASURES_APPLY = "measures_apply"
CLEAR = "clear"
UNKNOWN = "unknown"
INVALID = "invalid"
STATUSES = (MEASURES_APPLY, CLEAR, UNKNOWN, INVALID)
#: The key under which a stored answer names a shared part by its digest.
PART = "$part"


@dataclass(frozen=True, slots=True)
class RecordDetail:
    id: int
    type_code: str
    source: str
    decision_no: str
    decision_date: dt.date


@dataclass(frozen=True, slots=True)
class SubjectInfo:
    id: int
    kind: str
    name: str


def applying(
    rules: Rules, action: str, as_of: dt.date, entries: Iterable[Entry]
) -> list[tuple[Memorandum, Measure, list[Entry]]]:
    """Measures naming ``action`` whose lists have an entry in force on ``as_of``, within
    the measure's own duration, strongest effect first. A measure that does not name the
    action is never here."""
    by_list: dict[str, list[Entry]] = {}
    for entry in entries:
        by_list.setdefault(entry.list_code, []).append(entry)
    out = []
    for memo, measure in rules.measures_for(action):
        if by_list.keys().isdisjoint(measure.lists):
            # Most measures name none of a subject's lists: a batch asks this per line.
            continue
        behind = sorted(
            entry
            for code in measure.lists
            for entry in by_list.get(code, ())
            if entry.valid_from <= as_of <= measure.ends(entry.valid_from, entry.valid_until)
        )
        if behind:
            out.append((memo, measure, behind))
    return out


def part_key(part: Mapping[str, Any]) -> tuple[str, str]:
    """A shared part's digest and canonical text, the digest naming it in stored answers."""
    text = canonical_json(part)
    return hashlib.sha256(text.encode()).hexdigest(), text


def named_parts(stored: Mapping[str, Any]) -> set[str]:
    """The digests of the parts a stored answer names (none in an answer stored whole)."""
    named: set[str] = set()
    for measure in stored.get("measures", ()):
        if PART in measure:
            named.add(measure[PART])
        named.update(entry[PART] for entry in measure.get("entries", ()) if PART in entry)
    return named


def expand(stored: Mapping[str, Any], parts: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A stored answer with each part it names put back: the answer as it was given.
    An answer stored whole (before compaction, or with no measure) comes back as it is.
    A part missing from ``parts`` stays named, so the answer no longer matches its digest
    and a verification reports the line damaged, as it would an altered one."""

    def whole(item: Mapping[str, Any]) -> dict[str, Any]:
        if PART not in item or item[PART] not in parts:
            return dict(item)
        rest = {key: value for key, value in item.items() if key != PART}
        return {**parts[item[PART]], **rest}

    if "measures" not in stored:
        return dict(stored)
    return {
        **stored,
        "measures": [
            {**whole(measure), "entries": [whole(e) for e in measure.get("entries", ())]}
            for measure in stored["measures"]
        ],
    }


class StaticParts:
    """The parts of an answer that depend only on the rules, built once per rule set: a
    batch repeats them for every listed subject."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.measures: dict[str, dict[str, Any]] = {}
        self.lines: dict[tuple[str, int], dict[str, Any]] = {}
        self.types: dict[str, tuple[str, bool]] = {}
        self.keys: dict[tuple[str, ...], tuple[str, str]] = {}

    def measure_key(self, memo: Memorandum, measure: Measure) -> tuple[str, str]:
        """The digest and text of a measure's part (``part_key``)."""
        found = self.keys.get(("measure", measure.code))
        if found is None:
            found = self.keys[("measure", measure.code)] = part_key(self.measure(memo, measure))
        return found

    def line_key(self, list_code: str, line: int) -> tuple[str, str]:
        """The digest and text of a list line's part (``part_key``)."""
        found = self.keys.get(("line", list_code, str(line)))
        if found is None:
            found = self.keys[("line", list_code, str(line))] = part_key(self.line(list_code, line))
        return found

    def measure(self, memo: Memorandum, measure: Measure) -> dict[str, Any]:
        found = self.measures.get(measure.code)
        if found is None:
            found = self.measures[measure.code] = {
                "measure": measure.code,
                "title_zh": measure.title_zh,
                "title_en": measure.title_en,
                "effect": measure.effect.value,
                "department": measure.department,
                "memorandum": memo.code,
                "memorandum_title_zh": memo.title_zh,
                "document_no": memo.document_no,
                "legal_basis": [*memo.legal_basis, *measure.legal_basis],
            }
        return found

    def line(self, list_code: str, line: int) -> dict[str, Any]:
        found = self.lines.get((list_code, line))
        if found is None:
            rule = self.rules.lists[list_code]
            found = self.lines[(list_code, line)] = {
                "list": rule.code,
                "list_title_zh": rule.title_zh,
                "list_kind": rule.kind.value,
                "owner": rule.owner,
                "rule": rule.rule_ref(line),
            }
        return found

    def record_type(self, code: str) -> tuple[str, bool]:
        found = self.types.get(code)
        if found is None:
            rtype = self.rules.catalogue.type(code)
            found = self.types[code] = (
                rtype.title_zh,
                class_visible(Audience.AUTHORITY, rtype.disclosure),
            )
        return found


_STATIC: dict[int, StaticParts] = {}


def static_parts(rules: Rules) -> StaticParts:
    found = _STATIC.get(id(rules))
    if found is None or found.rules is not rules:
        found = _STATIC[id(rules)] = StaticParts(rules)
    return found


def cited_record(
    static: StaticParts, detail: RecordDetail | None, record_id: int
) -> dict[str, Any]:
    if detail is None:
        return {"id": record_id}
    title, shown = static.record_type(detail.type_code)
    out: dict[str, Any] = {"id": detail.id, "type": detail.type_code, "title_zh": title}
    if shown:
        out["source"] = detail.source
        out["decision_no"] = detail.decision_no
        out["decision_date"] = detail.decision_date.isoformat()
    return out


def subject_answer(
    rules: Rules,
    action: str,
    as_of: dt.date,
    *,
    code: str,
    subject: SubjectInfo | None,
    entries: Sequence[Entry],
    records: Mapping[int, RecordDetail],
) -> dict[str, Any]:
    if subject is None:
        return {"code": code, "status": UNKNOWN}
    found = applying(rules, action, as_of, entries)
    if not found:
        return {"code": code, "status": CLEAR}
    static = static_parts(rules)
    measures = []
    for memo, measure, behind in found:
        measures.append(
            {
                **static.measure(memo, measure),
                "until": max(measure.ends(e.valid_from, e.valid_until) for e in behind).isoformat(),
                "entries": [
                    {
                        **static.line(entry.list_code, entry.line),
                        "valid_from": entry.valid_from.isoformat(),
                        "valid_until": entry.valid_until.isoformat(),
                        "until_basis": entry.until_basis,
                        "reason": explain_entry(rules, entry),
                        "records": [
                            cited_record(static, records.get(rid), rid) for rid in entry.record_ids
                        ],
                    }
                    for entry in behind
                ],
            }
        )
    return {
        "code": code,
        "status": MEASURES_APPLY,
        "kind": subject.kind,
        "name": subject.name,
        "measures": measures,
    }


def invalid_answer(code: str, reason: str) -> dict[str, Any]:
    return {"code": code, "status": INVALID, "reason": reason}
