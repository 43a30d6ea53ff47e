"""Batch screening: every line answered, bad lines named, same answers as single checks."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from bonafides.app.screening import check, screen_file, verify
from bonafides.codes import ResidentId, make_uscc, parse_subject_code
from bonafides.context import Context
from bonafides.csvcells import csv_cell
from bonafides.ingest.readers import UnusableInputError
from bonafides.records import RecordStatus, canonical_json, digest
from bonafides.rules.records import change_status
from bonafides.rules.service import recompute_lists
from bonafides.screening import batch
from bonafides.screening.batch import classify, plain_digests
from bonafides.screening.service import line_answer
from bonafides.security.identifiers import IdentifierVault
from bonafides.store.tables import AuditEvent, Check, CheckLine, RuleRun
from tests import factories
from tests.rules.fixtures import Write

#: Also on PostgreSQL partitioned by subject (migration 0031).
pytestmark = pytest.mark.partitioned

DAY = dt.date(2026, 1, 15)


def codes_file(path: Path, codes: list[str], column: str = "统一社会信用代码") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column, "备注"])
        writer.writerows([code, "x"] for code in codes)
    return path


def test_every_line_is_answered_and_bad_lines_are_named(
    ctx: Context, write: Write, tmp_path: Path
) -> None:
    listed, clean, person = factories.org(), factories.org(), factories.person()
    write("courts.defaulter", listed, dt.date(2025, 6, 1), performance="none")
    write("courts.defaulter", person, dt.date(2025, 6, 1), performance="partial")
    write("market.penalty", clean, dt.date(2025, 6, 1), source="samr", severity="minor")
    unknown = factories.org().code
    codes = [
        listed.code,
        clean.code,
        unknown,
        "91110105000000019X",
        "",
        "=cmd|' /C calc'!A0",
        person.code,
    ]
    source = codes_file(tmp_path / "in.csv", codes)
    report = screen_file(
        ctx,
        source,
        action="procurement.bid",
        as_of=DAY,
        inquirer="t@mof",
        purpose="tender 7",
        out=tmp_path / "out.csv",
    )
    assert report.counts == {"measures_apply": 2, "clear": 1, "unknown": 1, "invalid": 3}
    assert [line for line, _ in report.invalid] == [5, 6, 7]
    assert report.exit_code == 1
    rows = list(csv.DictReader((tmp_path / "out.csv").read_text("utf-8").splitlines()))
    assert [r["line"] for r in rows] == ["2", "3", "4", "5", "6", "7", "8"]
    assert rows[0]["measure"] == "defaulters.procurement"
    assert rows[0]["certificate"] == f"{report.cert_id}.2"
    assert "check character" in rows[3]["reason"]
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    assert person.code not in (tmp_path / "out.csv").read_text("utf-8")
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CheckLine)) == 7
        tags = session.scalars(select(AuditEvent.tag)).all()
        assert tags.count("screening:check:issued") == 1


def test_batch_and_single_checks_give_the_same_answer(
    ctx: Context, write: Write, tmp_path: Path
) -> None:
    firms = [factories.org() for _ in range(4)]
    write("courts.defaulter", firms[0], dt.date(2025, 6, 1), performance="none")
    write("tax.major_violation", firms[1], dt.date(2025, 3, 1), source="sta", case_nature="other")
    write("market.abnormal_operations", firms[2], dt.date(2021, 3, 1), source="samr")
    write("tax.credit_grade", firms[3], dt.date(2025, 9, 1), source="sta", grade="A")
    source = codes_file(tmp_path / "in.csv", [f.code for f in firms], column="code")
    for action in ("procurement.bid", "inspection.frequency", "executive.appointment"):
        report = screen_file(
            ctx,
            source,
            action=action,
            as_of=DAY,
            inquirer="t",
            purpose="p",
            out=tmp_path / f"{action}.jsonl",
        )
        lines = [
            json.loads(x) for x in (tmp_path / f"{action}.jsonl").read_text("utf-8").splitlines()
        ]
        for firm, line in zip(firms, lines, strict=True):
            single = check(ctx, firm.code, action, as_of=DAY, inquirer="t", purpose="p").answer
            del line["certificate"], line["line"], single["action"], single["as_of"]
            assert line == single, action
        assert report.exit_code == 0


def test_abnormal_operations_move_to_the_serious_list_after_three_years(
    ctx: Context, write: Write, tmp_path: Path
) -> None:
    firm = factories.org()
    write("market.abnormal_operations", firm, dt.date(2022, 3, 1), source="samr")
    source = codes_file(tmp_path / "in.csv", [firm.code])

    def lists_on(day: dt.date) -> set[str]:
        screen_file(
            ctx,
            source,
            action="inspection.frequency",
            as_of=day,
            inquirer="t",
            purpose="p",
            out=tmp_path / "o.jsonl",
        )
        (line,) = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text("utf-8").splitlines()]
        return {e["list"] for m in line.get("measures", []) for e in m["entries"]}

    assert lists_on(dt.date(2025, 2, 28)) == {"market.abnormal_operations"}
    assert lists_on(dt.date(2025, 3, 1)) == {"market.serious_violation"}


def test_a_line_certificate_verifies_and_notices_a_revocation(
    ctx: Context, write: Write, tmp_path: Path
) -> None:
    firm = factories.org()
    item = write("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
    source = codes_file(tmp_path / "in.csv", [firm.code, factories.org().code])
    report = screen_file(
        ctx, source, action="procurement.bid", as_of=DAY, inquirer="t", purpose="p"
    )
    assert verify(ctx, f"{report.cert_id}.2", actor="a").same_now
    assert verify(ctx, f"{report.cert_id}.3", actor="a").same_now
    whole = verify(ctx, report.cert_id, actor="a")
    assert whole.intact
    assert whole.same_now
    with ctx.sessions.begin() as session:
        change_status(
            session,
            source="spc",
            decision_no=item.decision_no,
            status=RecordStatus.REVOKED,
            actor="spc",
            reason="revoked",
        )
    line = verify(ctx, f"{report.cert_id}.2", actor="a")
    assert (line.same_now, line.answer_now["status"]) == (False, "clear")
    assert verify(ctx, report.cert_id, actor="a").changed_lines == [2]


def test_entries_are_recomputed_first_when_the_rules_never_ran(
    ctx: Context, write: Write, tmp_path: Path
) -> None:
    write("courts.defaulter", factories.org(), dt.date(2025, 6, 1), performance="none")
    source = codes_file(tmp_path / "in.csv", [factories.org().code])
    first = screen_file(ctx, source, action="procurement.bid", inquirer="t", purpose="p")
    second = screen_file(ctx, source, action="procurement.bid", inquirer="t", purpose="p")
    assert (first.recomputed, second.recomputed) == (True, False)
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RuleRun)) == 1


def test_unusable_input_writes_nothing(ctx: Context, tmp_path: Path) -> None:
    tmp_path = tmp_path / "files"
    tmp_path.mkdir()
    source = tmp_path / "in.csv"
    source.write_text("a,b\n1,2\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    with pytest.raises(UnusableInputError, match="--column"):
        screen_file(ctx, source, action="procurement.bid", inquirer="t", purpose="p", out=out)
    with pytest.raises(UnusableInputError, match=r"\.csv or \.jsonl"):
        screen_file(
            ctx,
            source,
            action="procurement.bid",
            inquirer="t",
            purpose="p",
            out=tmp_path / "out.xlsx",
            column="a",
        )
    assert list(tmp_path.iterdir()) == [source]


def test_bulk_code_checks_agree_with_the_parser() -> None:
    vault = IdentifierVault("test-secret")
    person = factories.person()
    firm = factories.org()
    digits_uscc = make_uscc("9", "1", "110105", "00000010")  # all digits
    raw = [
        firm.code,
        firm.code.lower(),
        f" {firm.code[:6]}-{firm.code[6:]} ",
        person.code,
        person.code.lower(),
        "91110105000000019X",
        "",
        "１１０１０５",
        digits_uscc,
    ]
    keyed = classify(list(range(2, len(raw) + 2)), raw, vault, dt.date(2026, 1, 1))
    assert keyed.keys[:3] == [firm.code] * 3
    assert keyed.keys[3] == keyed.keys[4] == vault.lookup_key(person.code)
    assert keyed.shown[3] == person.code[:6] + "********" + person.code[-4:]
    assert keyed.keys[5:8] == [None] * 3
    assert sorted(keyed.reasons) == [5, 6, 7]
    assert keyed.keys[8] == digits_uscc
    assert keyed.lines[8] == 10
    # Every valid code keys exactly as the per-code parser does.
    for pos, code in enumerate(raw):
        if keyed.keys[pos] is not None:
            parsed = parse_subject_code(code)
            if isinstance(parsed, ResidentId):
                assert keyed.keys[pos] == vault.lookup_key(parsed.number)
            else:
                assert keyed.keys[pos] == parsed.code


def test_recompute_in_sql_matches_what_the_write_path_kept(ctx: Context, write: Write) -> None:
    firm, person = factories.org(), factories.person()
    write(
        "courts.defaulter",
        firm,
        dt.date(2025, 6, 1),
        performance="none",
        listing_until="2028-01-01",
    )
    write("courts.defaulter", person, dt.date(2024, 6, 1), performance="none")
    write(
        "labour.wage_arrears",
        firm,
        dt.date(2025, 1, 1),
        source="mohrss",
        removal_date="2025-09-01",
        subject_role="employer",
        ground="criminal_threshold",
    )
    with ctx.sessions.begin() as session:
        result = recompute_lists(session)
    assert (result.entries, result.added, result.superseded) == (3, 0, 0)


def test_cells_that_look_like_formulas_are_neutralised() -> None:
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("@SUM(1)") == "'@SUM(1)"
    assert csv_cell("91110105000000019Q") == "91110105000000019Q"


def test_the_fast_digest_of_plain_lines_is_the_canonical_one() -> None:
    lines = [(2, "91110105000000019Q", "clear"), (9, "110105********0021", "unknown")]
    found = plain_digests(*(pl.Series(column) for column in zip(*lines, strict=True)))
    assert found == [
        digest({"line": line, "code": code, "status": status}) for line, code, status in lines
    ]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_plain_lines_are_written_as_every_other_answer_is(tmp_path: Path, fmt: str) -> None:
    """Clear and unknown lines are written as a column: the same text as an answer
    written one by one."""
    writer = batch.AnswerFile(tmp_path / f"out.{fmt}", fmt)
    try:
        rows = [(2, "91110105000000019Q", "clear"), (19, "110105********0021", "unknown")]
        frame = pl.DataFrame(rows, schema=["line", "code_display", "status"], orient="row")
        fast = frame.select(writer.plain_text("CERT")).to_series().to_list()
        answers = [{"line": line, "code": code, "status": status} for line, code, status in rows]
        assert fast == [
            writer.text(f"CERT.{answer['line']}", answer, canonical_json(answer))
            for answer in answers
        ]
    finally:
        writer.abort()


def test_each_stored_line_digest_is_the_canonical_digest_of_its_answer(
    ctx: Context, write: Write, tmp_path: Path
) -> None:
    """Clear and unknown lines are answered by one statement in the store: their stored
    digests must be the ones a verifier recomputes, for organisations and masked persons
    alike, and the batch's trail must pin exactly the stored lines."""
    listed, clean, person, stranger = (
        factories.org(),
        factories.org(),
        factories.person(),
        factories.person(),
    )
    write("courts.defaulter", listed, dt.date(2025, 6, 1), performance="none")
    write("market.penalty", clean, dt.date(2025, 6, 1), source="samr", severity="minor")
    write("market.penalty", person, dt.date(2025, 6, 1), source="samr", severity="minor")
    codes = [clean.code, listed.code, person.code, factories.org().code, stranger.code, "x1"]
    report = screen_file(
        ctx,
        codes_file(tmp_path / "in.csv", codes),
        action="procurement.bid",
        as_of=DAY,
        inquirer="t",
        purpose="p",
    )
    assert report.counts == {"measures_apply": 1, "clear": 2, "unknown": 2, "invalid": 1}
    with ctx.sessions() as session:
        stored = session.scalars(
            select(CheckLine)
            .join(Check, Check.id == CheckLine.check_id)
            .where(Check.cert_id == report.cert_id)
            .order_by(CheckLine.line)
        ).all()
        answers = [line_answer(session, row) for row in stored]
    assert [(row.line, row.status) for row in stored] == [
        (2, "clear"),
        (3, "measures_apply"),
        (4, "clear"),
        (5, "unknown"),
        (6, "unknown"),
        (7, "invalid"),
    ]
    assert "*" in stored[2].code_display
    assert "*" in stored[4].code_display
    for row, answer in zip(stored, answers, strict=True):
        assert row.digest == digest({"line": row.line, **answer}), row.line
    trail = "".join(f"{row.line}:{row.digest};" for row in stored)
    assert report.lines_digest == hashlib.sha256(trail.encode()).hexdigest()


