"""Who decides what, and how its number reads: a court grants no licence, and a licence is
not numbered like an enforcement case."""

from __future__ import annotations

import re

import pytest

from bonafides.catalogue import Catalogue
from bonafides.synth.departments import department_infos
from bonafides.synth.generator import SyntheticSubject, generate
from bonafides.synth.places import PROVINCES

from .conftest import TODAY

_PROVINCE = "[" + "".join(sorted({abbr for _, _, abbr in PROVINCES.values()})) + "]"
#: A people's court by its case-number code: 浙 (high court), 浙01 (intermediate), 浙0106.
_COURT = f"(?:最高法|{_PROVINCE}(?:\\d{{2}}|\\d{{4}})?)"
_SEQ = "[1-9]\\d*号"


def _case(kind: str) -> re.Pattern[str]:
    """（2025）浙0106执12号: year, court, case kind, sequence."""
    return re.compile(f"（(?P<year>\\d{{4}})）{_COURT}{kind}{_SEQ}")


def _document(prefix: str, char: str) -> re.Pattern[str]:
    """浙市监许〔2025〕12号: the body's abbreviation, the document character, year, number."""
    return re.compile(f"{re.escape(prefix)}{char}〔(?P<year>\\d{{4}})〕{_SEQ}")


@pytest.fixture(scope="module")
def world(catalogue: Catalogue) -> list[SyntheticSubject]:
    return list(generate(400, 7, catalogue=catalogue, today=TODAY))


def _is_court(name: str) -> bool:
    return name.endswith("法院")


def _pattern(catalogue: Catalogue, type_code: str, source: str) -> re.Pattern[str]:
    rtype = catalogue.type(type_code)
    prefix = department_infos(catalogue)[source].prefix
    if rtype.field == "courts":
        return _case("执(?:恢)?")
    if type_code == "procuratorate.bribery_record":  # a criminal judgment's case number
        return _case("刑初")
    if rtype.field == "tax":
        return _document(prefix, "稽罚" if rtype.polarity.value == "negative" else "通")
    if rtype.dual_publicity == "licence":
        return _document(prefix, "许")
    if rtype.dual_publicity == "penalty":
        return _document(prefix, "(?:处罚|罚)")
    return _document(prefix, "[诺表评查列罚决]")


def test_every_record_comes_from_a_department_competent_for_its_type(
    world: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    names = {d.code: d.name_zh for d in catalogue.departments}
    seen: set[str] = set()
    for subject in world:
        for record in subject.records:
            item = record.record
            assert catalogue.may_submit(item.type_code, item.source), (item.type_code, item.source)
            court = _is_court(names[item.source])
            assert court == item.type_code.startswith("courts."), (item.type_code, item.source)
            procuratorate = names[item.source].endswith("检察院")
            assert procuratorate == item.type_code.startswith("procuratorate."), item.source
            seen.add(item.type_code)
    assert {"courts.defaulter", "general.licence", "general.penalty"} <= seen


def test_decision_numbers_have_the_form_of_their_kind(
    world: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    forms: set[str] = set()
    for subject in world:
        for record in subject.records:
            item = record.record
            pattern = _pattern(catalogue, item.type_code, item.source)
            found = pattern.fullmatch(item.decision_no)
            assert found, (item.type_code, item.source, item.decision_no)
            assert int(found["year"]) == item.decision_date.year
            forms.add(pattern.pattern)
    assert len(forms) >= 8  # every kind of number turned up, not just one


def test_judgments_and_enforcement_cases_name_the_court_of_the_record(
    world: list[SyntheticSubject],
) -> None:
    """The case number's court is the court the record names (enforcement court, trial
    court), not the department that passed the record on."""
    checked = 0
    for subject in world:
        for record in subject.records:
            content = record.record.content
            court = content.get("enforcement_court") or (
                content.get("court")
                if record.record.type_code.startswith("procuratorate.")
                else None
            )
            if not court:
                continue
            code = re.fullmatch(f"（\\d{{4}}）({_COURT})\\D.*", record.record.decision_no)
            assert code, record.record.decision_no
            assert subject.ref.region is not None
            assert code[1][1:] == subject.ref.region[2:6], (court, record.record.decision_no)
            checked += 1
    assert checked > 0
