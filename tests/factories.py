"""Factories for subjects and records: valid codes, plausible content, one call each."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bonafides.catalogue import ContentField, FieldType, RecordType
from bonafides.codes import make_resident_id, make_uscc, parse_resident_id
from bonafides.records import RecordInput, RecordStatus, SubjectKind, SubjectRef
from bonafides.security.clock import SystemClock, office_day
from bonafides.settings import Settings

if TYPE_CHECKING:
    from bonafides.security.anchor import Anchor

_seq = itertools.count(1)


def office_today() -> dt.date:
    """The credit office's day, as the platform counts it (``Context.today``): from 16:00
    UTC Beijing is on the next day, and a test that dates its data or its expectations
    by the machine's date fails there (export names, same-day ends)."""
    return office_day(SystemClock(), Settings.model_fields["timezone"].default)


def org(region: str = "110105", name: str | None = None, **kw: Any) -> SubjectRef:
    n = next(_seq)
    code = make_uscc("9", "1", region, f"{n:08d}")
    return SubjectRef(
        code=code,
        kind=SubjectKind.LEGAL_PERSON,
        name=name or f"北京测试{n}有限公司",
        name_en=kw.pop("name_en", f"Beijing Test {n} Co., Ltd."),
        region=region,
        **kw,
    )


def person(
    birth: dt.date = dt.date(1985, 3, 14), region: str = "110105", name: str = "张三"
) -> SubjectRef:
    number = make_resident_id(region, birth, next(_seq) % 1000)
    return SubjectRef(
        code=number,
        kind=SubjectKind.NATURAL_PERSON,
        name=name,
        region=region,
        adult_from=parse_resident_id(number).adult_from,
    )


def penalty(
    subject: SubjectRef | None = None,
    *,
    source: str = "samr",
    decision_no: str | None = None,
    decision_date: dt.date = dt.date(2025, 6, 1),
    fine: str = "1.5",
    status: RecordStatus = RecordStatus.ACTIVE,
) -> RecordInput:
    subject = subject or org()
    no = decision_no or f"京市监罚〔2025〕{next(_seq)}号"
    content = {
        "subject_name": subject.name,
        "decision_no": no,
        "penalty_category": "fine",  # stored as ingest stores it: the enum value
        "fine_amount_10k_yuan": fine,
        "decision_date": decision_date.isoformat(),
    }
    return RecordInput(
        type_code="market.penalty",
        source=source,
        decision_no=no,
        decision_date=decision_date,
        subject=subject,
        content=content,
        raw={k: str(v) for k, v in content.items()},
        severity="general",
        legal_basis="《中华人民共和国行政处罚法》",
        status=status,
        published_until=decision_date + dt.timedelta(days=365),
        retention_until=decision_date + dt.timedelta(days=365 * 5),
    )


def content_row(
    rtype: RecordType,
    subject: SubjectRef,
    *,
    decision_no: str | None = None,
    decision_date: dt.date = dt.date(2025, 6, 2),
    header: str = "zh",
    **overrides: str,
) -> dict[str, str]:
    """A valid row of ``rtype`` as a department file carries it, headed in Chinese or English.

    Every required field gets a value of its type; ``overrides`` (by English field name)
    replace or add values, an empty string included.
    """
    values: dict[str, str] = {}
    for spec in rtype.fields:
        if spec.name in rtype.subject_code_fields:
            fits = spec.type is FieldType.CODE or (
                (spec.type is FieldType.USCC) != (subject.kind == SubjectKind.NATURAL_PERSON)
            )
            if fits and not any(n in values for n in rtype.subject_code_fields):
                values[spec.name] = subject.code
            continue
        if not spec.required:
            continue
        values[spec.name] = _sample(spec, decision_date)
    values["subject_name"] = subject.name
    values["decision_no"] = f"测试〔2025〕{next(_seq)}号" if decision_no is None else decision_no
    values["decision_date"] = decision_date.isoformat()
    values.update(overrides)
    if header == "en":
        return values
    columns = {spec.name: spec.column_zh for spec in rtype.fields}
    return {columns.get(k, k): v for k, v in values.items()}


def _sample(spec: ContentField, day: dt.date) -> str:
    if spec.type is FieldType.DATE:
        return day.isoformat()
    if spec.type in (FieldType.DECIMAL, FieldType.INTEGER):
        return "1"
    if spec.type is FieldType.ENUM:
        assert spec.enum
        return spec.enum[-1].value if spec.name == "severity" else spec.enum[0].value
    if spec.type is FieldType.BOOLEAN:
        return "是"
    if spec.type is FieldType.USCC:
        return make_uscc("1", "1", "100000", "00000001")
    if spec.type is FieldType.CODE:
        return make_uscc("9", "1", "110105", "00000002")
    return f"测试{spec.title_en}"[: spec.max_length or 200]


def audit_anchor(
    keys: Path | None = None, secret: str = "test-audit-secret", **every: int
) -> Anchor:
    """The audit key (and a checkpoint signer under ``keys``) for sessions a test opens
    without a Context; no checkpoints unless ``every_events``/``every_minutes`` say so."""
    from bonafides.security.anchor import Anchor, ChainKey
    from bonafides.security.signing import KeyStore, file_key_store

    def store() -> KeyStore:
        if keys is None:
            raise AssertionError("this test gave the audit anchor no key directory")
        return file_key_store(keys.resolve())

    return Anchor(
        ChainKey(secret),
        store,
        every_events=every.get("every_events", 0),
        every_minutes=every.get("every_minutes", 0),
    )
