"""The default catalogue: coverage, the principles it must obey, and the national columns."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from rich.console import Console

from bonafides.catalogue import (
    ANY_DEPARTMENT,
    LICENCE_COLUMNS,
    PENALTY_COLUMNS,
    Catalogue,
    Disclosure,
    FieldType,
    Polarity,
    PublicationRule,
    Severity,
    SeverityPublication,
    SubjectKind,
    catalogue_document,
    catalogue_table,
    load_catalogue,
)

REQUIRED_TYPES = {
    "general.licence": "行政许可",
    "general.penalty": "行政处罚",
    "market.penalty": "市场监管行政处罚",
    "courts.defaulter": "失信被执行人",
    "tax.major_violation": "重大税收违法失信主体",
    "tax.credit_grade": "纳税信用等级",
    "market.abnormal_operations": "经营异常名录",
    "market.serious_violation_list": "严重违法失信名单",
    "procurement.serious_violation": "政府采购严重违法失信行为记录",
    "tendering.bid_rigging": "串通投标",
    "production_safety.incident": "生产安全事故",
    "product_quality.sampling_failure": "产品质量监督抽查不合格",
    "environment.penalty": "生态环境行政处罚",
    "environment.credit_rating": "企业环境信用评价",
    "food_drug.penalty": "食品药品行政处罚",
    "labour.wage_arrears": "拖欠农民工工资",
    "social_insurance.fund_fraud": "骗取社会保险基金",
    "education_research.academic_misconduct": "科研失信行为",
    "ip.infringement": "知识产权侵权",
    "customs.credit_grade": "海关企业信用等级",
    "general.credit_commitment": "信用承诺",
    "general.commendation": "表彰奖励",
    "procuratorate.bribery_record": "行贿犯罪",
    "fire_safety.serious_hazard": "重大火灾隐患",
    "statistics.serious_dishonesty": "统计严重失信",
    "intermediaries.false_report": "中介服务机构",
    "professions.cpa_penalty": "注册会计师",
    "advertising.violation": "广告违法",
    "ecommerce.violation": "电子商务",
    "transport.serious_overloading": "超限超载",
    "transport.illegal_operation": "道路运输经营",
    "pricing.violation": "价格违法",
    "healthcare.insurance_fraud": "医疗保障基金",
    "culture_tourism.dishonest_list": "文化和旅游",
    "construction.quality_safety_violation": "工程建设质量安全",
}

REQUIRED_FIELDS = {
    "market",
    "tax",
    "pricing",
    "customs",
    "production_safety",
    "product_quality",
    "environment",
    "food_drug",
    "healthcare",
    "ip",
    "construction",
    "procurement",
    "tendering",
    "transport",
    "ecommerce",
    "statistics",
    "intermediaries",
    "advertising",
    "social_insurance",
    "labour",
    "education_research",
    "culture_tourism",
    "courts",
    "procuratorate",
    "fire_safety",
    "professions",
}

REQUIRED_DEPARTMENTS = {
    "ndrc",
    "pboc",
    "samr",
    "sta",
    "gacc",
    "mee",
    "mem",
    "spc",
    "spp",
    "mof",
    "mohrss",
    "mohurd",
    "mot",
    "cnipa",
    "most",
    "moe",
    "mct",
    "mps",
    "nbs",
    "nmpa",
    "nhsa",
    "nhc",
    "mofcom",
    "csrc",
    "nfra",
    "nea",
    "miit",
    "mara",
}

# Principle 7: never in the default catalogue.
BANNED = re.compile(
    r"traffic|speech|rumou?r|relig|family[ _.-]?planning|politic|birth[ _.-]?control|"
    r"交通违法|交通违章|闯红灯|言论|谣言|宗教|计划生育|政治",
    re.IGNORECASE,
)


def test_loads_and_validates(catalogue: Catalogue) -> None:
    assert catalogue.version == "2026.2"
    assert len(catalogue.types) >= 40
    used_fields = {t.field for t in catalogue.types}
    assert len(used_fields) >= 20
    assert used_fields <= {f.code for f in catalogue.fields}


def test_packaged_catalogue_is_cached() -> None:
    assert load_catalogue() is load_catalogue()


@pytest.mark.parametrize(("code", "title"), sorted(REQUIRED_TYPES.items()))
def test_required_type_exists(catalogue: Catalogue, code: str, title: str) -> None:
    rtype = catalogue.type(code)
    assert title in rtype.title_zh


def test_fields_of_design_are_covered(catalogue: Catalogue) -> None:
    used = {t.field for t in catalogue.types}
    assert used >= REQUIRED_FIELDS, REQUIRED_FIELDS - used


def test_departments(catalogue: Catalogue) -> None:
    codes = {d.code for d in catalogue.departments}
    assert codes >= REQUIRED_DEPARTMENTS, REQUIRED_DEPARTMENTS - codes
    national = [d for d in catalogue.departments if d.level.value == "national"]
    assert len(national) >= 25
    assert all(d.region == "100000" for d in national)
    regions = {d.region for d in catalogue.departments if d.level.value != "national"}
    assert {"110000", "330000", "330100"} <= regions
    for dept in catalogue.departments:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", dept.code)
        assert dept.name_zh
        assert dept.name_en


def test_every_type_names_decision_and_subject(catalogue: Catalogue) -> None:
    for rtype in catalogue.types:
        names = rtype.field_names
        assert "decision_no" in names, rtype.code
        assert "decision_date" in names, rtype.code
        assert "subject_name" in names, rtype.code
        assert rtype.content_field("decision_date").type is FieldType.DATE
        assert rtype.subject_code_fields, rtype.code
        for name in rtype.subject_code_fields:
            assert name in names, (rtype.code, name)
        assert {"decision_no", "decision_date", "subject_name"} <= set(rtype.required_fields)


def test_field_names_are_snake_case_and_columns_unique(catalogue: Catalogue) -> None:
    for rtype in catalogue.types:
        columns = [f.column_zh for f in rtype.fields]
        assert len(columns) == len(set(columns)), rtype.code
        for item in rtype.fields:
            assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", item.name), item.name
            assert item.column_zh.strip() == item.column_zh
            assert item.title_en


def test_negative_types_have_legal_basis_and_retention(catalogue: Catalogue) -> None:
    negatives = [t for t in catalogue.types if t.polarity is Polarity.NEGATIVE]
    assert len(negatives) >= 30
    for rtype in negatives:
        assert rtype.legal_basis, rtype.code
        assert all(basis.startswith("《") for basis in rtype.legal_basis), rtype.code
        assert 0 < rtype.retention_months <= 120, rtype.code


def test_every_type_cites_law(catalogue: Catalogue) -> None:
    # Principle 1 only requires it of negative types; the default catalogue cites for all.
    assert all(t.legal_basis for t in catalogue.types)


def test_everything_ends(catalogue: Catalogue) -> None:
    decided = date(2026, 1, 31)
    for rtype in catalogue.types:
        assert rtype.publication.max_months <= 120, rtype.code
        assert rtype.publication.max_months <= rtype.retention_months, rtype.code
        assert rtype.retention_ends(decided) > decided
        for severity in Severity if rtype.has_severity else [None]:
            end = rtype.publication_ends(decided, severity)
            if end is not None:
                assert decided < end <= rtype.retention_ends(decided), rtype.code


def test_publication_by_severity_follows_national_bounds(catalogue: Catalogue) -> None:
    severity_types = [t for t in catalogue.types if t.has_severity]
    assert len(severity_types) >= 10
    for rtype in severity_types:
        publication = rtype.publication
        assert isinstance(publication, SeverityPublication), rtype.code
        minor = publication.rule(Severity.MINOR)
        general = publication.rule(Severity.GENERAL)
        serious = publication.rule(Severity.SERIOUS)
        assert minor.max_months <= 3, rtype.code
        assert 3 <= general.min_months <= general.max_months <= 12, rtype.code
        assert 12 <= serious.min_months <= serious.max_months <= 36, rtype.code
        assert "severity" in rtype.field_names


def test_non_public_types_are_not_published(catalogue: Catalogue) -> None:
    for rtype in catalogue.types:
        if rtype.disclosure is Disclosure.PUBLIC:
            assert rtype.publication.published, rtype.code
        else:
            assert not rtype.publication.published, rtype.code
            assert isinstance(rtype.publication, PublicationRule)


def test_public_person_types_cite_disclosure_basis(catalogue: Catalogue) -> None:
    for rtype in catalogue.types:
        if (
            rtype.disclosure is Disclosure.PUBLIC
            and SubjectKind.NATURAL_PERSON in rtype.subject_kinds
        ):
            assert rtype.disclosure_basis, rtype.code
    assert catalogue.type("courts.defaulter").disclosure is Disclosure.PUBLIC
    # Person-centred findings that no law makes public stay among authorities.
    for code in (
        "education_research.academic_misconduct",
        "social_insurance.fund_fraud",
        "food_drug.practice_ban",
        "procuratorate.bribery_record",
    ):
        assert catalogue.type(code).disclosure is not Disclosure.PUBLIC, code


def test_id_numbers_are_never_published(catalogue: Catalogue) -> None:
    for rtype in catalogue.types:
        for name in ("id_number", "legal_representative_id_number"):
            if name in rtype.field_names:
                disclosure = rtype.content_field(name).disclosure
                assert disclosure is not None, (rtype.code, name)
                assert disclosure.rank >= Disclosure.RESTRICTED.rank, (rtype.code, name)


def test_government_bodies_are_restricted(catalogue: Catalogue) -> None:
    rtype = catalogue.type("government.payment_arrears")
    assert SubjectKind.GOVERNMENT_BODY in rtype.subject_kinds
    assert rtype.disclosure is Disclosure.RESTRICTED


@pytest.mark.parametrize("code", ["general.penalty", "market.penalty", "environment.penalty"])
def test_penalty_types_carry_national_columns(catalogue: Catalogue, code: str) -> None:
    columns = [f.column_zh for f in catalogue.type(code).fields]
    for column in PENALTY_COLUMNS:
        assert column in columns, column
    # the exact spellings, full-width parentheses included
    assert "罚款金额（万元）" in columns
    assert "没收违法所得、没收非法财物的金额（万元）" in columns


def test_licence_type_carries_national_columns(catalogue: Catalogue) -> None:
    rtype = catalogue.type("general.licence")
    columns = [f.column_zh for f in rtype.fields]
    for column in LICENCE_COLUMNS:
        assert column in columns, column
    category = rtype.content_field("licence_category")
    assert category.type is FieldType.ENUM
    assert [v.label_zh for v in category.enum or ()] == [
        "普通",
        "特许",
        "认可",
        "核准",
        "登记",
        "其他",
    ]


def test_dual_publicity_types_map_standard_names(catalogue: Catalogue) -> None:
    penalties = [t for t in catalogue.types if t.dual_publicity == "penalty"]
    licences = [t for t in catalogue.types if t.dual_publicity == "licence"]
    assert len(penalties) >= 10
    assert licences
    expected = {
        "行政相对人名称": "subject_name",
        "统一社会信用代码": "uscc",
        "行政处罚决定书文号": "decision_no",
        "处罚决定日期": "decision_date",
        "处罚类别": "penalty_category",
        "罚款金额（万元）": "fine_amount_10k_yuan",
        "处罚机关": "authority",
        "处罚机关统一社会信用代码": "authority_uscc",
        "数据来源单位": "data_source_unit",
        "数据来源单位统一社会信用代码": "data_source_unit_uscc",
    }
    for rtype in penalties:
        column_map = rtype.column_map()
        for column, name in expected.items():
            assert column_map[column] == name, (rtype.code, column)
        assert rtype.has_severity, rtype.code
    licence = catalogue.column_map("general.licence")
    assert licence["行政许可决定文书号"] == "decision_no"
    assert licence["许可决定日期"] == "decision_date"


def test_column_map_accepts_both_headers(catalogue: Catalogue) -> None:
    column_map = catalogue.column_map("market.penalty")
    assert column_map["罚款金额（万元）"] == "fine_amount_10k_yuan"
    assert column_map["fine_amount_10k_yuan"] == "fine_amount_10k_yuan"
    assert column_map["罚款金额(万元)"] == "fine_amount_10k_yuan"  # half-width parentheses
    for rtype in catalogue.types:
        column_map = rtype.column_map()
        for item in rtype.fields:
            assert column_map[item.column_zh] == item.name
            assert column_map[item.name] == item.name


def test_defaulter_columns(catalogue: Catalogue) -> None:
    rtype = catalogue.type("courts.defaulter")
    columns = {f.column_zh for f in rtype.fields}
    for column in (
        "被执行人姓名/名称",
        "身份证号码/组织机构代码",
        "执行法院",
        "执行依据文号",
        "立案时间",
        "案号",
        "生效法律文书确定的义务",
        "被执行人的履行情况",
        "失信被执行人具体情形",
        "发布时间",
    ):
        assert column in columns, column
    assert rtype.column_map()["案号"] == "decision_no"
    conduct = rtype.content_field("dishonest_conduct")
    assert conduct.multiple
    assert len(conduct.enum or ()) == 6


def test_grades(catalogue: Catalogue) -> None:
    tax = catalogue.type("tax.credit_grade").content_field("grade")
    assert [v.value for v in tax.enum or ()] == ["A", "B", "M", "C", "D"]
    customs = catalogue.type("customs.credit_grade").content_field("credit_grade")
    assert [v.label_zh for v in customs.enum or ()] == [
        "高级认证企业",
        "一般认证企业",
        "一般信用企业",
        "失信企业",
    ]
    env = catalogue.type("environment.credit_rating")
    assert "rating_reasons" in env.field_names  # grades show their reasons (principle 7)
    for code in ("tax.credit_grade", "customs.credit_grade", "environment.credit_rating"):
        kinds = set(catalogue.type(code).subject_kinds)
        assert SubjectKind.NATURAL_PERSON not in kinds, code  # grades only for organisations


def test_enum_lookup_accepts_value_or_label(catalogue: Catalogue) -> None:
    item = catalogue.type("general.licence").content_field("licence_category")
    lookup = item.enum_lookup()
    assert lookup["特许"] == "franchise"
    assert lookup["franchise"] == "franchise"


def test_no_banned_topics(catalogue: Catalogue) -> None:
    for rtype in catalogue.types:
        for text in (rtype.code, rtype.title_zh, rtype.title_en):
            assert not BANNED.search(text), (rtype.code, text)
        for item in rtype.fields:
            for text in (item.name, item.column_zh, item.title_en):
                assert not BANNED.search(text), (rtype.code, text)
    for field in catalogue.fields:
        for text in (field.code, field.title_zh, field.title_en):
            assert not BANNED.search(text), text


def test_sources_are_competent_departments(catalogue: Catalogue) -> None:
    assert catalogue.type("courts.defaulter").sources == ("spc",)
    assert catalogue.type("tax.major_violation").sources == ("sta",)
    assert catalogue.type("general.penalty").sources == (ANY_DEPARTMENT,)
    assert catalogue.may_submit("courts.defaulter", "spc")
    assert catalogue.may_submit("courts.defaulter", "hz_ipc")  # via zj_hpc -> spc
    assert not catalogue.may_submit("courts.defaulter", "samr")
    assert catalogue.may_submit("tax.penalty", "hz_tax")
    assert not catalogue.may_submit("tax.penalty", "hz_amr")
    assert catalogue.may_submit("general.licence", "hz_amr")
    assert not catalogue.may_submit("general.licence", "nobody")
    # Any department means any administrative one: a court grants no licence.
    for judicial in ("spc", "zj_hpc", "hz_ipc", "spp"):
        assert not catalogue.may_submit("general.licence", judicial)
        assert not catalogue.may_submit("general.penalty", judicial)
    assert [d.code for d in catalogue.lineage("hz_amr")] == ["hz_amr", "zj_amr", "samr"]


def test_lookups(catalogue: Catalogue) -> None:
    assert catalogue.department("samr").name_zh == "国家市场监督管理总局"
    assert catalogue.field("tax").title_zh == "税务"
    assert catalogue.has_type("market.penalty")
    assert not catalogue.has_type("market.nothing")
    assert {t.code for t in catalogue.types_in_field("courts")} == {
        "courts.defaulter",
        "courts.consumption_restriction",
    }
    with pytest.raises(KeyError, match="unknown record type"):
        catalogue.type("market.nothing")
    with pytest.raises(KeyError, match="unknown department"):
        catalogue.department("nobody")
    with pytest.raises(KeyError, match="has no field"):
        catalogue.type("market.penalty").content_field("nothing")


def test_digest_is_stable(catalogue: Catalogue, data_copy: object) -> None:
    from pathlib import Path

    assert isinstance(data_copy, Path)
    first = load_catalogue(data_copy)
    second = load_catalogue(data_copy)
    assert first is not second
    assert first.digest == second.digest == catalogue.digest
    assert re.fullmatch(r"[0-9a-f]{64}", catalogue.digest)


def test_document_is_json(catalogue: Catalogue) -> None:
    document = catalogue_document(catalogue)
    text = json.dumps(document, ensure_ascii=False)
    again = json.loads(text)
    assert again["version"] == catalogue.version
    assert again["digest"] == catalogue.digest
    assert again["counts"]["types"] == len(catalogue.types)
    codes = [t["code"] for t in again["types"]]
    assert codes == list(catalogue.type_codes)
    penalty = next(t for t in again["types"] if t["code"] == "market.penalty")
    assert penalty["column_map"]["罚款金额（万元）"] == "fine_amount_10k_yuan"
    assert penalty["publication"]["by_severity"]["serious"]["max_months"] == 36


def test_table_lists_every_type(catalogue: Catalogue) -> None:
    table = catalogue_table(catalogue)
    assert table.row_count == len(catalogue.types)
    console = Console(record=True, width=240, color_system=None)
    console.print(table)
    text = console.export_text()
    assert "courts.defaulter" in text
    assert catalogue.version in text