def test_screening_reports_lines_answered_per_stored_chunk(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "_INSERT_CHUNK", 4)
    codes = [factories.org().code for _ in range(10)]
    calls: list[tuple[int, int | None]] = []
    screen_file(
        ctx,
        codes_file(tmp_path / "in.csv", codes),
        action="procurement.bid",
        as_of=DAY,
        inquirer="t@mof",
        purpose="tender 8",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(0, 10), (4, 10), (8, 10), (10, 10)]


def test_what_a_killed_screening_left_is_cleared_by_the_next(ctx: Context, tmp_path: Path) -> None:
    """A screening killed mid-way leaves its hidden results file; the next one writing
    the same results removes it, but not one a running process writes."""
    folder = tmp_path / "results"
    folder.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = folder / f".out.csv.partial-{gone.pid}-k3x9a1"
    stale.write_text("line,code\n2,", "utf-8")
    running = folder / f".out.csv.partial-{os.getppid()}-q8w2e7"
    running.write_text("line,code\n", "utf-8")
    source = codes_file(tmp_path / "in.csv", [factories.org().code])
    screen_file(
        ctx, source, action="procurement.bid", inquirer="t", purpose="p", out=folder / "out.csv"
    )
    assert sorted(p.name for p in folder.iterdir()) == sorted(["out.csv", running.name])
