"""Column-by-column validation of a chunk agrees with the row-by-row reference.

``check_chunk`` must give every row the outcome ``RowValidator.check`` gives it: the same
rejections (row, field, value, reason, in order), notes, review items, amended case and
record. Chunks are generated over every record type of the catalogue, mixing valid cells
with the spellings departments really send and the ones that must be refused.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bonafides.catalogue import Catalogue, FieldType, RecordType, load_catalogue
from bonafides.codes import make_resident_id, make_uscc
from bonafides.ingest.columns import check_chunk, check_columns
from bonafides.ingest.validate import SOURCE_USCC_FIELD, RowOutcome, RowValidator
from bonafides.records import SubjectRef, stored_json
from tests import factories

TODAY = dt.date(2026, 11, 27)


@cache
def _catalogue() -> Catalogue:
    return load_catalogue()


def _validator(rtype: RecordType, header: list[str], source: str | None) -> RowValidator:
    return RowValidator(
        _catalogue(), rtype.code, source, header, today=TODAY, seal=lambda s: "sealed:" + s
    )


_ANY = [
    "",
    "  ",
    "-",
    "无",
    "N/A",
    "null",
    " 北京  某某 公司 ",
    "北京\u200b公司",
    "\x1b[31m红",
    "a\udc80b",
    "名\n称",
    "x" * 2100,
    "１２",
]
_ORG = make_uscc("9", "1", "110105", "00000077")
_PERSON = make_resident_id("110105", dt.date(1985, 3, 14), 17)
_CODES = [
    _ORG,
    _ORG.lower(),
    " " + _ORG[:9] + "－" + _ORG[9:],
    _ORG[:17] + ("0" if _ORG[17] != "0" else "1"),
    "91110105MA01ABCD",
    _PERSON,
    make_resident_id("110105", dt.date(2012, 3, 14), 18),
    make_resident_id("110105", dt.date(2030, 1, 1), 19),
    _PERSON[:17] + ("0" if _PERSON[17] != "0" else "1"),
    make_uscc("5", "1", "110000", "00000011"),
    make_uscc("1", "1", "100000", "00000001"),
]
_DATES = [
    # Valid dates first (the benign ones below): in the future, or before or after the
    # decision date, they are refused only by the checks across fields.
    "2099-01-01",
    "2020-01-01",
    "2030-05-01",
    "2025/6/2",
    "2026-11-27",
    "2025年6月2日",
    "20250602",
    "2025-06-02 10:30",
    "2025-02-30",
    "0000-01-01",
    "June 2",
]
_NUMBERS = ["1", "1,000.50", "0.10", "1.0", "-3", "abc", "１２.５", "3.7"]
_DECISION_NOS = [
    "京罚〔2025〕1号",
    "京罚[2025]2号",
    "（2025）京01执3号",
    "京罚 〔2025〕 4号",
    "ＡＢ-5",
    "暂无",
    "罚" * 300,
]


def _department_codes(rtype: RecordType) -> list[str]:
    """Codes of departments that may submit the type, then of one that may not."""
    may = [
        d
        for d in _catalogue().departments
        if d.uscc and _catalogue().may_submit(rtype.code, d.code)
    ]
    may_not = [d for d in _catalogue().departments if d.uscc and d not in may]
    return [d.uscc for d in may[:2] + may_not[:1] if d.uscc]


def _sources(rtype: RecordType) -> list[str]:
    return [
        d.code for d in _catalogue().departments if _catalogue().may_submit(rtype.code, d.code)
    ][:2]


def _cell(rtype: RecordType, name: str) -> st.SearchStrategy[str | None]:
    choices, benign = _spellings(rtype, name)
    return st.one_of(st.sampled_from(choices), st.sampled_from(benign), st.none())


def _spellings(rtype: RecordType, name: str) -> tuple[list[str], list[str]]:
    """What a cell of the field may hold: everything, and the spellings that are read
    (with a note) or emptied, drawn as often as everything else: rows that carry them are
    the ones the column path turns into records itself."""
    spec = rtype.content_field(name)
    choices: list[str] = list(_ANY)
    if name == "decision_no":
        choices += _DECISION_NOS
    elif spec.type is FieldType.DATE:
        choices += _DATES
    elif spec.type in (FieldType.DECIMAL, FieldType.INTEGER):
        choices += _NUMBERS
    elif spec.type is FieldType.BOOLEAN:
        choices += ["是", "否", "yes", "Y", "也许"]
    elif spec.type is FieldType.ENUM:
        for item in spec.enum or ():
            choices += [item.value, item.label_zh, item.label_en]
        choices += ["不存在的值"]
    elif spec.type in (FieldType.USCC, FieldType.CODE) or name in rtype.subject_code_fields:
        choices += _CODES
        if name == SOURCE_USCC_FIELD:
            choices += _department_codes(rtype) * 3
    else:
        choices += [f"测试{spec.title_en}", "某某"]
    benign = ["", " ", "-", "无", "N/A", " 某某  公司 ", *[c for c in choices if c not in _ANY][:6]]
    return choices, benign


def _valid(rtype: RecordType, name: str) -> str:
    """A valid value of an optional field, for rows the fast path should take."""
    spec = rtype.content_field(name)
    if spec.type is FieldType.DATE:
        return "2025-06-02"
    if spec.type in (FieldType.DECIMAL, FieldType.INTEGER):
        return "2"
    if spec.type is FieldType.BOOLEAN:
        return "否"
    if spec.type is FieldType.ENUM:
        return (spec.enum or ())[0].value
    if name.endswith("id_number") or (
        name in rtype.subject_code_fields and spec.type is not FieldType.USCC
    ):
        return _PERSON
    if spec.type in (FieldType.USCC, FieldType.CODE):
        return _ORG
    return "某某"


def _subjects(rtype: RecordType) -> list[SubjectRef]:
    """Subjects of the kinds the type admits."""
    found = [s for s in (factories.org(), factories.person()) if s.kind in rtype.subject_kinds]
    return found or [factories.org()]


def _base(rtype: RecordType, subject: SubjectRef, source: str | None) -> dict[str, str]:
    """A valid row of the type about ``subject``, from ``source`` (or, when None, naming
    a department that may submit it by its code)."""
    row = factories.content_row(rtype, subject, header="en")
    if SOURCE_USCC_FIELD in rtype.field_names:
        own = _department_codes(rtype)
        if source is not None:
            row[SOURCE_USCC_FIELD] = _catalogue().department(source).uscc or ""
        elif own:
            row[SOURCE_USCC_FIELD] = own[0]
    return row


@st.composite
def _chunks(draw: st.DrawFn) -> tuple[RecordType, list[str], str | None, list[Any]]:
    rtype = draw(st.sampled_from(_catalogue().types))
    sources: list[str | None] = list(_sources(rtype))
    if SOURCE_USCC_FIELD in rtype.field_names:
        sources.append(None)
    source = draw(st.sampled_from(sources))
    base_row = _base(rtype, draw(st.sampled_from(_subjects(rtype))), source)
    if source is None and SOURCE_USCC_FIELD not in base_row:
        base_row[SOURCE_USCC_FIELD] = ""
    optional = [f.name for f in rtype.fields if f.name not in base_row]
    names = list(base_row) + draw(st.lists(st.sampled_from(optional), unique=True, max_size=8))
    header = ["amends_case", *names, "unknown column"]
    count = draw(st.integers(1, 8))
    rows = []
    for row_no in range(2, 2 + count):
        cells: dict[str, str | None] = {
            "amends_case": draw(st.sampled_from(["", " 复核2025-1 ", "-"]))
        }
        changeable = names + [n for n in names if n not in base_row] * 3
        changed = draw(st.lists(st.sampled_from(changeable), max_size=3, unique=True))
        for name in names:
            if name in changed:
                cells[name] = draw(_cell(rtype, name))
            elif name == "decision_no":
                cells[name] = f"京罚〔2025〕{row_no}号"
            else:
                cells[name] = base_row.get(name) or _valid(rtype, name)
        cells["unknown column"] = draw(st.sampled_from(["", "x", "x", "x", "x", "\x07"]))
        if draw(st.integers(0, 9)) == 0:
            cells.pop(draw(st.sampled_from(names)))
        rows.append((row_no, cells))
    return rtype, header, source, rows


def _spelled_as_stored(validator: RowValidator, rows: Any, expected: list[RowOutcome]) -> None:
    """The clean rows' columns are what the row-by-row path would store: content and raw
    submission byte for byte as ``stored_json`` spells the reference's record, and its
    content digest."""
    checked = check_columns(validator, rows)
    clean = checked.clean
    for at, want in zip(checked.clean_at, expected, strict=True):
        if at < 0:
            continue
        assert want.record is not None
        assert clean.content[at] == stored_json(want.record.content)
        assert clean.raw[at] == stored_json(want.record.raw)
        assert clean.digest[at] == want.record.content_digest
        assert clean.record(at) == want.record


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_chunks())
def test_chunk_outcomes_equal_row_outcomes(chunk: tuple[RecordType, list[str], str, Any]) -> None:
    rtype, header, source, rows = chunk
    expected = [_validator(rtype, header, source).check(n, cells) for n, cells in rows]
    assert check_chunk(_validator(rtype, header, source), rows) == expected
    _spelled_as_stored(_validator(rtype, header, source), rows, expected)


def test_a_clean_chunk_is_all_records_and_agrees() -> None:
    """The fast path itself: a department's clean file, checked both ways."""
    rtype = _catalogue().type("market.penalty")
    rows = [(n, factories.content_row(rtype, factories.org(), header="en")) for n in range(2, 60)]
    header = list(rows[0][1])
    expected = [_validator(rtype, header, "bj_amr").check(n, cells) for n, cells in rows]
    columnar = _validator(rtype, header, "bj_amr")
    taken: list[int] = []
    reference = columnar.check

    def observed(row_no: int, cells: Any) -> Any:
        taken.append(row_no)
        return reference(row_no, cells)

    columnar.check = observed  # type: ignore[method-assign]
    got = check_chunk(columnar, rows)
    assert taken == [], "clean rows took the row-by-row path"
    assert all(o.record is not None for o in got)
    assert got == expected
    _spelled_as_stored(columnar, rows, expected)
    assert len(check_columns(columnar, rows).clean) == len(rows)


