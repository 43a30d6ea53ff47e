"""The answers of listed lines, byte for byte: whatever builds them, each stored line and
each line of the answer file is what ``subject_answer``, ``canonical_json`` and
``AnswerFile.text`` give for that line, line after line, in both output formats."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from bonafides.app.screening import screen_file
from bonafides.context import Context
from bonafides.records import canonical_json, digest
from bonafides.rules.loader import rules_for
from bonafides.rules.records import write_records
from bonafides.screening import batch
from bonafides.screening.answer import MEASURES_APPLY, subject_answer
from bonafides.screening.common import record_details
from bonafides.store.tables import Check, CheckLine
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
                    assert row.answer == {"line": row.line, **body}, row.line
                else:
                    body = row.answer or {"code": row.code_display, "status": row.status}
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
