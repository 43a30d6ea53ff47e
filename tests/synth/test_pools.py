"""The reference pools: places and departments agree with the code tables they stand for."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from bonafides.catalogue import Catalogue
from bonafides.codes import known_regions, parse_uscc, region_name
from bonafides.synth.departments import (
    DeptChooser,
    Numbering,
    case_head,
    department_infos,
    document_head,
)
from bonafides.synth.names import SURNAMES, person_name, pinyin_join, trade_name
from bonafides.synth.places import CITIES, PROVINCES, PlaceSampler, all_places


def test_city_prefixes_are_the_prefectures_their_codes_name() -> None:
    regions = known_regions()
    for prefix, (name, pinyin) in CITIES.items():
        full = region_name(prefix + "00")
        assert full is not None, prefix
        assert name in full, (prefix, name, full)
        assert any(r.startswith(prefix) for r in regions), prefix
        assert pinyin[0].isupper()


def test_province_table_covers_every_region_in_use() -> None:
    assert {r[:2] for r in known_regions()} <= set(PROVINCES)
    for code, (name, _, _) in PROVINCES.items():
        assert name in (region_name(code + "0000") or ""), code


def test_places_name_their_county_inside_the_full_name() -> None:
    places = all_places()
    assert len(places) > 2500
    for place in places:
        assert place.full_zh.endswith(place.county_zh)
        assert place.full_zh.endswith(place.local_zh)


def test_place_sampler_favours_the_weighted_provinces() -> None:
    sampler = PlaceSampler()
    rng = random.Random(4)
    provinces = Counter(sampler.draw(rng).province for _ in range(20_000))
    assert 0.2 < provinces["33"] / 20_000 < 0.28
    assert provinces["44"] > provinces["11"] > provinces["62"]


@pytest.mark.parametrize(
    ("syllables", "expected"),
    [(["xi", "an"], "Xi'an"), (["xin", "yuan"], "Xinyuan"), (["tian", "e"], "Tian'e")],
)
def test_pinyin_keeps_syllable_boundaries(syllables: list[str], expected: str) -> None:
    assert pinyin_join(syllables) == expected


def test_names_follow_the_surname_frequencies() -> None:
    rng = random.Random(2)
    names = [person_name(rng, male=bool(i % 2)) for i in range(20_000)]
    first = Counter(zh[0] for zh, _ in names)
    assert first["王"] > first["孙"] > first["孔"]
    assert all(en.split()[0][0].isupper() for _, en in names)
    assert {zh for zh, _, _ in SURNAMES} >= {zh[:1] for zh, _ in names} - {"欧", "司", "上", "诸"}
    trade = trade_name(rng)
    assert 2 <= len(trade[0]) <= 3
    assert trade[1][0].isupper()


def test_department_prefixes_and_codes_are_distinct(catalogue: Catalogue) -> None:
    infos = department_infos(catalogue)
    assert len({d.prefix for d in infos.values()}) == len(infos)
    assert len({d.uscc for d in infos.values()}) == len(infos)
    for info in infos.values():
        assert parse_uscc(info.uscc).code.startswith("11")
    numbering = Numbering(random.Random(1))
    head = document_head(infos["hz_amr"], "罚", 2024)
    assert head == "杭市监处罚〔2024〕"
    first = numbering.number(head)
    assert numbering.number(head) != first
    assert document_head(infos["hz_tax"], "罚", 2024) == "杭税罚〔2024〕"
    assert numbering.number(case_head("浙0106", "执", 2024)).startswith("（2024）浙0106执")


def test_departments_are_chosen_near_the_subject(catalogue: Catalogue) -> None:
    infos = department_infos(catalogue)
    chooser = DeptChooser(catalogue, infos)
    rng = random.Random(3)
    hangzhou = Counter(chooser.draw(rng, "market.penalty", "330106").code for _ in range(2000))
    assert hangzhou.most_common(1)[0][0] == "hz_amr"
    assert set(hangzhou) <= {"hz_amr", "zj_amr", "samr"}
    guangzhou = Counter(chooser.draw(rng, "market.penalty", "440106").code for _ in range(200))
    assert set(guangzhou) == {"samr"}
    for code in catalogue.type_codes:
        for dept in chooser.eligible(code):
            assert catalogue.may_submit(code, dept.code)
