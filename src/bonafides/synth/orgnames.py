"""Names of synthetic organisations, built the way each kind of organisation is named.

A company is 区划 + 字号 + 行业 + 组织形式 (杭州鑫源贸易有限公司); an individual business
is a county, a trade name and a shop word (西湖区鑫源便利店); a cooperative names what it
grows; local bodies name the place they serve. Each builder returns the Chinese name and
its English rendering together so the two always match.
"""

from __future__ import annotations

from random import Random

from bonafides.synth.industries import (
    ASSOCIATION_WORDS,
    COOPERATIVE_WORDS,
    ENTERPRISE_SECTIONS,
    GOVERNMENT_WORDS,
    PRIVATE_UNIT_WORDS,
    PUBLIC_INSTITUTION_WORDS,
    SHOP_SECTIONS,
    Word,
)
from bonafides.synth.names import person_name, surname
from bonafides.synth.places import Place

Name = tuple[str, str]

_ORDINALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九")


def _pick(rng: Random, words: tuple[Word, ...]) -> Word:
    return words[int(rng.random() * len(words))]


def enterprise(rng: Random, place: Place, section: str, trade: Name) -> Name:
    word, word_en = _pick(rng, ENTERPRISE_SECTIONS[section][1])
    form = rng.random()
    if form < 0.09 and section == "C":
        return (
            f"{place.prefix_zh}{trade[0]}{word}厂",
            f"{place.prefix_en} {trade[1]} {word_en} Factory",
        )
    if form < 0.15:
        return (
            f"{place.province_zh}{trade[0]}{word}股份有限公司",
            f"{place.province_en} {trade[1]} {word_en} Joint Stock Co., Ltd.",
        )
    if form < 0.20:
        return (
            f"{trade[0]}（{place.prefix_zh}）{word}有限公司",
            f"{trade[1]} ({place.prefix_en}) {word_en} Co., Ltd.",
        )
    suffix = "有限责任公司" if form < 0.30 else "有限公司"
    return (
        f"{place.prefix_zh}{trade[0]}{word}{suffix}",
        f"{place.prefix_en} {trade[1]} {word_en} Co., Ltd.",
    )


def individual_business(rng: Random, place: Place, section: str, trade: Name) -> Name:
    word, word_en = _pick(rng, SHOP_SECTIONS[section][1])
    form = rng.random()
    if word == "家庭农场" or form < 0.12:
        owner, owner_en = person_name(rng, male=rng.random() < 0.7)
        return f"{place.county_zh}{owner}{word}", f"{owner_en} {word_en}, {place.prefix_en}"
    if form < 0.25:
        family, family_en = surname(rng)
        return f"{place.county_zh}{family}记{word}", f"{family_en}'s {word_en}, {place.prefix_en}"
    if form < 0.45:
        return f"{place.local_zh}{trade[0]}{word}", f"{place.prefix_en} {trade[1]} {word_en}"
    return f"{place.county_zh}{trade[0]}{word}", f"{place.prefix_en} {trade[1]} {word_en}"


def cooperative(rng: Random, place: Place, trade: Name) -> Name:
    word, word_en = _pick(rng, COOPERATIVE_WORDS)
    kind = "农民专业合作社" if rng.random() < 0.4 else "专业合作社"
    return (
        f"{place.county_zh}{trade[0]}{word}{kind}",
        f"{place.prefix_en} {trade[1]} {word_en} Farmers' Specialised Cooperative",
    )


def rural_collective(rng: Random, place: Place, trade: Name) -> Name:
    kind, kind_en = (
        ("股份经济合作社", "Joint-Stock Economic Cooperative")
        if rng.random() < 0.6
        else ("经济合作社", "Economic Cooperative")
    )
    return (
        f"{place.county_zh}{trade[0]}村{kind}",
        f"{trade[1]} Village {kind_en}, {place.prefix_en}",
    )


def social_organisation(rng: Random, place: Place, inst_type: str, trade: Name) -> Name:
    if inst_type == "1":
        if rng.random() < 0.3:
            return (
                f"{place.prefix_zh}{trade[0]}商会",
                f"{place.prefix_en} {trade[1]} Chamber of Commerce",
            )
        word, word_en = _pick(rng, ASSOCIATION_WORDS)
        return f"{place.local_zh}{word}", f"{place.prefix_en} {word_en}"
    if inst_type == "3":
        return (
            f"{place.province_zh}{trade[0]}公益基金会",
            f"{place.province_en} {trade[1]} Charity Foundation",
        )
    word, word_en = _pick(rng, PRIVATE_UNIT_WORDS)
    return f"{place.local_zh}{trade[0]}{word}", f"{place.prefix_en} {trade[1]} {word_en}"


def public_institution(rng: Random, place: Place) -> tuple[str, str, str]:
    """(name, English name, GB/T 4754 section) of a public institution (事业单位)."""
    word, word_en, section = PUBLIC_INSTITUTION_WORDS[
        int(rng.random() * len(PUBLIC_INSTITUTION_WORDS))
    ]
    if word == "人民医院" and rng.random() < 0.5:
        n = 1 + int(rng.random() * len(_ORDINALS))
        return (
            f"{place.local_zh}第{_ORDINALS[n - 1]}人民医院",
            f"{place.prefix_en} No. {n} People's Hospital",
            section,
        )
    return f"{place.local_zh}{word}", f"{place.prefix_en} {word_en}", section


def government_body(rng: Random, place: Place) -> Name:
    word, word_en = _pick(rng, GOVERNMENT_WORDS)
    return f"{place.local_zh}{word}", f"{word_en} of {place.prefix_en}"


def law_firm(place: Place, trade: Name) -> Name:
    return f"{place.province_zh}{trade[0]}律师事务所", f"{place.province_en} {trade[1]} Law Firm"
