"""The generator: reproducible, lawful by the catalogue's rules, and shaped like real data."""

from __future__ import annotations

import collections
import datetime as dt
import random
import statistics

import pytest
from stdnum.cn import uscc as stdnum_uscc

from bonafides.catalogue import Catalogue, FieldType, Period, Polarity, Severity
from bonafides.codes import parse_resident_id, parse_uscc
from bonafides.normalise import EMPTY_MARKERS
from bonafides.records import RecordStatus, SubjectKind, kind_of_uscc
from bonafides.synth.generator import SyntheticRecord, SyntheticSubject, generate
from bonafides.synth.subjects import add_years
from bonafides.synth.world import add_months, category

from .conftest import TODAY


def _records(sample: list[SyntheticSubject]) -> list[tuple[SyntheticSubject, SyntheticRecord]]:
    return [(s, r) for s in sample for r in s.records]


def _empty(value: str) -> bool:
    return value.strip() in EMPTY_MARKERS


def test_same_seed_same_data_and_other_seed_other_data(catalogue: Catalogue) -> None:
    first = list(generate(300, 5, catalogue=catalogue, today=TODAY))
    again = list(generate(300, 5, catalogue=catalogue, today=TODAY))
    other = list(generate(300, 6, catalogue=catalogue, today=TODAY))
    assert first == again
    assert [s.ref.code for s in first] != [s.ref.code for s in other]


def test_the_global_random_state_is_neither_used_nor_disturbed(catalogue: Catalogue) -> None:
    random.seed(1)
    before = random.getstate()
    first = list(generate(50, 5, catalogue=catalogue, today=TODAY))
    assert random.getstate() == before
    random.seed(99)
    assert list(generate(50, 5, catalogue=catalogue, today=TODAY)) == first


def test_every_code_is_valid_and_says_what_kind_of_subject_it_is(
    sample: list[SyntheticSubject],
) -> None:
    codes = [s.ref.code for s in sample]
    assert len(set(codes)) == len(codes)
    for subject in sample:
        ref = subject.ref
        if ref.kind is SubjectKind.NATURAL_PERSON:
            parsed = parse_resident_id(ref.code, today=TODAY)
            assert parsed.region == ref.region
            assert ref.adult_from == add_years(parsed.birth_date, 18)
        else:
            uscc = parse_uscc(ref.code)
            assert uscc.region == ref.region
            assert uscc.org_code_valid
            assert kind_of_uscc(uscc.registration_authority, uscc.institution_type) is ref.kind
            if ref.code[0].isdigit():
                assert stdnum_uscc.is_valid(ref.code)


