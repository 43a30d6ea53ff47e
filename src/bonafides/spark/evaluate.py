"""The Spark evaluator (``rules-v1``): the rule set compiled to Spark SQL text.

It states what ``rules.evaluate`` (Python, one subject) and ``rules.compile`` (SQL, whole
tables) state, for every subject at once on a Spark cluster; the property test in
``tests/spark/test_agreement.py`` holds the three together. Where the SQL evaluator uses
correlated subqueries (a record's subject, its blockers, the grade as of its start), this
one uses joins and aggregations, which is what Spark distributes well; every join carries
the subject, so a partitioning by subject keeps each line's work local.

Each evaluation is one Spark SQL text over temporary views, handed to Spark in one call:
built as DataFrame calls it cost hundreds of py4j round trips, each re-analysing the
plan so far (5-6 s per evaluation before any data moved). Within a line, all ``unless``
windows are one join and one aggregation, and all lines of a grade scheme are one join,
so a plan has a few stages per line rather than one per window and grade line.

Only the jobs import this module, after ``spark.session.require``: pyspark is an extra.
Input is three DataFrames shaped like the store's tables (``Tables``); ``content`` is the
record's JSON as text, as both stores hand it over JDBC or in a Parquet snapshot.
"""

# ruff: noqa: S608 - the SQL text is built from the rule set: names are the evaluator's own,
# every value from the rules is a literal through _quote, _date or _double.

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as fn

from bonafides.catalogue import FieldType
from bonafides.records import EFFECTIVE_STATUSES, SubjectKind
from bonafides.rules.compile import ENTRY_COLUMNS, GRADE_COLUMNS
from bonafides.rules.dates import FAR_FUTURE
from bonafides.rules.facts import ENDING_STATUSES
from bonafides.rules.model import EntryLine, FieldTest, GradeScheme, ListRule, Match, Rules

_EFFECTIVE = sorted(s.value for s in EFFECTIVE_STATUSES)
_ENDING = sorted(s.value for s in ENDING_STATUSES)
#: Ties between ends on one day go to the first of these; the term's own basis comes last.
_PRIORITY = ("record_ended", "removed", "unless")
#: Columns a line's rows carry before their ends are compared.
_KEY = ("subject_id", "trigger_record_id", "start", "kind", "adult_from", "record_ids")
#: Numbers the temporary views of each evaluator, so several can share a session.
_EVALUATORS = itertools.count(1)


@dataclass(frozen=True)
class Tables:
    """The store's tables as Spark sees them (only the columns the rules read).

    subjects: id, kind, adult_from; records: id, subject_id, type_code, source, status,
    severity, decision_date, content (JSON text), retention_until; versions: record_id,
    version, status, changed_at (a UTC timestamp). Other columns are ignored.
    """

    subjects: DataFrame
    records: DataFrame
    versions: DataFrame


@dataclass
class _Line:
    """A line's SQL: the named subqueries it needs, and the SELECT of its entries."""

    ctes: list[tuple[str, str]]
    select: str


