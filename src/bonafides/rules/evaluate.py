"""The per-subject evaluator (``rules-v1``): a subject's records in, entries and grades out.

Pure: it reads plain values (``rules.facts``) and does no I/O, so it is the fast path for
refreshing a subject after a record changes and for single checks. ``rules.compile``
states the same semantics in SQL for whole tables; the property test in
``tests/rules/test_agreement.py`` holds the two together.

Semantics, line by line:

- A *single* line (``at_least`` 1) makes one entry per matching record that still counts,
  or that was repaired or expired (its entry then ends the day before it ended).
- A *count* line makes one entry per decision date on which ``at_least`` matching records
  that still count fall within ``within_months`` up to and including that date.
- The entry starts on the term's start; it ends on the earliest of: the term's end (or the
  authority's own end date, capped), the day before a removal date, the day before the
  record ended, the day before the first later record an ``unless`` window names.
- An ``unless`` record within its window before the start, or a grade outside the allowed
  ones on the start day, means no entry; so does a minor natural person on the start day.
- An entry that would end before it starts is no entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from bonafides.catalogue import FieldType
from bonafides.records import SubjectKind
from bonafides.rules.dates import add_days, add_months, term_end
from bonafides.rules.facts import (
    ENDING_STATUSES,
    UNTIL_BASES,
    Entry,
    GradeResult,
    RecordFacts,
    SubjectFacts,
)
from bonafides.rules.model import (
    EntryLine,
    FieldTest,
    GradeScheme,
    ListRule,
    Match,
    Rules,
    Window,
)

Predicate = Callable[[RecordFacts], bool]


def field_value(record: RecordFacts, name: str, kind: FieldType) -> Any:
    """A content value as the rules compare it; anything unreadable counts as missing."""
    raw = record.content.get(name)
    if raw is None:
        return None
    if kind is FieldType.DATE:
        try:
            return dt.date.fromisoformat(str(raw))
        except ValueError:
            return None
    if kind in (FieldType.INTEGER, FieldType.DECIMAL):
        if isinstance(raw, bool):
            return None
        try:
            return Decimal(str(raw))
        except InvalidOperation:
            return None
    if kind is FieldType.BOOLEAN:
        return raw if isinstance(raw, bool) else None
    return str(raw)


def _test(test: FieldTest, kind: FieldType) -> Predicate:
    name = test.field

    def normal(value: Any) -> Any:
        if kind in (FieldType.INTEGER, FieldType.DECIMAL):
            return Decimal(str(value))
        if kind is FieldType.BOOLEAN:
            return value
        return str(value)

    if test.has is not None:
        wanted = test.has

        def has(record: RecordFacts) -> bool:
            value = field_value(record, name, kind)
            return value is not None and wanted in str(value).split(";")

        return has
    if test.eq is not None or test.in_ is not None:
        allowed = {normal(v) for v in ([test.eq] if test.eq is not None else test.in_ or ())}

        def member(record: RecordFacts) -> bool:
            value = field_value(record, name, kind)
            return value is not None and value in allowed

        return member
    low = None if test.gte is None else _bound(test.gte, kind)
    high = None if test.lte is None else _bound(test.lte, kind)

    def within(record: RecordFacts) -> bool:
        value = field_value(record, name, kind)
        if value is None:
            return False
        return (low is None or value >= low) and (high is None or value <= high)

    return within


def _bound(value: dt.date | Decimal, kind: FieldType) -> dt.date | Decimal:
    return value if kind is FieldType.DATE else Decimal(str(value))


class Evaluator:
    """``rules-v1`` in Python, with every selector turned into a predicate once."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._matches: dict[int, Predicate] = {}

    # ---- selectors

    def matcher(self, match: Match) -> Predicate:
        """Does a record fit the selector (type, source, severity, content)? Status aside."""
        key = id(match)
        found = self._matches.get(key)
        if found is not None:
            return found
        types = frozenset(self.rules.types_of(match))
        sources = frozenset(self.rules.sources_of(match))
        severities = frozenset(s.value for s in match.severity)
        tests = [_test(t, self.rules.field_type(match, t.field)) for t in match.where]

        def predicate(record: RecordFacts) -> bool:
            if record.type_code not in types:
                return False
            if sources and record.source not in sources:
                return False
            if severities and record.severity not in severities:
                return False
            return all(test(record) for test in tests)

        self._matches[key] = predicate
        return predicate

    def counting(self, match: Match, records: Iterable[RecordFacts]) -> list[RecordFacts]:
        """Matching records that count today (in an effective status the match allows)."""
        fits = self.matcher(match)
        statuses = {s.value for s in match.statuses}
        return [
            r for r in records if r.counts and (not statuses or r.status in statuses) and fits(r)
        ]

    # ---- lists

    def entries(
        self,
        subject: SubjectFacts,
        records: Sequence[RecordFacts],
        lists: Iterable[str] | None = None,
    ) -> list[Entry]:
        codes = self.rules.lists if lists is None else lists
        out: list[Entry] = []
        for code in codes:
            rule = self.rules.lists[code]
            if subject.kind not in rule.subject_kinds:
                continue
            for number, line in enumerate(rule.entry, 1):
                out.extend(self._line(rule, number, line, subject, records))
        return sorted(out)

    def _line(
        self,
        rule: ListRule,
        number: int,
        line: EntryLine,
        subject: SubjectFacts,
        records: Sequence[RecordFacts],
    ) -> Iterable[Entry]:
        if line.at_least > 1:
            yield from self._count_line(rule, number, line, subject, records)
            return
        fits = self.matcher(line.match)
        statuses = {s.value for s in line.match.statuses}
        term = line.term
        for record in records:
            if not fits(record):
                continue
            if record.counts:
                if statuses and record.status not in statuses:
                    continue
            elif record.status not in ENDING_STATUSES or record.ended_on is None:
                continue
            base = decision = record.decision_date
            if term.start_field is not None:
                base = field_value(record, term.start_field, FieldType.DATE) or decision
            start = add_months(base, term.starts_after_months)
            ends: list[tuple[dt.date, str]] = [self._term_end(record, start, line)]
            for name in line.removed_on:
                removed = field_value(record, name, FieldType.DATE)
                if removed is not None:
                    ends.append((add_days(removed, -1), "removed"))
            if record.ended_on is not None and not record.counts:
                ends.append((add_days(record.ended_on, -1), "record_ended"))
            if record.retained_until is not None:
                ends.append((record.retained_until, "record_ended"))
            entry = self._finish(
                rule, number, line, subject, records, start, ends, record.id, (record.id,)
            )
            if entry is not None:
                yield entry

    def _count_line(
        self,
        rule: ListRule,
        number: int,
        line: EntryLine,
        subject: SubjectFacts,
        records: Sequence[RecordFacts],
    ) -> Iterable[Entry]:
        assert line.within_months is not None
        found = self.counting(line.match, records)
        for day in sorted({r.decision_date for r in found}):
            floor = add_months(day, -line.within_months)
            window = [r for r in found if floor < r.decision_date <= day]
            if len(window) < line.at_least:
                continue
            trigger = max(r.id for r in found if r.decision_date == day)
            ends = [(term_end(day, line.term.months), "term")]
            kept = [r.retained_until for r in window if r.retained_until is not None]
            if kept:
                ends.append((min(kept), "record_ended"))
            ids = tuple(sorted(r.id for r in window))
            entry = self._finish(rule, number, line, subject, records, day, ends, trigger, ids)
            if entry is not None:
                yield entry

    @staticmethod
    def _term_end(record: RecordFacts, start: dt.date, line: EntryLine) -> tuple[dt.date, str]:
        term = line.term
        if term.until_field is not None:
            decided = field_value(record, term.until_field, FieldType.DATE)
            if decided is not None:
                cap = term_end(start, term.cap_months)
                return (decided, "decided") if decided <= cap else (cap, "cap")
        return term_end(start, term.months), "term"

    def _finish(
        self,
        rule: ListRule,
        number: int,
        line: EntryLine,
        subject: SubjectFacts,
        records: Sequence[RecordFacts],
        start: dt.date,
        ends: list[tuple[dt.date, str]],
        trigger: int,
        ids: tuple[int, ...],
    ) -> Entry | None:
        if (
            subject.kind == SubjectKind.NATURAL_PERSON
            and subject.adult_from is not None
            and start < subject.adult_from
        ):
            return None
        for window in line.unless:
            blocked, first_after = self._blockers(window, records, start, trigger)
            if blocked:
                return None
            if first_after is not None:
                ends.append((add_days(first_after, -1), "unless"))
        if line.grade is not None:
            result = self.grade(line.grade.scheme, subject, records, start)
            if result is None or result.grade not in line.grade.in_:
                return None
        until, basis = min(ends, key=lambda e: (e[0], UNTIL_BASES.index(e[1])))
        if until < start:
            return None
        return Entry(rule.code, number, subject.id, trigger, start, until, basis, ids)

    def _blockers(
        self, window: Window, records: Sequence[RecordFacts], start: dt.date, trigger: int
    ) -> tuple[bool, dt.date | None]:
        floor = add_months(start, -window.within_months)
        first_after: dt.date | None = None
        for other in self.counting(window.match, records):
            if other.id == trigger:
                continue
            if floor < other.decision_date <= start:
                return True, None
            if other.decision_date > start and (
                first_after is None or other.decision_date < first_after
            ):
                first_after = other.decision_date
        return False, first_after

    # ---- grades

    def grade(
        self,
        scheme_code: str,
        subject: SubjectFacts,
        records: Sequence[RecordFacts],
        as_of: dt.date,
    ) -> GradeResult | None:
        """The first line of the scheme that decides, as of a day; None for persons."""
        scheme = self.rules.grades[scheme_code]
        if subject.kind not in scheme.subject_kinds:
            return None
        for number, gline in enumerate(scheme.lines, 1):
            floor = add_months(as_of, -gline.within_months)
            window = [
                r for r in self.counting(gline.match, records) if floor < r.decision_date <= as_of
            ]
            if gline.grade is not None:
                if len(window) >= gline.at_least:
                    ids = tuple(sorted(r.id for r in window))
                    return GradeResult(scheme.code, subject.id, gline.grade, as_of, number, ids)
                continue
            assert gline.from_field is not None
            valued = [
                (r, value)
                for r in window
                if (value := field_value(r, gline.from_field, FieldType.STRING)) in scheme.values
            ]
            if valued:
                latest, value = max(valued, key=lambda rv: (rv[0].decision_date, rv[0].id))
                return GradeResult(scheme.code, subject.id, value, as_of, number, (latest.id,))
        return None

    def grades(
        self, subject: SubjectFacts, records: Sequence[RecordFacts], as_of: dt.date
    ) -> list[GradeResult]:
        out = []
        for scheme in self.rules.grades.values():
            result = self.grade(scheme.code, subject, records, as_of)
            if result is not None:
                out.append(result)
        return out


@lru_cache(maxsize=8)
def evaluator_for(rules: Rules) -> Evaluator:
    return Evaluator(rules)


def explain_entry(rules: Rules, entry: Entry) -> str:
    """Why a subject is on a list from when to when, in words, from the rule line."""
    rule = rules.lists[entry.list_code]
    line = rule.entry[entry.line - 1]
    return f"{rule.rule_ref(entry.line)}: {line.explain} ({_until_words(entry, line)})"


def _until_words(entry: Entry, line: EntryLine) -> str:
    until = entry.valid_until.isoformat()
    term = line.term
    return {
        "term": f"term of {term.months} months ends {until}",
        "decided": f"the authority's end date {term.until_field} is {until}",
        "cap": f"capped at {term.cap_months} months: {until}",
        "removed": f"removed by the authority; last day {until}",
        "record_ended": f"the record was repaired or expired; last day {until}",
        "unless": f"a later record ended it; last day {until}",
    }[entry.until_basis]


def explain_grade(scheme: GradeScheme, result: GradeResult) -> str:
    gline = scheme.lines[result.line - 1]
    return f"{scheme.rule_ref(result.line)}: {gline.explain}"
