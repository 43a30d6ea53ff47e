"""Generated subjects and records for the rule tests, written straight into the tables.

Writing rows directly (not through ingest) lets a test choose everything the rules read:
statuses with their version history and change times, content values at the edges of
ranges, decision dates on month ends, minors. Values cluster around a few dates so that
windows, terms and vetoes actually meet.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue, FieldType, load_catalogue
from bonafides.records import RecordStatus, SubjectKind
from bonafides.rules.dates import add_months
from bonafides.rules.facts import RecordFacts, SubjectFacts, VersionFacts, ended_on
from bonafides.rules.loader import load_rules
from bonafides.rules.model import Match, Rules
from bonafides.store.tables import (
    AuditEvent,
    AuditHead,
    Check,
    CheckLine,
    Grade,
    ListEntry,
    Record,
    RecordVersion,
    RuleRun,
    Subject,
    SubjectName,
)

FEATURES = Path(__file__).with_name("features")
ANCHORS = [
    dt.date(2024, 1, 31),
    dt.date(2024, 2, 29),
    dt.date(2024, 3, 31),
    dt.date(2024, 8, 31),
    dt.date(2025, 1, 1),
    dt.date(2025, 2, 28),
    dt.date(2025, 6, 30),
]
KINDS = [
    SubjectKind.LEGAL_PERSON,
    SubjectKind.INDIVIDUAL_BUSINESS,
    SubjectKind.NATURAL_PERSON,
    SubjectKind.OTHER_ORG,
]
NUMBERS = ["0.5", "1", "1.00", "5", "10", "15", "50.5", "50.51", "100"]
_ids = itertools.count(1)


def feature_rules() -> Rules:
    return load_rules(load_catalogue(), FEATURES)


def referenced_fields(rules: Rules) -> dict[str, set[str]]:
    """Per record type, the content fields any rule reads.

    A polarity stands for dozens of types; three of them are enough to exercise it, and
    more would crowd out the types the rules name.
    """
    out: dict[str, set[str]] = {}

    def note(match: Match, *names: str | None) -> None:
        codes = rules.types_of(match)
        if match.polarity is not None:
            codes = codes[:3]
        for code in codes:
            wanted = out.setdefault(code, set())
            wanted.update(t.field for t in match.where)
            wanted.update(n for n in names if n)

    for rule in rules.lists.values():
        for line in rule.entry:
            term = line.term
            note(line.match, term.start_field, term.until_field, *line.removed_on)
            for window in line.unless:
                note(window.match)
    for scheme in rules.grades.values():
        for gline in scheme.lines:
            note(gline.match, gline.from_field)
    return out


def interesting_values(rules: Rules) -> dict[tuple[str, str], list[Any]]:
    """Per (type, field), the values rules test for and the edges of their ranges."""
    out: dict[tuple[str, str], list[Any]] = {}

    def note(match: Match) -> None:
        for code in rules.types_of(match)[:3] if match.polarity else rules.types_of(match):
            for test in match.where:
                values = out.setdefault((code, test.field), [])
                if test.eq is not None:
                    values.append(test.eq)
                values.extend(test.in_ or ())
                if test.has is not None:
                    values.append(test.has)
                for bound in (test.gte, test.lte):
                    if isinstance(bound, dt.date):
                        values.extend(bound + dt.timedelta(days=d) for d in (-1, 0, 1))
                    elif bound is not None:
                        values.extend(str(bound + d) for d in (-1, 0, 1))

    for rule in rules.lists.values():
        for line in rule.entry:
            note(line.match)
            for window in line.unless:
                note(window.match)
    for scheme in rules.grades.values():
        for gline in scheme.lines:
            note(gline.match)
    return out


@dataclass
class GenRecord:
    type_code: str
    source: str
    decision_date: dt.date
    statuses: list[str]
    changed_at: list[dt.datetime]
    severity: str | None
    content: dict[str, Any]


@dataclass
class GenSubject:
    kind: SubjectKind
    adult_from: dt.date | None
    records: list[GenRecord] = field(default_factory=list)


def _day() -> st.SearchStrategy[dt.date]:
    return st.one_of(
        st.sampled_from(ANCHORS),
        st.dates(dt.date(2023, 6, 1), dt.date(2026, 6, 30)),
    )


def _near(anchor: dt.date) -> st.SearchStrategy[dt.date]:
    """A day close to the subject's anchor, so windows and terms of its records overlap."""
    return st.one_of(
        st.just(anchor),
        st.integers(-240, 240).map(lambda d: anchor + dt.timedelta(days=d)),
        _day(),
    )