class SparkEvaluator:
    """Compiles the rules to SQL over the evaluator's views; running and writing the
    DataFrames it returns is the job's business."""

    def __init__(self, rules: Rules, tables: Tables, *, zone: str) -> None:
        self.rules = rules
        self.zone = zone
        self.tables = tables
        self._prefix = f"bonafides_{next(_EVALUATORS)}"
        self._prepared: DataFrame | None = None
        self._views: list[str] = []

    @property
    def spark(self) -> SparkSession:
        return self.tables.records.sparkSession

    def _view(self, name: str, frame: DataFrame) -> str:
        view = f"{self._prefix}_{name}"
        frame.createOrReplaceTempView(view)
        self._views.append(view)
        return view

    # ---- input

    @property
    def prepared(self) -> DataFrame:
        """Records with their subject's kind and majority day, and the local day a repaired
        or expired record ended (as ``rules.facts.ended_on`` says)."""
        if self._prepared is not None:
            return self._prepared
        records = self._view("records", self.tables.records)
        versions = self._view("versions", self.tables.versions)
        subjects = self._view("subjects", self.tables.subjects)
        ending = _in("status", _ENDING)
        local = f"to_date(from_utc_timestamp(e.ended_at, {_quote(self.zone)}))"
        ended = f"""
            SELECT record_id AS id, min(changed_at) AS ended_at
            FROM (
              SELECT record_id, version, status, changed_at,
                max(CASE WHEN {_in("status", _EFFECTIVE)} THEN version END)
                  OVER (PARTITION BY record_id) AS last_counting
              FROM {versions}
            ) v
            WHERE {ending} AND version > coalesce(last_counting, 0)
            GROUP BY record_id
        """
        sql = f"""
            SELECT /*+ REPARTITION(r.subject_id) */ r.id, r.subject_id, r.type_code, r.source,
              r.status, r.severity, r.decision_date, r.content,
              r.retention_until AS retained_until, s.kind, s.adult_from,
              CASE WHEN {_in("r.status", _ENDING)} THEN {local} END AS ended_on
            FROM {records} r
            LEFT JOIN ({ended}) e ON e.id = r.id
            LEFT JOIN {subjects} s ON s.id = r.subject_id
        """
        # Kept once, spread by subject: every list line and grade line reads it, and
        # without it each would read the tables and rejoin them again; its joins and
        # aggregations all carry the subject, so Spark need not shuffle it again. The
        # cache is named so that the SQL over it reads the kept rows (a persisted
        # DataFrame behind a view is not always recognised).
        view = f"{self._prefix}_prepared"
        self.spark.sql(f"CACHE TABLE {view} AS {sql}")
        self._views.append(view)
        self._prepared = self.spark.table(view)
        return self._prepared

    @property
    def _records(self) -> str:
        self.prepared  # noqa: B018 - registers the view
        return f"{self._prefix}_prepared"

    def close(self) -> None:
        """Release the kept records and the views (a session may run several jobs)."""
        if self._prepared is not None:
            self.spark.sql(f"UNCACHE TABLE IF EXISTS {self._prefix}_prepared")
            self._prepared = None
        for view in self._views:
            self.spark.catalog.dropTempView(view)
        self._views = []

    # ---- selectors

    def match_condition(self, match: Match, *, counting: bool) -> Column:
        """The selector on ``prepared``'s columns; ``counting`` also asks that the record
        still count."""
        return fn.expr(self._match(match, counting=counting))

    def _match(self, match: Match, *, counting: bool) -> str:
        conds = [_in("type_code", sorted(self.rules.types_of(match)))]
        sources = self.rules.sources_of(match)
        if sources:
            conds.append(_in("source", sorted(sources)))
        if match.severity:
            conds.append(_in("severity", [s.value for s in match.severity]))
        for test in match.where:
            conds.append(_test(test, self.rules.field_type(match, test.field)))
        if counting:
            conds.append(_in("status", _statuses(match)))
        return f"coalesce({' AND '.join(f'({c})' for c in conds)}, false)"

    def _kinds(self, rule: ListRule) -> str:
        if set(rule.subject_kinds) == set(SubjectKind):
            return "true"
        return _in("kind", [k.value for k in rule.subject_kinds])

    # ---- lists

    def entries(self, lists: Sequence[str] | None = None) -> DataFrame:
        """Every entry of the given lists (default all), with ENTRY_COLUMNS."""
        return self.spark.sql(self.entries_sql(lists))

    def entries_sql(self, lists: Sequence[str] | None = None) -> str:
        """The one Spark SQL text of ``entries`` (to explain or time a job's plan)."""
        codes = tuple(self.rules.lists) if lists is None else tuple(lists)
        lines: list[_Line] = []
        for code in codes:
            rule = self.rules.lists[code]
            for number, line in enumerate(rule.entry, 1):
                lines.append(self._line(rule, number, line, f"l{len(lines) + 1}"))
        return _query([c for x in lines for c in x.ctes], [x.select for x in lines])

    def _line(self, rule: ListRule, number: int, line: EntryLine, name: str) -> _Line:
        base, bases = (
            self._count_base(rule, line) if line.at_least > 1 else self._single_base(rule, line)
        )
        ctes = [
            (
                f"{name}_base",
                f"SELECT * FROM ({base}) b WHERE NOT coalesce(kind = "
                f"{_quote(SubjectKind.NATURAL_PERSON.value)} AND adult_from IS NOT NULL "
                "AND start < adult_from, false)",
            )
        ]
        current = f"{name}_base"
        if line.unless:
            ends = self._unless(line, current)
            ctes.append((f"{name}_kept", ends))
            current = f"{name}_kept"
            bases = {**bases, **{f"end_unless_{i}": "unless" for i in range(len(line.unless))}}
        if line.grade is not None:
            scheme = self.rules.grades[line.grade.scheme]
            ctes.append(
                (
                    f"{name}_days",
                    f"SELECT DISTINCT subject_id, start AS day, kind FROM {current}",
                )
            )
            ctes.extend(self._grade_ctes(scheme, f"{name}_days", f"{name}_g"))
            ctes.append(
                (
                    f"{name}_graded",
                    f"SELECT c.* FROM {current} c JOIN {name}_g_grade g "
                    "ON g.subject_id = c.subject_id AND g.day = c.start "
                    f"WHERE {_in('g.grade', list(line.grade.in_))}",
                )
            )
            current = f"{name}_graded"
        far = _date(FAR_FUTURE)
        until = f"least({', '.join(f'coalesce({n}, {far})' for n in bases)}, term_until)"
        ranked = sorted(bases, key=lambda n: _PRIORITY.index(bases[n]))
        whens = " ".join(f"WHEN {n} = valid_until THEN {_quote(bases[n])}" for n in ranked)
        basis = f"CASE {whens} ELSE term_basis END" if ranked else "term_basis"
        reason = _quote(f"{rule.rule_ref(number)}: {line.explain}")
        select = f"""
            SELECT {_quote(rule.code)} AS list_code, {number} AS line,
              CAST(subject_id AS BIGINT) AS subject_id,
              CAST(trigger_record_id AS BIGINT) AS trigger_record_id,
              start AS valid_from, valid_until, {basis} AS until_basis, record_ids,
              {reason} AS reason
            FROM (SELECT *, {until} AS valid_until FROM {current}) u
            WHERE valid_until >= start
        """
        return _Line(ctes, select)

    def _single_base(self, rule: ListRule, line: EntryLine) -> tuple[str, dict[str, str]]:
        """One row per matching record: start, term end and the ends the record carries."""
        term = line.term
        day = "decision_date"
        if term.start_field is not None:
            day = f"coalesce({_content_date(term.start_field)}, decision_date)"
        start = (
            f"add_months({day}, {term.starts_after_months})" if term.starts_after_months else day
        )
        ends = {"end_ended": "date_add(ended_on, -1)", "end_kept": "retained_until"}
        bases = {"end_ended": "record_ended", "end_kept": "record_ended"}
        for i, field in enumerate(line.removed_on):
            ends[f"end_removed_{i}"] = f"date_add({_content_date(field)}, -1)"
            bases[f"end_removed_{i}"] = "removed"
        plain = _term_end("start", term.months)
        if term.until_field is None:
            until, basis = plain, _quote("term")
        else:
            decided = _content_date(term.until_field)
            cap = _term_end("start", term.cap_months)
            until = _decided_or_cap(decided, cap, plain, decided, cap)
            basis = _decided_or_cap(decided, cap, "'term'", "'decided'", "'cap'")
        where = (
            f"{self._match(line.match, counting=False)} AND ({_in('status', _statuses(line.match))}"
            f" OR ({_in('status', _ENDING)} AND ended_on IS NOT NULL)) AND {self._kinds(rule)}"
        )
        columns = ", ".join(f"{expr} AS {n}" for n, expr in ends.items())
        sql = f"""
            SELECT subject_id, id AS trigger_record_id, start, kind, adult_from,
              CAST(id AS STRING) AS record_ids, {columns},
              {until} AS term_until, {basis} AS term_basis
            FROM (SELECT *, {start} AS start FROM {self._records} WHERE {where}) r
        """
        return sql, bases

    def _count_base(self, rule: ListRule, line: EntryLine) -> tuple[str, dict[str, str]]:
        """One row per decision date on which the count is reached, with the window's ids."""
        assert line.within_months is not None
        counted = (
            "SELECT id, subject_id, decision_date, retained_until, kind, adult_from "
            f"FROM {self._records} WHERE {self._match(line.match, counting=True)} "
            f"AND {self._kinds(rule)}"
        )
        sql = f"""
            SELECT d.subject_id, d.trigger_record_id, d.start, d.kind, d.adult_from,
              array_join(array_sort(collect_list(o.id)), ',') AS record_ids,
              min(o.retained_until) AS end_kept,
              {_term_end("d.start", line.term.months)} AS term_until, 'term' AS term_basis
            FROM (
              SELECT subject_id, decision_date AS start, max(id) AS trigger_record_id,
                first(kind) AS kind, first(adult_from) AS adult_from
              FROM ({counted}) c GROUP BY subject_id, decision_date
            ) d
            JOIN ({counted}) o ON o.subject_id = d.subject_id AND o.decision_date <= d.start
              AND o.decision_date > add_months(d.start, -{line.within_months})
            GROUP BY d.subject_id, d.start, d.trigger_record_id, d.kind, d.adult_from
            HAVING count(o.id) >= {line.at_least}
        """
        return sql, {"end_kept": "record_ended"}

    def _unless(self, line: EntryLine, base: str) -> str:
        """The rows no window blocks, each window's next blocker as its end: every window
        in one join and one aggregation."""
        blockers = " UNION ALL ".join(
            f"SELECT {i} AS w, subject_id AS b_subject, id AS b_id, decision_date AS b_day "
            f"FROM {self._records} WHERE {self._match(window.match, counting=True)}"
            for i, window in enumerate(line.unless)
        )
        blocked = " OR ".join(
            f"max(coalesce(k.w = {i} AND k.b_day <= b.start AND k.b_day > "
            f"add_months(b.start, -{window.within_months}), false))"
            for i, window in enumerate(line.unless)
        )
        firsts = ", ".join(
            f"date_add(min(CASE WHEN k.w = {i} AND k.b_day > b.start THEN k.b_day END), -1)"
            f" AS end_unless_{i}"
            for i in range(len(line.unless))
        )
        key = ", ".join(f"b.{c}" for c in self._base_columns(line))
        return f"""
            SELECT {key}, {firsts}
            FROM {base} b LEFT JOIN ({blockers}) k
              ON k.b_subject = b.subject_id AND k.b_id <> b.trigger_record_id
            GROUP BY {key}
            HAVING NOT ({blocked})
        """

    @staticmethod
    def _base_columns(line: EntryLine) -> list[str]:
        if line.at_least > 1:
            return [*_KEY, "end_kept", "term_until", "term_basis"]
        removed = [f"end_removed_{i}" for i in range(len(line.removed_on))]
        return [*_KEY, "end_ended", "end_kept", *removed, "term_until", "term_basis"]

    # ---- grades

    def _grade_ctes(self, scheme: GradeScheme, keys: str, name: str) -> list[tuple[str, str]]:
        """``{name}_grade``: the grade of each (subject_id, day) of ``keys`` (which also
        carries the subject's kind) as of that day, where a line decides: subject_id, day,
        grade, line, record_ids. Every line of the scheme is one join of the keys with the
        records any line counts."""
        others = []
        for number, gline in enumerate(scheme.lines, 1):
            value = "NULL"
            where = self._match(gline.match, counting=True)
            if gline.from_field is not None:
                value = _content_text(gline.from_field)
                where += f" AND {_in(value, list(scheme.values))}"
            others.append(
                f"SELECT {number} AS gl, {gline.within_months} AS within, subject_id AS o_subject,"
                f" id AS o_id, decision_date AS o_day, CAST({value} AS STRING) AS o_value "
                f"FROM {self._records} WHERE {where}"
            )
        decided_g = " ".join(
            f"WHEN {n} THEN "
            + (
                f"CASE WHEN n >= {gline.at_least} THEN {_quote(gline.grade)} END"
                if gline.grade is not None
                else "latest.o_value"
            )
            for n, gline in enumerate(scheme.lines, 1)
        )
        decided_ids = " ".join(
            f"WHEN {n} THEN "
            + ("ids" if gline.grade is not None else "CAST(latest.o_id AS STRING)")
            for n, gline in enumerate(scheme.lines, 1)
        )
        kinds = _in("kind", [k.value for k in scheme.subject_kinds])
        return [
            (
                f"{name}_hits",
                f"""
                SELECT k.subject_id, k.day, o.gl, count(o.o_id) AS n,
                  array_join(array_sort(collect_list(o.o_id)), ',') AS ids,
                  max(struct(o.o_day, o.o_id, o.o_value)) AS latest
                FROM (SELECT subject_id, day FROM {keys} WHERE {kinds}) k
                JOIN ({" UNION ALL ".join(others)}) o
                  ON o.o_subject = k.subject_id AND o.o_day <= k.day
                  AND o.o_day > add_months(k.day, -o.within)
                GROUP BY k.subject_id, k.day, o.gl
                """,
            ),
            (
                f"{name}_grade",
                f"""
                SELECT subject_id, day, first.g AS grade, first.gl AS line,
                  first.ids AS record_ids
                FROM (
                  SELECT subject_id, day, min(struct(gl, g, ids)) AS first
                  FROM (
                    SELECT subject_id, day, gl, CASE gl {decided_g} END AS g,
                      CASE gl {decided_ids} END AS ids
                    FROM {name}_hits
                  ) d
                  WHERE g IS NOT NULL
                  GROUP BY subject_id, day
                ) f
                """,
            ),
        ]

    def grade_at(self, scheme: GradeScheme, days: DataFrame) -> DataFrame:
        """The grade of each (subject_id, day) in ``days`` as of that day, where a line
        decides: subject_id, day, grade, line, record_ids. Subjects of kinds the scheme
        does not grade get none."""
        asked = self._view(f"days_{len(self._views)}", days)
        subjects = self._view("subjects", self.tables.subjects)
        keys = (
            f"SELECT d.subject_id, d.day, s.kind FROM {asked} d "
            f"JOIN {subjects} s ON s.id = d.subject_id"
        )
        ctes = [("keys", keys), *self._grade_ctes(scheme, "keys", "g")]
        return self.spark.sql(_query(ctes, ["SELECT * FROM g_grade"]))

    def grades(self, as_of: dt.date, schemes: Sequence[str] | None = None) -> DataFrame:
        """Every organisation's grade in each scheme as of ``as_of``: GRADE_COLUMNS."""
        return self.grades_on([as_of], schemes).drop("as_of")

    def grades_on(self, days: Sequence[dt.date], schemes: Sequence[str] | None = None) -> DataFrame:
        """The grades as of each of ``days``, in one job: ``as_of`` and GRADE_COLUMNS."""
        codes = tuple(self.rules.grades) if schemes is None else tuple(schemes)
        if not codes:
            raise ValueError("the rule set has no grade schemes")
        if not days:
            raise ValueError("no day to grade on")
        asked = f"SELECT explode(array({', '.join(_date(d) for d in sorted(set(days)))})) AS day"
        ctes: list[tuple[str, str]] = [("asked", asked)]
        selects = []
        for i, code in enumerate(codes, 1):
            scheme = self.rules.grades[code]
            longest = max(gline.within_months for gline in scheme.lines)
            types = sorted({t for gline in scheme.lines for t in self.rules.types_of(gline.match)})
            ctes.append(
                (
                    f"s{i}_keys",
                    f"SELECT DISTINCT r.subject_id, a.day, r.kind "
                    f"FROM {self._records} r JOIN asked a ON r.decision_date <= a.day "
                    f"AND r.decision_date > add_months(a.day, -{longest}) "
                    f"WHERE {_in('r.type_code', types)} AND {_in('r.status', _EFFECTIVE)}",
                )
            )
            ctes.extend(self._grade_ctes(scheme, f"s{i}_keys", f"s{i}"))
            selects.append(
                f"SELECT day AS as_of, {_quote(code)} AS scheme, "
                "CAST(subject_id AS BIGINT) AS subject_id, grade, CAST(line AS INT) AS line, "
                f"record_ids FROM s{i}_grade"
            )
        return self.spark.sql(_query(ctes, selects))


