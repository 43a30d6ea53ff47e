"""The answers of a batch's listed lines, built as columns.

A listed line's answer is ``subject_answer`` written as canonical JSON (its digest and
the JSONL line) and as CSV rows (one per list entry behind each measure). Built per line
in Python that was the largest block of a screening (an answer dict, its JSON and its CSV
text, about 50 µs a line). Here each shape is spelled once per rule-set part instead:
``subject_answer`` and ``AnswerFile.text`` themselves render a measure, a list line and
an entry whose changing values are placeholders, and the texts between the placeholders
are kept. The lines' own values (dates, records, the subject) are then set into those
texts as columns, so the bytes are the ones the per-line path gives
(tests/screening/test_batch_answers.py compares them).

Each answer is spelled twice: whole, for its digest and the answer file, and as the store
keeps it, each measure's and list line's texts named by their digest (``answer.PART``);
``listed_answers`` also gives those parts, to be stored once.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from bonafides.csvcells import FORMULA_START, csv_cell
from bonafides.records import canonical_json
from bonafides.rules.dates import term_end
from bonafides.rules.evaluate import explain_entry
from bonafides.rules.facts import Entry
from bonafides.rules.model import MonthsDuration, Rules
from bonafides.screening.answer import (
    CLEAR,
    MEASURES_APPLY,
    PART,
    static_parts,
)

#: Placeholders: private-use characters, which neither JSON (``ensure_ascii=False``) nor
#: CSV escape or quote, so they come through a rendering unchanged.
_OPEN = "\ue000"
#: A list's placeholder stands quoted, as the string it is while rendered; the others
#: stand inside their string.
_SLOT = re.compile(f'"{_OPEN}([CE])"|{_OPEN}(\\w)')
#: A day no rule text names, put where an entry's last day goes in its reason.
_SENTINEL = dt.date(1, 2, 3)

#: The columns a batch's lines are answered in (``batch._ANSWERED``), less ``pos``.
_OUT = ("line", "code_display", "subject_id", "status", "digest", "answer", "text")


def _slot(name: str) -> str:
    return f"{_OPEN}{name}"


def _split(text: str) -> tuple[list[str], list[str]]:
    """The fixed texts of a rendering and the placeholders between them, in order."""
    fixed: list[str] = []
    slots: list[str] = []
    last = 0
    for match in _SLOT.finditer(text):
        fixed.append(text[last : match.start()])
        slots.append(match.group(1) or match.group(2))
        last = match.end()
    fixed.append(text[last:])
    return fixed, slots


def _csv_row(cells: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_cell(v) for v in cells])
    return buffer.getvalue()


def csv_field(text: pl.Expr) -> pl.Expr:
    """A CSV cell as ``csv_cell`` and ``csv.writer`` spell it in a row: a formula's start
    neutralised, then quoted when it holds a comma, a quote or a line break."""
    cell = (
        pl.when(pl.any_horizontal(*(text.str.starts_with(s) for s in FORMULA_START)))
        .then(pl.concat_str(pl.lit("'"), text))
        .otherwise(text)
    )
    return (
        pl.when(cell.str.contains('[,"\r\n]'))
        .then(
            pl.concat_str(pl.lit('"'), cell.str.replace_all('"', '""', literal=True), pl.lit('"'))
        )
        .otherwise(cell)
    )


def _fill(fixed: Sequence[str], slots: Sequence[str], values: Mapping[str, pl.Expr]) -> pl.Expr:
    """The text with each placeholder replaced by its column; ``fixed`` names columns."""
    parts: list[pl.Expr] = [pl.col(fixed[0])]
    for i, slot in enumerate(slots, 1):
        parts += [values[slot], pl.col(fixed[i])]
    return pl.concat_str(parts)


class _Shapes:
    """The fixed texts of each part of an answer, per rule-set part, from renderings with
    placeholders: ``F``/``T`` an entry's first and last day, ``C`` its records, ``E`` a
    measure's entries, ``U`` its last day, ``L`` the input line, ``K`` the shown code."""

    def __init__(self, rules: Rules, action: str, cert: str | None) -> None:
        self.rules = rules
        self.static = static_parts(rules)
        self.measures = list(rules.measures_for(action))
        self.cert = cert
        self.entry_slots: list[str] | None = None
        self.stored_slots: list[str] | None = None
        self.row_slots: list[str] | None = None
        #: The parts the stored answers name, digest to canonical text.
        self.parts: dict[str, str] = {}

    def measure_frame(self) -> pl.DataFrame:
        """Per measure and list it names: its place, its months (if any) and its JSON,
        whole (``m``) and as stored (``c``)."""
        rows = []
        for rank, (memo, measure) in enumerate(self.measures):
            digest, body = self.static.measure_key(memo, measure)
            self.parts[digest] = body
            texts: list[str] = []
            for shape in (self.static.measure(memo, measure), {PART: digest}):
                fixed, slots = _split(
                    canonical_json({**shape, "entries": _slot("E"), "until": _slot("U")})
                )
                if slots != ["E", "U"]:
                    raise AssertionError(f"measure {measure.code}: unexpected shape {slots}")
                texts += [fixed[0] + "[", "]" + fixed[1], fixed[2]]
            months = (
                measure.duration.months if isinstance(measure.duration, MonthsDuration) else None
            )
            for code in measure.lists:
                rows.append((rank, code, months, *texts))
        return pl.DataFrame(
            rows,
            schema={
                "rank": pl.Int64,
                "list_code": pl.String,
                "months": pl.Int64,
                **{f"{kind}{i}": pl.String for kind in "mc" for i in range(3)},
            },
            orient="row",
        )

    def entry_frame(self, keys: pl.DataFrame) -> pl.DataFrame:
        """Per (list, line, until basis): the fixed texts of an entry's JSON, whole
        (``e0``...) and as stored (``s0``...)."""
        rows = []
        for code, line, basis in keys.iter_rows():
            reason = explain_entry(
                self.rules, Entry(code, line, 0, 0, _SENTINEL, _SENTINEL, basis, ())
            )
            if reason.count(_SENTINEL.isoformat()) != 1:
                raise AssertionError(f"{code}#{line}: the reason names its last day once")
            reason = reason.replace(_SENTINEL.isoformat(), _slot("T"))
            digest, body = self.static.line_key(code, line)
            self.parts[digest] = body
            own = {
                "valid_from": _slot("F"),
                "valid_until": _slot("T"),
                "until_basis": basis,
                "reason": reason,
                "records": _slot("C"),
            }
            whole, slots = _split(canonical_json({**self.static.line(code, line), **own}))
            self.entry_slots = _same_shape(self.entry_slots, slots, f"{code}#{line}")
            stored, slots = _split(canonical_json({PART: digest, **own}))
            self.stored_slots = _same_shape(self.stored_slots, slots, f"{code}#{line} stored")
            rows.append((code, line, basis, reason, *whole, *stored))
        keys_schema = {
            "list_code": pl.String,
            "rule_line": pl.Int64,
            "until_basis": pl.String,
            "reason": pl.String,
        }
        width = len(self.entry_slots or []) + 1
        return pl.DataFrame(
            rows,
            schema={
                **keys_schema,
                **{f"e{i}": pl.String for i in range(width)},
                **{f"s{i}": pl.String for i in range(len(self.stored_slots or []) + 1)},
            },
            orient="row",
        )

    def row_frame(self, entries: pl.DataFrame) -> pl.DataFrame:
        """Per (measure, list, line, until basis): the fixed texts of a CSV row."""
        rows = []
        for rank, code, line, reason in entries.iter_rows():
            memo, measure = self.measures[rank]
            text = _csv_row(
                [
                    _slot("L"),
                    _slot("K"),
                    MEASURES_APPLY,
                    measure.code,
                    measure.effect.value,
                    _slot("U"),
                    measure.department,
                    "；".join(self.static.measure(memo, measure)["legal_basis"]),
                    self.rules.lists[code].code,
                    _slot("F"),
                    _slot("T"),
                    _slot("C"),
                    reason,
                    f"{self.cert}.{_slot('L')}",
                ]
            )
            fixed, slots = _split(text)
            self.row_slots = _same_shape(self.row_slots, slots, f"{measure.code} {code}#{line}")
            rows.append((rank, code, line, reason, *fixed))
        return _fixed_frame(
            rows,
            {
                "rank": pl.Int64,
                "list_code": pl.String,
                "rule_line": pl.Int64,
                "reason": pl.String,
            },
            "r",
        )