@st.composite
def _record(
    draw: st.DrawFn,
    cat: Catalogue,
    fields: dict[str, set[str]],
    focus: list[str],
    anchor: dt.date,
    wanted: dict[tuple[str, str], list[Any]],
) -> GenRecord:
    type_code = draw(st.sampled_from(focus) | st.sampled_from(sorted(fields)))
    rtype = cat.type(type_code)
    decided = draw(_near(anchor))
    sources = [s for s in rtype.sources if s != "*"] or ["samr", "mof"]
    source = draw(st.sampled_from([*sources, "bj_hrss", "samr"]))
    content: dict[str, Any] = {"decision_date": decided.isoformat()}
    for name in sorted(fields[type_code]):
        spec = rtype.content_field(name)
        if draw(st.integers(0, 4)) == 0:
            continue
        favourites = wanted.get((type_code, name))
        if favourites and draw(st.booleans()):
            value = draw(st.sampled_from(favourites))
            content[name] = value.isoformat() if isinstance(value, dt.date) else value
            continue
        if spec.type is FieldType.DATE:
            shift = draw(
                st.integers(-400, 1100) | st.sampled_from([0, 1, -1, 181, 365, 1200, 1900])
            )
            content[name] = (decided + dt.timedelta(days=shift)).isoformat()
        elif spec.type is FieldType.ENUM:
            values = [e.value for e in spec.enum or ()]
            if spec.multiple:
                picked = draw(
                    st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True)
                )
                content[name] = ";".join(picked)
            else:
                content[name] = draw(st.sampled_from(values))
        elif spec.type is FieldType.DECIMAL:
            content[name] = draw(st.sampled_from(NUMBERS))
        elif spec.type is FieldType.INTEGER:
            content[name] = draw(st.integers(0, 20))
        elif spec.type is FieldType.BOOLEAN:
            content[name] = draw(st.booleans())
        else:
            content[name] = draw(st.sampled_from(["a", "b"]))
    severity = None
    if rtype.has_severity:
        severity = draw(st.sampled_from(["minor", "general", "serious"]))
        content["severity"] = severity
    any_status = st.sampled_from([s.value for s in RecordStatus])
    path = draw(st.just([]) | st.lists(any_status, min_size=1, max_size=3))
    statuses = ["active", *path]
    changed = [dt.datetime.combine(decided, dt.time(9), dt.UTC)]
    for _ in path:
        later = draw(st.integers(0, 900))
        hour = draw(st.sampled_from([0, 15, 16, 23]))
        stamp = dt.datetime.combine(decided + dt.timedelta(days=later), dt.time(hour, 30), dt.UTC)
        changed.append(max(stamp, changed[-1]))
    return GenRecord(type_code, source, decided, statuses, changed, severity, content)


def window_months(rules: Rules) -> tuple[list[int], list[int]]:
    """The window lengths of the list lines that count (first) and of every window the
    rules look through (counts, vetoes, grades): a record exactly that many months before
    another sits on the window's edge, which ``>`` against ``>=`` decides."""
    lines = [line for rule in rules.lists.values() for line in rule.entry]
    counts = {line.within_months for line in lines if line.at_least > 1}
    every = counts | {w.within_months for line in lines for w in line.unless}
    every |= {g.within_months for scheme in rules.grades.values() for g in scheme.lines}
    return sorted(m for m in counts if m), sorted(m for m in every if m)


