"""The export rows are real spellings of the stored values: read them back and compare.

The reader here is deliberately local and small (dates, amounts, full-width digits, empty
markers, labels); it proves the messy spellings mean what ``record`` says. A second test
runs ingest's own row validator over the same rows, so the files import as generated.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from bonafides.catalogue import Catalogue, ContentField, FieldType
from bonafides.codes import mask_id
from bonafides.ingest.validate import RowValidator
from bonafides.synth.generator import SyntheticSubject

from .conftest import TODAY

_EMPTY = {"", "—", "无", "/", "-", "－", "——"}
_DATE = re.compile(r"^(\d{4})(?:[-/.年]?)(\d{1,2})(?:[-/.月]?)(\d{1,2})日?(?: 00:00:00)?$")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _date(text: str) -> str:
    match = _DATE.match(_ascii(text))
    assert match, text
    year, month, day = (int(g) for g in match.groups())
    return dt.date(year, month, day).isoformat()


def _read(spec: ContentField, text: str) -> Any:
    """The clean value of one exported cell, or None for an empty one."""
    if text.strip() in _EMPTY:
        return None
    if spec.type is FieldType.DATE:
        return _date(text)
    if spec.type is FieldType.DECIMAL:
        return _ascii(text).replace(",", "")
    if spec.type is FieldType.INTEGER:
        return int(_ascii(text))
    if spec.type is FieldType.BOOLEAN:
        return text == "是"
    if spec.type is FieldType.ENUM:
        by_label = {e.label_zh: e.value for e in spec.enum or ()}
        by_label.update({e.value: e.value for e in spec.enum or ()})
        parts = re.split(r"[;；、]", text) if spec.multiple else [text]
        return ";".join(by_label[p.strip()] for p in parts)
    if spec.type in (FieldType.USCC, FieldType.CODE):
        return _ascii(text).upper()
    return " ".join(text.replace("\u3000", " ").split())


def test_rows_read_back_to_the_stored_content(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    checked = 0
    for subject in sample:
        for record in subject.records:
            item = record.record
            rtype = catalogue.type(item.type_code)
            for spec in rtype.fields:
                if spec.name in rtype.subject_code_fields:
                    continue
                value = _read(spec, record.row[spec.name])
                stored = item.content.get(spec.name)
                if value is None:
                    assert stored is None or stored == spec.default, (rtype.code, spec.name)
                    continue
                if spec.name.endswith("id_number"):
                    value = mask_id(value)
                assert value == stored, (rtype.code, spec.name, record.row[spec.name], stored)
                checked += 1
            assert _date(record.row["decision_date"]) == item.decision_date.isoformat()
    assert checked > 100_000


def test_subject_code_cells_name_the_subject(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    for subject in sample:
        for record in subject.records:
            rtype = catalogue.type(record.record.type_code)
            codes = {_ascii(record.row[n]) for n in rtype.subject_code_fields} - _EMPTY
            assert codes == {subject.ref.code}


def test_ingest_accepts_every_row_and_stores_the_same_record(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    validators: dict[tuple[str, str], RowValidator] = {}
    for subject in sample[:600]:
        for record in subject.records:
            item = record.record
            key = (item.type_code, item.source)
            if key not in validators:
                validators[key] = RowValidator(
                    catalogue, item.type_code, item.source, list(record.row), today=TODAY, seal=str
                )
            outcome = validators[key].check(2, record.row)
            assert outcome.rejections == [], (item.type_code, outcome.rejections)
            got = outcome.record
            assert got is not None
            assert got.content == item.content
            assert got.raw == {k: v for k, v in record.row.items() if k in item.raw}
            assert (got.decision_no, got.decision_date, got.severity, got.legal_basis) == (
                item.decision_no,
                item.decision_date,
                item.severity,
                item.legal_basis,
            )
            assert (got.published_until, got.retention_until) == (
                item.published_until,
                item.retention_until,
            )
            assert (got.subject.code, got.subject.kind, got.subject.name) == (
                item.subject.code,
                item.subject.kind,
                item.subject.name,
            )
