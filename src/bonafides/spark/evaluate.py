"""The Spark evaluator (``rules-v1``): the rule set compiled to DataFrame expressions.

It states what ``rules.evaluate`` (Python, one subject) and ``rules.compile`` (SQL, whole
tables) state, for every subject at once on a Spark cluster; the property test in
``tests/spark/test_agreement.py`` holds the three together. Where the SQL evaluator uses
correlated subqueries (a record's subject, its blockers, the grade as of its start), this
one uses joins and aggregations, which is what Spark distributes well; every join carries
the subject, so a partitioning by subject keeps each line's work local.

Only the jobs import this module, after ``spark.session.require``: pyspark is an extra.
Input is three DataFrames shaped like the store's tables (``Tables``); ``content`` is the
record's JSON as text, as both stores hand it over JDBC or in a Parquet snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
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
#: A line's rows before vetoes, and its end columns with the basis each stands for.
_Based = tuple[DataFrame, dict[str, str]]


@dataclass(frozen=True)
class Tables:
    """The store's tables as Spark sees them (only the columns the rules read).

    subjects: id, kind, adult_from; records: id, subject_id, type_code, source, status,
    severity, decision_date, content (JSON text), retention_until; versions: record_id,
    version, status, changed_at (a UTC timestamp).
    """

    subjects: DataFrame
    records: DataFrame
    versions: DataFrame


class SparkEvaluator:
    """Builds the DataFrames; running and writing them is the job's business."""

    def __init__(self, rules: Rules, tables: Tables, *, zone: str) -> None:
        self.rules = rules
        self.zone = zone
        self.tables = tables
        self._prepared: DataFrame | None = None

    # ---- input

    @property
    def prepared(self) -> DataFrame:
        """Records with their subject's kind and majority day, and the local day a repaired
        or expired record ended (as ``rules.facts.ended_on`` says)."""
        if self._prepared is not None:
            return self._prepared
        v = self.tables.versions
        last_counting = fn.max(fn.when(fn.col("status").isin(_EFFECTIVE), fn.col("version"))).over(
            Window.partitionBy("record_id")
        )
        ended = (
            v.withColumn("last_counting", last_counting)
            .where(
                fn.col("status").isin(_ENDING)
                & (fn.col("version") > fn.coalesce(fn.col("last_counting"), fn.lit(0)))
            )
            .groupBy("record_id")
            .agg(fn.min("changed_at").alias("ended_at"))
            .withColumnRenamed("record_id", "id")
        )
        s = self.tables.subjects.select(
            fn.col("id").alias("subject_id"), fn.col("kind"), fn.col("adult_from")
        )
        r = self.tables.records.select(
            "id",
            "subject_id",
            "type_code",
            "source",
            "status",
            "severity",
            "decision_date",
            "content",
            fn.col("retention_until").alias("retained_until"),
        )
        local = fn.to_date(fn.from_utc_timestamp(fn.col("ended_at"), self.zone))
        # Kept once: every list line and grade line reads it, and without it each would
        # read the tables and rejoin them again.
        self._prepared = (
            r.join(ended, "id", "left")
            .join(s, "subject_id", "left")
            .withColumn("ended_on", fn.when(fn.col("status").isin(_ENDING), local))
            .drop("ended_at")
            .persist()
        )
        return self._prepared

    def close(self) -> None:
        """Release the kept records (a session may run several jobs)."""
        if self._prepared is not None:
            self._prepared.unpersist()
            self._prepared = None

    # ---- selectors

    def match_condition(self, match: Match, *, counting: bool) -> Column:
        """The selector on ``prepared``'s columns; ``counting`` also asks that the record
        still count."""
        cond = fn.col("type_code").isin(list(self.rules.types_of(match)))
        sources = self.rules.sources_of(match)
        if sources:
            cond = cond & fn.col("source").isin(list(sources))
        if match.severity:
            cond = cond & fn.col("severity").isin([s.value for s in match.severity])
        for test in match.where:
            cond = cond & _test(test, self.rules.field_type(match, test.field))
        if counting:
            cond = cond & fn.col("status").isin(_statuses(match))
        return fn.coalesce(cond, fn.lit(False))

    def _kinds(self, rule: ListRule) -> Column:
        if set(rule.subject_kinds) == set(SubjectKind):
            return fn.lit(True)
        return fn.col("kind").isin([k.value for k in rule.subject_kinds])

    # ---- lists

    def entries(self, lists: Sequence[str] | None = None) -> DataFrame:
        """Every entry of the given lists (default all), with ENTRY_COLUMNS."""
        codes = tuple(self.rules.lists) if lists is None else tuple(lists)
        parts = []
        for code in codes:
            rule = self.rules.lists[code]
            for number, line in enumerate(rule.entry, 1):
                base = (
                    self._count_base(rule, line)
                    if line.at_least > 1
                    else self._single_base(rule, line)
                )
                parts.append(self._finish(rule, number, line, base))
        found = parts[0]
        for part in parts[1:]:
            found = found.unionByName(part)
        return found

    def _single_base(self, rule: ListRule, line: EntryLine) -> _Based:
        """One row per matching record: start, term end and the ends the record carries."""
        term = line.term
        ending = fn.col("status").isin(_ENDING)
        rows = self.prepared.where(
            self.match_condition(line.match, counting=False)
            & (
                fn.col("status").isin(_statuses(line.match))
                | (ending & fn.col("ended_on").isNotNull())
            )
            & self._kinds(rule)
        )
        day = fn.col("decision_date")
        if term.start_field is not None:
            day = fn.coalesce(_content_date(term.start_field), day)
        start = fn.add_months(day, term.starts_after_months) if term.starts_after_months else day
        rows = rows.withColumn("start", start)
        ends = {
            "end_ended": fn.date_add(fn.col("ended_on"), -1),
            "end_kept": fn.col("retained_until"),
        }
        bases = {"end_ended": "record_ended", "end_kept": "record_ended"}
        for i, name in enumerate(line.removed_on):
            ends[f"end_removed_{i}"] = fn.date_add(_content_date(name), -1)
            bases[f"end_removed_{i}"] = "removed"
        plain = _term_end(fn.col("start"), term.months)
        if term.until_field is None:
            until, basis = plain, fn.lit("term")
        else:
            decided = _content_date(term.until_field)
            cap = _term_end(fn.col("start"), term.cap_months)
            until = fn.when(decided.isNull(), plain).when(decided <= cap, decided).otherwise(cap)
            basis = (
                fn.when(decided.isNull(), fn.lit("term"))
                .when(decided <= cap, fn.lit("decided"))
                .otherwise(fn.lit("cap"))
            )
        return rows.select(
            "subject_id",
            fn.col("id").alias("trigger_record_id"),
            "start",
            "kind",
            "adult_from",
            fn.col("id").cast("string").alias("record_ids"),
            *(expr.alias(name) for name, expr in ends.items()),
            until.alias("term_until"),
            basis.alias("term_basis"),
        ), bases

    def _count_base(self, rule: ListRule, line: EntryLine) -> _Based:
        """One row per decision date on which the count is reached, with the window's ids."""
        assert line.within_months is not None
        counted = self.prepared.where(
            self.match_condition(line.match, counting=True) & self._kinds(rule)
        ).select("id", "subject_id", "decision_date", "retained_until", "kind", "adult_from")
        days = counted.groupBy("subject_id", fn.col("decision_date").alias("start")).agg(
            fn.max("id").alias("trigger_record_id"),
            fn.first("kind").alias("kind"),
            fn.first("adult_from").alias("adult_from"),
        )
        other = counted.select(
            fn.col("subject_id").alias("o_subject"),
            fn.col("id").alias("o_id"),
            fn.col("decision_date").alias("o_day"),
            fn.col("retained_until").alias("o_kept"),
        )
        joined = days.join(
            other,
            (other.o_subject == days.subject_id)
            & (other.o_day <= days.start)
            & (other.o_day > fn.add_months(days.start, -line.within_months)),
        )
        windows = (
            joined.groupBy("subject_id", "start", "trigger_record_id", "kind", "adult_from")
            .agg(
                fn.count("o_id").alias("n"),
                fn.array_join(fn.array_sort(fn.collect_list("o_id")), ",").alias("record_ids"),
                fn.min("o_kept").alias("end_kept"),
            )
            .where(fn.col("n") >= line.at_least)
        )
        return windows.select(
            "subject_id",
            "trigger_record_id",
            "start",
            "kind",
            "adult_from",
            "record_ids",
            "end_kept",
            _term_end(fn.col("start"), line.term.months).alias("term_until"),
            fn.lit("term").alias("term_basis"),
        ), {"end_kept": "record_ended"}

    def _finish(self, rule: ListRule, number: int, line: EntryLine, based: _Based) -> DataFrame:
        """Vetoes and ends from other records, the earliest end, and the final columns."""
        base, bases = based
        base = base.where(
            ~fn.coalesce(
                (fn.col("kind") == SubjectKind.NATURAL_PERSON.value)
                & fn.col("adult_from").isNotNull()
                & (fn.col("start") < fn.col("adult_from")),
                fn.lit(False),
            )
        )
        key = list(base.columns)
        for i, window in enumerate(line.unless):
            blockers = self.prepared.where(
                self.match_condition(window.match, counting=True)
            ).select(
                fn.col("subject_id").alias("b_subject"),
                fn.col("id").alias("b_id"),
                fn.col("decision_date").alias("b_day"),
            )
            joined = base.join(
                blockers,
                (blockers.b_subject == base.subject_id) & (blockers.b_id != base.trigger_record_id),
                "left",
            )
            floor = fn.add_months(fn.col("start"), -window.within_months)
            inside = (fn.col("b_day") <= fn.col("start")) & (fn.col("b_day") > floor)
            base = (
                joined.groupBy(*key)
                .agg(
                    fn.max(fn.coalesce(inside, fn.lit(False))).alias("blocked"),
                    fn.min(fn.when(fn.col("b_day") > fn.col("start"), fn.col("b_day"))).alias(
                        "first"
                    ),
                )
                .where(~fn.col("blocked"))
                .withColumn(f"end_unless_{i}", fn.date_add(fn.col("first"), -1))
                .drop("blocked", "first")
            )
            bases = {**bases, f"end_unless_{i}": "unless"}
            key = list(base.columns)
        if line.grade is not None:
            scheme = self.rules.grades[line.grade.scheme]
            days = base.select("subject_id", fn.col("start").alias("day")).distinct()
            graded = self.grade_at(scheme, days).select(
                fn.col("subject_id").alias("g_subject"), fn.col("day").alias("g_day"), "grade"
            )
            base = (
                base.join(
                    graded,
                    (graded.g_subject == base.subject_id) & (graded.g_day == base.start),
                    "left",
                )
                .where(fn.coalesce(fn.col("grade").isin(list(line.grade.in_)), fn.lit(False)))
                .drop("g_subject", "g_day", "grade")
            )
        far = fn.lit(FAR_FUTURE)
        until = fn.least(*(fn.coalesce(fn.col(name), far) for name in bases), fn.col("term_until"))
        ranked = sorted(bases, key=lambda name: _PRIORITY.index(bases[name]))
        basis = fn.col("term_basis")
        for name in reversed(ranked):
            basis = fn.when(fn.col(name) == until, fn.lit(bases[name])).otherwise(basis)
        return (
            base.withColumn("valid_until", until)
            .withColumn("until_basis", basis)
            .where(fn.col("valid_until") >= fn.col("start"))
            .select(
                fn.lit(rule.code).alias("list_code"),
                fn.lit(number).alias("line"),
                fn.col("subject_id").cast("long").alias("subject_id"),
                fn.col("trigger_record_id").cast("long").alias("trigger_record_id"),
                fn.col("start").alias("valid_from"),
                "valid_until",
                "until_basis",
                "record_ids",
                fn.lit(f"{rule.rule_ref(number)}: {line.explain}").alias("reason"),
            )
        )

    # ---- grades

    def grade_at(self, scheme: GradeScheme, days: DataFrame) -> DataFrame:
        """The grade of each (subject_id, day) in ``days`` as of that day, where a line
        decides: subject_id, day, grade, line, record_ids. Subjects of kinds the scheme
        does not grade get none."""
        kinds = self.tables.subjects.select(fn.col("id").alias("k_subject"), "kind")
        keys = (
            days.join(kinds, kinds.k_subject == days.subject_id)
            .where(fn.col("kind").isin([k.value for k in scheme.subject_kinds]))
            .select("subject_id", "day")
        )
        found = keys
        for number, gline in enumerate(scheme.lines, 1):
            cols = [
                fn.col("subject_id").alias("o_subject"),
                fn.col("id").alias("o_id"),
                fn.col("decision_date").alias("o_day"),
            ]
            if gline.from_field is not None:
                cols.append(_content_text(gline.from_field).alias("o_value"))
            others = self.prepared.where(self.match_condition(gline.match, counting=True)).select(
                *cols
            )
            if gline.from_field is not None:
                others = others.where(fn.col("o_value").isin(list(scheme.values)))
            joined = keys.join(
                others,
                (others.o_subject == keys.subject_id)
                & (others.o_day <= keys.day)
                & (others.o_day > fn.add_months(keys.day, -gline.within_months)),
            )
            if gline.grade is not None:
                hit = (
                    joined.groupBy("subject_id", "day")
                    .agg(
                        fn.count("o_id").alias("n"),
                        fn.array_join(fn.array_sort(fn.collect_list("o_id")), ",").alias("ids"),
                    )
                    .where(fn.col("n") >= gline.at_least)
                    .select("subject_id", "day", fn.lit(gline.grade).alias("g"), "ids")
                )
            else:
                latest = fn.max(fn.struct("o_day", "o_id", "o_value"))
                hit = (
                    joined.groupBy("subject_id", "day")
                    .agg(latest.alias("latest"))
                    .select(
                        "subject_id",
                        "day",
                        fn.col("latest.o_value").alias("g"),
                        fn.col("latest.o_id").cast("string").alias("ids"),
                    )
                )
            found = found.join(
                hit.withColumnsRenamed({"g": f"g_{number}", "ids": f"ids_{number}"}),
                ["subject_id", "day"],
                "left",
            )
        grade = line = ids = fn.lit(None)
        for number in reversed(range(1, len(scheme.lines) + 1)):
            decides = fn.col(f"g_{number}").isNotNull()
            grade = fn.when(decides, fn.col(f"g_{number}")).otherwise(grade)
            line = fn.when(decides, fn.lit(number)).otherwise(line)
            ids = fn.when(decides, fn.col(f"ids_{number}")).otherwise(ids)
        return found.select(
            "subject_id",
            "day",
            grade.alias("grade"),
            line.alias("line"),
            ids.alias("record_ids"),
        ).where(fn.col("line").isNotNull())

    def grades(self, as_of: dt.date, schemes: Sequence[str] | None = None) -> DataFrame:
        """Every organisation's grade in each scheme as of ``as_of``: GRADE_COLUMNS."""
        codes = tuple(self.rules.grades) if schemes is None else tuple(schemes)
        parts = []
        for code in codes:
            scheme = self.rules.grades[code]
            longest = max(gline.within_months for gline in scheme.lines)
            types = sorted({t for gline in scheme.lines for t in self.rules.types_of(gline.match)})
            day = fn.lit(as_of)
            candidates = (
                self.prepared.where(
                    fn.col("type_code").isin(types)
                    & fn.col("status").isin(_EFFECTIVE)
                    & (fn.col("decision_date") <= day)
                    & (fn.col("decision_date") > fn.add_months(day, -longest))
                )
                .select("subject_id")
                .distinct()
                .withColumn("day", day)
            )
            parts.append(
                self.grade_at(scheme, candidates).select(
                    fn.lit(code).alias("scheme"),
                    fn.col("subject_id").cast("long").alias("subject_id"),
                    "grade",
                    fn.col("line").cast("int").alias("line"),
                    "record_ids",
                )
            )
        if not parts:
            raise ValueError("the rule set has no grade schemes")
        found = parts[0]
        for part in parts[1:]:
            found = found.unionByName(part)
        return found


