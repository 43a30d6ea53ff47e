"""The whole-table evaluator (``rules-v1``): the rule set compiled to SQLAlchemy Core.

It states in SQL exactly what ``rules.evaluate`` states in Python (see that module's
docstring for the semantics), for every subject at once, on SQLite and PostgreSQL. Full
recomputation inserts its rows straight into a staging table, so no entry passes through
Python. Each list line becomes one SELECT in layers: the matching records and their own
dates; the term and the ends that come from the record; the ends and vetoes that come
from other records (``unless``, grade); the earliest end. The layers are nested
subqueries, some fenced with OFFSET 0 so that each value is computed once per row rather
than once per use; the only store-specific pieces are the date and JSON functions of
``rules.sqlfuncs``, so another SQL engine needs only those spelled for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Subquery

from bonafides.catalogue import FieldType
from bonafides.records import EFFECTIVE_STATUSES, SubjectKind
from bonafides.rules.dates import FAR_FUTURE
from bonafides.rules.facts import ENDING_STATUSES
from bonafides.rules.model import (
    EntryLine,
    FieldTest,
    GradeScheme,
    ListRule,
    Match,
    Rules,
)
from bonafides.rules.sqlfuncs import (
    concat_ids,
    contains_text,
    content,
    content_bool,
    content_date,
    content_number,
    content_text,
    days_after,
    least,
    local_day,
    months_after,
    typed,
)
from bonafides.store.tables import Base

ENTRY_COLUMNS = (
    "list_code",
    "line",
    "subject_id",
    "trigger_record_id",
    "valid_from",
    "valid_until",
    "until_basis",
    "record_ids",
    "reason",
)
GRADE_COLUMNS = ("scheme", "subject_id", "grade", "line", "record_ids")

_EFFECTIVE = sorted(s.value for s in EFFECTIVE_STATUSES)
_ENDING = sorted(s.value for s in ENDING_STATUSES)
#: The column of a base that ends an entry on the last day a record behind it is kept.
_RETAINED = "end_retained"


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _date_null() -> ColumnElement[dt.date]:
    return type_coerce(typed(None, String()), Date())


def _date(value: dt.date) -> ColumnElement[dt.date]:
    """A bound date; never CAST, which SQLite would turn into a number."""
    return literal(value, Date())


class SqlEvaluator:
    """Builds the SELECTs; executing them is the caller's business (``rules.service``)."""

    def __init__(self, rules: Rules, *, zone: str) -> None:
        self.rules = rules
        self.zone = zone
        self.records = _table("records")
        self.subjects = _table("subjects")
        self.versions = _table("record_versions")
        self._built: dict[tuple[str, ...], Select[Any]] = {}
        self._parts: dict[tuple[str, ...], list[Select[Any]]] = {}
        self._grades: dict[tuple[str, ...], Select[Any]] = {}

    # ---- selectors

    def match_clause(self, r: FromClause, match: Match, *, counting: bool) -> ColumnElement[bool]:
        """The selector as a WHERE clause on records alias ``r``; ``counting`` also asks
        that the record still count."""
        conds: list[ColumnElement[bool]] = [r.c.type_code.in_(self.rules.types_of(match))]
        sources = self.rules.sources_of(match)
        if sources:
            conds.append(r.c.source.in_(sources))
        if match.severity:
            conds.append(r.c.severity.in_([s.value for s in match.severity]))
        for test in match.where:
            conds.append(self._test(r, test, self.rules.field_type(match, test.field)))
        if counting:
            conds.append(r.c.status.in_(self._statuses(match)))
        return and_(*conds)

    @staticmethod
    def _statuses(match: Match) -> list[str]:
        return sorted(s.value for s in match.statuses) if match.statuses else _EFFECTIVE

    @staticmethod
    def _test(r: FromClause, test: FieldTest, kind: FieldType) -> ColumnElement[bool]:
        column = r.c.content
        if test.has is not None:
            joined = ";" + content(column, test.field, content_text) + ";"
            return contains_text(joined, typed(f";{test.has};", String())) > 0
        if test.eq is not None or test.in_ is not None:
            values = [test.eq] if test.eq is not None else list(test.in_ or ())
            if kind is FieldType.BOOLEAN:
                return content(column, test.field, content_bool) == typed(values[0], Boolean())
            if kind is FieldType.INTEGER:
                number = content(column, test.field, content_number)
                return number.in_([int(v) for v in values])
            return content(column, test.field, content_text).in_([str(v) for v in values])
        conds = []
        if kind is FieldType.DATE:
            value = content(column, test.field, content_date)
            if test.gte is not None:
                conds.append(value >= _date(test.gte))  # type: ignore[arg-type]
            if test.lte is not None:
                conds.append(value <= _date(test.lte))  # type: ignore[arg-type]
        else:
            number = content(column, test.field, content_number)
            if test.gte is not None:
                conds.append(number >= typed(float(test.gte), Float()))  # type: ignore[arg-type]
            if test.lte is not None:
                conds.append(number <= typed(float(test.lte), Float()))  # type: ignore[arg-type]
        return and_(*conds)

    # ---- lists

    def entries(
        self, lists: Sequence[str] | None = None, *, only: Table | None = None
    ) -> Select[Any]:
        """Every entry of the given lists (default all): ENTRY_COLUMNS. For all subjects, or
        with ``only`` (a table with a ``subject_id`` column) for the subjects it names.

        Built once per list selection: building is far dearer than executing on small data.
        """
        codes = tuple(self.rules.lists) if lists is None else tuple(lists)
        key = (*codes, "", only.name if only is not None else "")
        found = self._built.get(key)
        if found is None:
            found = self._built[key] = self._entries(codes, only)
        return found

    def lines(self, *, only: Table | None = None) -> list[Select[Any]]:
        """Every list line's entries as a SELECT of its own (ENTRY_COLUMNS), to be run one
        by one: SQLite evaluates the same lines about a quarter slower as the arms of one
        UNION ALL, and PostgreSQL no faster."""
        key = ("", "lines", only.name if only is not None else "")
        found = self._parts.get(key)
        if found is None:
            found = self._parts[key] = self._lines(tuple(self.rules.lists), only)
        return found

    def _lines(self, codes: Sequence[str], only: Table | None) -> list[Select[Any]]:
        return [
            self._line(self.rules.lists[code], number, line, only)
            for code in codes
            for number, line in enumerate(self.rules.lists[code].entry, 1)
        ]

    def _entries(self, codes: Sequence[str], only: Table | None) -> Select[Any]:
        parts = self._lines(codes, only)
        if len(parts) == 1:
            return parts[0]
        union = union_all(*parts).subquery("entries")
        return select(*(union.c[name] for name in ENTRY_COLUMNS))

    @staticmethod
    def _minors(rule: ListRule) -> bool:
        """Whether the list admits natural persons, so that a minor's record must be told
        apart: when it does not, the lookups of kind and age are not made per row."""
        return SubjectKind.NATURAL_PERSON in rule.subject_kinds

    def _person(self, rule: ListRule, subject_id: ColumnElement[Any]) -> ColumnElement[Any]:
        """The day a natural person comes of age, as ``adult_from`` (NULL for any other
        subject, and for every row when the list admits no natural person): one lookup
        that answers both questions of the minors test, kind and age."""
        if not self._minors(rule):
            return _date_null().label("adult_from")
        s = self.subjects.alias("s_adult_from")
        return (
            select(s.c.adult_from)
            .where(s.c.id == subject_id, s.c.kind == SubjectKind.NATURAL_PERSON.value)
            .scalar_subquery()
            .label("adult_from")
        )

    def _kinds(self, rule: ListRule, kind: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        if set(rule.subject_kinds) == set(SubjectKind):
            return []
        return [kind.in_([k.value for k in rule.subject_kinds])]

    def _of_subject(self, subject_id: ColumnElement[Any], name: str) -> ColumnElement[Any]:
        """One column of the record's subject, looked up by its key.

        A lookup rather than a join: a line matches a few records per hundred subjects,
        and joined, PostgreSQL hashes the whole subjects table for each of the twenty-odd
        lines (half the recompute at a million subjects); looked up, it reads one index
        entry per matched record.
        """
        s = self.subjects.alias(f"s_{name}")
        return select(s.c[name]).where(s.c.id == subject_id).scalar_subquery()

    def _line(
        self, rule: ListRule, number: int, line: EntryLine, only: Table | None = None
    ) -> Select[Any]:
        count = line.at_least > 1
        base = self._count_base(rule, line, only) if count else self._single_base(rule, line, only)
        return self._finish(rule, number, line, base)

    @staticmethod
    def _only(r: FromClause, only: Table | None) -> list[ColumnElement[bool]]:
        """The restriction of the records ``r`` to the subjects named by ``only``."""
        if only is None:
            return []
        return [r.c.subject_id.in_(select(only.c.subject_id))]

    def _ended_at(self, r: FromClause) -> ColumnElement[Any]:
        """When the record ``r`` stopped counting (``facts.ended_on``): the first change
        into an ending status after the last version in which it still counted.

        One read of the record's versions, the last counting version found beside them by
        a window: as two nested lookups (the ending versions, then the last counting one
        of each) the versions were read twice, and on a store partitioned by subject every
        read probes each partition, since a version is found by its record, not by its
        subject (a merger moves the record and leaves its versions where they were).
        """
        v = self.versions.alias("v")
        history = (
            select(
                v.c.status,
                v.c.version,
                v.c.changed_at,
                func.max(case((v.c.status.in_(_EFFECTIVE), v.c.version)))
                .over()
                .label("last_counting"),
            )
            .where(v.c.record_id == r.c.id)
            .correlate(r)
            .subquery("history")
        )
        after = and_(
            history.c.status.in_(_ENDING),
            history.c.version > func.coalesce(history.c.last_counting, 0),
        )
        return select(func.min(case((after, history.c.changed_at)))).scalar_subquery()

    def _single_base(self, rule: ListRule, line: EntryLine, only: Table | None) -> Subquery:
        """Matching records with their start, their own ends and their record ids."""
        r = self.records.alias("r")
        kind = self._of_subject(r.c.subject_id, "kind")
        term = line.term
        ended_at = self._ended_at(r)
        ending = r.c.status.in_(_ENDING)
        base_day: ColumnElement[Any] = r.c.decision_date
        if term.start_field is not None:
            base_day = func.coalesce(content(r.c.content, term.start_field, content_date), base_day)
        inner = (
            select(
                r.c.subject_id,
                r.c.id.label("trigger_record_id"),
                cast(r.c.id, String()).label("id_text"),
                (
                    months_after(base_day, term.starts_after_months)
                    if term.starts_after_months
                    else base_day
                ).label("start"),
                case((ending, local_day(ended_at, self.zone)), else_=None).label("ended_on"),
                r.c.retention_until.label("retained_until"),
                ending.label("is_ending"),
                self._person(rule, r.c.subject_id),
                *(
                    content(r.c.content, name, content_date).label(f"removed_{i}")
                    for i, name in enumerate(line.removed_on)
                ),
                *(
                    [content(r.c.content, term.until_field, content_date).label("decided")]
                    if term.until_field is not None
                    else []
                ),
            )
            .where(
                self.match_clause(r, line.match, counting=False),
                or_(r.c.status.in_(self._statuses(line.match)), ending),
                *self._kinds(rule, kind),
                *self._only(r, only),
            )
            # Fenced too: merged into the next layer, the end of an ending record (a
            # lookup in its versions) is computed twice, once for the filter below and
            # once for its column; on a store partitioned by subject each lookup probes
            # every partition, since versions are found by record, not by subject.
            .offset(0)
            .subquery("matched")
        )
        ends: list[tuple[ColumnElement[Any], str]] = []
        ends.append((days_after(inner.c.ended_on, -1), "record_ended"))
        ends.extend(
            (days_after(inner.c[f"removed_{i}"], -1), "removed")
            for i in range(len(line.removed_on))
        )
        term_until, term_basis = self._term(term, inner)
        return (
            select(
                inner.c.subject_id,
                inner.c.trigger_record_id,
                inner.c.start,
                inner.c.adult_from,
                inner.c.id_text.label("record_ids"),
                *(expr.label(f"end_{i}") for i, (expr, _) in enumerate(ends)),
                inner.c.retained_until.label(_RETAINED),
                term_until.label("term_until"),
                term_basis.label("term_basis"),
            )
            .where(or_(not_(inner.c.is_ending), inner.c.ended_on.is_not(None)))
            # OFFSET 0 keeps PostgreSQL from merging this layer into the next: merged, the
            # vetoes' subqueries are priced as filters on the record scan, the row estimate
            # collapses to a handful, and the join to subjects becomes a quadratic loop.
            .offset(0)
            .subquery("based")
        )

    @staticmethod
    def _term(term: Any, inner: Subquery) -> tuple[ColumnElement[Any], ColumnElement[str]]:
        plain = months_after(inner.c.start, term.months, -1)
        if term.until_field is None:
            return plain, typed("term", String())
        cap = months_after(inner.c.start, term.cap_months, -1)
        decided = inner.c.decided
        until = case(
            (decided.is_(None), plain),
            (decided <= cap, decided),
            else_=cap,
        )
        basis = case(
            (decided.is_(None), typed("term", String())),
            (decided <= cap, typed("decided", String())),
            else_=typed("cap", String()),
        )
        return until, basis

    def _count_base(self, rule: ListRule, line: EntryLine, only: Table | None) -> Subquery:
        """One row per decision date on which the count is reached, with the window's ids."""
        assert line.within_months is not None
        r = self.records.alias("r")
        counted = (
            select(r.c.id, r.c.subject_id, r.c.decision_date, r.c.retention_until)
            .where(
                self.match_clause(r, line.match, counting=True),
                *self._kinds(rule, self._of_subject(r.c.subject_id, "kind")),
                *self._only(r, only),
            )
            .subquery("counted")
        )
        other = counted.alias("other")
        days = (
            select(
                counted.c.subject_id,
                counted.c.decision_date.label("day"),
                func.max(counted.c.id).label("trigger_record_id"),
            )
            .group_by(counted.c.subject_id, counted.c.decision_date)
            .subquery("days")
        )
        group = (days.c.subject_id, days.c.day)
        window = (
            select(
                days.c.subject_id,
                days.c.day,
                days.c.trigger_record_id,
                func.count().over(partition_by=group).label("n"),
                concat_ids(other.c.id)
                .over(partition_by=group, order_by=other.c.id, rows=(None, None))
                .label("ids"),
                func.row_number().over(partition_by=group, order_by=other.c.id).label("rn"),
                func.min(other.c.retention_until).over(partition_by=group).label("retained"),
            )
            .select_from(
                days.join(
                    other,
                    and_(
                        other.c.subject_id == days.c.subject_id,
                        other.c.decision_date <= days.c.day,
                        other.c.decision_date > months_after(days.c.day, -line.within_months),
                    ),
                )
            )
            .subquery("windows")
        )
        return (
            select(
                window.c.subject_id,
                window.c.trigger_record_id,
                window.c.day.label("start"),
                self._person(rule, window.c.subject_id),
                window.c.ids.label("record_ids"),
                window.c.retained.label(_RETAINED),
                months_after(window.c.day, line.term.months, -1).label("term_until"),
                typed("term", String()).label("term_basis"),
            )
            .where(window.c.rn == 1, window.c.n >= line.at_least)
            .subquery("based")
        )

    def _finish(self, rule: ListRule, number: int, line: EntryLine, base: Subquery) -> Select[Any]:
        """Vetoes and ends from other records, the earliest end, and the final columns.

        Layers kept from being merged into the next (OFFSET 0 on both stores): merged,
        every use of a value (the earliest end: its column, its test against the start and
        one comparison per possible basis) computed it again, correlated subqueries and
        all, several times per row. ``looked`` makes each lookup once per row: the first
        blocking day after each ``unless`` window's floor, the grade; ``decided`` vetoes
        and takes the earliest end; the last layer names the basis.

        One lookup serves an ``unless`` window twice: the first blocking day after the
        floor is on or before the start exactly when a blocker falls in the window (a
        veto), and otherwise it is the first one after the start, which ends the entry.
        """
        people: list[ColumnElement[bool]] = []
        if self._minors(rule):
            people.append(
                not_(and_(base.c.adult_from.is_not(None), base.c.start < base.c.adult_from))
            )
        own = [
            (column, "record_ended" if column.key in ("end_0", _RETAINED) else "removed")
            for column in base.c
            if column.key.startswith("end_")
        ]
        lookups: list[ColumnElement[Any]] = []
        for i, window in enumerate(line.unless):
            b = self.records.alias(f"blocker_{i}")
            floor = months_after(base.c.start, -window.within_months)
            first = (
                select(func.min(b.c.decision_date))
                .where(
                    b.c.subject_id == base.c.subject_id,
                    b.c.id != base.c.trigger_record_id,
                    self.match_clause(b, window.match, counting=True),
                    b.c.decision_date > floor,
                )
                .scalar_subquery()
            )
            lookups.append(first.label(f"blocked_{i}"))
        if line.grade is not None:
            scheme = self.rules.grades[line.grade.scheme]
            grade = self.grade_value(scheme, base.c.subject_id, base.c.start)
            lookups.append(grade.label("grade"))
        looked = (
            select(
                base.c.subject_id,
                base.c.trigger_record_id,
                base.c.start,
                base.c.record_ids,
                base.c.term_until,
                base.c.term_basis,
                *(column.label(f"e_{i}") for i, (column, _) in enumerate(own)),
                *lookups,
            )
            .where(*people)
            .offset(0)
            .subquery("looked")
        )
        conds: list[ColumnElement[bool]] = []
        ends: list[tuple[ColumnElement[Any], str]] = [
            (looked.c[f"e_{i}"], name) for i, (_, name) in enumerate(own)
        ]
        for i in range(len(line.unless)):
            blocked = looked.c[f"blocked_{i}"]
            conds.append(or_(blocked.is_(None), blocked > looked.c.start))
            ends.append((days_after(blocked, -1), "unless"))
        if line.grade is not None:
            conds.append(looked.c.grade.in_(list(line.grade.in_)))
        far = _date(FAR_FUTURE)
        until = least(*(func.coalesce(expr, far) for expr, _ in ends), looked.c.term_until)
        decided = (
            select(
                looked.c.subject_id,
                looked.c.trigger_record_id,
                looked.c.start,
                looked.c.record_ids,
                looked.c.term_basis,
                *(expr.label(f"x_{i}") for i, (expr, _) in enumerate(ends)),
                until.label("valid_until"),
            )
            .where(*conds)
            .offset(0)
            .subquery("decided")
        )
        ranked = sorted(
            ((decided.c[f"x_{i}"], name) for i, (_, name) in enumerate(ends)),
            key=lambda e: _PRIORITY[e[1]],
        )
        basis: ColumnElement[Any] = decided.c.term_basis
        if ranked:
            basis = case(
                *(
                    (column == decided.c.valid_until, typed(name, String()))
                    for column, name in ranked
                ),
                else_=decided.c.term_basis,
            )
        return select(
            typed(rule.code, String()).label("list_code"),
            typed(number, Integer()).label("line"),
            decided.c.subject_id,
            decided.c.trigger_record_id,
            type_coerce(decided.c.start, Date()).label("valid_from"),
            type_coerce(decided.c.valid_until, Date()).label("valid_until"),
            basis.label("until_basis"),
            decided.c.record_ids,
            typed(f"{rule.rule_ref(number)}: {line.explain}", String()).label("reason"),
        ).where(decided.c.valid_until >= decided.c.start)

    # ---- grades

    def _grade_window(
        self,
        o: FromClause,
        match: Match,
        subject: ColumnElement[Any],
        day: ColumnElement[Any],
        months: int,
    ) -> ColumnElement[bool]:
        return and_(
            o.c.subject_id == subject,
            self.match_clause(o, match, counting=True),
            o.c.decision_date <= day,
            o.c.decision_date > months_after(day, -months),
        )

    def _grade_line_hit(
        self,
        scheme: GradeScheme,
        number: int,
        subject: ColumnElement[Any],
        day: ColumnElement[Any],
    ) -> tuple[ColumnElement[bool], ColumnElement[Any], ColumnElement[Any]]:
        """For one line: does it decide, the grade it gives, and the record ids behind it."""
        gline = scheme.lines[number - 1]
        o = self.records.alias(f"g{number}")
        inside = self._grade_window(o, gline.match, subject, day, gline.within_months)
        if gline.grade is not None:
            hits = select(func.count()).where(inside).scalar_subquery()
            ids = (
                select(concat_ids(o.c.id).over(order_by=o.c.id, rows=(None, None)))
                .where(inside)
                .limit(1)
                .scalar_subquery()
            )
            return hits >= gline.at_least, typed(gline.grade, String()), ids
        assert gline.from_field is not None
        value = content(o.c.content, gline.from_field, content_text)
        latest = (
            select(value, o.c.id)
            .where(inside, value.in_(list(scheme.values)))
            .order_by(o.c.decision_date.desc(), o.c.id.desc())
            .limit(1)
        )
        grade = latest.with_only_columns(value).scalar_subquery()
        ids = latest.with_only_columns(cast(o.c.id, String())).scalar_subquery()
        return grade.is_not(None), grade, ids

    def grade_value(
        self, scheme: GradeScheme, subject: ColumnElement[Any], day: ColumnElement[Any]
    ) -> ColumnElement[str]:
        """The subject's grade as of ``day`` (a column or a constant), or NULL.

        Built from the last line up: a line that reads its grade from a field decides
        exactly when that value is not null, so it is a COALESCE over the lines below it
        and its (correlated) lookup runs once, not once to test and once to take."""
        value: ColumnElement[Any] = typed(None, String())
        for number in range(len(scheme.lines), 0, -1):
            hit, grade, _ = self._grade_line_hit(scheme, number, subject, day)
            if scheme.lines[number - 1].from_field is not None:
                value = func.coalesce(grade, value)
            else:
                value = case((hit, grade), else_=value)
        return value

    def grades(self, schemes: Sequence[str] | None = None) -> Select[Any]:
        """Every organisation's grade in each scheme as of the day bound to ``as_of``
        (execute with ``{"as_of": day}``): GRADE_COLUMNS."""
        codes = tuple(self.rules.grades) if schemes is None else tuple(schemes)
        found = self._grades.get(codes)
        if found is None:
            found = self._grades[codes] = self._all_grades(codes)
        return found

    def _all_grades(self, codes: Sequence[str]) -> Select[Any]:
        parts = [self._scheme(self.rules.grades[code]) for code in codes]
        if len(parts) == 1:
            return parts[0]
        union = union_all(*parts).subquery("grades")
        return select(*(union.c[name] for name in GRADE_COLUMNS))

    def _scheme(self, scheme: GradeScheme) -> Select[Any]:
        """One scheme's grades as one set-based statement: the records each line counts
        (one arm per line), numbered within each (subject, line) by a single window, then
        the first line that decides per subject.

        Set-based rather than a lookup per subject and line: on a store partitioned by
        subject, each correlated lookup is an Append over every partition pruned at run
        time, once per subject and line; here each partition is scanned once.

        One window order serves both kinds of line: a fixed-grade line orders its records
        by id (its ids are listed in id order and any row stands for the line), a line
        that reads its grade from a field by date then id, latest first (its first row is
        the latest record). ``k1`` is a constant for the former, so ``k2`` orders alone.
        """
        day = bindparam("as_of", type_=Date())
        arms = []
        for number, gline in enumerate(scheme.lines, 1):
            o = self.records.alias(f"g{number}")
            conds = [
                self.match_clause(o, gline.match, counting=True),
                o.c.decision_date <= day,
                o.c.decision_date > months_after(day, -gline.within_months),
            ]
            if gline.from_field is not None:
                value = content(o.c.content, gline.from_field, content_text)
                conds.append(value.in_(list(scheme.values)))
                grade: ColumnElement[Any] = value
                k1: ColumnElement[Any] = o.c.decision_date
                k2: ColumnElement[Any] = -o.c.id
                own: ColumnElement[Any] = cast(o.c.id, String())
            else:
                grade = typed(gline.grade, String())
                k1 = _date(FAR_FUTURE)
                k2 = o.c.id
                own = typed(None, String())
            arms.append(
                select(
                    o.c.subject_id,
                    typed(number, Integer()).label("line"),
                    o.c.id,
                    k1.label("k1"),
                    k2.label("k2"),
                    grade.label("grade"),
                    own.label("own_ids"),
                    typed(gline.at_least, Integer()).label("need"),
                ).where(*conds)
            )
        hits = (arms[0] if len(arms) == 1 else union_all(*arms)).subquery("hits")
        s = self.subjects.alias("s")
        group = (hits.c.subject_id, hits.c.line)
        order = (hits.c.k1.desc(), hits.c.k2)
        counted = (
            select(
                hits.c.subject_id,
                hits.c.line,
                hits.c.grade,
                hits.c.own_ids,
                hits.c.need,
                func.count().over(partition_by=group).label("n"),
                concat_ids(hits.c.id)
                .over(partition_by=group, order_by=order, rows=(None, None))
                .label("ids"),
                func.row_number().over(partition_by=group, order_by=order).label("rn"),
            )
            .select_from(hits.join(s, s.c.id == hits.c.subject_id))
            .where(s.c.kind.in_([k.value for k in scheme.subject_kinds]))
            .subquery("counted")
        )
        decided = (
            select(
                counted.c.subject_id,
                counted.c.line,
                counted.c.grade,
                func.coalesce(counted.c.own_ids, counted.c.ids).label("record_ids"),
                func.row_number()
                .over(partition_by=counted.c.subject_id, order_by=counted.c.line)
                .label("first"),
            )
            .where(counted.c.rn == 1, counted.c.n >= counted.c.need)
            .subquery("decided")
        )
        return select(
            typed(scheme.code, String()).label("scheme"),
            decided.c.subject_id,
            decided.c.grade,
            decided.c.line,
            decided.c.record_ids,
        ).where(decided.c.first == 1)


@lru_cache(maxsize=16)
def sql_evaluator_for(rules: Rules, zone: str) -> SqlEvaluator:
    return SqlEvaluator(rules, zone=zone)


_PRIORITY = {name: i for i, name in enumerate(("record_ended", "removed", "unless"))}
