"""Producers of the content fields the generator knows by name.

Names are shared across record types through the catalogue's field templates
(``decision_no``, ``valid_until``, the dual-publicity penalty columns), so one producer
per name serves every type that uses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Final

from bonafides.catalogue import ContentField, RecordType
from bonafides.records import RecordStatus, SubjectKind
from bonafides.synth import texts
from bonafides.synth.choices import enum_producer, pick
from bonafides.synth.draw import Draw, Producer
from bonafides.synth.memos import (
    ANY_PENALTY,
    amount,
    facts,
    grade_score,
    honour,
    licence_details,
    local_court,
    penalty_memo,
    period_end,
    third_party_name,
    third_party_uscc,
    violation,
    yuan,
)
from bonafides.synth.names import person_name, trade_name
from bonafides.synth.subjects import add_years


def _subject_category(spec: ContentField) -> Producer:
    values = {e.value for e in spec.enum or ()}

    def produce(d: Draw) -> str | None:
        kind = d.ref.kind if d.ref else SubjectKind.LEGAL_PERSON
        if kind is SubjectKind.NATURAL_PERSON:
            wanted = "natural_person"
        elif kind is SubjectKind.INDIVIDUAL_BUSINESS:
            wanted = "individual_business"
        else:
            wanted = "legal_person"
        return wanted if wanted in values else None

    return produce


def _org_code(d: Draw) -> str | None:
    return None if d.person or d.ref is None else d.ref.code


def _person_code(d: Draw) -> str | None:
    return d.ref.code if d.person and d.ref else None


def _rep_shown(d: Draw) -> bool:
    shown = d.memo.get("rep_shown")
    if shown is None:
        shown = d.memo["rep_shown"] = not d.person and d.rng.random() < 0.5
    return bool(shown)


def _representative(d: Draw) -> str | None:
    if d.person or d.subject is None:
        return None
    return d.subject.representative


def _restricted_persons(d: Draw) -> str | None:
    if d.subject is None:
        return None
    return d.subject.ref.name if d.person else d.subject.representative


def address(d: Draw) -> str | None:
    if d.subject is None:
        return None
    return f"{d.subject.place.full_zh}{pick(d, texts.ROADS)}{d.days(1, 999)}号"


def _severity(d: Draw) -> str | None:
    return d.severity


def removal_date(d: Draw) -> dt.date | None:
    return d.repaired_on


def _removal_reason(d: Draw) -> str | None:
    return texts.REPAIR_REASON if d.repaired_on else None


def _removal_authority(d: Draw) -> str | None:
    return d.dept.name_zh if d.repaired_on and d.dept else None


def _licence_status(d: Draw) -> str:
    if d.status is RecordStatus.REVOKED or licence_details(d).valid_until < d.today:
        return "invalid"
    return "valid"


def _performance_status(d: Draw) -> str:
    roll = d.rng.random()
    if period_end(d) < d.today:
        return "fulfilled" if roll < 0.9 else "breached"
    return "pending" if roll < 0.85 else "fulfilled" if roll < 0.97 else "breached"


def _gender(d: Draw) -> str | None:
    if not d.person or d.subject is None:
        return None
    return "male" if d.subject.male else "female"


def _grade(spec: ContentField) -> Producer:
    choose = enum_producer(spec)

    def produce(d: Draw) -> str:
        grade = d.memo.get("grade")
        if grade is None:
            grade = d.memo["grade"] = choose(d)
        return str(grade)

    return produce


def _score(d: Draw) -> str | None:
    grade = d.memo.get("grade")
    if grade is None:
        return f"{60 + 40 * d.rng.random():.1f}"
    return grade_score(d, str(grade))


def _deaths(d: Draw) -> int:
    level = d.memo.get("incident_level", "ordinary")
    low, high = {"ordinary": (0, 2), "larger": (3, 9), "major": (10, 29)}.get(level, (30, 40))
    return d.days(low, high)


def _incident_level(spec: ContentField) -> Producer:
    choose = enum_producer(spec)

    def produce(d: Draw) -> str:
        level = choose(d)
        d.memo["incident_level"] = level
        return level

    return produce


def _product(d: Draw) -> tuple[str, str, str, str]:
    """(name, specification, failed item, category): food for food types, goods otherwise."""
    found = d.memo.get("product")
    if found is None:
        pool = texts.FOODS if "food" in d.rtype.code else texts.GOODS
        found = d.memo["product"] = pick(d, pool)
    return found  # type: ignore[no-any-return]


def _inspection_body(d: Draw) -> str:
    if "food" in d.rtype.code:
        return (
            "国家食品质量检验检测中心" if d.rng.random() < 0.3 else f"{_province(d)}食品检验研究院"
        )
    return f"{_province(d)}产品质量检验研究院"


def _province(d: Draw) -> str:
    return d.subject.place.province_zh if d.subject else "北京"


def _enforcement_court(d: Draw) -> str:
    """The basic court where the subject is: enforcement is local even though the list is
    submitted through the Supreme People's Court's system."""
    return local_court(d)


def _basis_document_no(d: Draw) -> str:
    """The judgment being enforced, by the local court, a year or two before listing."""
    year = d.decided.year - d.days(1, 2)
    place = d.subject.place if d.subject else None
    court = f"{place.province_abbr}{place.region[2:6]}" if place else "京0101"
    return f"（{year}）{court}民初{d.days(100, 29999)}号"


def _creditor(d: Draw) -> str:
    found = d.memo.get("creditor")
    if found is None:
        found = d.memo["creditor"] = third_party_name(d)
    return found


def _due(d: Draw) -> dt.date:
    found = d.memo.get("due")
    if found is None:
        found = d.memo["due"] = d.before(90, 720)
    return found


def _handling(d: Draw) -> str:
    if d.rtype.code.endswith("payment_arrears"):
        return "已责令限期支付，并记入政务诚信记录"
    return ANY_PENALTY(d).content


def _task_name(d: Draw) -> str:
    return f"{d.decided.year}年度{d.dept.name_zh if d.dept else ''}双随机抽查任务"


def _facts(d: Draw) -> str:
    """Facts of the decision; arrears to a small firm read as arrears, not as a violation."""
    if d.rtype.code.endswith("payment_arrears"):
        due = _due(d)
        return (
            f"经核实，{d.ref.name if d.ref else '该单位'}与{_creditor(d)}约定于{due.year}年"
            f"{due.month}月{due.day}日前支付的款项，逾期未支付，经催告仍未履行。"
        )
    return facts(d)


def _deductions(d: Draw) -> str | None:
    grade = d.memo.get("grade")
    if grade == "A":
        return None
    return str(pick(d, texts.DEDUCTIONS))


def _obligations(d: Draw) -> str:
    owed = yuan(amount(d, 0.5, 800))
    return f"被执行人应向申请执行人支付货款人民币{owed}元及逾期付款利息，并负担案件受理费。"


def _sentence(d: Draw) -> str:
    fine = amount(d, 10, 300, 0)
    if d.person:
        return f"判处有期徒刑{d.days(1, 8)}年，并处罚金人民币{fine}万元"
    return f"对单位判处罚金人民币{fine}万元"


def _ban_scope(d: Draw) -> str:
    if d.domain == "finance":
        return "禁止从事证券业务或者担任上市公司、非上市公众公司董事、监事、高级管理人员职务"
    return "禁止从事食品生产经营管理工作，不得担任食品生产经营企业食品安全管理人员"


def _content(d: Draw) -> str:
    """The free-text ``content`` column: what was committed to, or why the honour."""
    if "commitment" in d.rtype.code:
        return texts.COMMITMENT_TEXT
    if "commendation" in d.rtype.code:
        return honour(d)[1]
    return texts.GENERIC_TEXT


def _firm_name(d: Draw) -> str:
    prefix = d.subject.place.prefix_zh if d.subject else ""
    return f"{prefix}{trade_name(d.rng)[0]}会计师事务所（特殊普通合伙）"


def _project_code(d: Draw) -> str:
    region = d.subject.place.region if d.subject else "110101"
    return f"{region}-{d.decided.year}-{d.days(1, 99999):05d}"


def _valid_until(d: Draw) -> dt.date:
    if d.rtype.dual_publicity == "licence":
        return licence_details(d).valid_until
    return period_end(d)


def _named() -> dict[str, Callable[[ContentField], Producer]]:
    """Producers keyed by field name; each factory receives the field's spec."""

    def const(p: Producer) -> Callable[[ContentField], Producer]:
        return lambda spec: p

    return {
        "subject_name": const(lambda d: d.ref.name if d.ref else None),
        "subject_category": _subject_category,
        "uscc": const(_org_code),
        "subject_code": const(lambda d: d.ref.code if d.ref else None),
        "id_type": const(lambda d: "resident_id" if d.person else None),
        "id_number": const(_person_code),
        "legal_representative": const(_representative),
        "legal_representative_id_type": const(lambda d: "resident_id" if _rep_shown(d) else None),
        "legal_representative_id_number": const(
            lambda d: d.subject.representative_id if _rep_shown(d) and d.subject else None
        ),
        "address": const(address),
        "premises_address": const(address),
        "gender": const(_gender),
        "province": const(lambda d: d.subject.place.province_zh if d.subject else None),
        "restricted_persons": const(_restricted_persons),
        "decision_no": const(lambda d: d.decision_no),
        "decision_date": const(lambda d: d.decided),
        "authority": const(lambda d: d.dept.name_zh if d.dept else None),
        "authority_uscc": const(lambda d: d.dept.uscc if d.dept else None),
        "data_source_unit": const(lambda d: d.dept.name_zh if d.dept else None),
        "data_source_unit_uscc": const(lambda d: d.dept.uscc if d.dept else None),
        "legal_basis": const(lambda d: "；".join(d.rtype.legal_basis) or violation(d).law),
        "content": const(_content),
        "handling": const(_handling),
        "task_name": const(_task_name),
        "plan_name": const(_task_name),
        "penalty_result": const(lambda d: ANY_PENALTY(d).content),
        "remarks": const(
            lambda d: pick(
                d, ("已整改到位", "当事人已履行处罚决定", "首次违法，依法从轻处罚", "已缴纳罚款")
            )
        ),
        "severity": const(_severity),
        "valid_from": const(lambda d: licence_details(d).valid_from),
        "valid_until": const(_valid_until),
        "removal_date": const(removal_date),
        "lifted_date": const(removal_date),
        "removal_reason": const(_removal_reason),
        "removal_authority": const(_removal_authority),
        "violation_type": const(lambda d: violation(d).kind),
        "violation_facts": const(facts),
        "facts": const(_facts),
        "main_facts": const(facts),
        "listing_reason": const(facts),
        "infringement_facts": const(facts),
        "penalty_basis": const(lambda d: f"依据{violation(d).law}{violation(d).penalised}的规定"),
        "decision_document_name": const(
            lambda d: (
                "准予行政许可决定书"
                if d.rng.random() < 0.6
                else f"{licence_details(d).licence.name}核发决定书"
            )
        ),
        "licence_category": const(lambda d: licence_details(d).licence.category),
        "certificate_name": const(lambda d: licence_details(d).licence.name),
        "licence_no": const(lambda d: licence_details(d).number or None),
        "licence_content": const(lambda d: licence_details(d).licence.content),
        "current_status": const(_licence_status),
        "commitment_matter": const(lambda d: pick(d, texts.COMMITMENT_MATTERS)),
        "performance_status": const(_performance_status),
        "honour_name": const(lambda d: honour(d)[0]),
        "grade": _grade,
        "score": const(_score),
        "incident_level": _incident_level,
        "deaths": const(_deaths),
        "serious_injuries": const(lambda d: d.days(0, 3) * (1 + _deaths(d))),
        "direct_loss_10k_yuan": const(lambda d: amount(d, 10, 3000)),
        "incident_date": const(lambda d: d.before(60, 300)),
        "filing_date": const(lambda d: d.before(30, 400)),
        "due_date": const(_due),
        "listing_until": const(lambda d: add_years(d.decided, 2)),
        "rectification_deadline": const(lambda d: d.after(15, 90, cap=False)),
        "enforcement_court": const(_enforcement_court),
        "court": const(local_court),
        "basis_issuer": const(local_court),
        "basis_document_no": const(_basis_document_no),
        "obligations": const(_obligations),
        "order_content": const(lambda d: texts.CONSUMPTION_ORDER),
        "sentence": const(_sentence),
        "ban_scope": const(_ban_scope),
        "ban_from": const(lambda d: d.decided),
        "evaluation_year": const(lambda d: d.decided.year - 1),
        "food_name": const(lambda d: _product(d)[0]),
        "product_name": const(lambda d: _product(d)[0]),
        "model": const(lambda d: _product(d)[1]),
        "failed_items": const(lambda d: _product(d)[2]),
        "food_category": const(lambda d: _product(d)[3]),
        "inspection_body": const(_inspection_body),
        "deductions": const(_deductions),
        "grade_reasons": const(_deductions),
        "rating_reasons": const(lambda d: pick(d, texts.RATING_REASONS)),
        "batch": const(lambda d: d.before(20, 200).strftime("%Y%m%d")),
        "labelled_producer": const(third_party_name),
        "sampled_unit": const(lambda d: d.ref.name if d.ref else None),
        "creditor_name": const(_creditor),
        "creditor_uscc": const(third_party_uscc),
        "client": const(third_party_name),
        "right_holder": const(third_party_name),
        "employer_name": const(lambda d: third_party_name(d) if d.person else None),
        "employer": const(third_party_name),
        "employer_uscc": const(third_party_uscc),
        "affiliation": const(third_party_name),
        "firm_name": const(_firm_name),
        "firm_uscc": const(lambda d: third_party_uscc(d)),
        "responsible_finance_officer": const(
            lambda d: person_name(d.rng, male=d.rng.random() < 0.5)[0]
        ),
        "medium": const(lambda d: pick(d, texts.MEDIA)),
        "position": const(lambda d: pick(d, texts.POSITIONS)),
        "sector": const(lambda d: pick(d, texts.SECTORS)),
        "project_name": const(
            lambda d: f"{d.subject.place.local_zh if d.subject else ''}{pick(d, texts.PROJECTS)}"
        ),
        "project_code": const(_project_code),
        "work_concerned": const(lambda d: f"《{pick(d, texts.RESEARCH_TITLES)}》"),
        "trademark": const(lambda d: trade_name(d.rng)[0]),
        "security_code": const(
            lambda d: f"{pick(d, ('600', '601', '000', '002', '300'))}{d.days(0, 999):03d}"
        ),
        "right_number": const(
            lambda d: f"ZL{d.decided.year - d.days(1, 6)}1{d.days(0, 9999999):07d}.{d.days(0, 9)}"
        ),
        "customs_code": const(
            lambda d: (
                f"{d.subject.place.region[:4] if d.subject else '1101'}{d.days(0, 999999):06d}"
            )
        ),
        "discharge_permit_no": const(
            lambda d: f"{d.ref.code}001P" if d.ref and not d.person else None
        ),
        "platform_name": const(lambda d: f"{trade_name(d.rng)[0]}商城"),
        "shop_name": const(lambda d: f"{trade_name(d.rng)[0]}旗舰店"),
        "shop_url": const(lambda d: f"https://shop{d.days(10000, 9999999)}.example.com"),
        "order_no": const(lambda d: f"{d.decided.year}{d.days(0, 99999999):08d}"),
    }


NAMED: Final = _named()


def penalty_fields(rtype: RecordType) -> dict[str, Producer]:
    category = next((f for f in rtype.fields if f.name == "penalty_category"), None)
    allowed = frozenset(e.value for e in (category.enum or ())) if category else frozenset()
    memo = penalty_memo(allowed)

    def valid_until(d: Draw) -> dt.date | None:
        penalty = memo(d)
        if "suspension_of_business" in penalty.categories or penalty.licence:
            return d.after(90, 365, cap=False)
        return d.published_until if d.rng.random() < 0.5 else None

    return {
        "penalty_category": lambda d: memo(d).categories,
        "penalty_content": lambda d: memo(d).content,
        "handling": lambda d: memo(d).content,
        "penalty_result": lambda d: memo(d).content,
        "fine_amount_10k_yuan": lambda d: memo(d).fine,
        "confiscated_amount_10k_yuan": lambda d: memo(d).confiscated,
        "licence_suspended_or_revoked": lambda d: memo(d).licence,
        "penalty_valid_until": valid_until,
        "publication_until": lambda d: d.published_until,
    }