def _statuses(match: Match) -> list[str]:
    return sorted(s.value for s in match.statuses) if match.statuses else _EFFECTIVE


def _term_end(start: Column, months: int) -> Column:
    return fn.date_add(fn.add_months(start, months), -1)


def _raw(name: str) -> Column:
    return fn.get_json_object(fn.col("content"), f"$.{name}")


def _content_text(name: str) -> Column:
    return _raw(name)


def _content_date(name: str) -> Column:
    return fn.try_to_date(_raw(name), "yyyy-MM-dd")


def _content_number(name: str) -> Column:
    return _raw(name).try_cast("double")


def _test(test: FieldTest, kind: FieldType) -> Column:
    if test.has is not None:
        joined = fn.concat(fn.lit(";"), _content_text(test.field), fn.lit(";"))
        return fn.instr(joined, f";{test.has};") > 0
    if test.eq is not None or test.in_ is not None:
        values = [test.eq] if test.eq is not None else list(test.in_ or ())
        if kind is FieldType.BOOLEAN:
            return _content_text(test.field) == fn.lit("true" if values[0] else "false")
        if kind is FieldType.INTEGER:
            return _content_number(test.field).isin([float(int(v)) for v in values])
        return _content_text(test.field).isin([str(v) for v in values])
    cond = fn.lit(True)
    if kind is FieldType.DATE:
        value = _content_date(test.field)
        if test.gte is not None:
            cond = cond & (value >= fn.lit(test.gte))
        if test.lte is not None:
            cond = cond & (value <= fn.lit(test.lte))
    else:
        number = _content_number(test.field)
        if test.gte is not None:
            cond = cond & (number >= fn.lit(float(test.gte)))  # type: ignore[arg-type]
        if test.lte is not None:
            cond = cond & (number <= fn.lit(float(test.lte)))  # type: ignore[arg-type]
    return cond


__all__ = ["ENTRY_COLUMNS", "GRADE_COLUMNS", "SparkEvaluator", "Tables"]
