"""Text a department should never have sent: invalid Unicode, control characters, and the
spellings of one decision number. Each is refused or normalised row by row, on both stores,
and nothing of it reaches the database or an operator's terminal."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from bonafides import normalise
from bonafides.app.ingest import ingest_file
from bonafides.catalogue import RecordType, load_catalogue
from bonafides.cli import app
from bonafides.context import Context
from bonafides.ingest import characters
from bonafides.ingest.service import IngestReport
from bonafides.normalise import BadValueError
from bonafides.settings import Settings, get_settings
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import IngestRejection, Record, Subject
from tests import factories

TODAY = dt.date(2026, 11, 27)
PENALTY: RecordType = load_catalogue().type("market.penalty")
NAME = PENALTY.content_field("subject_name").column_zh
NUMBER = PENALTY.content_field("decision_no").column_zh
REMARKS = PENALTY.content_field("remarks").column_zh
runner = CliRunner()


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="test-secret-key-123", demo=True))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


def _run(ctx: Context, path: Path) -> IngestReport:
    return ingest_file(ctx, path, type_code=PENALTY.code, source="samr", actor="t", today=TODAY)


def _csv_bytes(rows: list[dict[str, str]]) -> bytes:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(r[h] for h in header) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _rows(n: int) -> list[dict[str, str]]:
    return [factories.content_row(PENALTY, factories.org()) for _ in range(n)]


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


# --- invalid Unicode (item 10) -------------------------------------------------------


def test_lone_surrogate_in_jsonl_is_a_row_level_rejection(ctx: Context, tmp_path: Path) -> None:
    rows = _rows(3)
    rows[1][NAME] = "北京\ud800公司"
    # json.dumps escapes the surrogate as \ud800: valid JSON text, invalid Unicode.
    path = _jsonl(tmp_path / "batch.jsonl", [json.dumps(r) for r in rows])
    report = _run(ctx, path)
    assert report.counts["accepted"] == 2
    assert report.counts["rejected"] == 1
    (rejection,) = report.rejections
    assert (rejection.row, rejection.field) == (3, NAME)
    assert "U+D800" in rejection.reason
    json.dumps(report.to_json(), ensure_ascii=False).encode("utf-8")


def test_surrogate_in_a_column_name_is_reported_safely(ctx: Context, tmp_path: Path) -> None:
    rows = _rows(1)
    rows[0]["extra\udfff"] = "x"
    report = _run(ctx, _jsonl(tmp_path / "keys.jsonl", [json.dumps(r) for r in rows]))
    assert report.counts["accepted"] == 1
    assert report.ignored_columns == ["extra\\udfff"]
    json.dumps(report.to_json(), ensure_ascii=False).encode("utf-8")


def test_invalid_bytes_in_a_csv_row_reject_that_row_only(ctx: Context, tmp_path: Path) -> None:
    rows = _rows(3)
    rows[2][NAME] = "@BAD@"
    data = _csv_bytes(rows).replace(b"@BAD@", "北京".encode() + b"\xff\xfe" + "公司".encode())
    path = tmp_path / "bytes.csv"
    path.write_bytes(data)
    report = _run(ctx, path)
    assert report.encoding == "utf-8"
    assert report.counts["accepted"] == 2
    (rejection,) = report.rejections
    assert (rejection.row, rejection.field) == (4, NAME)
    assert "not valid utf-8" in rejection.reason
    with ctx.sessions() as session:
        stored = session.scalars(select(IngestRejection.value)).one()
    assert stored.encode("utf-8")


def test_cli_ingest_of_a_surrogate_jsonl_exits_1_without_traceback(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", "cli-test-secret-123456")
    monkeypatch.setenv("BONAFIDES_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    assert runner.invoke(app, ["init", "--db", db_url]).exit_code == 0
    rows = [factories.content_row(PENALTY, factories.org(), decision_date=TODAY)]
    rows[0][NAME] = "\udc00"
    path = _jsonl(tmp_path / "s.jsonl", [json.dumps(r) for r in rows])
    args = ["ingest", str(path), "--type", PENALTY.code, "--source", "samr", "--db", db_url]
    result = runner.invoke(app, args)
    get_settings.cache_clear()
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1, result.output
    assert "U+DC00" in result.output


# --- control characters (item 11b) ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("北京\x1b[31m公司", "U+001B"),
        ("北京\x00公司", "U+0000"),
        ("北京\u202e司公", "U+202E"),
        ("北京\u2066公司\u2069", "U+2066"),
        ("北京\x85公司", "U+0085"),
    ],
)
def test_control_characters_in_names_are_refused(
    ctx: Context, tmp_path: Path, value: str, shown: str
) -> None:
    rows = _rows(2)
    rows[0][NAME] = value
    report = _run(ctx, _jsonl(tmp_path / "c.jsonl", [json.dumps(r) for r in rows]))
    assert report.counts["accepted"] == 1
    (rejection,) = report.rejections
    assert (rejection.row, rejection.field) == (2, NAME)
    assert shown in rejection.reason
    assert all(characters.is_plain(c) for c in rejection.value), rejection.value
    with ctx.sessions() as session:
        names = session.scalars(select(Subject.name)).all()
    assert all(characters.is_plain(c) for name in names for c in name)


def test_invisible_characters_are_stripped_so_one_name_stays_one(
    ctx: Context, tmp_path: Path
) -> None:
    subject = factories.org(name="北京测试一号有限公司")
    first = factories.content_row(PENALTY, subject)
    second = factories.content_row(PENALTY, subject)
    second[NAME] = "北京\u200b测试一号\ufeff有限\u00ad公司"
    report = _run(ctx, _jsonl(tmp_path / "z.jsonl", [json.dumps(first), json.dumps(second)]))
    assert report.counts["accepted"] == 2
    assert "invisible characters removed normalised" in report.normalised
    with ctx.sessions() as session:
        assert session.scalars(select(Subject.name)).all() == ["北京测试一号有限公司"]
        raws = list(session.scalars(select(Record.content)).all())
    assert {r["subject_name"] for r in raws} == {"北京测试一号有限公司"}


def test_zero_width_joiners_stay_inside_joining_scripts() -> None:
    mongolian = "ᠮᠣᠩ\u200dᠭᠣᠯ"
    assert characters.clean(mongolian).value == mongolian
    assert characters.clean("北京\u200d公司").value == "北京公司"


def test_cli_never_prints_an_escape_sequence_from_the_data(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", "cli-test-secret-123456")
    monkeypatch.setenv("BONAFIDES_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    assert runner.invoke(app, ["init", "--db", db_url]).exit_code == 0
    rows = [factories.content_row(PENALTY, factories.org(), decision_date=TODAY)]
    rows[0][NAME] = "[red]x\x1b]0;a\x07"
    rows[0]["extra\x1b[5m"] = "1"
    path = _jsonl(tmp_path / "e.jsonl", [json.dumps(r) for r in rows])
    args = ["ingest", str(path), "--type", PENALTY.code, "--source", "samr", "--db", db_url]
    result = runner.invoke(app, args)
    get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    assert "\\x1b" in result.output
    assert "[red]x" in result.output, "stored text is shown as text, not markup"


@given(st.text(max_size=40))
def test_clean_text_is_plain_or_refused(value: str) -> None:
    try:
        cleaned = characters.clean(value).value
    except BadValueError as exc:
        reason = exc.reason
    else:
        reason = ""
        assert all(characters.is_plain(c) or c in "\t\n\r\u200c\u200d" for c in cleaned)
    assert reason == "" or reason.startswith("contains")
    shown = characters.printable(value)
    assert all(characters.is_plain(c) for c in shown)
    shown.encode("utf-8")


# --- decision numbers (item 11a) -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("（2026）京执9304号", "（2026）京执9304号"),
        ("（２０２６）京执９３０４号", "（2026）京执9304号"),
        ("(2026)京执9304号", "（2026）京执9304号"),
        ("（2026）京01执恢12号", "（2026）京01执恢12号"),
        ("京市监罚〔2026〕12号", "京市监罚〔2026〕12号"),
        ("京市监罚[2026]12号", "京市监罚〔2026〕12号"),
        ("京市监罚【２０２６】12号", "京市监罚〔2026〕12号"),
        ("京市监罚［2026］12号", "京市监罚〔2026〕12号"),
        ("京市监罚 〔2026〕 12号 ", "京市监罚〔2026〕12号"),
        ("ＺＪ－２０２６－００１", "ZJ-2026-001"),
    ],
)
def test_decision_numbers_have_one_spelling(raw: str, expected: str) -> None:
    cleaned = normalise.decision_number(raw)
    assert cleaned.value == expected
    assert (cleaned.note is None) == (raw == expected)


def test_full_width_decision_number_is_the_same_record(ctx: Context, tmp_path: Path) -> None:
    subject = factories.org()
    first = factories.content_row(PENALTY, subject, decision_no="（2026）京执9304号")
    again = dict(first)
    again[NUMBER] = "（２０２６）京执９３０４号"
    report = _run(ctx, _jsonl(tmp_path / "a.jsonl", [json.dumps(first)]))
    assert report.counts["accepted"] == 1
    report = _run(ctx, _jsonl(tmp_path / "b.jsonl", [json.dumps(again)]))
    assert report.counts["unchanged"] == 1, report.counts
    with ctx.sessions() as session:
        assert session.scalars(select(Record.decision_no)).all() == ["（2026）京执9304号"]


# --- the ingest report's normalisation kinds (item 11c) ------------------------------


def test_every_normalisation_kind_has_a_label(ctx: Context, tmp_path: Path) -> None:
    rows = _rows(3)
    rows[0][REMARKS] = "—"
    rows[1][PENALTY.content_field("penalty_category").column_zh] = "罚款"
    rows[2][PENALTY.content_field("severity").column_zh] = "一般"
    report = _run(ctx, _jsonl(tmp_path / "n.jsonl", [json.dumps(r) for r in rows]))
    assert report.counts["accepted"] == 3
    assert report.normalised
    for kind in report.normalised:
        label = kind.removesuffix(" normalised")
        assert label.strip(), report.normalised
        assert label == label.strip(), report.normalised
    assert "empty marker normalised" in report.normalised
    assert "enum label normalised" in report.normalised


def test_csv_reader_keeps_quoted_hostile_text_as_a_row(ctx: Context, tmp_path: Path) -> None:
    rows = _rows(2)
    rows[0][REMARKS] = 'he said "\x1b[1m" loudly'
    path = tmp_path / "q.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys([*rows[1], *rows[0]])))
        writer.writeheader()
        writer.writerows(rows)
    report = _run(ctx, path)
    assert report.counts["accepted"] == 1
    assert report.rejections[0].field == REMARKS
    assert "U+001B" in report.rejections[0].reason
