"""Issuing and verifying reports against the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from sqlalchemy import select, update

from bonafides.app.reports import verify_report
from bonafides.context import Context
from bonafides.disclosure import Audience
from bonafides.records import RecordStatus, SubjectRef
from bonafides.reports.envelope import SignedReport
from bonafides.reports.model import ReportRequestError, SubjectNotFoundError, View
from bonafides.reports.service import (
    ReportAccessError,
    ReportNotFoundError,
    load_report,
)
from bonafides.rules.records import change_status
from bonafides.security import audit
from bonafides.security.signing import FileKeyStore, format_code
from bonafides.store.tables import AuditEvent, IssuedReport, ListEntry
from tests import factories
from tests.reports.conftest import (
    NOW,
    TODAY,
    grade,
    issue,
    list_entry,
    put,
    record,
    subject_id,
)

ID_NUMBER = "110105********1234"


def _file(ctx: Context) -> SubjectRef:
    """An organisation with one record of each kind a report must treat differently."""
    firm = factories.org(name="北京诚信测试有限公司")
    put(
        ctx,
        # public, inside its publication period, with a restricted content field
        record(
            firm,
            "market.penalty",
            source="samr",
            decided=dt.date(2026, 1, 10),
            published_until=dt.date(2027, 1, 10),
            decision_no="P-PUBLISHED",
            content={
                "violation_type": "虚假宣传",
                "penalty_category": "warning;fine",
                "legal_representative_id_number": ID_NUMBER,
            },
        ),
        # public type, but its publication period is over
        record(
            firm,
            "market.penalty",
            source="samr",
            decided=dt.date(2025, 3, 1),
            published_until=dt.date(2026, 3, 1),
            decision_no="P-EXPIRED",
            content={"violation_type": "无照经营"},
        ),
        # repaired while still inside its publication period
        record(
            firm,
            "market.penalty",
            source="samr",
            decided=dt.date(2026, 2, 1),
            published_until=dt.date(2027, 2, 1),
            decision_no="P-REPAIRED",
            status=RecordStatus.REPAIRED,
            content={"violation_type": "商标侵权"},
        ),
        # before the default three-year period
        record(
            firm,
            "market.penalty",
            source="samr",
            decided=dt.date(2022, 1, 5),
            published_until=dt.date(2027, 1, 5),
            decision_no="P-OLD",
            content={"violation_type": "旧案"},
        ),
        # shared among authorities
        record(
            firm,
            "tax.credit_grade",
            source="sta",
            decided=dt.date(2026, 4, 1),
            decision_no="T-GRADE",
            content={"evaluation_year": 2025, "grade": "B"},
        ),
        # restricted
        record(
            firm,
            "procuratorate.bribery_record",
            source="spp",
            decided=dt.date(2025, 12, 1),
            decision_no="B-BRIBERY",
            content={"offence": "unit_bribery", "sentence": "罚金"},
        ),
        # public, on a list
        record(
            firm,
            "courts.defaulter",
            source="spc",
            decided=dt.date(2026, 5, 1),
            published_until=dt.date(2031, 5, 1),
            decision_no="C-DEFAULTER",
            content={
                "enforcement_court": "北京市朝阳区人民法院",
                "basis_document_no": "（2025）京0105民初1号",
            },
        ),
    )
    # decided by the shared annual evaluation: not a public grade
    grade(
        ctx,
        firm.code,
        scheme="tax",
        value="B",
        as_of=dt.date(2026, 6, 1),
        line=2,
        behind=["T-GRADE"],
    )
    return firm


def _records(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["decision_no"]: r for s in doc["sections"] for r in s["records"]}


def _events(ctx: Context, tag: str) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))


def test_public_report_shows_only_what_the_law_makes_public(
    ctx: Context, keys: FileKeyStore
) -> None:
    firm = _file(ctx)
    signed = issue(ctx, keys, firm.code)
    doc = signed.document
    shown = _records(doc)
    assert set(shown) == {"P-PUBLISHED", "P-REPAIRED", "C-DEFAULTER"}
    published = shown["P-PUBLISHED"]
    labels = {c["name"]: c["text_zh"] for c in published["content"]}
    assert labels["violation_type"] == "虚假宣传"
    assert labels["penalty_category"] == "警告；罚款"
    assert "legal_representative_id_number" not in labels
    assert ID_NUMBER not in signed.payload
    repaired = shown["P-REPAIRED"]
    assert repaired["status"] == "repaired"
    assert repaired["withheld"] is True
    assert repaired["content"] == []
    assert "商标侵权" not in signed.payload
    assert doc["access_log"] is None
    assert doc["subject"]["code"] == firm.code
    assert doc["period"] == {"from": "2023-06-16", "to": "2026-06-15"}
    assert doc["view"] == "public"
    assert doc["audience"] == "public"
    assert doc["verify_url"] == f"https://credit.example.gov.cn/verify?report={doc['id']}"
    assert doc["valid_until"] == "2026-07-15T10:00:00+08:00"
    assert doc["number"].startswith("BF20260615-")
    assert doc["key_id"] == keys.ensure()


def test_lists_and_grades_come_from_what_the_rules_stored(ctx: Context, keys: FileKeyStore) -> None:
    firm = _file(ctx)
    with ctx.sessions() as session:
        stored = session.scalars(
            select(ListEntry).where(
                ListEntry.subject_id == subject_id(ctx, firm.code), ListEntry.status == "current"
            )
        ).all()
    assert stored, "the rules engine lists a dishonest judgment defaulter"
    doc = issue(ctx, keys, firm.code).document
    assert [(e["list"], e["valid_from"]) for e in doc["lists"]] == [
        (e.list_code, e.valid_from.isoformat()) for e in stored
    ]
    entry = doc["lists"][0]
    assert entry["title_zh"] == "失信被执行人名单"
    assert entry["kind"] == "black"
    assert entry["field"] == "courts"
    assert entry["legal_basis"]
    [tax] = issue(ctx, keys, firm.code, view=View.FULL).document["grades"]
    assert (tax["scheme"], tax["grade"], tax["as_of"]) == ("tax", "B", "2026-06-01")
    assert tax["rule"] == "grade:tax#2"
    assert tax["explain"]


def test_chosen_fields_narrow_records_lists_and_grades(ctx: Context, keys: FileKeyStore) -> None:
    firm = _file(ctx)
    doc = issue(ctx, keys, firm.code, view=View.FULL, fields=["tax", "market"]).document
    assert [s["field"] for s in doc["sections"]] == ["market", "tax"]
    assert doc["all_fields"] is False
    assert doc["lists"] == []
    assert [g["scheme"] for g in doc["grades"]] == ["tax"]
    only_courts = issue(ctx, keys, firm.code, view=View.FULL, fields=["courts"]).document
    assert set(_records(only_courts)) == {"C-DEFAULTER"}
    assert only_courts["grades"] == []
    assert only_courts["lists"]


def test_public_report_leaves_out_grades_and_entries_behind_non_public_records(
    ctx: Context, keys: FileKeyStore
) -> None:
    """The public report shows what ``/api/v1/subjects/{code}/grades`` and the list pages
    show: a grade or an entry only when the records behind it are public."""
    firm = _file(ctx)
    put(
        ctx,
        record(
            firm,
            "tax.major_violation",
            source="sta",
            decided=dt.date(2026, 3, 1),
            published_until=dt.date(2029, 3, 1),
            decision_no="T-MAJOR",
            content={},
        ),
    )
    other = factories.org(name="北京共享评价测试有限公司")
    put(
        ctx,
        record(
            other,
            "tax.credit_grade",
            source="sta",
            decided=dt.date(2026, 4, 1),
            decision_no="T-GRADE-D",
            content={"evaluation_year": 2025, "grade": "D"},
        ),
    )
    grade(ctx, other.code, scheme="tax", value="D", as_of=TODAY, line=2, behind=["T-GRADE-D"])
    list_entry(
        ctx,
        firm.code,
        "B-BRIBERY",
        list_code="procurement.serious_violation",
        valid_from=dt.date(2025, 12, 1),
        valid_until=dt.date(2028, 12, 1),
    )

    public = issue(ctx, keys, firm.code).document
    assert public["grades"] == []
    assert "courts.defaulters" in {e["list"] for e in public["lists"]}
    assert "procurement.serious_violation" not in {e["list"] for e in public["lists"]}
    assert issue(ctx, keys, other.code).document["grades"] == []

    full = issue(ctx, keys, firm.code, view=View.FULL).document
    assert [(g["scheme"], g["grade"]) for g in full["grades"]] == [("tax", "B")]
    assert "procurement.serious_violation" in {e["list"] for e in full["lists"]}
    authority = issue(
        ctx, keys, other.code, view=View.FULL, audience=Audience.AUTHORITY, purpose="loan check"
    ).document
    assert [g["grade"] for g in authority["grades"]] == ["D"]

    grade(ctx, firm.code, scheme="tax", value="D", as_of=TODAY, line=1, behind=["T-MAJOR"])
    again = issue(ctx, keys, firm.code).document
    assert [(g["grade"], g["rule"]) for g in again["grades"]] == [("D", "grade:tax#1")]


def test_full_report_for_the_subject_has_everything_and_the_access_log(
    ctx: Context, keys: FileKeyStore
) -> None:
    firm = _file(ctx)
    issue(ctx, keys, firm.code)
    signed = issue(ctx, keys, firm.code, view=View.FULL, purpose="loan application")
    doc = signed.document
    shown = _records(doc)
    assert set(shown) == {
        "P-PUBLISHED",
        "P-EXPIRED",
        "P-REPAIRED",
        "T-GRADE",
        "B-BRIBERY",
        "C-DEFAULTER",
    }
    assert shown["P-REPAIRED"]["withheld"] is False
    assert ID_NUMBER in signed.payload
    assert doc["audience"] == "subject"
    log = doc["access_log"]
    assert log is not None
    assert [e["tag"] for e in log].count("reports:report:issued") == 1
    [event] = _events(ctx, "reports:report:issued")[-1:]
    assert event.subject_id == subject_id(ctx, firm.code)
    assert event.purpose == "loan application"
    assert event.detail["view"] == "full"


def test_full_report_for_an_authority_stops_at_its_classes(
    ctx: Context, keys: FileKeyStore
) -> None:
    firm = _file(ctx)
    doc = issue(ctx, keys, firm.code, view=View.FULL, audience=Audience.AUTHORITY).document
    shown = _records(doc)
    assert "T-GRADE" in shown
    assert "B-BRIBERY" not in shown
    assert doc["access_log"] is None, "who else asked is the subject's to know"
    assert ID_NUMBER not in str(doc)


def test_the_period_is_the_subjects_choice_up_to_five_years(
    ctx: Context, keys: FileKeyStore
) -> None:
    firm = _file(ctx)
    doc = issue(ctx, keys, firm.code, period_from=dt.date(2021, 6, 16), period_to=TODAY).document
    assert "P-OLD" in _records(doc)
    with pytest.raises(ReportRequestError, match="at most 5 years"):
        issue(ctx, keys, firm.code, period_from=dt.date(2021, 6, 15), period_to=TODAY)
    narrow = issue(
        ctx, keys, firm.code, period_from=dt.date(2026, 1, 1), period_to=dt.date(2026, 1, 31)
    ).document
    assert set(_records(narrow)) == {"P-PUBLISHED"}


def test_unknown_and_invalid_codes_are_refused(ctx: Context, keys: FileKeyStore) -> None:
    with pytest.raises(SubjectNotFoundError):
        issue(ctx, keys, factories.org().code)
    with pytest.raises(ReportRequestError, match="invalid code"):
        issue(ctx, keys, "91110105MA00000000")


def test_a_person_the_public_may_not_see_is_answered_like_an_unknown_code(
    ctx: Context, keys: FileKeyStore
) -> None:
    adult = factories.person(birth=dt.date(1980, 1, 1))
    minor = factories.person(birth=dt.date(2012, 1, 1))
    for who in (adult, minor):
        put(
            ctx,
            record(
                who,
                "procuratorate.bribery_record",
                source="spp",
                decided=dt.date(2026, 1, 1),
                content={"offence": "bribery", "sentence": "罚金"},
            ),
        )
    for who in (adult, minor):
        with pytest.raises(SubjectNotFoundError):
            issue(ctx, keys, who.code)
    own = issue(ctx, keys, minor.code, view=View.FULL).document
    assert own["subject"]["minor"] is True
    assert own["subject"]["code"] != minor.code, "ID numbers are shown masked"
    assert len(_records(own)) == 1


def test_decisions_taken_while_a_minor_stay_out_of_the_public_report(
    ctx: Context, keys: FileKeyStore
) -> None:
    """Born 2008-03-01: an adult on the day of issue, a minor until 2026-02-28."""
    grown = factories.person(birth=dt.date(2008, 3, 1), name="周少年")

    def defaulter(number: str, decided: dt.date, **kw: Any) -> Any:
        return record(
            grown,
            "courts.defaulter",
            source="spc",
            decided=decided,
            published_until=dt.date(2030, 1, 1),
            decision_no=number,
            content={"enforcement_court": "北京市朝阳区人民法院"},
            **kw,
        )

    put(
        ctx,
        defaulter("AS-MINOR", dt.date(2025, 12, 1)),
        defaulter("DAY-BEFORE", dt.date(2026, 2, 28)),
        defaulter("REPAIRED-AS-MINOR", dt.date(2026, 1, 5), status=RecordStatus.REPAIRED),
    )
    with pytest.raises(SubjectNotFoundError):
        issue(ctx, keys, grown.code)
    put(ctx, defaulter("AS-ADULT", dt.date(2026, 3, 1)))
    public = issue(ctx, keys, grown.code).document
    assert set(_records(public)) == {"AS-ADULT"}
    own = issue(ctx, keys, grown.code, view=View.FULL).document
    assert set(_records(own)) == {"AS-MINOR", "DAY-BEFORE", "REPAIRED-AS-MINOR", "AS-ADULT"}


def test_verification_by_id_says_authentic_and_unchanged(ctx: Context, keys: FileKeyStore) -> None:
    firm = _file(ctx)
    signed = issue(ctx, keys, firm.code)
    issue(ctx, keys, firm.code, view=View.FULL)  # a later read: access log, not data
    result = verify_report(ctx, report_id=signed.report_id, keys=keys, now=NOW)
    assert result.authentic
    assert result.signature_valid
    assert result.known
    assert result.matches_store
    assert result.changed_since_issue is False
    assert result.expired is False
    assert result.verification_code is None, "an id alone must not reveal the code"
    with_code = verify_report(
        ctx, report_id=signed.report_id, code=signed.printed_code.lower(), keys=keys, now=NOW
    )
    assert with_code.authentic
    assert with_code.code_matches
    wrong = verify_report(ctx, report_id=signed.report_id, code="00000-00000", keys=keys, now=NOW)
    assert not wrong.authentic
    assert wrong.problem == "the verification code does not belong to this report"
    later = verify_report(
        ctx, report_id=signed.report_id, keys=keys, now=NOW + dt.timedelta(days=31)
    )
    assert later.authentic
    assert later.expired


@pytest.mark.parametrize(
    "change",
    ["revoke a shown record", "a new decision in the period", "a new list entry"],
)
def test_a_change_to_the_subjects_data_is_detected(
    ctx: Context, keys: FileKeyStore, change: str
) -> None:
    firm = _file(ctx)
    signed = issue(ctx, keys, firm.code)
    if change == "revoke a shown record":
        with ctx.sessions.begin() as session:
            change_status(
                session,
                source="samr",
                decision_no="P-PUBLISHED",
                status=RecordStatus.REVOKED,
                actor="test",
                reason="revoked on review",
            )
    elif change == "a new decision in the period":
        put(
            ctx,
            record(
                firm,
                "market.penalty",
                source="samr",
                decided=dt.date(2026, 3, 3),
                published_until=dt.date(2027, 3, 3),
                content={"violation_type": "新案"},
            ),
        )
    else:
        with ctx.sessions.begin() as session:
            session.execute(
                update(ListEntry)
                .where(ListEntry.subject_id == subject_id(ctx, firm.code))
                .values(valid_until=dt.date(2026, 12, 31))
            )
    result = verify_report(ctx, report_id=signed.report_id, keys=keys, now=NOW)
    assert result.authentic, "the report is still the one issued"
    assert result.changed_since_issue is True


def test_changes_outside_the_report_do_not_count(ctx: Context, keys: FileKeyStore) -> None:
    firm = _file(ctx)
    signed = issue(ctx, keys, firm.code, fields=["market"])
    put(
        ctx,
        record(
            firm,
            "tax.penalty",
            source="sta",
            decided=dt.date(2026, 3, 3),
            published_until=dt.date(2029, 3, 3),
            content={},
        ),
    )
    result = verify_report(ctx, report_id=signed.report_id, keys=keys, now=NOW)
    assert result.changed_since_issue is False


def test_tampering_with_the_stored_report_or_its_signature_fails(
    ctx: Context, keys: FileKeyStore
) -> None:
    firm = _file(ctx)
    signed = issue(ctx, keys, firm.code)
    flipped = bytearray(signed.signature)
    flipped[10] ^= 0x01
    forged = SignedReport.of(signed.payload, bytes(flipped), signed.key_id)
    result = verify_report(ctx, signed=forged, keys=keys, now=NOW)
    assert not result.authentic
    assert not result.signature_valid
    assert result.changed_since_issue is None

    # Someone with write access to the store rewrites the report and its digest.
    altered = signed.payload.replace("北京诚信测试有限公司", "北京清白测试有限公司")
    assert altered != signed.payload
    with ctx.sessions.begin() as session:
        session.execute(
            update(IssuedReport)
            .where(IssuedReport.report_id == signed.report_id)
            .values(payload=altered, digest=hashlib.sha256(altered.encode()).hexdigest())
        )
    stored = verify_report(ctx, report_id=signed.report_id, keys=keys, now=NOW)
    assert not stored.authentic
    assert not stored.signature_valid

    # The untouched copy the holder kept is still signed, but no longer what the store has.
    kept = verify_report(ctx, signed=signed, keys=keys, now=NOW)
    assert kept.signature_valid
    assert not kept.matches_store
    assert not kept.authentic
    assert kept.problem == "the report differs from the one issued under this id"


def test_a_report_signed_by_another_key_is_not_ours(
    ctx: Context, keys: FileKeyStore, tmp_path: Any
) -> None:
    firm = _file(ctx)
    signed = issue(ctx, keys, firm.code)
    other = FileKeyStore(tmp_path / "other-keys")
    other_id, key = other.signing_key()
    foreign = SignedReport.of(signed.payload, key.sign(signed.payload_bytes), other_id)
    result = verify_report(ctx, signed=foreign, keys=keys, now=NOW)
    assert not result.signature_valid
    assert not result.authentic


def test_verifying_a_full_report_is_an_audited_read(ctx: Context, keys: FileKeyStore) -> None:
    firm = _file(ctx)
    public = issue(ctx, keys, firm.code)
    full = issue(ctx, keys, firm.code, view=View.FULL)
    verify_report(ctx, report_id=public.report_id, keys=keys, now=NOW)
    assert _events(ctx, "reports:report:verified") == []
    verify_report(ctx, report_id=full.report_id, keys=keys, now=NOW, actor="bank:icbc")
    [event] = _events(ctx, "reports:report:verified")
    assert event.actor == "bank:icbc"
    assert event.subject_id == subject_id(ctx, firm.code)
    with ctx.sessions() as session:
        assert audit.verify(session).ok


def test_stored_reports_are_served_by_view(ctx: Context, keys: FileKeyStore) -> None:
    firm = _file(ctx)
    public = issue(ctx, keys, firm.code)
    full = issue(ctx, keys, firm.code, view=View.FULL)
    assert load_report(ctx, public.report_id).payload == public.payload
    with pytest.raises(ReportAccessError):
        load_report(ctx, full.report_id)
    assert load_report(ctx, full.report_id, public_only=False).digest == full.digest
    with pytest.raises(ReportNotFoundError):
        load_report(ctx, "0000000000000000")
    with ctx.sessions() as session:
        row = session.scalar(select(IssuedReport).where(IssuedReport.report_id == public.report_id))
    assert row is not None
    assert row.verification_code == public.code
    assert format_code(row.verification_code) == public.printed_code
    assert row.valid_until == NOW + dt.timedelta(days=30)