def _query(ctes: Iterable[tuple[str, str]], selects: Sequence[str]) -> str:
    with_ = ",\n".join(f"{name} AS ({sql})" for name, sql in ctes)
    body = "\nUNION ALL\n".join(selects)
    return f"WITH {with_}\n{body}" if with_ else body


def _quote(value: str) -> str:
    """A Spark SQL string literal (backslashes are escapes there)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _date(value: dt.date) -> str:
    return f"DATE '{value.isoformat()}'"


def _double(value: float | int | Decimal) -> str:
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def _in(expr: str, values: Sequence[str]) -> str:
    if not values:
        return "false"
    return f"{expr} IN ({', '.join(_quote(v) for v in values)})"


def _statuses(match: Match) -> list[str]:
    return sorted(s.value for s in match.statuses) if match.statuses else _EFFECTIVE


def _decided_or_cap(decided: str, cap: str, none: str, within: str, beyond: str) -> str:
    """One of three values: no decided day, a decided day within the cap, or beyond it."""
    return (
        f"CASE WHEN {decided} IS NULL THEN {none} "
        f"WHEN {decided} <= {cap} THEN {within} ELSE {beyond} END"
    )


def _term_end(start: str, months: int) -> str:
    return f"date_add(add_months({start}, {months}), -1)"


def _content_text(name: str) -> str:
    return f"get_json_object(content, {_quote('$.' + name)})"


def _content_date(name: str) -> str:
    return f"try_to_date({_content_text(name)}, 'yyyy-MM-dd')"


def _content_number(name: str) -> str:
    return f"try_cast({_content_text(name)} AS DOUBLE)"


def _test(test: FieldTest, kind: FieldType) -> str:
    if test.has is not None:
        return (
            f"instr(concat(';', {_content_text(test.field)}, ';'), {_quote(f';{test.has};')}) > 0"
        )
    if test.eq is not None or test.in_ is not None:
        values = [test.eq] if test.eq is not None else list(test.in_ or ())
        if kind is FieldType.BOOLEAN:
            return f"{_content_text(test.field)} = {_quote('true' if values[0] else 'false')}"
        if kind is FieldType.INTEGER:
            numbers = ", ".join(_double(int(v)) for v in values)
            return f"{_content_number(test.field)} IN ({numbers})"
        return _in(_content_text(test.field), [str(v) for v in values])
    conds = ["true"]
    if kind is FieldType.DATE:
        value = _content_date(test.field)
        for op, bound in ((">=", test.gte), ("<=", test.lte)):
            if bound is not None:
                assert isinstance(bound, dt.date)
                conds.append(f"{value} {op} {_date(bound)}")
    else:
        number = _content_number(test.field)
        for op, bound in ((">=", test.gte), ("<=", test.lte)):
            if bound is not None:
                assert not isinstance(bound, dt.date)
                conds.append(f"{number} {op} {_double(bound)}")
    return " AND ".join(conds)


__all__ = ["ENTRY_COLUMNS", "GRADE_COLUMNS", "SparkEvaluator", "Tables"]
