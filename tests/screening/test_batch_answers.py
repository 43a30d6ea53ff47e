"""The answers of listed lines, byte for byte: whatever builds them, each stored line and
each line of the answer file is what ``subject_answer``, ``canonical_json`` and
``AnswerFile.text`` give for that line, line after line, in both output formats."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from bonafides.app.screening import screen_file, verify
from bonafides.context import Context
from bonafides.records import canonical_json, digest
from bonafides.rules.facts import Entry
from bonafides.rules.loader import packaged_rules, rules_for
from bonafides.rules.records import write_records
from bonafides.screening import batch
from bonafides.screening.answer import (
    MEASURES_APPLY,
    PART,
    RecordDetail,
    SubjectInfo,
    expand,
    named_parts,
    part_key,
    subject_answer,
)
from bonafides.screening.common import record_details
from bonafides.screening.listed import listed_answers
from bonafides.screening.service import line_answer
from bonafides.store.details import CITED_COLUMNS
from bonafides.store.tables import AnswerPart, Check, CheckLine
from tests import factories
from tests.rules.fixtures import Write, decision

DAY = dt.date(2026, 1, 15)
ACTIONS = ("procurement.bid", "inspection.frequency", "executive.appointment")


@pytest.fixture
def codes(ctx: Context, write: Write, tmp_path: Path) -> Path:
    """A batch of listed subjects with several measures and entries each, names and
    decision numbers that need escaping in JSON and quoting in CSV, a person, a clear,
    an unknown and an invalid line."""
    odd = factories.org(name='名称"引号",逗号\n换行\\')
    two = factories.org()
    person = factories.person(name="李四")
    serious = factories.org()
    write("courts.defaulter", odd, dt.date(2025, 6, 1), performance="none")
    write("tax.major_violation", odd, dt.date(2025, 3, 1), source="sta", case_nature="other")
    write("courts.defaulter", two, dt.date(2025, 6, 1), performance="none")
    write("courts.defaulter", two, dt.date(2025, 8, 1), performance="partial")
    # A measure ranked before another whose list sorts first (tax before market).
    write("tax.major_violation", two, dt.date(2025, 4, 1), source="sta", case_nature="other")
    write("courts.defaulter", person, dt.date(2025, 6, 1), performance="partial")
    write("market.abnormal_operations", serious, dt.date(2021, 3, 1), source="samr")
    for number in ('=1,"x"', "-2\r\n3", "@SUM(1) 罚字"):
        item = dataclasses.replace(
            decision("market.abnormal_operations", two, dt.date(2024, 3, 1), source="samr"),
            decision_no=number,
        )
        with ctx.sessions.begin() as session:
            write_records(session, ctx.keys, [item], actor="samr")
    clean = factories.org()
    lines = [odd.code, two.code, "bad", person.code, clean.code, factories.org().code]
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["code"])
        out.writerows([code] for code in [*lines, serious.code])
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_listed_answers_are_the_canonical_ones_byte_for_byte(
    ctx: Context, codes: Path, tmp_path: Path, fmt: str
) -> None:
    rules = rules_for(ctx.catalogue)
    listed = 0
    for action in ACTIONS:
        out = tmp_path / f"{action}.{fmt}"
        report = screen_file(
            ctx, codes, action=action, as_of=DAY, inquirer="t", purpose="p", out=out
        )
        expected = batch.AnswerFile(tmp_path / f"expected.{fmt}", fmt)
        try:
            with ctx.sessions.begin() as session:
                rows = session.scalars(
                    select(CheckLine)
                    .join(Check, Check.id == CheckLine.check_id)
                    .where(Check.cert_id == report.cert_id)
                    .order_by(CheckLine.line)
                ).all()
                lines, raws, broken = batch.read_codes(codes, column=None, fmt=None, encoding=None)
                keyed = batch.classify(lines, raws, ctx.vault, DAY, broken)
                found = batch.lookup(session, rules, action, DAY, keyed)
                details = record_details(
                    session,
                    (rid for es in found.entries.values() for e in es for rid in e.record_ids),
                )
                answers = [line_answer(session, row) for row in rows]
            text = ""
            for pos, row in enumerate(rows):
                if row.status == MEASURES_APPLY:
                    listed += 1
                    body = subject_answer(
                        rules,
                        action,
                        DAY,
                        code=row.code_display,
                        subject=found.info[pos],
                        entries=found.entries[pos],
                        records=details,
                    )
                    assert answers[pos] == {"line": row.line, **body}, row.line
                else:
                    body = answers[pos]
                answer = {**body, "line": row.line}
                kept = canonical_json(answer)
                assert row.digest == digest(answer), row.line
                text += expected.text(f"{report.cert_id}.{row.line}", answer, kept)
            expected.write(text)
            expected.commit()
        except BaseException:
            expected.abort()
            raise
        with expected.out.open("rb") as want, out.open("rb") as got:
            assert got.read() == want.read(), action
    assert listed >= 8


_RULES = packaged_rules()
_LINES = sorted(
    {
        (code, number)
        for action in ACTIONS
        for _, measure in _RULES.measures_for(action)
        for code in measure.lists
        for number in range(1, len(_RULES.lists[code].entry) + 1)
    }
)
_BASES = ("term", "decided", "cap", "removed", "record_ended", "unless")
_DAYS = st.dates(dt.date(2015, 1, 1), dt.date(2030, 12, 31))


@st.composite
def _entry(draw: st.DrawFn, subject: int) -> Entry:
    code, number = draw(st.sampled_from(_LINES))
    start = draw(_DAYS)
    return Entry(
        code,
        number,
        subject,
        draw(st.integers(1, 50)),
        start,
        start + dt.timedelta(days=draw(st.integers(0, 4000))),
        draw(st.sampled_from(_BASES)),
        tuple(draw(st.lists(st.integers(1, 50), max_size=3))),
    )


_DETAILS = {
    rid: RecordDetail(rid, type_code, source, number, dt.date(2024, 1, rid % 28 + 1))
    for rid, type_code, source, number in [
        (1, "courts.defaulter", "spc", '=1,"x"'),
        (2, "market.abnormal_operations", "samr", "-2\r\n3"),
        (3, "tax.major_violation", "sta", "税〔2024〕3号"),
        (4, "market.penalty", "samr", "@SUM(1) 罚,字"),
        (5, "procuratorate.bribery_record", "spp", "检〔2024〕5号"),
    ]
}
#: ``_DETAILS`` as a batch reads them (``store.details.cited_records``).
_CITED = pl.DataFrame(
    [dataclasses.astuple(detail) for detail in _DETAILS.values()],
    schema=CITED_COLUMNS,
    orient="row",
)


@settings(max_examples=60, deadline=None)
@given(
    action=st.sampled_from(ACTIONS),
    day=_DAYS,
    subjects=st.lists(
        st.tuples(st.sampled_from(["legal_person", "natural_person"]), st.text(max_size=8)),
        min_size=1,
        max_size=4,
    ),
    data=st.data(),
)
def test_listed_answers_as_columns_are_the_ones_built_one_by_one(
    action: str,
    day: dt.date,
    subjects: list[tuple[str, str]],
    data: st.DataObject,
) -> None:
    """Measures of a term (ending before their entry), entries out of force for every
    measure, entries sharing a measure, records cited or not stored: the columns give
    the bytes ``subject_answer``, ``canonical_json`` and ``AnswerFile.text`` give."""
    rows, entries = [], {}
    for pos, (kind, name) in enumerate(subjects):
        found = data.draw(st.lists(_entry(pos + 7), min_size=1, max_size=4, unique=True))
        entries[pos] = found
        rows += [
            (pos, pos + 7, kind, name, e.list_code, e.line, e.trigger_record_id, e.valid_from,
             e.valid_until, e.until_basis, e.record_ids_text)
            for e in found
        ]  # fmt: skip
    _compare(action, day, subjects, entries, rows)


def test_a_measure_of_a_term_ends_before_its_entry() -> None:
    """market.executive lasts 36 months from the entry's start: an entry from 2022 is out
    of its reach on the day, one from 2024 in it until 36 months on, not its own end."""
    day = dt.date(2026, 1, 15)
    entries = {
        0: [
            Entry("market.serious_violation", 1, 7, 1, dt.date(2022, 1, 1), dt.date(2030, 1, 1),
                  "term", (1,)),
            Entry("market.serious_violation", 1, 7, 2, dt.date(2024, 1, 31), dt.date(2030, 1, 1),
                  "term", (2, 5, 9)),
        ],
        1: [
            Entry("market.serious_violation", 1, 8, 3, dt.date(2022, 1, 1), dt.date(2030, 1, 1),
                  "term", ()),
        ],
    }  # fmt: skip
    subjects = [("legal_person", "甲"), ("legal_person", "乙")]
    rows = [
        (pos, e.subject_id, *subjects[pos], e.list_code, e.line, e.trigger_record_id,
         e.valid_from, e.valid_until, e.until_basis, e.record_ids_text)
        for pos, found in entries.items()
        for e in found
    ]  # fmt: skip
    got = _compare("executive.appointment", day, subjects, entries, rows)
    assert got["status"].to_list() == ["measures_apply", "clear"]
    assert '"until":"2027-01-30"' in got["answer"][0]
    assert '{"id":5,"title_zh":' in got["answer"][0]


def _compare(
    action: str,
    day: dt.date,
    subjects: list[tuple[str, str]],
    entries: dict[int, list[Entry]],
    rows: Sequence[tuple[object, ...]],
) -> pl.DataFrame:
    """``listed_answers`` of ``rows``, checked line by line against the answers built one
    by one from ``entries``, in both formats."""
    frame = pl.DataFrame(rows, schema=batch._FETCHED, orient="row")
    listed = batch.collect(frame, len(subjects)).listed
    shown = pl.DataFrame(
        {
            "pos": list(range(len(subjects))),
            "line": [pos * 3 + 2 for pos in range(len(subjects))],
            "code_display": [f"91110105{pos:09d}X" for pos in range(len(subjects))],
        }
    )
    with tempfile.TemporaryDirectory() as work:
        for fmt in ("csv", "jsonl"):
            writer = batch.AnswerFile(Path(work) / f"out.{fmt}", fmt)
            try:
                got, parts = listed_answers(_RULES, action, day, listed, shown, _CITED, "C", fmt)
                read = {key: json.loads(body) for key, body in parts.items()}
                assert all(part_key(body) == (key, text) for key, text in parts.items()
                           for body in [read[key]])  # fmt: skip
                for pos, (kind, name) in enumerate(subjects):
                    code = f"91110105{pos:09d}X"
                    body = subject_answer(
                        _RULES,
                        action,
                        day,
                        code=code,
                        subject=SubjectInfo(pos + 7, kind, name),
                        entries=entries[pos],
                        records=_DETAILS,
                    )
                    answer = {"line": pos * 3 + 2, **body}
                    kept = canonical_json(answer)
                    row = got.row(pos, named=True)
                    assert (row["pos"], row["status"]) == (pos, body["status"])
                    assert expand(json.loads(row["answer"]), read) == answer
                    assert row["digest"] == digest(answer)
                    assert row["text"] == writer.text(f"C.{pos * 3 + 2}", answer, kept)
            finally:
                writer.abort()
    return got


def _lines(ctx: Context, cert_id: str) -> list[CheckLine]:
    with ctx.sessions() as session:
        return list(
            session.scalars(
                select(CheckLine)
                .join(Check, Check.id == CheckLine.check_id)
                .where(Check.cert_id == cert_id)
                .order_by(CheckLine.line)
            )
        )


def _parts(ctx: Context) -> dict[str, str]:
    with ctx.sessions() as session:
        return dict(session.execute(select(AnswerPart.digest, AnswerPart.body)).all())


def test_a_listed_line_names_the_texts_it_shares_and_the_store_keeps_them_once(
    ctx: Context, codes: Path
) -> None:
    """A measure's and a list line's texts are stored once under their digest, not in
    every answer; the answer read back is the whole one its digest was taken over, and a
    second batch naming the same texts adds no part."""
    report = screen_file(ctx, codes, action="procurement.bid", as_of=DAY, inquirer="t", purpose="p")
    rows = [row for row in _lines(ctx, report.cert_id) if row.status == MEASURES_APPLY]
    assert len(rows) >= 3
    parts = _parts(ctx)
    for key, body in parts.items():
        assert hashlib.sha256(body.encode()).hexdigest() == key
    for row in rows:
        assert row.answer is not None
        for measure in row.answer["measures"]:
            assert PART in measure
            assert not {"legal_basis", "title_zh"} & measure.keys()
            assert all(PART in e and "list_title_zh" not in e for e in measure["entries"])
        assert named_parts(row.answer) <= parts.keys()
        with ctx.sessions() as session:
            whole = line_answer(session, row)
        assert digest(whole) == row.digest
        assert len(canonical_json(row.answer)) < len(canonical_json(whole))
    again = screen_file(ctx, codes, action="procurement.bid", as_of=DAY, inquirer="t", purpose="p")
    assert _parts(ctx) == parts
    assert [row.answer for row in _lines(ctx, again.cert_id)] == [
        row.answer for row in _lines(ctx, report.cert_id)
    ]


def test_a_line_stored_whole_before_reads_and_verifies_as_it_was(ctx: Context, codes: Path) -> None:
    """Lines written before answers were compacted hold the whole answer: read as it is."""
    report = screen_file(ctx, codes, action="procurement.bid", as_of=DAY, inquirer="t", purpose="p")
    row = next(r for r in _lines(ctx, report.cert_id) if r.status == MEASURES_APPLY)
    with ctx.sessions.begin() as session:
        whole = line_answer(session, row)
        session.execute(
            update(CheckLine)
            .where(CheckLine.check_id == row.check_id, CheckLine.line == row.line)
            .values(answer=whole)
        )
        session.execute(delete(AnswerPart))
    result = verify(ctx, f"{report.cert_id}.{row.line}", actor="t")
    assert result.intact
    assert result.same_now
    assert result.answer == whole


def test_a_line_whose_shared_texts_are_gone_verifies_as_damaged(ctx: Context, codes: Path) -> None:
    """The store can no longer give back what it answered: the line is not intact, as
    an altered one would not be, rather than an error."""
    report = screen_file(ctx, codes, action="procurement.bid", as_of=DAY, inquirer="t", purpose="p")
    row = next(r for r in _lines(ctx, report.cert_id) if r.status == MEASURES_APPLY)
    assert verify(ctx, f"{report.cert_id}.{row.line}", actor="t").intact
    with ctx.sessions.begin() as session:
        session.execute(delete(AnswerPart))
    result = verify(ctx, f"{report.cert_id}.{row.line}", actor="t")
    assert not result.intact