def _choices(rtype: RecordType, name: str) -> list[str]:
    """The field's own spellings (the ones every field shares are the property's)."""
    choices, benign = _spellings(rtype, name)
    return list(dict.fromkeys(c for c in choices + benign if c not in _ANY or c in benign))


def test_every_field_spelled_every_way_agrees() -> None:
    """Exhaustive where the property samples: for each record type, a clean row with one
    cell (every field, all of its spellings) changed; so each cross-field rule (future
    dates, dates out of order, another department, a subject of the wrong kind) meets the
    rows it must send to the reference."""
    for rtype in _catalogue().types:
        # Under --source for half the types, from the rows' department codes for the rest.
        sources: list[str | None] = [*_sources(rtype)[:1]]
        if SOURCE_USCC_FIELD in rtype.field_names and (rtype.code < "g" or not sources):
            sources = [None]
        for source in sources:
            base_row = _base(rtype, _subjects(rtype)[0], source)
            names = list(base_row) + [f.name for f in rtype.fields if f.name not in base_row]
            full = {name: base_row.get(name) or _valid(rtype, name) for name in names}
            rows: list[tuple[int, dict[str, str | None]]] = []
            for name in names:
                for value in _choices(rtype, name):
                    row_no = len(rows) + 2
                    cells: dict[str, str | None] = {
                        **full,
                        "decision_no": f"京罚〔2025〕{row_no}号",
                    }
                    cells[name] = value
                    rows.append((row_no, cells))
            expected = [_validator(rtype, names, source).check(n, c) for n, c in rows]
            got = check_chunk(_validator(rtype, names, source), rows)
            assert sum(o.record is not None for o in got) > len(rows) // 4, rtype.code
            for row, want, have in zip(rows, expected, got, strict=True):
                assert have == want, (rtype.code, source, row)
            _spelled_as_stored(_validator(rtype, names, source), rows, expected)