def test_every_code_in_the_rows_is_valid(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    for _, record in _records(sample):
        rtype = catalogue.type(record.record.type_code)
        for spec in rtype.fields:
            value = record.row[spec.name]
            if _empty(value):
                continue
            if spec.type is FieldType.USCC:
                parse_uscc(value)
            elif spec.name.endswith("id_number"):
                parse_resident_id(value, today=TODAY)


def test_subject_mix_is_mostly_organisations_with_some_rural_and_some_persons(
    sample: list[SyntheticSubject],
) -> None:
    kinds = collections.Counter(s.ref.kind for s in sample)
    persons = kinds[SubjectKind.NATURAL_PERSON] / len(sample)
    assert 0.11 < persons < 0.19
    assert kinds[SubjectKind.LEGAL_PERSON] / len(sample) > 0.5
    assert kinds[SubjectKind.INDIVIDUAL_BUSINESS] > 0
    assert kinds[SubjectKind.GOVERNMENT_BODY] > 0
    prefixes = collections.Counter(
        s.ref.code[:2] for s in sample if s.ref.kind is not SubjectKind.NATURAL_PERSON
    )
    assert prefixes["93"] > 0  # farmers' cooperatives (§69)
    assert any(p.startswith("N") for p in prefixes)  # rural collective economic organisations
    assert prefixes["51"] + prefixes["52"] + prefixes["53"] > 0  # social organisations
    assert prefixes["12"] > 0  # public institutions
    provinces = collections.Counter((s.ref.region or "")[:2] for s in sample)
    assert provinces.most_common(1)[0][0] == "33"
    assert len(provinces) > 20


def test_organisations_have_industries_and_english_names(sample: list[SyntheticSubject]) -> None:
    for subject in sample:
        assert subject.ref.name
        assert subject.ref.name_en
        if subject.ref.kind is SubjectKind.NATURAL_PERSON:
            assert subject.industry is None
        else:
            assert subject.industry is not None
            assert len(subject.industry) == 1
    enterprises = [s for s in sample if s.ref.code.startswith("91")]
    assert any(s.ref.name.endswith("有限公司") for s in enterprises)
    assert any(
        s.ref.name_en is not None and s.ref.name_en.endswith("Co., Ltd.") for s in enterprises
    )


def test_some_minors_and_their_records_are_allowed_for_them(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    minors = [s for s in sample if s.ref.adult_from is not None and s.ref.adult_from > TODAY]
    assert len(minors) >= 3
    for subject in minors:
        birth = parse_resident_id(subject.ref.code).birth_date
        assert add_years(birth, 14) <= TODAY
        for record in subject.records:
            assert catalogue.type(record.record.type_code).dual_publicity is not None
            assert record.record.decision_date >= add_years(birth, 14)


def test_some_organisations_were_renamed_and_old_decisions_carry_the_old_name(
    sample: list[SyntheticSubject],
) -> None:
    renamed = [s for s in sample if s.former_names]
    assert len(renamed) >= 50
    assert all(s.ref.kind is not SubjectKind.NATURAL_PERSON for s in renamed)
    seen_old_name = 0
    for subject in renamed:
        names = [name for name, _ in subject.former_names]
        assert subject.ref.name not in names
        assert len(set(names)) == len(names)
        untils = [until for _, until in subject.former_names]
        assert untils == sorted(untils)
        for record in subject.records:
            decided = record.record.decision_date
            expected = next(
                (name for name, until in subject.former_names if decided < until), subject.ref.name
            )
            assert record.record.subject.name == expected
            assert record.row["subject_name"].strip() == expected
            seen_old_name += expected != subject.ref.name
    assert seen_old_name > 0


def test_records_respect_their_types_kinds_and_sources(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    for subject, record in _records(sample):
        item = record.record
        rtype = catalogue.type(item.type_code)
        assert subject.ref.kind in rtype.subject_kinds
        assert catalogue.may_submit(item.type_code, item.source)
        assert item.subject.code == subject.ref.code
        assert item.subject.kind is subject.ref.kind
        assert item.shared_decision_no is rtype.shared_decision_no


def test_required_fields_are_filled_and_rows_have_the_schema_columns(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    for _, record in _records(sample):
        rtype = catalogue.type(record.record.type_code)
        assert list(record.row) == list(rtype.field_names)
        for spec in rtype.fields:
            value = record.row[spec.name]
            if spec.required and spec.name not in rtype.subject_code_fields:
                assert not _empty(value), (rtype.code, spec.name)
                assert spec.name in record.record.content
            if spec.max_length is not None:
                assert len(value.strip()) <= spec.max_length
        assert any(not _empty(record.row[name]) for name in rtype.subject_code_fields)


def test_enum_content_uses_the_types_own_values(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    for _, record in _records(sample):
        rtype = catalogue.type(record.record.type_code)
        for spec in rtype.fields:
            if spec.type is not FieldType.ENUM or spec.name not in record.record.content:
                continue
            allowed = {e.value for e in spec.enum or ()}
            values = str(record.record.content[spec.name]).split(";")
            assert set(values) <= allowed, (rtype.code, spec.name, values)
            assert spec.multiple or len(values) == 1


def test_decision_numbers_are_unique_per_source_and_overall(
    sample: list[SyntheticSubject],
) -> None:
    keys = [(r.record.source, r.record.decision_no) for _, r in _records(sample)]
    assert len(set(keys)) == len(keys)
    numbers = [number for _, number in keys]
    assert len(set(numbers)) == len(numbers)
    for _, record in _records(sample):
        assert record.row["decision_no"] == record.record.decision_no
        assert record.record.content["decision_no"] == record.record.decision_no
        assert f"{record.record.decision_date.year}" in record.record.decision_no


def test_decision_dates_lie_in_the_last_six_years_and_within_retention(
    sample: list[SyntheticSubject],
) -> None:
    dates = [r.record.decision_date for _, r in _records(sample)]
    assert max(dates) <= TODAY
    assert min(dates) >= TODAY - dt.timedelta(days=6 * 366)
    assert len({d.year for d in dates}) >= 5
    for _, record in _records(sample):
        assert record.record.retention_until is not None
        assert record.record.retention_until >= TODAY


def test_receipts_follow_decisions_and_some_are_late(sample: list[SyntheticSubject]) -> None:
    lags = []
    for _, record in _records(sample):
        received = record.record.received_at
        assert received is not None
        assert received.tzinfo is not None
        local_day = (received + dt.timedelta(hours=8)).date()
        assert record.record.decision_date <= local_day <= TODAY
        lags.append((local_day - record.record.decision_date).days)
    assert statistics.median(lags) <= 7
    assert sum(lag > 14 for lag in lags) / len(lags) > 0.02


def test_publication_and_retention_follow_the_catalogue(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    for _, record in _records(sample):
        item = record.record
        rtype = catalogue.type(item.type_code)
        severity = Severity(item.severity) if item.severity else None
        assert (item.severity is not None) is rtype.has_severity
        assert item.published_until == rtype.publication_ends(item.decision_date, severity)
        assert item.retention_until == rtype.retention_ends(item.decision_date)
        assert item.legal_basis == (
            item.content.get("legal_basis") or "；".join(rtype.legal_basis) or None
        )


def test_statuses_are_consistent_with_dates_and_rules(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    statuses = collections.Counter(r.record.status for _, r in _records(sample))
    for status in (
        RecordStatus.ACTIVE,
        RecordStatus.EXPIRED,
        RecordStatus.REVOKED,
        RecordStatus.REPAIRED,
    ):
        assert statuses[status] > 0, status
    for _, record in _records(sample):
        item = record.record
        rtype = catalogue.type(item.type_code)
        expired = item.published_until is not None and item.published_until < TODAY
        if item.status is RecordStatus.EXPIRED:
            assert expired
        if item.status is RecordStatus.ACTIVE:
            assert not expired
        if item.status is RecordStatus.REPAIRED:
            assert rtype.repairable
            assert rtype.polarity is Polarity.NEGATIVE
            minimum = max(
                rtype.min_months_before_repair or 0,
                rtype.publication.rule(
                    Severity(item.severity) if item.severity else None
                ).min_months,
            )
            assert add_months(item.decision_date, minimum) <= TODAY
            if "removal_date" in item.content:
                removed = dt.date.fromisoformat(item.content["removal_date"])
                assert item.decision_date <= removed <= TODAY


def test_every_type_appears_in_realistic_proportions(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    counts = collections.Counter(r.record.type_code for _, r in _records(sample))
    assert set(counts) == set(catalogue.type_codes)
    by_category: collections.Counter[str] = collections.Counter()
    for code, count in counts.items():
        by_category[category(catalogue.type(code))] += count
    total = sum(by_category.values())
    assert by_category["licence"] / total > 0.25
    assert (by_category["penalty"] + by_category["negative"]) / total > 0.2
    assert by_category["serious"] / total < 0.08


def test_about_ten_records_per_subject_with_a_long_tail(sample: list[SyntheticSubject]) -> None:
    counts = [len(s.records) for s in sample]
    assert min(counts) >= 1  # a subject is only here because of a decision about it
    assert 8 <= statistics.mean(counts) <= 12
    assert statistics.median(counts) < statistics.mean(counts)
    assert max(counts) >= 60
    assert sum(c <= 3 for c in counts) / len(counts) > 0.2


def test_records_of_a_subject_come_in_date_order(sample: list[SyntheticSubject]) -> None:
    for subject in sample:
        dates = [r.record.decision_date for r in subject.records]
        assert dates == sorted(dates)


def test_person_id_numbers_stay_out_of_content_and_raw(
    sample: list[SyntheticSubject], catalogue: Catalogue
) -> None:
    persons = {s.ref.code for s in sample if s.ref.kind is SubjectKind.NATURAL_PERSON}
    for subject, record in _records(sample):
        item = record.record
        for value in (*item.content.values(), *item.raw.values()):
            assert not (isinstance(value, str) and value in persons)
        rtype = catalogue.type(item.type_code)
        for name in ("legal_representative_id_number", "id_number"):
            if name in item.content:
                assert "*" in item.content[name]
        assert all(not _empty(v) for v in item.raw.values())
        if subject.ref.kind is SubjectKind.NATURAL_PERSON:
            assert any(record.row[n].strip() for n in rtype.subject_code_fields)


def test_messy_spellings_turn_up_but_stay_a_minority(sample: list[SyntheticSubject]) -> None:
    dates = [r.row["decision_date"] for _, r in _records(sample)]
    assert any("/" in d for d in dates)
    assert any("年" in d for d in dates)
    assert any(any("０" <= ch <= "９" for ch in d) for d in dates)
    iso = sum(len(d) == 10 and d[4] == "-" for d in dates)
    assert 0.3 < iso / len(dates) < 0.9
    cells = [v for _, r in _records(sample) for v in r.row.values()]
    assert "—" in cells
    assert "无" in cells
    amounts = [
        r.row[n]
        for _, r in _records(sample)
        for n in ("fine_amount_10k_yuan", "amount_10k_yuan")
        if n in r.row
    ]
    assert any("," in a for a in amounts)


@pytest.mark.parametrize("months", [0, 1, 3, 12, 36, 60, -60, -1])
def test_add_months_agrees_with_the_catalogues_period(months: int) -> None:
    day = dt.date(2019, 12, 28)
    while day < dt.date(2021, 3, 5):
        if months >= 0:
            assert add_months(day, months) == Period(months=months).add_to(day)
        assert add_months(add_months(day, months), -months) <= day
        day += dt.timedelta(days=1)


def test_zero_subjects_is_empty_and_negative_is_refused(catalogue: Catalogue) -> None:
    assert list(generate(0, 1, catalogue=catalogue, today=TODAY)) == []
    with pytest.raises(ValueError, match="negative"):
        list(generate(-1, 1, catalogue=catalogue, today=TODAY))
