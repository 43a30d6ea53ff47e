"""A small, varied store for the browser tests and the screenshots: several fields,
departments and months, a rename, an objection, and a minor who must stay invisible."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from bonafides.context import Context
from bonafides.records import RecordInput, RecordStatus, SubjectRef
from bonafides.rules.records import write_records
from bonafides.store.db import migrate
from bonafides.store.reference import sync_catalogue
from bonafides.store.subjects import add_former_names
from bonafides.store.tables import Subject
from tests import factories

#: The subject the browser tests look for, with a typo of its name.
TARGET_NAME = "杭州西湖龙井茶叶有限公司"
TARGET_NAME_EN = "Hangzhou West Lake Longjing Tea Co., Ltd."
TARGET_TYPO = "杭州西湖龙井茶页"
TARGET_FORMER = "杭州龙井茶厂"
MINOR_NAME = "周小雨"
#: An adult with a public penalty, looked up by ID number.
ADULT_NAME = "钱大伟"
#: A company on the list of dishonest judgment defaulters, alone in its province.
LISTED_NAME = "南京秦淮失信示例有限公司"

_NAMES = [
    ("宁波港湾物流有限公司", "Ningbo Harbour Logistics Co., Ltd."),
    ("深圳蓝海电子科技有限公司", "Shenzhen Blue Ocean Electronics Co., Ltd."),
    ("成都天府食品股份有限公司", "Chengdu Tianfu Foods Co., Ltd."),
    ("武汉长江建设工程有限公司", "Wuhan Changjiang Construction Co., Ltd."),
    ("苏州园林文化旅游有限公司", "Suzhou Garden Culture and Tourism Co., Ltd."),
    ("青岛海风医药有限公司", "Qingdao Sea Breeze Pharmaceuticals Co., Ltd."),
    ("西安古城化工有限公司", "Xi'an Ancient City Chemicals Co., Ltd."),
    ("广州珠江运输有限公司", "Guangzhou Pearl River Transport Co., Ltd."),
]

#: (type, source, whether the type is published by severity)
_TYPES = [
    ("market.penalty", "samr", True),
    ("tax.penalty", "sta", True),
    ("environment.penalty", "mee", True),
    ("customs.penalty", "gacc", True),
    ("production_safety.penalty", "mem", True),
    ("courts.defaulter", "spc", False),
    ("transport.illegal_operation", "mot", True),
    ("labour.wage_arrears", "mohrss", False),
]

_BASIS = {
    "market.penalty": "《中华人民共和国行政处罚法》第四十八条",
    "tax.penalty": "《中华人民共和国税收征收管理法》第六十三条",
    "environment.penalty": "《中华人民共和国环境保护法》第五十九条",
    "customs.penalty": "《中华人民共和国海关行政处罚实施条例》",
    "production_safety.penalty": "《中华人民共和国安全生产法》",
    "courts.defaulter": "《最高人民法院关于公布失信被执行人名单信息的若干规定》",
    "transport.illegal_operation": "《中华人民共和国道路运输条例》",
    "labour.wage_arrears": "《保障农民工工资支付条例》",
}


def _record(
    who: SubjectRef,
    type_code: str,
    source: str,
    severity: bool,
    decided: dt.date,
    delay_days: int,
    n: int,
    status: RecordStatus = RecordStatus.ACTIVE,
) -> RecordInput:
    number = f"{source.upper()}罚〔{decided.year}〕{n}号"
    content = {
        "subject_name": who.name,
        "decision_no": number,
        "decision_date": decided.isoformat(),
        "violation_type": "未按规定履行义务",
        "penalty_category": "fine",
        "fine_amount_10k_yuan": "2.5",
    }
    received = dt.datetime.combine(
        decided + dt.timedelta(days=delay_days), dt.time(10), tzinfo=dt.UTC
    )
    return RecordInput(
        type_code=type_code,
        source=source,
        decision_no=number,
        decision_date=decided,
        subject=who,
        content=content,
        raw=dict(content),
        severity="general" if severity else None,
        legal_basis=_BASIS[type_code],
        status=status,
        published_until=decided + dt.timedelta(days=365 * 2),
        retention_until=decided + dt.timedelta(days=365 * 5),
        received_at=received,
    )


def seed(ctx: Context, *, today: dt.date | None = None) -> dict[str, str]:
    """Fill an empty store; returns the codes the tests need."""
    today = today or factories.office_today()
    rnd = random.Random(5)
    migrate(ctx.engine, partitions=ctx.settings.pg_partitions)
    target = factories.org(region="330106", name=TARGET_NAME, name_en=TARGET_NAME_EN)
    minor = factories.person(birth=today - dt.timedelta(days=365 * 14), name=MINOR_NAME)
    others = [factories.org(name=zh, name_en=en) for zh, en in _NAMES]
    items: list[RecordInput] = []
    n = 1
    for month_back in range(12):
        for who in others:
            for type_code, source, severity in rnd.sample(_TYPES, 2):
                decided = today - dt.timedelta(days=month_back * 30 + rnd.randint(0, 27))
                delay = rnd.choice([1, 2, 3, 5, 8, 12, 20]) if source != "samr" else 2
                items.append(_record(who, type_code, source, severity, decided, delay, n))
                n += 1
    for i, (type_code, source, severity) in enumerate(_TYPES[:4]):
        status = RecordStatus.UNDER_OBJECTION if i == 1 else RecordStatus.ACTIVE
        decided = today - dt.timedelta(days=20 + 40 * i)
        items.append(_record(target, type_code, source, severity, decided, 2, n, status))
        n += 1
    items.append(_record(minor, "market.penalty", "samr", True, today, 1, n))
    adult = factories.person(region="330106", name=ADULT_NAME)
    n += 1
    items.append(_record(adult, "market.penalty", "samr", True, today - dt.timedelta(days=5), 1, n))
    listed = factories.org(region="320104", name=LISTED_NAME, name_en="Nanjing Example Co., Ltd.")
    for who, days in ((listed, 15), (minor, 3)):
        n += 1
        decided = today - dt.timedelta(days=days)
        items.append(_record(who, "courts.defaulter", "spc", False, decided, 1, n))
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
        write_records(session, ctx.keys, items, actor="seed")
        sid = session.scalar(select(Subject.id).where(Subject.code_display == target.code))
        assert sid is not None
        add_former_names(session, sid, [(TARGET_FORMER, dt.date(2018, 6, 30))])
    return {
        "target": target.code,
        "minor": minor.code,
        "listed": listed.code,
        "adult": adult.code,
    }