def _same_shape(seen: list[str] | None, slots: list[str], what: str) -> list[str]:
    """Every rendering of one part must leave its slots in the same order, or the fixed
    texts of one row would be spliced with another's values."""
    if seen not in (None, slots):
        raise AssertionError(f"{what}: unexpected shape {slots}")
    return slots


def _fixed_frame(
    rows: list[tuple[Any, ...]], keys: dict[str, type[pl.DataType]], prefix: str
) -> pl.DataFrame:
    """Key columns, then the fixed texts between the slots as ``<prefix>0``, ``<prefix>1``..."""
    width = len(rows[0]) - len(keys) if rows else 0
    return pl.DataFrame(
        rows,
        schema={**keys, **{f"{prefix}{i}": pl.String for i in range(width)}},
        orient="row",
    )


def _records(rules: Rules, details: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """Each cited record's JSON in an answer (``cited_record`` in canonical JSON, spelled
    here: a batch cites as many records as it has entries) and its token in the CSV
    ``records`` cell; ``details`` has the columns of ``store.details.CITED_COLUMNS``."""
    static = static_parts(rules)
    cited = (
        ids.unique()
        .to_frame("id")
        .join(details, on="id", how="left")
        .with_columns(pl.col("decision_date").dt.to_string("%Y-%m-%d"))
    )
    texts, tokens = [], []
    for rid, type_code, source, number, decided in zip(
        *(cited[name].to_list() for name in cited.columns), strict=True
    ):
        if type_code is None:
            texts.append(f'{{"id":{rid}}}')
            tokens.append(str(rid))
            continue
        title, shown = static.record_type(type_code)
        tail = f'"title_zh":{canonical_json(title)},"type":{canonical_json(type_code)}}}'
        if shown:
            texts.append(
                f'{{"decision_date":"{decided}",'
                f'"decision_no":{canonical_json(number)},"id":{rid},'
                f'"source":{canonical_json(source)},{tail}'
            )
            tokens.append(str(number))
        else:
            texts.append(f'{{"id":{rid},{tail}')
            tokens.append(str(rid))
    return pl.DataFrame(
        {"record_id": cited["id"], "record_json": texts, "record_token": tokens},
        schema={"record_id": pl.Int64, "record_json": pl.String, "record_token": pl.String},
    )


def _months_after(pairs: pl.DataFrame) -> pl.DataFrame:
    """The last day of a measure of ``months`` for an entry from ``valid_from``
    (``Measure.ends`` before the entry's own end), per distinct pair."""
    return pairs.with_columns(
        term_end=pl.Series(
            [term_end(day, months) for day, months in pairs.iter_rows()], dtype=pl.Date
        )
    )


def listed_answers(
    rules: Rules,
    action: str,
    as_of: dt.date,
    listed: pl.DataFrame,
    shown: pl.DataFrame,
    details: pl.DataFrame,
    cert: str,
    fmt: str | None,
) -> tuple[pl.DataFrame, dict[str, str]]:
    """The answer of every line in ``listed`` (one row per entry in force: ``pos``,
    ``subject_id``, ``kind``, ``name``, ``list_code``, ``rule_line``, ``trigger_record_id``,
    ``valid_from``, ``valid_until``, ``until_basis``, ``record_ids``), with ``shown``
    giving each line's ``pos``, ``line`` and ``code_display``: one row per line with the
    columns of ``batch._ANSWERED``. A line none of whose entries reaches a measure of the
    action on ``as_of`` is clear, and answered as ``subject_answer`` answers it. ``fmt``
    is the answer file's format (None: no file, no text). The ``answer`` column is what
    the store keeps (``answer.expand`` of it and of the parts returned beside the frame,
    digest to canonical text, is the answer whose digest is in ``digest``)."""
    shapes = _Shapes(rules, action, cert)
    measures = shapes.measure_frame()
    hits = listed.join(measures, on="list_code", how="inner")
    pairs = hits.filter(pl.col("months").is_not_null()).select("valid_from", "months").unique()
    hits = (
        hits.join(_months_after(pairs), on=["valid_from", "months"], how="left")
        .with_columns(
            ends=pl.when(pl.col("months").is_null())
            .then(pl.col("valid_until"))
            .otherwise(pl.min_horizontal("valid_until", "term_end"))
        )
        .filter((pl.col("valid_from") <= as_of) & (as_of <= pl.col("ends")))
        .sort(
            "pos",
            "rank",
            "list_code",
            "rule_line",
            "subject_id",
            "trigger_record_id",
            "valid_from",
            "valid_until",
            "until_basis",
            "record_ids",
        )
        .with_row_index("order")
    )
    hits, by_measure = _measures(shapes, hits, details)
    subjects = listed.group_by("pos").agg(
        pl.col("subject_id").first(), pl.col("kind").first(), pl.col("name").first()
    )
    answered = (
        subjects.join(shown, on="pos", how="left")
        .join(by_measure, on="pos", how="left")
        .sort("pos")
    )
    applies = answered["measures_json"].is_not_null()
    quoted = pl.DataFrame(
        {
            "pos": answered["pos"],
            "code_json": [canonical_json(v) for v in answered["code_display"].to_list()],
            "kind_json": [canonical_json(v) for v in answered["kind"].to_list()],
            "name_json": [canonical_json(v) for v in answered["name"].to_list()],
        }
    )
    answered = answered.join(quoted, on="pos", how="left").with_columns(
        status=pl.when(applies).then(pl.lit(MEASURES_APPLY)).otherwise(pl.lit(CLEAR)),
        line_text=pl.col("line").cast(pl.String),
    )

    def answer(measures: str) -> pl.Expr:
        return (
            pl.when(applies)
            .then(
                pl.concat_str(
                    pl.lit('{"code":'),
                    pl.col("code_json"),
                    pl.lit(',"kind":'),
                    pl.col("kind_json"),
                    pl.lit(',"line":'),
                    pl.col("line_text"),
                    pl.lit(',"measures":['),
                    pl.col(measures),
                    pl.lit('],"name":'),
                    pl.col("name_json"),
                    pl.lit(f',"status":"{MEASURES_APPLY}"}}'),
                )
            )
            .otherwise(
                pl.concat_str(
                    pl.lit('{"code":'),
                    pl.col("code_json"),
                    pl.lit(',"line":'),
                    pl.col("line_text"),
                    pl.lit(f',"status":"{CLEAR}"}}'),
                )
            )
        )

    answered = answered.with_columns(
        whole=answer("measures_json"), answer=answer("measures_stored")
    )
    answered = answered.with_columns(
        digest=pl.Series(
            [hashlib.sha256(text.encode()).hexdigest() for text in answered["whole"].to_list()],
            dtype=pl.String,
        ),
        text=_texts(shapes, hits, answered, cert, fmt),
    )
    return answered.select("pos", *_OUT), shapes.parts


def _measures(
    shapes: _Shapes, hits: pl.DataFrame, details: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The entries in force behind each measure (``hits``, in answer order) with their
    texts, and each line's measures as the JSON list's inside (``pos``, ``measures_json``)."""
    if not hits.height:
        return hits, pl.DataFrame(
            schema={"pos": pl.Int64, "measures_json": pl.String, "measures_stored": pl.String}
        )
    entries = shapes.entry_frame(hits.select("list_code", "rule_line", "until_basis").unique())
    hits = hits.join(entries, on=["list_code", "rule_line", "until_basis"], how="left")
    records = _records(shapes.rules, details, hits["record_ids"].explode().drop_nulls())
    cited = (
        hits.select("order", "record_ids")
        .explode("record_ids")
        .drop_nulls()
        .with_row_index("at")
        .join(records, left_on="record_ids", right_on="record_id", how="left")
        .sort("at")
        .group_by("order", maintain_order=True)
        .agg(
            pl.col("record_json").str.join(",").alias("records_json"),
            pl.col("record_token").str.join(" ").alias("records_csv"),
        )
    )
    hits = (
        hits.join(cited, on="order", how="left")
        .with_columns(
            pl.col("records_json").fill_null(""),
            pl.col("records_csv").fill_null(""),
            vf=pl.col("valid_from").dt.to_string("%Y-%m-%d"),
            vu=pl.col("valid_until").dt.to_string("%Y-%m-%d"),
            until=pl.col("ends").max().over("pos", "rank").dt.to_string("%Y-%m-%d"),
        )
        .sort("order")
    )
    slots = {
        "F": pl.col("vf"),
        "T": pl.col("vu"),
        "C": pl.concat_str(pl.lit("["), pl.col("records_json"), pl.lit("]")),
    }
    hits = hits.with_columns(
        entry_json=_fill(
            [f"e{i}" for i in range(len(shapes.entry_slots or []) + 1)],
            shapes.entry_slots or [],
            slots,
        ),
        entry_stored=_fill(
            [f"s{i}" for i in range(len(shapes.stored_slots or []) + 1)],
            shapes.stored_slots or [],
            slots,
        ),
    )

    def measure(kind: str, entries: str) -> pl.Expr:
        return pl.concat_str(
            pl.col(f"{kind}0").first(),
            pl.col(entries).str.join(","),
            pl.col(f"{kind}1").first(),
            pl.col("until").first(),
            pl.col(f"{kind}2").first(),
        )

    by_measure = (
        hits.group_by("pos", "rank", maintain_order=True)
        .agg(
            measure("m", "entry_json").alias("measure_json"),
            measure("c", "entry_stored").alias("measure_stored"),
        )
        .group_by("pos", maintain_order=True)
        .agg(
            pl.col("measure_json").str.join(",").alias("measures_json"),
            pl.col("measure_stored").str.join(",").alias("measures_stored"),
        )
    )
    return hits, by_measure


def _texts(
    shapes: _Shapes, hits: pl.DataFrame, answered: pl.DataFrame, cert: str, fmt: str | None
) -> pl.Series:
    """Each answered line's text in the answer file (None without one)."""
    if fmt is None:
        return pl.Series("text", [None] * answered.height, dtype=pl.String)
    if fmt != "csv":
        return answered.select(
            pl.concat_str(
                pl.lit(f'{{"certificate":"{cert}.'),
                pl.col("line_text"),
                pl.lit('",'),
                pl.col("whole").str.slice(1),
                pl.lit("\n"),
            )
        ).to_series()
    clear = answered.select(
        pl.concat_str(
            pl.col("line_text"),
            pl.lit(","),
            pl.col("code_display"),
            pl.lit(","),
            pl.col("status"),
            pl.lit(f",,,,,,,,,,,{cert}."),
            pl.col("line_text"),
            pl.lit("\r\n"),
        )
    ).to_series()
    if not hits.height:
        return clear
    rows = shapes.row_frame(hits.select("rank", "list_code", "rule_line", "reason").unique())
    fixed = [f"r{i}" for i in range(len(shapes.row_slots or []) + 1)]
    lines = (
        hits.join(rows, on=["rank", "list_code", "rule_line", "reason"], how="left")
        .join(answered.select("pos", "line_text", "code_display"), on="pos", how="left")
        .sort("order")
        .select(
            "pos",
            _fill(
                fixed,
                shapes.row_slots or [],
                {
                    "L": pl.col("line_text"),
                    "K": pl.col("code_display"),
                    "U": pl.col("until"),
                    "F": pl.col("vf"),
                    "T": pl.col("vu"),
                    "C": csv_field(pl.col("records_csv")),
                },
            ).alias("row"),
        )
        .group_by("pos", maintain_order=True)
        .agg(pl.col("row").str.join(""))
    )
    return (
        answered.select("pos")
        .with_columns(clear=clear)
        .join(lines, on="pos", how="left")
        .select(pl.coalesce("row", "clear"))
        .to_series()
    )