@st.composite
def subjects(
    draw: st.DrawFn, rules: Rules, *, max_subjects: int = 3, max_records: int = 7
) -> list[GenSubject]:
    cat = rules.catalogue
    fields = referenced_fields(rules)
    wanted = interesting_values(rules)
    counts, edges = window_months(rules)
    edge = st.sampled_from(counts) | st.sampled_from(edges) if counts else st.sampled_from(edges)
    out = []
    for _ in range(draw(st.integers(1, max_subjects))):
        kind = draw(st.sampled_from(KINDS))
        adult = None
        if kind is SubjectKind.NATURAL_PERSON:
            adult = draw(st.none() | _day())
        allowed = sorted(t for t in fields if kind in cat.type(t).subject_kinds)
        if not allowed:
            continue
        local = {t: fields[t] for t in allowed}
        focus = draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=2))
        anchor = draw(_day())
        records = draw(st.lists(_record(cat, local, focus, anchor, wanted), max_size=max_records))
        if records:
            # Repeats of one decision a few weeks apart (what counts in a window need), or
            # exactly a window's length earlier (on its edge).
            for _ in range(draw(st.integers(0, 3))):
                model = records[draw(st.integers(0, len(records) - 1))]
                back = draw(st.none() | edge) if edges else None
                if back is None:
                    shift = dt.timedelta(days=draw(st.integers(0, 75)))
                else:
                    shift = add_months(model.decision_date, -back) - model.decision_date
                records.append(
                    replace(
                        model,
                        decision_date=model.decision_date + shift,
                        changed_at=[stamp + shift for stamp in model.changed_at],
                        content={
                            **model.content,
                            "decision_date": (model.decision_date + shift).isoformat(),
                        },
                    )
                )
        out.append(GenSubject(kind, adult, records))
    return out


def clear_store(session: Session) -> None:
    for table in (
        CheckLine,
        Check,
        Grade,
        ListEntry,
        RuleRun,
        RecordVersion,
        Record,
        SubjectName,
        Subject,
        AuditEvent,
        AuditHead,
    ):
        session.execute(delete(table))


def store(session: Session, generated: Sequence[GenSubject]) -> list[int]:
    """Write subjects, records and versions; returns the subject ids."""
    ids: list[int] = []
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for subject in generated:
        n = next(_ids)
        sid = session.execute(
            insert(Subject).returning(Subject.id),
            {
                "key": f"test-{n}",
                "kind": subject.kind.value,
                "code_display": f"T{n:017d}",
                "name": f"主体{n}",
                "status": "active",
                "adult_from": subject.adult_from,
                "created_at": now,
                "updated_at": now,
            },
        ).scalar_one()
        ids.append(sid)
        for record in subject.records:
            rid = session.execute(
                insert(Record).returning(Record.id),
                {
                    "subject_id": sid,
                    "type_code": record.type_code,
                    "source": record.source,
                    "decision_no": f"gen-{next(_ids)}",
                    "decision_date": record.decision_date,
                    "received_at": now,
                    "status": record.statuses[-1],
                    "severity": record.severity,
                    "legal_basis": "test",
                    "version": len(record.statuses),
                    "content": record.content,
                    "content_digest": "0" * 64,
                    "updated_at": record.changed_at[-1],
                },
            ).scalar_one()
            session.execute(
                insert(RecordVersion),
                [
                    {
                        "record_id": rid,
                        "subject_id": sid,
                        "version": number,
                        "status": status,
                        "severity": record.severity,
                        "decision_date": record.decision_date,
                        "legal_basis": "test",
                        "content": record.content,
                        "raw": {},
                        "content_digest": "0" * 64,
                        "changed_at": stamp,
                        "changed_by": "test",
                        "reason": "generated",
                    }
                    for number, (status, stamp) in enumerate(
                        zip(record.statuses, record.changed_at, strict=True), 1
                    )
                ],
            )
    return ids


def as_facts(subject_id: int, subject: GenSubject) -> tuple[SubjectFacts, list[RecordFacts]]:
    """The generated subject as the Python evaluator reads it, without a store."""
    zone = ZoneInfo("Asia/Shanghai")
    records = []
    for number, record in enumerate(subject.records, 1):
        versions = [
            VersionFacts(v, status, stamp)
            for v, (status, stamp) in enumerate(
                zip(record.statuses, record.changed_at, strict=True), 1
            )
        ]
        records.append(
            RecordFacts(
                id=number,
                subject_id=subject_id,
                type_code=record.type_code,
                source=record.source,
                status=record.statuses[-1],
                decision_date=record.decision_date,
                content=record.content,
                severity=record.severity,
                ended_on=ended_on(record.statuses[-1], versions, zone),
            )
        )
    return SubjectFacts(subject_id, subject.kind.value, subject.adult_from), records
